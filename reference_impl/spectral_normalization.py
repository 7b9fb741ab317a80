"""Keras 3 SpectralNormalization(layer, power_iterations=1) in NumPy float64.

The docstring: the wrapper "controls the Lipschitz constant of the weights of a layer by
constraining their spectral norm", for a layer with a `kernel` (Dense, Conv...) or `embeddings`
(Embedding), with `power_iterations` "the number of iterations during normalization", after
Miyato et al. 2018 ("Spectral Normalization for GAN", Algorithm 1). With W the weight reshaped
to a matrix (prod(shape[:-1]), shape[-1]) and u the stored vector `vector_u` (1, shape[-1]),
each iteration is

    v = normalize(u W^T);   u = normalize(v W)          normalize(a) = a / ||a||_2

and then sigma = v W u^T (the estimate of W's largest singular value) and W_SN = W / sigma.

The docstring does not say when the normalization happens. The reading taken (the paper's: the
estimate is refined at every training step, u carried between steps): in a training call
(training=True) the iterations run from the stored u, the wrapped layer is applied with W_SN,
and the weight and u are updated to W_SN and the new u (so the next call starts from them); at
inference the wrapped layer is applied with its weight as it is stored.

Weights: "<inner name>/kernel" (or "/embeddings"), "<inner name>/bias", and "vector_u"; the inner
name is the wrapped layer's `name`, by default its snake-case class name (dense, conv2d, embedding).
"""
from __future__ import annotations

import numbers

import numpy as np

from reference_impl import conv as _conv
from reference_impl.recurrent import _serialized, _strip_index
from reference_impl.rounding import gamma_or_inf

INNER = {"Dense": "dense", "Conv1D": "conv1d", "Conv2D": "conv2d", "Conv3D": "conv3d", "Embedding": "embedding"}
_IGNORED = frozenset({"name", "trainable", "dtype"})


def _f64(x):
    return np.asarray(x, dtype=np.float64)


def _core():
    from reference_impl import core  # written separately; imported where needed

    return core


def _arguments(params):
    params = dict(params)
    if "layer" not in params:
        raise TypeError("Missing required argument for SpectralNormalization: layer")
    class_name, config = _serialized("layer", params.pop("layer"), tuple(INNER))
    iterations = params.pop("power_iterations", 1)
    if isinstance(iterations, bool) or not isinstance(iterations, numbers.Integral) or iterations < 1:
        raise ValueError(f"`power_iterations` must be a positive integer. Received: power_iterations={iterations!r}")
    unknown = sorted(set(params) - _IGNORED)
    if unknown:
        raise TypeError(f"Unexpected keyword argument(s) for SpectralNormalization: {', '.join(unknown)}")
    config = {k: v for k, v in config.items() if k != "dtype"}
    prefix = _strip_index(config.get("name") or INNER[class_name]) + "/"
    return class_name, config, int(iterations), prefix


def _weight_name(class_name):
    return "embeddings" if class_name == "Embedding" else "kernel"


def _inner_shapes(class_name, config, input_shape):
    if class_name in ("Dense", "Embedding"):
        return _core().weight_shapes(class_name, input_shape, **config)
    return _conv.weight_shapes("conv", input_shape, rank=int(class_name[-2]), **config)


def _apply(class_name, config, x, w):
    if class_name in ("Dense", "Embedding"):
        return _core().LAYERS[class_name](x, w, **config)
    return _conv.conv(x, w["kernel"], w.get("bias"), rank=int(class_name[-2]), **config)


def normalized(weight, vector_u, power_iterations):
    """(W / sigma in the weight's shape, the new u) after `power_iterations` iterations."""
    weight, u = _f64(weight), _f64(vector_u)
    w = weight.reshape(-1, weight.shape[-1])
    for _ in range(power_iterations):
        v = u @ w.T
        v = v / np.linalg.norm(v)
        u = v @ w
        u = u / np.linalg.norm(u)
    sigma = (v @ w @ u.T).item()
    return weight / sigma, u


def _step(x, weights, params, call):
    """(output, updated weights) of one call."""
    class_name, config, iterations, prefix = _arguments(params)
    name = prefix + _weight_name(class_name)
    inner = {k[len(prefix):]: _f64(v) for k, v in weights.items() if k.startswith(prefix)}
    if not (call or {}).get("training"):
        return _apply(class_name, config, x, inner), {}
    w_sn, u = normalized(weights[name], weights["vector_u"], iterations)
    inner[_weight_name(class_name)] = w_sn
    return _apply(class_name, config, x, inner), {name: w_sn, "vector_u": u}


