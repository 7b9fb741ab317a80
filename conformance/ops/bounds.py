"""Error bounds of ops: thin, named mappings of an op's reference onto the bounds of
reference_impl.rounding. An op's `error_bound(x, weights, params, call, fmt)` returns, per
output element, how far a correct evaluation of its documented formula in the format `fmt`
(rounding.Format) may land from the exact result; None where no bound is derived for those
arguments (the case is then judged by its flat tolerance). The runner judges a case by
BOUND_FACTOR * bound unless the case states its own `tolerance`.

The kinds:
- EXACT: data movement and selection (reshaping, cropping, padding, nearest upsampling,
  concatenation, max and min, max pooling, an embedding lookup, an identity at inference):
  every output element is one of the input's, so the bound is 0.
- sum_of_products(length): a multilinear layer (convolutions, Dense, EinsumDense, average
  pooling, Add, Average, Multiply, Dot): gamma_K times the layer's own reference evaluated on
  |x| and |w| with no activation (sum |x_i w_i| + |b| per output), K = length(weights, params,
  x) the longest chain of roundings into one output; then the activation, if any, through
  rounding.through; softmax, log_softmax, glu and sparsemax through their own bounds
  (reference_impl.activations.softmax_error_bound, log_softmax_error_bound, glu_error_bound,
  sparsemax_error_bound), which take the sum's error as the error their argument carries
  (AXIS_BOUNDS).
- elementwise(function, name): an activation applied to each element on its own: a few ulps,
  the condition term and the magnitude its formula cancels (rounding.elementwise, and
  reference_impl.activations.CANCELLED for the magnitudes).
"""
from __future__ import annotations

import math

import numpy as np

from reference_impl import activations as activation_ref
from reference_impl import rounding

# The ratio of a case's error to its bound that still passes, per dtype: c in |tf.keras -
# reference| <= c * bound. The reference is evaluated in float64. For a float32 or 16-bit case
# its own rounding is 2**-29 or less of the bound, and c = 1. For a float64 case the reference
# rounds as much as a correct float64 implementation may: both are within the bound of the exact
# result, so they are within twice the bound of each other, and c = 2.
BOUND_FACTOR = {"float64": 2.0, "float32": 1.0, "float16": 1.0, "bfloat16": 1.0}

# Activations that act along an axis rather than on each element: no elementwise bound.
AXIS_ACTIVATIONS = frozenset({"softmax", "log_softmax", "glu", "sparsemax"})
# The axis activations with a bound that takes an error in their argument: name ->
# bound(z, fmt, axis=, dz=) (a layer's `activation` acts along the last axis of its output).
AXIS_BOUNDS = {
    "softmax": activation_ref.softmax_error_bound,
    "log_softmax": activation_ref.log_softmax_error_bound,
    "glu": activation_ref.glu_error_bound,  # halves the last axis: its bound has the output's shape
    "sparsemax": activation_ref.sparsemax_error_bound,
}


def EXACT(x, weights, params, call, fmt, output=None):
    """Selection and data movement: no rounding at all."""
    return np.zeros(np.shape(output))


def _linear(z, dz, fmt):
    """No activation (None or "linear"): the sum's own bound."""
    return dz


def _activation(params: dict, key: str = "activation"):
    """through(z, dz, fmt) -> the bound of the layer's activation at z, which carries the error
    dz (its sum of products'): _linear for none; None when the activation has no bound."""
    name = params.get(key)
    if name in (None, "linear"):
        return _linear
    if not isinstance(name, str) or name not in activation_ref.ACTIVATIONS:
        return None
    if name in AXIS_ACTIVATIONS:
        axis_bound = AXIS_BOUNDS.get(name)
        return None if axis_bound is None else (lambda z, dz, fmt: axis_bound(z, fmt, axis=-1, dz=dz))
    f, cancelled = activation_ref.ACTIVATIONS[name], activation_ref.CANCELLED.get(name)
    return lambda z, dz, fmt: rounding.through(f, z, dz, fmt, cancelled)


