"""Keras 3 normalization layers in NumPy float64, with the Keras variable names.

    BatchNormalization   gamma, beta, moving_mean, moving_variance   (each (C,), C = x.shape[axis])
    LayerNormalization   gamma, beta                                 (x.shape at the normalized axes)
    GroupNormalization   gamma, beta                                 ((C,))
    RMSNormalization     scale                                       ((C,))
    UnitNormalization    (none)

gamma exists when scale=True, beta when center=True (LayerNormalization with rms_scaling=True:
gamma only). Each layer function takes its weights by these names, requires the ones the layer
has and rejects the ones it does not (ValueError naming the weight and the flag).

Statistics are the mean and the biased variance (divide by the number of elements), as the
docstrings write them: LayerNormalization "var_i = sum((x_i[j] - mean_i) ** 2 for j in range(k)) / k";
BatchNormalization uses the same `var(batch)` to normalize in training and to update
`moving_var = moving_var * momentum + var(batch) * (1 - momentum)`. They are computed with two
passes and a mean correction (see _moments), so an input with mean 1e4 and spread 1e-2 keeps
about 15 significant digits in (x - mean) and in the variance.

Epsilons (defaults from the Keras 3.15 signatures, each added to the variance / mean square
inside the square root): BatchNormalization, LayerNormalization, GroupNormalization 1e-3;
RMSNormalization 1e-6. UnitNormalization has no epsilon.
"""
from __future__ import annotations

import inspect
import numbers

import numpy as np

from reference_impl.conv import _COMMON_IGNORED, _is_int
from reference_impl.rounding import gamma_or_inf

LAYERS = ("BatchNormalization", "LayerNormalization", "GroupNormalization", "RMSNormalization", "UnitNormalization")

# Keras arguments that do not change the computed values (initializers only matter before the
# weights are set; `synchronized` only across devices). Anything else unknown is a TypeError.
_GAMMA_BETA_OBJECTS = frozenset({
    "beta_initializer", "gamma_initializer", "beta_regularizer", "gamma_regularizer",
    "beta_constraint", "gamma_constraint",
})
IGNORED_ARGUMENTS = {
    "BatchNormalization": _COMMON_IGNORED | _GAMMA_BETA_OBJECTS | {
        "moving_mean_initializer", "moving_variance_initializer", "synchronized",
    },
    "LayerNormalization": _COMMON_IGNORED | _GAMMA_BETA_OBJECTS,
    "GroupNormalization": _COMMON_IGNORED | _GAMMA_BETA_OBJECTS,
    "RMSNormalization": _COMMON_IGNORED,
    "UnitNormalization": _COMMON_IGNORED,
}


# --- argument standardization -----------------------------------------------------------


def _check_ignored(layer, ignored):
    unknown = sorted(set(ignored) - IGNORED_ARGUMENTS[layer])
    if unknown:
        raise TypeError(f"Unexpected keyword argument(s) for {layer}: {', '.join(unknown)}")


def _shape_argument(input_shape, minimum_rank=1):
    shape = tuple(input_shape)
    if len(shape) < minimum_rank or not all(n is None or (_is_int(n) and n >= 0) for n in shape):
        raise ValueError(
            f"`input_shape` must be a tuple of at least {minimum_rank} non-negative ints (or None). "
            f"Received: input_shape={input_shape!r}"
        )
    return shape


def _axis_argument(axis, ndim, *, allow_list):
    """Sorted tuple of distinct non-negative axes from an int (or, if allow_list, a list/tuple of ints).

    A value that is neither an int nor a list/tuple of ints (a dict, a string, a float) is a
    TypeError, as Python's convention and Keras's own tests (test_invalid_axis) have it; an int
    out of range, repeated axes, or a list where the layer takes one int, a ValueError."""
    listed = isinstance(axis, (list, tuple)) and all(_is_int(a) for a in axis)
    if not (_is_int(axis) or listed):
        raise TypeError(f"`axis` must be an int{' or a list/tuple of ints' if allow_list else ''}. "
                        f"Received: axis={axis!r} of type {type(axis).__name__}")
    values = [axis] if _is_int(axis) else (list(axis) if allow_list else None)
    if (
        not values
        or not all(_is_int(a) and -ndim <= a < ndim for a in values)
        or len({a % ndim for a in values}) != len(values)
    ):
        kind = "an int or a list/tuple of distinct ints" if allow_list else "an int"
        raise ValueError(f"`axis` must be {kind} in [-{ndim}, {ndim}). Received: axis={axis!r} for rank {ndim}")
    return tuple(sorted(int(a) % ndim for a in values))


def _real(name, value, *, minimum=None):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value) or (
        minimum is not None and value < minimum
    ):
        bound = f" >= {minimum}" if minimum is not None else ""
        raise ValueError(f"`{name}` must be a finite real number{bound}. Received: {name}={value!r}")
    return float(value)


def _bool(name, value):
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"`{name}` must be a bool. Received: {name}={value!r}")
    return bool(value)


def _known(shape, axes, layer):
    dims = tuple(shape[a] for a in axes)
    if any(d is None for d in dims):
        raise ValueError(
            f"{layer} needs the normalized axis sizes to be known. Received: input_shape={shape}, axis={axes}"
        )
    return dims