def spectral_normalization(x, weights, *, call=None, **params):
    """The wrapped layer with W / sigma in training (and the weight and u updated), with its
    weight as stored at inference (module docstring)."""
    return _step(x, weights, params, call)[0]


def update_state(x, weights, params, call):
    """{weight: W / sigma, "vector_u": u} after a training call; nothing at inference."""
    return _step(x, weights, params, call)[1]


def _norm_error(a, da, fmt):
    """(a / ||a||, a bound on its error) for a carrying an error bound da: ||a|| = sqrt(sum a^2)
    over n terms moves by at most ||da||_2 and rounds relatively by gamma_{n+2} (the sum of
    squares gamma_n halved by the root, the root, an rsqrt's extra ulp); the division by it
    rounds once more: |d(a / ||a||)_j| <= (|da_j| + |a_j| / ||a|| dnorm) / (||a|| - dnorm) + u |a_j| / ||a||."""
    u = fmt.unit_roundoff
    norm = np.linalg.norm(a)
    dnorm = np.linalg.norm(da) + gamma_or_inf(a.size + 2, u) * norm
    with np.errstate(divide="ignore", invalid="ignore"):
        unit = a / norm
        bound = (da + np.abs(unit) * dnorm) / (norm - dnorm) + u * np.abs(unit)
    return unit, np.where(norm > dnorm, bound, np.inf)


def sigma_error_bound(weight, vector_u, power_iterations, fmt):
    """(sigma, a bound on its rounding error) of `normalized`'s power iteration evaluated in the
    format fmt (reference_impl.rounding.Format), from a weight and a u stored exactly."""
    sigma, dsigma, _, _ = power_iteration_error_bound(weight, vector_u, power_iterations, fmt)
    return sigma, dsigma


def power_iteration_error_bound(weight, vector_u, power_iterations, fmt, *, weight_error=0.0, u_error=None,
                                u_error_norms=(0.0, 0.0)):
    """(sigma, a bound on its rounding error, a per-element bound on the new u's, the new u's
    norm-wise (across, along) bounds) of `normalized`'s power iteration evaluated in the format
    fmt, when the stored weight carries a relative error of at most `weight_error` in every
    entry and the stored u the per-element error `u_error` and the 2-norm errors
    `u_error_norms` across and along u (all 0: stored exactly, the first call). sigma's bound
    is the smaller of two first-order bounds, each sound on its own, the element-wise one
    (_sigma_error_elementwise) and the norm-wise one (_sigma_error_normwise), which is the
    smaller by about four times per iteration on random kernels (in bfloat16 about 0.2 sigma
    per iteration against 0.8: the element-wise one bounds nothing after two iterations
    there); u's, per element, the smaller of the element-wise bound and the norm-wise one (a
    2-norm bounds each element). The weight's error enters each product as
    gamma_K + rho (1 + gamma_K) in place of gamma_K (|W'| <= (1 + rho) |W|), and u's propagated
    error is carried times 1 + rho."""
    u0 = _f64(vector_u)
    du0 = np.zeros_like(u0) if u_error is None else np.broadcast_to(_f64(u_error), u0.shape)
    with np.errstate(all="ignore"):  # a zero iterate: a bound of NaN, returned as inf
        sigma, elementwise, du = _sigma_error_elementwise(weight, u0, power_iterations, fmt, weight_error, du0)
        normwise, norms = _sigma_error_normwise(weight, u0, power_iterations, fmt, weight_error, *u_error_norms)
    e_u = sum(norms)
    du = np.minimum(np.where(np.isnan(du), np.inf, du), e_u if np.isfinite(e_u) else np.inf)
    return sigma, min(elementwise, normwise), du, norms


def _with_weight_error(gamma, rho):
    """gamma_K of a product whose matrix carries the relative error rho: gamma_K + rho (1 + gamma_K)."""
    return gamma + rho * (1.0 + gamma)


def _across(m, unit):
    """||m (I - unit^T unit)||_2: the most m can make of an error with its part along `unit` removed."""
    return np.linalg.norm(m - (m @ unit.T) @ unit, 2)