def sum_of_products(length, *, compute_output, activation_key="activation", magnitude_output=None):
    """The bound of a multilinear layer whose reference is compute_output(x, weights, params, call);
    length(weights, params, x) -> the number of roundings K into one output. The magnitudes
    sum |x_i w_i| are compute_output on |x| and |w|, which holds where every term enters with a
    + sign; magnitude_output(|x|, |w|, params, call) replaces it where one does not (Subtract)."""

    def bound(x, weights, params, call, fmt, output=None):
        through = _activation(params, activation_key) if activation_key else _linear
        if through is None:
            return None
        linear = {**params, activation_key: None} if activation_key and activation_key in params else params
        magnitude_inputs = _absolute(x)
        magnitude_weights = {k: np.abs(np.asarray(v, dtype=np.float64)) for k, v in weights.items()}
        with np.errstate(all="ignore"):
            magnitude = np.asarray((magnitude_output or compute_output)(magnitude_inputs, magnitude_weights, linear, call),
                                   dtype=np.float64)
        k = length(weights, params, x)
        if k * fmt.unit_roundoff >= 1:  # gamma_K bounds nothing: 577 terms in bfloat16
            return None
        dz = rounding.sum_of_products(magnitude, k, fmt)
        if through is _linear:
            return dz
        with np.errstate(all="ignore"):
            z = np.asarray(compute_output(x, weights, linear, call), dtype=np.float64)
        return through(z, dz, fmt)

    return bound


def _absolute(x):
    if isinstance(x, dict):
        return {k: np.abs(v) if np.issubdtype(np.asarray(v).dtype, np.floating) else v for k, v in x.items()}
    return np.abs(np.asarray(x, dtype=np.float64))


def elementwise(function, name: str):
    """An activation applied to each element: function(t, **params) (a layer's weights, such as
    PReLU's alpha, broadcast over t)."""
    cancelled = activation_ref.CANCELLED.get(name)

    def bound(x, weights, params, call, fmt, output=None):
        if name in AXIS_ACTIVATIONS:
            return None
        f = lambda t: function(t, weights, params, call)  # noqa: E731
        scale = None if cancelled is None else (lambda t: cancelled(t, **_numeric(params)))
        return rounding.elementwise(f, np.asarray(x, dtype=np.float64), fmt, scale)

    bound.elementwise = True
    return bound


def standardization(bound):
    """A normalization layer's bound (reference_impl.normalization.error_bound), marked as the
    one the gradient check widens by: its ill-conditioned statistics enter the gradient too."""
    bound.widens_gradient = True
    return bound


def with_history(bound):
    """A layer's bound that also bounds its state after several calls, and so takes
    history=(initial weights, [(x, call), ...]) of every call (conformance.checks.values)."""
    bound.takes_history = True
    return bound


def takes_history(bound) -> bool:
    return getattr(bound, "takes_history", False)


def is_elementwise(bound) -> bool:
    """Whether a result's error in units in the last place says something: elementwise bounds."""
    return getattr(bound, "elementwise", False)


def widens_gradient(bound) -> bool:
    return getattr(bound, "widens_gradient", False)


def _numeric(params: dict) -> dict:
    return {k: v for k, v in params.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


# --- the number of roundings into one output, per layer kind -------------------------------------


def product(shape) -> int:
    return int(math.prod(shape))


def conv_length(kind: str):
    """Roundings into one output of a convolution: its products, plus the bias.
    conv: kernel (*k, C_in / groups, filters): prod(k) C_in / groups products;
    transpose: kernel (*k, filters, C_in): at most prod(k) C_in;
    depthwise: kernel (*k, C, multiplier): prod(k);
    separable: the depthwise step's prod(k), then the pointwise step's C multiplier."""
    def length(weights, params, x):
        if kind == "conv":
            n = product(np.shape(weights["kernel"])[:-1])
        elif kind == "transpose":
            shape = np.shape(weights["kernel"])
            n = product(shape[:-2]) * shape[-1]
        elif kind == "depthwise":
            n = product(np.shape(weights["kernel"])[:-2])
        else:
            n = product(np.shape(weights["depthwise_kernel"])[:-2]) + product(np.shape(weights["pointwise_kernel"])[:-1])
        return n + 1
    return length