def _weights(layer, expected, given, flags):
    """Check given weights against expected name -> shape; return them as float64 arrays."""
    for name, value in given.items():
        if value is not None and name not in expected:
            raise ValueError(
                f"`{name}` was given but {layer} has no `{name}` with {flags}. Received: {name} is not None"
            )
    out = {}
    for name, shape in expected.items():
        value = given.get(name)
        if value is None:
            raise ValueError(f"`{name}` of shape {shape} is required ({layer}, {flags}). Received: {name}=None")
        value = np.asarray(value, dtype=np.float64)
        if value.shape != shape:
            raise ValueError(f"`{name}` must have shape {shape}. Received: {name}.shape={value.shape}")
        out[name] = value
    return out


# --- numerics -----------------------------------------------------------------------------


def _moments(x, axes):
    """(mean, x - mean, biased variance) over `axes` (keepdims), computed with care.

    m0 = mean(x); c = mean(x - m0); mean = m0 + c; d = (x - m0) - c; var = mean(d * d).
    x - m0 is exact when x and m0 are within a factor of 2 (Sterbenz), and the correction c
    removes the rounding error of m0 from the deviations instead of re-rounding it into a
    float near 1e4; var >= 0 by construction (no E[x^2] - E[x]^2 cancellation).
    """
    with np.errstate(invalid="ignore"):  # infinite inputs make inf - inf or 0 * inf here: NaN, as IEEE arithmetic (and tf.keras) give it
        m0 = np.mean(x, axis=axes, keepdims=True)
        shifted = x - m0
        c = np.mean(shifted, axis=axes, keepdims=True)
        d = shifted - c
        return m0 + c, d, np.mean(d * d, axis=axes, keepdims=True)


def _along(values, axes, ndim):
    """Reshape a weight spanning `axes` (in increasing order) to broadcast against rank-ndim inputs."""
    shape = [1] * ndim
    for a, n in zip(axes, values.shape):
        shape[a] = n
    return values.reshape(shape)


# --- weight shapes (pure: arguments and input shape only) -------------------------------


def _batch_norm_spec(shape, axis, center, scale):
    (a,) = _axis_argument(axis, len(shape), allow_list=False)
    (c,) = _known(shape, (a,), "BatchNormalization")
    weights = {}
    if _bool("scale", scale):
        weights["gamma"] = (c,)
    if _bool("center", center):
        weights["beta"] = (c,)
    weights.update(moving_mean=(c,), moving_variance=(c,))
    return a, weights


def _layer_norm_spec(shape, axis, center, scale, rms_scaling):
    axes = _axis_argument(axis, len(shape), allow_list=True)
    dims = _known(shape, axes, "LayerNormalization")
    center, scale = _bool("center", center), _bool("scale", scale)
    if _bool("rms_scaling", rms_scaling):
        return axes, {"gamma": dims}
    weights = {}
    if scale:
        weights["gamma"] = dims
    if center:
        weights["beta"] = dims
    return axes, weights


def _group_norm_spec(shape, groups, axis, center, scale):
    (a,) = _axis_argument(axis, len(shape), allow_list=False)
    if a == 0:
        raise ValueError(f"`axis` must not be the batch axis 0 of GroupNormalization. Received: axis={axis!r}")
    (c,) = _known(shape, (a,), "GroupNormalization")
    if not _is_int(groups) or (groups < 1 and groups != -1):
        raise ValueError(
            f"`groups` must be a positive int, or -1 for one group per channel. Received: groups={groups!r}"
        )
    groups = c if groups == -1 else int(groups)
    if c % groups:
        raise ValueError(
            f"The number of channels must be divisible by `groups`. Received: groups={groups}, channels={c} "
            f"(axis={axis})"
        )
    weights = {}
    if _bool("scale", scale):
        weights["gamma"] = (c,)
    if _bool("center", center):
        weights["beta"] = (c,)
    return a, groups, weights


def _rms_norm_spec(shape, axis):
    (a,) = _axis_argument(axis, len(shape), allow_list=False)
    return a, {"scale": _known(shape, (a,), "RMSNormalization")}


def weight_shapes(layer, input_shape, **layer_kwargs):
    """Variable name -> shape of a Keras normalization layer, named as Keras 3 names them.

    BatchNormalization: gamma (if scale), beta (if center), moving_mean, moving_variance, each
    (input_shape[axis],). LayerNormalization: gamma (if scale), beta (if center), each of shape
    input_shape at the normalized axes in increasing order; rms_scaling=True: gamma only.
    GroupNormalization: gamma, beta (input_shape[axis],). RMSNormalization: scale
    (input_shape[axis],). UnitNormalization: none. input_shape includes the batch dim.
    """
    if layer not in _LAYER_FUNCTIONS:
        raise ValueError(f"`layer` must be one of {', '.join(LAYERS)}. Received: layer={layer!r}")
    function = _LAYER_FUNCTIONS[layer]
    params = {
        p.name: p.default
        for p in inspect.signature(function).parameters.values()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    }
    _check_ignored(layer, {name for name in layer_kwargs if name not in params})
    args = {name: layer_kwargs.get(name, default) for name, default in params.items()}
    shape = _shape_argument(input_shape, minimum_rank=1 if layer == "UnitNormalization" else 2)
    if layer == "BatchNormalization":
        _real("epsilon", args["epsilon"], minimum=0)
        _real("momentum", args["momentum"])
        _bool("training", args["training"])
        return _batch_norm_spec(shape, args["axis"], args["center"], args["scale"])[1]
    if layer == "LayerNormalization":
        _real("epsilon", args["epsilon"], minimum=0)
        return _layer_norm_spec(shape, args["axis"], args["center"], args["scale"], args["rms_scaling"])[1]
    if layer == "GroupNormalization":
        _real("epsilon", args["epsilon"], minimum=0)
        return _group_norm_spec(shape, args["groups"], args["axis"], args["center"], args["scale"])[2]
    if layer == "RMSNormalization":
        _real("epsilon", args["epsilon"], minimum=0)
        return _rms_norm_spec(shape, args["axis"])[1]
    _axis_argument(args["axis"], len(shape), allow_list=True)
    return {}