def _sigma_error_normwise(weight, vector_u, power_iterations, fmt, rho=0.0, e_across=0.0, e_along=0.0):
    """(a bound on sigma's rounding error, (across, along): bounds on the 2-norms of the new u's
    error across u and along it), to first order in u. With W (n, c), ||W|| W's spectral norm,
    and u's error so far split into its part along u (a scaling of u: e_along) and the rest
    (e_across), 0 at first:
      a = u W^T      da = du W^T + the product's rounding, ||.|| <= || gamma_c |u| |W|^T ||
      v = a / ||a||  to first order the normalization moves v by da P_a / ||a||, P_a = I - v^T v
                     the projection off v: a scaling of u scales a and is removed, so
                     e_v,across <= (||W^T P_a|| e_across + || gamma_c |u| |W|^T ||) / ||a|| + u
                     (the division's rounding, any direction), e_v,along = gamma_{n+2} (the
                     norm's rounding, _norm_error, scales v)
      b = v W        db = dv W + the product's, ||db|| <= ||W|| e_v + || gamma_n |v| |W| ||
      u = b / ||b||  e_across <= (||W P_b|| e_v,across + || gamma_n |v| |W| ||) / ||b|| + u
                     (the along part of dv maps onto b and is removed), e_along = gamma_{c+2}
    and sigma = b u^T (c terms) = ||b||: dsigma <= |db u^T| + |b du^T| + gamma_c |b| |u|^T, where
    b du^T keeps only du's part along b, sigma (gamma_{c+2} + u), as the projected part is
    orthogonal to b: dsigma <= ||db|| + sigma (gamma_{c+2} + u + gamma_c). A weight with the
    relative error rho: ||W|| (1 + rho) and gamma_K + rho (1 + gamma_K) in the products (the
    projected norms times 1 + rho too)."""
    u_r = fmt.unit_roundoff
    weight, u = _f64(weight), _f64(vector_u)
    w = weight.reshape(-1, weight.shape[-1])
    n, c = w.shape
    norm_w = np.linalg.norm(w, 2) * (1.0 + rho)
    for _ in range(power_iterations):
        a = u @ w.T
        fresh_a = np.linalg.norm(_with_weight_error(gamma_or_inf(c, u_r), rho) * (np.abs(u) @ np.abs(w).T))
        norm_a = np.linalg.norm(a)
        v = a / norm_a
        v_across = ((1.0 + rho) * _across(w.T, v) * e_across + fresh_a) / norm_a + u_r
        v_along = gamma_or_inf(n + 2, u_r)
        b = v @ w
        fresh_b = np.linalg.norm(_with_weight_error(gamma_or_inf(n, u_r), rho) * (np.abs(v) @ np.abs(w)))
        db = norm_w * (v_across + v_along) + fresh_b
        norm_b = np.linalg.norm(b)
        u = b / norm_b
        e_across = ((1.0 + rho) * _across(w, u) * v_across + fresh_b) / norm_b + u_r
        e_along = gamma_or_inf(c + 2, u_r)
    sigma = (b @ u.T).item()
    bound = db + sigma * (gamma_or_inf(c + 2, u_r) + u_r + gamma_or_inf(c, u_r))
    finite = lambda t: float(t) if np.isfinite(t) else np.inf  # noqa: E731
    return finite(bound), (finite(e_across), finite(e_along))