# --- layer functions --------------------------------------------------------------------


def batch_norm(x, gamma=None, beta=None, moving_mean=None, moving_variance=None, *, axis=-1, epsilon=1e-3,
               center=True, scale=True, training=False, momentum=0.99, **ignored):
    """BatchNormalization: returns (output, new_moving_mean, new_moving_variance).

    With S = every axis but `axis`, per channel:
      training=False: y = gamma * (x - moving_mean) / sqrt(moving_variance + epsilon) + beta,
                      moving statistics returned unchanged;
      training=True:  mean = mean_S(x), var = mean_S((x - mean)^2) (biased),
                      y = gamma * (x - mean) / sqrt(var + epsilon) + beta,
                      new_moving_mean = momentum * moving_mean + (1 - momentum) * mean,
                      new_moving_variance = momentum * moving_variance + (1 - momentum) * var.
    gamma is 1 when scale=False, beta is 0 when center=False.
    """
    _check_ignored("BatchNormalization", ignored)
    x = np.asarray(x, dtype=np.float64)
    a, expected = _batch_norm_spec(_shape_argument(x.shape, 1), axis, center, scale)
    epsilon = _real("epsilon", epsilon, minimum=0)
    momentum = _real("momentum", momentum)
    training = _bool("training", training)
    w = _weights("BatchNormalization", expected,
                 dict(gamma=gamma, beta=beta, moving_mean=moving_mean, moving_variance=moving_variance),
                 f"center={center}, scale={scale}")
    moving_mean, moving_variance = w["moving_mean"], w["moving_variance"]
    if training:
        if x.size == 0:
            raise ValueError(f"Training statistics need a non-empty batch. Received: x.shape={x.shape}")
        others = tuple(i for i in range(x.ndim) if i != a)
        mean, d, var = _moments(x, others)
        mean, var = mean.reshape(-1), var.reshape(-1)
        new_mean = momentum * moving_mean + (1.0 - momentum) * mean
        new_var = momentum * moving_variance + (1.0 - momentum) * var
    else:
        d = x - _along(moving_mean, (a,), x.ndim)
        var = moving_variance
        new_mean, new_var = moving_mean.copy(), moving_variance.copy()
    y = d / np.sqrt(_along(var, (a,), x.ndim) + epsilon)
    if "gamma" in w:
        y = y * _along(w["gamma"], (a,), x.ndim)
    if "beta" in w:
        y = y + _along(w["beta"], (a,), x.ndim)
    return y, new_mean, new_var


def layer_norm(x, gamma=None, beta=None, *, axis=-1, epsilon=1e-3, center=True, scale=True, rms_scaling=False,
               **ignored):
    """LayerNormalization over the axes A = axis (an int or a list of ints), per sample:

      y = gamma * (x - mean_A(x)) / sqrt(var_A(x) + epsilon) + beta,  var_A biased;
      rms_scaling=True: y = gamma * x / sqrt(mean_A(x^2) + epsilon) (center and scale ignored).
    gamma and beta span A (shape x.shape[A], axes in increasing order); gamma is 1 when
    scale=False, beta 0 when center=False.

    rms_scaling is not in the Keras 3.15 docstring (the layer accepts it through **kwargs and
    warns that it is deprecated and that it "incorrectly scales the input by the variance, not
    the root mean square"); the reference uses the root mean square that the name states.
    """
    _check_ignored("LayerNormalization", ignored)
    x = np.asarray(x, dtype=np.float64)
    axes, expected = _layer_norm_spec(_shape_argument(x.shape, 1), axis, center, scale, rms_scaling)
    epsilon = _real("epsilon", epsilon, minimum=0)
    w = _weights("LayerNormalization", expected, dict(gamma=gamma, beta=beta),
                 f"center={center}, scale={scale}, rms_scaling={rms_scaling}")
    if rms_scaling:
        y = x / np.sqrt(np.mean(x * x, axis=axes, keepdims=True) + epsilon)
    else:
        _, d, var = _moments(x, axes)
        y = d / np.sqrt(var + epsilon)
    if "gamma" in w:
        y = y * _along(w["gamma"], axes, x.ndim)
    if "beta" in w:
        y = y + _along(w["beta"], axes, x.ndim)
    return y


def group_norm(x, gamma=None, beta=None, *, groups=32, axis=-1, epsilon=1e-3, center=True, scale=True,
               **ignored):
    """GroupNormalization: the C = x.shape[axis] channels form `groups` contiguous blocks of C // groups.

    For sample b and group g, G = {channels g * C // groups .. (g + 1) * C // groups - 1} and
    every non-batch position: y = gamma[c] * (x - mean_G) / sqrt(var_G + epsilon) + beta[c]
    (var_G biased). groups = -1 means C (instance normalization); C % groups != 0 is a ValueError.
    groups=1 normalizes over all non-batch axes (layer_norm over them, with per-channel weights).
    """
    _check_ignored("GroupNormalization", ignored)
    x = np.asarray(x, dtype=np.float64)
    a, groups, expected = _group_norm_spec(_shape_argument(x.shape, 2), groups, axis, center, scale)
    epsilon = _real("epsilon", epsilon, minimum=0)
    w = _weights("GroupNormalization", expected, dict(gamma=gamma, beta=beta), f"center={center}, scale={scale}")
    xc = np.moveaxis(x, a, -1)
    c = xc.shape[-1]
    blocks = xc.reshape(xc.shape[:-1] + (groups, c // groups))
    stats_axes = tuple(range(1, blocks.ndim - 2)) + (blocks.ndim - 1,)
    _, d, var = _moments(blocks, stats_axes)
    y = np.moveaxis((d / np.sqrt(var + epsilon)).reshape(xc.shape), -1, a)
    if "gamma" in w:
        y = y * _along(w["gamma"], (a,), x.ndim)
    if "beta" in w:
        y = y + _along(w["beta"], (a,), x.ndim)
    return y


def rms_norm(x, scale=None, *, axis=-1, epsilon=1e-6, **ignored):
    """RMSNormalization: y = x / sqrt(mean_axis(x^2) + epsilon) * scale, scale of shape (x.shape[axis],).

    The docstring writes `x * rsqrt(mean(square(x))) * scale` and epsilon as "A small number to
    add to avoid division by zero"; it is added to mean(x^2) inside the square root. axis is an
    int ("axis: int."). The layer always has its `scale` weight, so it is required here.
    """
    _check_ignored("RMSNormalization", ignored)
    x = np.asarray(x, dtype=np.float64)
    a, expected = _rms_norm_spec(_shape_argument(x.shape, 1), axis)
    epsilon = _real("epsilon", epsilon, minimum=0)
    w = _weights("RMSNormalization", expected, dict(scale=scale), "its only weight")
    with np.errstate(invalid="ignore"):  # an infinite x gives inf / inf: NaN, as IEEE arithmetic (and tf.keras) give it
        y = x / np.sqrt(np.mean(x * x, axis=a, keepdims=True) + epsilon)
    return y * _along(w["scale"], (a,), x.ndim)


def unit_norm(x, *, axis=-1, **ignored):
    """UnitNormalization: y = x / sqrt(sum_A(x^2)) over the axes A = axis (an int or a list of ints).

    The docstring has no epsilon ("each input in the batch has a L2 norm equal to 1"). A slice
    that is all zeros has no unit-norm image; the docs leave it undefined and the reference
    returns zeros there. Computed as u / ||u|| with u = x / max_A |x|, so that squaring neither
    overflows nor underflows.
    """
    _check_ignored("UnitNormalization", ignored)
    x = np.asarray(x, dtype=np.float64)
    axes = _axis_argument(axis, x.ndim, allow_list=True)
    peak = np.max(np.abs(x), axis=axes, keepdims=True) if x.size else np.ones([1] * x.ndim)
    nonzero = peak > 0
    with np.errstate(invalid="ignore"):  # an infinite x gives inf / inf: NaN, as IEEE arithmetic (and tf.keras) give it
        u = x / np.where(nonzero, peak, 1.0)
    norm = np.sqrt(np.sum(u * u, axis=axes, keepdims=True))
    return np.where(nonzero, u / np.where(nonzero, norm, 1.0), 0.0)


# --- rounding error bound -----------------------------------------------------------------


def _standardized_error_bound(x, axes, epsilon, u):
    """(z, |dz|): z and a per-element bound on the rounding error of z = (x - mean_A(x)) / sqrt(var_A(x) + epsilon)
    evaluated in a floating-point type of unit roundoff u (2**-24 for float32, 2**-53 for
    float64) with the two-pass formula the docstrings write, in either order below; |dz| is None
    where no bound holds (theta >= 1 in some group and no epsilon to cap the scale).

    With n = the number of elements in the group A, d = x - mean, m1 = mean_A|x|:
      mean (n additions, one division):  |dmean| <= gamma_n * m1
      d_i = x_i - mean:                  |dd_i| <= dmean + u (|d_i| + dmean)
      var = mean_A(d^2):                 |dvar| <= gamma_{n+3} (var + dmean * mean_A|d|) + dmean^2
      T = var + epsilon (epsilon rounded into the type, one addition): relative error
                                         theta = dvar / (var + epsilon) + gamma_2
      s = 1 / sqrt(T), then the product by s: relative error r = (1 + rho)(1 + u) - 1 with
                                         rho = _inverse_root_error(theta, u), exact in theta
      two-pass, z_i = (x_i - mean) * s:  |dz_i| <= (dd_i (1 + r) + |d_i| r) s.
    The same formula may be evaluated with the scale distributed over the difference,
    x * s - mean * s (tf.keras computes x * (gamma s) + (beta - mean * gamma s)). s is rounded
    once, so its error r reaches the difference as r |d_i| s, as above; but the two products,
    and the offset beta - mean * gamma s, round before x and the mean cancel:
      distributed:                       |dz_i| <= (dmean (1 + r) + |d_i| r + 3 u (1 + r) (|x_i| + |mean|)) s.
    The bound is the larger of the two, which the sum of their common part and each one's own
    terms covers: (dd_i (1 + r) + |d_i| r + 3 u (1 + r) (|x_i| + |mean|)) s.
    The dmean term is the conditioning the flat tolerance ignores: a row whose mean is large
    against its spread loses gamma_n * m1 / sqrt(var + epsilon) in every output, whatever the
    order of the sums. r is not small there (dmean^2 against var), hence the exact rho. Where
    theta >= 1 (a spread below the mean's possible error) no relative error of s holds; the
    computed variance is still >= 0, so the computed z is at most (|d_i| + dd_i + ...) s_max with
    s_max = (1 + gamma_3) / sqrt(epsilon (1 - u)^2), and its error at most that plus |z_i|; the
    bound is the smaller of the two wherever both hold. x is taken as exactly representable in
    the type (the harness rounds the inputs to the case's dtype before either side sees them).
    """
    n = int(np.prod([x.shape[a] for a in axes]))
    mean, d, var = _moments(x, axes)
    dmean = gamma_or_inf(n, u) * np.mean(np.abs(x), axis=axes, keepdims=True)
    dd = dmean + u * (np.abs(d) + dmean)
    dvar = gamma_or_inf(n + 3, u) * (var + dmean * np.mean(np.abs(d), axis=axes, keepdims=True)) + dmean * dmean
    with np.errstate(divide="ignore", invalid="ignore"):  # var + epsilon == 0: z is not finite, nothing to bound
        t = var + epsilon
        theta = np.where(t > 0, dvar / np.where(t > 0, t, 1.0) + gamma_or_inf(2, u), 0.0)
        conditioned = theta < 1
        rho = _inverse_root_error(np.where(conditioned, theta, 0.0), u)
        r = np.expm1(np.log1p(rho) + np.log1p(u))  # (1 + rho)(1 + u) - 1
        s = 1.0 / np.sqrt(t)
        z = d * s
        bound = (dd * (1.0 + r) + np.abs(d) * r + 3.0 * u * (1.0 + r) * (np.abs(x) + np.abs(mean))) * s
        # Whatever the variance's error, its computed value (a mean of squares) is >= 0, so the
        # computed scale is at most s_max = (1 + gamma_3) / sqrt(epsilon (1 - u)^2), and z's error
        # at most |z| plus the computed z's size: the bound where theta >= 1 (the variance lost to
        # rounding: a spread below the mean's error), and wherever it is the smaller one.
        s_max = (1.0 + gamma_or_inf(INVERSE_ROOT_ROUNDINGS, u)) / (np.sqrt(epsilon) * (1.0 - u))
        anywhere = np.abs(z) + (np.abs(d) + dd + 3.0 * u * (np.abs(x) + np.abs(mean))) * (1.0 + u) * s_max
        bound = np.where(conditioned, np.minimum(bound, anywhere), anywhere)
    if np.any(~conditioned & (t > 0)) and not epsilon > 0:  # no epsilon: nothing caps the scale there
        return z, None
    return z, np.where(np.isfinite(bound), bound, 0.0)


# The reciprocal square root of the layers that scale by one (1 / sqrt(T), or a division by
# sqrt(T)): a square root and a division are two roundings; a library's reciprocal square root
# (one instruction and a Newton step) is allowed 1.5 units in the last place, 3 u relative.
INVERSE_ROOT_ROUNDINGS = 3


def _inverse_root_error(theta, u):
    """The relative error of 1 / sqrt(T^) (or of dividing by sqrt(T^)) evaluated in the format
    when T^ = T (1 + t), |t| <= theta < 1:

        |(1 + t)**-0.5 - 1| <= (1 - theta)**-0.5 - 1      (convex and decreasing in t: the end -theta)
        |(1 + t)**+0.5 - 1| <= 1 - (1 - theta)**0.5, no more than the line above,
    times the root's and the division's own roundings, (1 + gamma_3) (INVERSE_ROOT_ROUNDINGS):
        rho = (1 - theta)**-0.5 (1 + gamma_3) - 1.
    Exact in theta, not first order: theta is gamma_n of a sum of squares, up to 0.1 in float16.
    Evaluated as expm1(-log1p(-theta) / 2 + log1p(gamma_3)): in float64 theta is a few u, and
    (1 - theta)**-0.5 * (1 + gamma_3) - 1 would lose it to the rounding of 1 + theta."""
    return np.expm1(-0.5 * np.log1p(-theta) + np.log1p(gamma_or_inf(INVERSE_ROOT_ROUNDINGS, u)))


def _mean_square_error(x, axes, epsilon, u, tiny, *, mean):
    """(T, theta): T = mean_A(x^2) + epsilon (mean=True: RMSNormalization, rms_scaling) or
    T = sum_A(x^2) (mean=False: UnitNormalization), and theta, the bound on |T^ - T| / T of its
    evaluation in a format of unit roundoff u and smallest normal `tiny`; None where no bound
    holds (gamma's k u >= 1, or a slice whose squares the flush to zero may take whole).

    With n the elements of a slice, every term x_i^2 >= 0, so nothing cancels:
      sum_A(x^2), an inner product of x with itself, in any order: |dS| <= gamma_n S (Higham (3.5));
      the mean: a division by n, or a product by a rounded 1 / n: 2 roundings;
      + epsilon: epsilon's own rounding into the format, and the addition: 2 roundings;
    so theta = gamma_{n+4} (gamma_n for the sum alone), all relative to T as every term is >= 0.
    Below the normal range (TensorFlow flushes subnormals on CPU) each square and each partial
    sum may lose the smallest normal: 2 n tiny in the sum, 2 tiny in the mean, and 3 tiny more
    for the division, epsilon (1e-6 is below float16's 6.1e-5) and the addition; theta adds
    that absolute loss over T. An all-zero slice without epsilon (T = 0) is given theta = 0: its
    output is 0 (UnitNormalization) or 0 / 0, nothing to bound."""
    n = int(np.prod([x.shape[a] for a in axes]))
    k = n + 4 if mean else n
    if k * u >= 1:
        return None
    total = np.sum(x * x, axis=axes, keepdims=True)
    if mean:
        t, floor = total / max(n, 1) + epsilon, 5.0 * tiny
    else:
        t, floor = total, 2.0 * n * tiny
    with np.errstate(divide="ignore", invalid="ignore"):
        theta = np.where(t > 0, gamma_or_inf(k, u) + floor / np.where(t > 0, t, 1.0), 0.0)
    if np.any(theta >= 1):
        return None
    return t, theta


def _scaled_root_bound(y, theta, u, tiny, scale=None):
    """|dy| for y = x * (1 / sqrt(T)) (* scale) when T carries the relative error theta:
    the inverse root's rho (_inverse_root_error), then the product by x and, with a scale, the
    product by it (in any association: x * (scale * r) rounds as many), all relative to y since
    nothing cancels:
        |dy| <= ((1 + rho)(1 + gamma_2) - 1) |y| + tiny (1 + |scale|)    (with a scale)
        |dy| <= ((1 + rho)(1 + gamma_1) - 1) |y| + tiny                  (without),
    the last term a product flushed below the normal range, then scaled."""
    rho = _inverse_root_error(theta, u)
    products, floor = (1, tiny) if scale is None else (2, tiny * (1.0 + np.abs(scale)))
    with np.errstate(invalid="ignore"):
        bound = ((1.0 + rho) * (1.0 + gamma_or_inf(products, u)) - 1.0) * np.abs(y) + floor
    return np.where(np.isfinite(bound), bound, 0.0)


def _batch_norm_inference_bound(x, a, weights, epsilon, u, tiny):
    """|dy| for BatchNormalization at inference, y = gamma (x - mu) s + beta with
    s = 1 / sqrt(v + epsilon), mu = moving_mean, v = moving_variance (exact weights of the format).

    T = v + epsilon rounds epsilon into the format and adds: theta = gamma_2 (+ tiny / T: epsilon
    or the sum below the normal range); s then carries rho_s (_inverse_root_error). Two orders:
    (a) as written, gamma * ((x - mu) * s) + beta: the difference, the two products (any
        association) and the addition:
            ((1 + rho_s)(1 + gamma_3) - 1) |gamma z| + u |y|,   z = (x - mu) s;
    (b) distributed, x * a + (beta - mu * a) with a = gamma s (tf.nn.batch_normalization's):
        a carries (1 + rho_s)(1 + u); x a - mu a = (x - mu) a exactly, so a's error reaches y as
        ((1 + rho_s)(1 + u) - 1) |gamma z|, but the two products and the offset round before
        x and mu cancel: u |x a| + 2 u |mu a| + u |beta| (the offset's product and difference),
        and the final addition u |y|: the cancellation of x against the moving mean, which costs
        u (|x| + 2 |mu|) |gamma| s where |x - mu| is small against |mu|.
    The bound is (a)'s first term plus (b)'s cancellation, which holds for both (and a fused
    multiply-add, with fewer roundings), with |y| <= |gamma z| + |beta|:
        F = ((1 + rho_s)(1 + gamma_3) - 1) |gamma z| + u |gamma| s (|x| + 2 |mu|) + u (|gamma z| + 2 |beta|),
    times (1 + gamma_6) for the terms F leaves out (each u above is taken on an exact value, the
    computed one is within gamma_5 of it; prod (1 + d_i) - 1 <= sum |d_i| prod (1 + |d_i|)),
    plus a flushed product or sum, scaled by gamma: 4 tiny max(1, |gamma|)."""
    along = lambda name, default: (  # noqa: E731
        _along(np.asarray(weights[name], dtype=np.float64), (a,), x.ndim) if name in weights else default)
    gamma, beta = np.abs(along("gamma", 1.0)), np.abs(along("beta", 0.0))
    mu, v = along("moving_mean", 0.0), along("moving_variance", 1.0)
    t = v + epsilon
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        theta = np.where(t > 0, gamma_or_inf(2, u) + 2.0 * tiny / np.where(t > 0, t, 1.0), 0.0)
        if np.any(theta >= 1):
            return None
        s = 1.0 / np.sqrt(t)
        rho_s = _inverse_root_error(theta, u)
        gz = gamma * np.abs(x - mu) * s
        first = ((1.0 + rho_s) * (1.0 + gamma_or_inf(3, u)) - 1.0) * gz
        cancelled = u * gamma * s * (np.abs(x) + 2.0 * np.abs(mu))
        bound = (first + cancelled + u * (gz + 2.0 * beta)) * (1.0 + gamma_or_inf(6, u)) + 4.0 * tiny * np.maximum(1.0, gamma)
    return np.where(np.isfinite(bound), bound, 0.0)


def error_bound(layer, x, weights, unit_roundoff, *, call=None, smallest_normal=0.0, **params):
    """Per-element bound on the rounding error of the layer's documented formula evaluated in
    a format of unit roundoff u (smallest normal `smallest_normal`, 0 to ignore the flush of
    subnormals), in every order of evaluation the formula allows; None where no bound is derived
    for those arguments (the root-mean-square layers need theta = gamma_{n+4} < 1, 123 elements
    of a slice at most in bfloat16, and a slice whose squares the flush to zero does not take).

    For the layers that standardize with batch statistics (LayerNormalization,
    GroupNormalization, BatchNormalization with training=True), y = gamma * z + beta with z as in
    _standardized_error_bound over the layer's statistics axes:
      |dy| <= |gamma| |dz| + u (3 |gamma z| + 2 |beta|)
    (gamma = 1 and beta = 0 when absent). The last term is the affine step's own roundings in
    either order: gamma * z + beta rounds a product and a sum (u |gamma z| + u |y|); the
    distributed order x * (gamma s) + (beta - mean * gamma s) rounds the offset, of size up to
    |beta| + |mean gamma s|, and the final sum, u |y|, besides the products that |gamma| |dz|
    already holds; |y| <= |gamma z| + |beta|. Where gamma is near 0 and beta dominates, this is
    what is left: 2 u |beta|.

    The layers that scale by a root mean square, where nothing cancels (_mean_square_error for
    theta, _scaled_root_bound for the rest):
      RMSNormalization, y = x / sqrt(mean_A(x^2) + epsilon) * scale: theta = gamma_{n+4},
          then x r and the scale: |dy| <= ((1 + rho)(1 + gamma_2) - 1) |y| + tiny (1 + |scale|);
      LayerNormalization(rms_scaling=True), y = gamma x / sqrt(mean_A(x^2) + epsilon): the same
          over the axes A, gamma in the scale's place;
      UnitNormalization, y = x / sqrt(sum_A(x^2)): theta = gamma_n, one product:
          |dy| <= ((1 + rho)(1 + gamma_1) - 1) |y| + tiny.
    BatchNormalization at inference, y = gamma (x - moving_mean) / sqrt(moving_variance +
    epsilon) + beta: _batch_norm_inference_bound, whose distributed order lets x and
    moving_mean cancel after rounding.
    """
    x = np.asarray(x, dtype=np.float64)
    u = float(unit_roundoff)
    tiny = float(smallest_normal)
    call = call or {}
    epsilon = params.get("epsilon", 1e-3)
    if layer == "RMSNormalization":
        a, _ = _rms_norm_spec(x.shape, params.get("axis", -1))
        statistics = _mean_square_error(x, (a,), params.get("epsilon", 1e-6), u, tiny, mean=True)
        if statistics is None:
            return None
        scale = _along(np.asarray(weights["scale"], dtype=np.float64), (a,), x.ndim)
        return _scaled_root_bound(rms_norm(x, weights["scale"], **params), statistics[1], u, tiny, scale)
    if layer == "UnitNormalization":
        axes = _axis_argument(params.get("axis", -1), x.ndim, allow_list=True)
        statistics = _mean_square_error(x, axes, 0.0, u, tiny, mean=False)
        if statistics is None:
            return None
        return _scaled_root_bound(unit_norm(x, **params), statistics[1], u, tiny)
    if layer == "LayerNormalization" and params.get("rms_scaling", False):
        axes, _ = _layer_norm_spec(x.shape, params.get("axis", -1), True, True, True)
        statistics = _mean_square_error(x, axes, epsilon, u, tiny, mean=True)
        if statistics is None:
            return None
        gamma = _along(np.asarray(weights["gamma"], dtype=np.float64), axes, x.ndim) if "gamma" in weights else 1.0
        return _scaled_root_bound(layer_norm(x, **weights, **params), statistics[1], u, tiny, gamma)
    if layer == "BatchNormalization" and not call.get("training", False):
        a, _ = _batch_norm_spec(x.shape, params.get("axis", -1), True, True)
        return _batch_norm_inference_bound(x, a, weights, epsilon, u, tiny)
    if layer == "LayerNormalization":
        axes, _ = _layer_norm_spec(x.shape, params.get("axis", -1), True, True, False)
        along = axes
        z, dz = _standardized_error_bound(x, axes, epsilon, u)
    elif layer == "GroupNormalization":
        a, groups, _ = _group_norm_spec(x.shape, params.get("groups", 32), params.get("axis", -1), True, True)
        xc = np.moveaxis(x, a, -1)
        blocks = xc.reshape(xc.shape[:-1] + (groups, xc.shape[-1] // groups))
        stats_axes = tuple(range(1, blocks.ndim - 2)) + (blocks.ndim - 1,)
        z, dz = (None if t is None else np.moveaxis(t.reshape(xc.shape), -1, a)
                 for t in _standardized_error_bound(blocks, stats_axes, epsilon, u))
        along = (a,)
    elif layer == "BatchNormalization":
        a, _ = _batch_norm_spec(x.shape, params.get("axis", -1), True, True)
        along = (a,)
        z, dz = _standardized_error_bound(x, tuple(i for i in range(x.ndim) if i != a), epsilon, u)
    else:
        return None
    if dz is None:
        return None
    gamma = np.abs(_along(np.asarray(weights["gamma"], dtype=np.float64), along, x.ndim)) if "gamma" in weights else 1.0
    beta = np.abs(_along(np.asarray(weights["beta"], dtype=np.float64), along, x.ndim)) if "beta" in weights else 0.0
    with np.errstate(invalid="ignore"):
        return gamma * dz + u * (3.0 * gamma * np.abs(z) + 2.0 * beta)


def moving_statistics_error_bound(history, weights, unit_roundoff, *, axis=-1, momentum=0.99, **ignored):
    """Per-channel bounds on the rounding error of BatchNormalization's moving_mean and
    moving_variance after the calls of `history` ((x, call) pairs, in order, from the initial
    `weights`), evaluated in a format of unit roundoff u; each call with training=True updates

        M_k = momentum * M_(k-1) + (1 - momentum) * mean_k     (V_k the same with var_k).

    The batch statistics' errors are those of _standardized_error_bound (n the elements per
    channel, m1 = mean_S|x|, d = x - mean): |dmean| <= gamma_n m1 and
    |dvar| <= gamma_(n+3) (var + dmean mean_S|d|) + dmean^2 (the documented two-pass
    variance). The update rounds a product, another product and a sum, or, as an exponential
    moving average is often written, M - (M - mean) (1 - momentum): a difference, a product and
    a difference; either is within 3 u (|M_(k-1)| + |mean_k|) of its operands' exact result, and
    the constants momentum and 1 - momentum rounded to the format add u each on their terms.
    The error carried from the previous call shrinks by momentum (times 1 + u):

        E_k <= momentum (1 + u) E_(k-1) + (1 - momentum) dmean_k + 5 u (|M_(k-1)| + |mean_k|).

    The initial moving statistics are the format's numbers (the harness sets them), E_0 = 0;
    calls without training leave them as they are."""
    u = float(unit_roundoff)
    m = float(momentum)
    moving_mean = np.asarray(weights["moving_mean"], dtype=np.float64).copy()
    moving_variance = np.asarray(weights["moving_variance"], dtype=np.float64).copy()
    error_mean = np.zeros(moving_mean.shape)
    error_variance = np.zeros(moving_variance.shape)
    for x, call in history:
        if not (call or {}).get("training", False):
            continue
        x = np.asarray(x, dtype=np.float64)
        a, _ = _batch_norm_spec(x.shape, axis, True, True)
        others = tuple(i for i in range(x.ndim) if i != a)
        n = int(np.prod([x.shape[i] for i in others]))
        mean, d, var = _moments(x, others)
        dmean = gamma_or_inf(n, u) * np.mean(np.abs(x), axis=others, keepdims=True)
        dvar = gamma_or_inf(n + 3, u) * (var + dmean * np.mean(np.abs(d), axis=others, keepdims=True)) + dmean * dmean
        mean, var, dmean, dvar = (t.reshape(-1) for t in (mean, var, dmean, dvar))
        with np.errstate(invalid="ignore"):
            error_mean = (m * (1 + u) * error_mean + (1 - m) * dmean
                          + 5 * u * (np.abs(moving_mean) + np.abs(mean)))
            error_variance = (m * (1 + u) * error_variance + (1 - m) * dvar
                              + 5 * u * (np.abs(moving_variance) + np.abs(var)))
        moving_mean = m * moving_mean + (1 - m) * mean
        moving_variance = m * moving_variance + (1 - m) * var
    return {"moving_mean": error_mean, "moving_variance": error_variance}


# The layers whose bound the gradient check widens by (conformance.ops.bounds.standardization):
# those whose statistics' conditioning enters the gradient too. LayerNormalization,
# GroupNormalization and BatchNormalization in training compute a mean that a row large against
# its spread makes ill-conditioned, in the output and in every gradient through it;
# BatchNormalization at inference cancels x against its moving mean, and gamma's gradient,
# sum v (x - moving_mean) s, carries that cancellation's u (|x| + |moving_mean|) s whatever its
# order. RMSNormalization and UnitNormalization cancel nothing: their bound is a few u of |y|
# and their gradient's rounding is the check's own 2**7 u. (LayerNormalization's rms_scaling
# shares the class's mark: its bound over max |y| is (n + 8) u / 2, a widening far below 2**7 u.)
WIDENS_GRADIENT = frozenset({"BatchNormalization", "LayerNormalization", "GroupNormalization"})


_LAYER_FUNCTIONS = {
    "BatchNormalization": batch_norm,
    "LayerNormalization": layer_norm,
    "GroupNormalization": group_norm,
    "RMSNormalization": rms_norm,
    "UnitNormalization": unit_norm,
}