def _sigma_error_elementwise(weight, vector_u, power_iterations, fmt, rho=0.0, du=None):
    """(sigma, a bound on its rounding error, a per-element bound on the new u's), element by
    element, to first order in u (a running error analysis, Higham section 3.3): with W (n, c)
    and du the stored u's error (0 at first),
      a = u W^T          c-term inner products: |da| <= gamma_c |u| |W|^T + |du| |W|^T
      v = a / ||a||      _norm_error
      b = v W            n-term inner products: |db| <= gamma_n |v| |W| + |dv| |W|
      u = b / ||b||      _norm_error
    and sigma = v W u^T = b u^T (c terms): |dsigma| <= gamma_c |b| |u|^T + |db| |u|^T + |b| |du|^T.
    Sound to first order, and loose when the iterations are many: each one divides the
    propagated error by a norm smaller than |u| |W| (about 100 u sigma after one iteration of a
    random 6 x 4 W, 2000 to 10000 u after three; in float16 three iterations may bound nothing,
    dsigma infinite). The power iteration contracts errors in u near convergence; a bound that
    uses it is not derived here. A weight with the relative error rho: gamma_K + rho (1 + gamma_K)
    in the products, and the propagated errors through (1 + rho) |W|."""
    u_r = fmt.unit_roundoff
    weight, u = _f64(weight), _f64(vector_u)
    w = weight.reshape(-1, weight.shape[-1])
    n, c = w.shape
    du = np.zeros_like(u) if du is None else _f64(du)
    w_high = (1.0 + rho) * np.abs(w)
    for _ in range(power_iterations):
        a = u @ w.T
        da = _with_weight_error(gamma_or_inf(c, u_r), rho) * (np.abs(u) @ np.abs(w).T) + du @ w_high.T
        v, dv = _norm_error(a, da, fmt)
        b = v @ w
        db = _with_weight_error(gamma_or_inf(n, u_r), rho) * (np.abs(v) @ np.abs(w)) + dv @ w_high
        u, du = _norm_error(b, db, fmt)
    sigma = (b @ u.T).item()
    dsigma = (gamma_or_inf(c, u_r) * (np.abs(b) @ np.abs(u).T) + db @ np.abs(u).T + np.abs(b) @ du.T).item()
    return sigma, dsigma, du


def carried_errors(history, weights, params, fmt):
    """The errors the stored weight and u carry after the calls of `history` ((x, call) pairs,
    in order, from the initial `weights`, stored exactly): (rho_entries, rho_stored, du, norms).

    A training call stores W' = W / sigma, rounded entry by entry, with sigma's error common to
    every entry. A common factor c of the stored W cancels at the next call (u, and W / sigma,
    are the same for c W, and each rounding is relative), so only the entries' own roundings
    carry into the next power iteration: rho_entries, (1 + rho) (1 + u) - 1 per training call.
    The stored W's whole relative error after a training call is rho_stored = (1 + rho_entries)
    (1 + dsigma / (sigma - dsigma)) - 1, dsigma that call's sigma bound with the weight's
    rho_entries and u's errors carried in (power_iteration_error_bound), which also gives u's
    new errors: du per element, norms its 2-norm (across, along) bounds. Calls without training
    change nothing. inf throughout once a sigma's bound reaches sigma."""
    class_name, _, iterations, prefix = _arguments(params)
    name = prefix + _weight_name(class_name)
    weight, u = _f64(weights[name]), _f64(weights["vector_u"])
    rho_entries, rho_stored, du, norms = 0.0, 0.0, np.zeros_like(u), (0.0, 0.0)
    for _, call in history:
        if not (call or {}).get("training"):
            continue
        sigma, dsigma, du, norms = power_iteration_error_bound(weight, u, iterations, fmt, weight_error=rho_entries,
                                                               u_error=du, u_error_norms=norms)
        if not (np.isfinite(dsigma) and sigma > dsigma):
            return np.inf, np.inf, np.full(u.shape, np.inf), (np.inf, np.inf)
        rho_entries = (1.0 + rho_entries) * (1.0 + fmt.unit_roundoff) - 1.0
        rho_stored = (1.0 + rho_entries) * (1.0 + dsigma / (sigma - dsigma)) - 1.0
        weight, u = normalized(weight, u, iterations)
    return rho_entries, rho_stored, du, norms


def error_bound(x, weights, fmt, *, call=None, history=None, **params):
    """Bound on the rounding error of spectral_normalization's output in the format fmt
    (reference_impl.rounding.Format), or None where none is derived; with `history` (the
    initial weights and every call's (x, call), this one last), {"output": that bound, the
    weight's name: its bound, "vector_u": u's bound} after the calls.

    The wrapped layer runs with a kernel W' that is W itself at inference, W / sigma in training:
    sigma carries the error of power_iteration_error_bound, and the division one rounding, so
    every entry of W / sigma has a relative error of at most rho = (1 + u) (1 + dsigma / (sigma -
    dsigma)) - 1, compounded with the entries' own roundings from earlier training calls; at
    inference the stored W's (carried_errors; 0 without history: the weights stored exactly). Then
      Embedding  a lookup of W': rho |y|;
      Dense, Conv  z = sum x_i W'_i + b: gamma_K sum |x_i W'_i| + |b| (K the products into one
               output and the bias, Higham (3.5)) plus (1 + gamma_K) rho sum |x_i W'_i| (the
               kernel's own error); the activation, if any, through rounding.through.
    The stored weight after the calls: rho |W'|; u: power_iteration_error_bound's per element.
    None where the power iteration's bound is not finite (a norm below its own error)."""
    class_name, config, iterations, prefix = _arguments(params)
    name = prefix + _weight_name(class_name)
    rho_entries, rho, du, norms = 0.0, 0.0, np.zeros(np.shape(weights["vector_u"])), (0.0, 0.0)
    if history is not None:
        initial, calls = history
        rho_entries, rho, du, norms = carried_errors(calls[:-1], initial, params, fmt)
    inner = {k[len(prefix):]: _f64(v) for k, v in weights.items() if k.startswith(prefix)}
    if (call or {}).get("training") and np.isfinite(rho):
        sigma, dsigma, du, _ = power_iteration_error_bound(weights[name], weights["vector_u"], iterations, fmt,
                                                           weight_error=rho_entries, u_error=du, u_error_norms=norms)
        ok = np.isfinite(dsigma) and sigma > dsigma
        rho = ((1.0 + rho_entries) * (1.0 + fmt.unit_roundoff) * (1.0 + dsigma / (sigma - dsigma)) - 1.0) if ok else np.inf
        inner[_weight_name(class_name)] = inner[_weight_name(class_name)] / sigma
    out = _output_error_bound(class_name, config, x, inner, rho, fmt) if np.isfinite(rho) else None
    if history is None:
        return out
    finite = np.isfinite(rho)
    return {"output": out, name: rho * np.abs(inner[_weight_name(class_name)]) if finite else None,
            "vector_u": du if finite and np.all(np.isfinite(du)) else None}


def _output_error_bound(class_name, config, x, inner, rho, fmt):
    """The wrapped layer's output bound with a kernel whose entries carry the relative error rho
    (error_bound)."""
    from reference_impl import activations, rounding

    if config.get("lora_rank"):
        return None  # the kernel is W + (alpha / r) A B first: not counted here
    if class_name == "Embedding":
        return rho * np.abs(_apply(class_name, config, x, inner))
    activation = config.get("activation")
    if activation not in (None, "linear") and (not isinstance(activation, str) or activation not in activations.ACTIVATIONS
                                               or activation in ("softmax", "log_softmax", "glu", "sparsemax")):
        return None
    linear = {**config, "activation": None}
    magnitude_inner = {k: np.abs(v) for k, v in inner.items()}
    x_magnitude = np.abs(_f64(x))
    kernel_only = {k: v for k, v in magnitude_inner.items() if k != "bias"}
    if "bias" in magnitude_inner:
        kernel_only["bias"] = np.zeros_like(magnitude_inner["bias"])
    magnitude = _apply(class_name, linear, x_magnitude, magnitude_inner)
    kernel_magnitude = _apply(class_name, linear, x_magnitude, kernel_only)
    k = int(np.prod(np.shape(inner["kernel"])[:-1])) + 1
    if k * fmt.unit_roundoff >= 1:
        return None
    g = rounding.gamma(k, fmt.unit_roundoff)
    dz = rounding.sum_of_products(magnitude, k, fmt) + (1 + g) * rho * kernel_magnitude
    if activation in (None, "linear"):
        return dz
    z = _apply(class_name, linear, x, inner)
    return rounding.through(activations.ACTIVATIONS[activation], z, dz, fmt, activations.CANCELLED.get(activation))


def state_names():
    """Every name the normalized weight may have, and vector_u."""
    return tuple(f"{inner}/{_weight_name(c)}" for c, inner in INNER.items()) + ("vector_u",)


def weight_shapes(input_shape, **params):
    class_name, config, _, prefix = _arguments(params)
    shapes = {prefix + k: v for k, v in _inner_shapes(class_name, config, input_shape).items()}
    shapes["vector_u"] = (1, shapes[prefix + _weight_name(class_name)][-1])
    return shapes


def output_shape(input_shape, **params):
    class_name, config, _, _ = _arguments(params)
    if class_name in ("Dense", "Embedding"):
        return _core().output_shape(class_name, input_shape, **config)
    return _conv.output_shape("conv", input_shape, rank=int(class_name[-2]), **config)
