"""Keras 3 weight constraints (`keras.constraints.*`) in NumPy float64: each maps a weight
tensor to its constrained ("projected") version, of the same shape.

Formulas from the Keras 3.15 docstrings (keras/src/constraints/constraints.py, the same text on
keras.io/api/layers/constraints/). ||w|| is the L2 norm of each slice of w over `axis` ("axis
along which to calculate weight norms"), broadcast back over that slice:

- MaxNorm(max_value=2, axis=0): "Constrains the weights incident to each hidden unit to have a
  norm less than or equal to a desired value":
      w * min(||w||, max_value) / ||w||      (a slice within the limit is unchanged)
- MinMaxNorm(min_value=0.0, max_value=1.0, rate=1.0, axis=0): "Constrains the weights incident
  to each hidden unit to have the norm between a lower bound and an upper bound ... weights will
  be rescaled to yield `(1 - rate) * norm + rate * norm.clip(min_value, max_value)`":
      w * ((1 - rate) ||w|| + rate * clip(||w||, min_value, max_value)) / ||w||
- UnitNorm(axis=0): "Constrains the weights incident to each hidden unit to have unit norm":
      w / ||w||
- NonNeg(): "Constrains the weights to be non-negative": max(w, 0) elementwise (the nearest
  non-negative tensor; NaN stays NaN, as IEEE max gives).

A zero slice has no direction, so no rescaling reaches another norm: it stays zero (for UnitNorm,
and for MinMaxNorm with min_value > 0, whose norm cannot be raised). The docstrings state no
epsilon: the rescaling is the exact ratio above, so a slice is rescaled to exactly the stated norm
whatever its size (a slice of norm 1e-8 within MaxNorm's limit is left as it is).

The axis convention (the docstrings): `axis` is an integer or a list of integers, the axes the
norm is taken over, so that what remains indexes the hidden units. "in a `Dense` layer the weight
matrix has shape `(input_dim, output_dim)`, set `axis` to `0` to constrain each weight vector of
length `(input_dim,)`. In a `Conv2D` layer with `data_format="channels_last"`, the weight tensor
has shape `(rows, cols, input_depth, output_depth)`, set `axis` to `[0, 1, 2]` to constrain the
weights of each filter tensor of size `(rows, cols, input_depth)`." KERNEL_AXES gives the same
choice for the other kernel layouts (the weights incident to each output unit). Negative axes
count from the end, as in NumPy.
"""
from __future__ import annotations

import numbers

import numpy as np

from reference_impl.rounding import gamma_or_inf

# The axes that hold the weights incident to one output unit, per kernel layout (kernel shapes
# as the layers document them). Dense, recurrent kernels (units, 4 * units) and the pointwise
# kernels are "incoming weights per column"; a depthwise kernel (*k, in, multiplier) has one
# output unit per (in, multiplier) pair; a transposed kernel (*k, filters, in) has one per filter.
KERNEL_AXES = {
    "Dense": 0,                       # (input_dim, units)
    "recurrent": 0,                   # (units, gates * units): LSTM, GRU, SimpleRNN recurrent_kernel
    "Conv1D": [0, 1],                 # (k, in, filters)
    "Conv2D": [0, 1, 2],              # (kh, kw, in, filters)
    "Conv3D": [0, 1, 2, 3],           # (kd, kh, kw, in, filters)
    "Conv1DTranspose": [0, 2],        # (k, filters, in)
    "Conv2DTranspose": [0, 1, 3],     # (kh, kw, filters, in)
    "Conv3DTranspose": [0, 1, 2, 4],  # (kd, kh, kw, filters, in)
    "DepthwiseConv1D": [0],           # (k, in, multiplier)
    "DepthwiseConv2D": [0, 1],        # (kh, kw, in, multiplier)
    "SeparableConv2D.pointwise": [0, 1, 2],  # (1, 1, in * multiplier, filters)
}


def _number(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"`{name}` must be a number. Received: {name}={value!r}")
    return float(value)


def _axes(axis, ndim) -> tuple:
    """`axis` (an int or a list/tuple of ints, negative from the end) as sorted non-negative axes."""
    items = list(axis) if isinstance(axis, (list, tuple)) else [axis]
    if not items or any(isinstance(a, bool) or not isinstance(a, numbers.Integral) for a in items):
        raise ValueError(f"`axis` must be an integer or a non-empty list of integers. Received: axis={axis!r}")
    bad = [a for a in items if not -ndim <= a < ndim]
    if bad:
        raise ValueError(f"`axis` {bad} is out of range for weights of rank {ndim}. Received: axis={axis!r}")
    normal = sorted(a % ndim for a in items)
    if len(set(normal)) != len(normal):
        raise ValueError(f"`axis` names an axis twice. Received: axis={axis!r}")
    return tuple(normal)


def norms(w, axis=0) -> np.ndarray:
    """The L2 norm of each slice of w over `axis`, kept as size-1 axes (broadcasts against w).

    Computed as m * sqrt(sum((w / m)^2)) with m the slice's largest |entry|, so that neither
    1e200 overflows nor 1e-200 underflows; an all-zero slice has norm 0."""
    w = np.asarray(w, dtype=np.float64)
    axes = _axes(axis, w.ndim)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        biggest = np.max(np.abs(w), axis=axes, keepdims=True)
        scale = np.where(biggest > 0, biggest, 1.0)
        scaled = w / scale
        return scale * np.sqrt(np.sum(scaled * scaled, axis=axes, keepdims=True))


def _rescale(w, norm, desired) -> np.ndarray:
    """w * desired / norm, slice by slice; a zero slice stays zero (it has no direction)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        factor = np.where(norm > 0, desired / np.where(norm > 0, norm, 1.0), 1.0)
    return w * factor


def max_norm(w, max_value=2, axis=0):
    """MaxNorm: w * min(||w||, max_value) / ||w||, norms over `axis` (max_value = 2, axis = 0)."""
    max_value = _number("max_value", max_value)
    w = np.asarray(w, dtype=np.float64)
    norm = norms(w, axis)
    return _rescale(w, norm, np.clip(norm, 0.0, max_value))


def min_max_norm(w, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
    """MinMaxNorm: w * ((1 - rate) ||w|| + rate clip(||w||, min_value, max_value)) / ||w||
    (min_value = 0, max_value = 1, rate = 1: strict enforcement; axis = 0)."""
    min_value, max_value, rate = (_number(n, v) for n, v in (("min_value", min_value), ("max_value", max_value), ("rate", rate)))
    w = np.asarray(w, dtype=np.float64)
    norm = norms(w, axis)
    desired = rate * np.clip(norm, min_value, max_value) + (1.0 - rate) * norm
    return _rescale(w, norm, desired)


def unit_norm(w, axis=0):
    """UnitNorm: w / ||w||, norms over `axis` (axis = 0); a zero slice stays zero."""
    w = np.asarray(w, dtype=np.float64)
    return _rescale(w, norms(w, axis), 1.0)


def non_neg(w):
    """NonNeg: max(w, 0) elementwise (NaN stays NaN)."""
    w = np.asarray(w, dtype=np.float64)
    return np.where(w < 0, 0.0, w)


CONSTRAINTS = {
    "MaxNorm": max_norm,
    "MinMaxNorm": min_max_norm,
    "NonNeg": non_neg,
    "UnitNorm": unit_norm,
}


# --- rounding error bounds ------------------------------------------------------------------------
# A library's reciprocal square root is allowed 1.5 units in the last place (3 u relative); a
# square root and a division are two roundings: the norm's root step counts as 3.
_ROOT_ROUNDINGS = 3


def _desired(name, norm, params):
    """(D(N), |D|(N)): the norm a slice of norm N is rescaled to, and the sum of the magnitudes of
    the terms its formula adds (MinMaxNorm's |rate| clip(N) + |1 - rate| N; D itself otherwise)."""
    if name == "UnitNorm":
        one = np.ones_like(norm)
        return one, one
    if name == "MaxNorm":
        d = np.minimum(norm, _number("max_value", params.get("max_value", 2)))
        return d, np.abs(d)
    rate = _number("rate", params.get("rate", 1.0))
    clipped = np.clip(norm, _number("min_value", params.get("min_value", 0.0)), _number("max_value", params.get("max_value", 1.0)))
    return rate * clipped + (1.0 - rate) * norm, abs(rate) * np.abs(clipped) + abs(1.0 - rate) * norm


def error_bound(name, w, unit_roundoff, smallest_normal=0.0, **params):
    """Per-element bound on the rounding error of the constraint's documented formula evaluated in
    a format of unit roundoff u and smallest normal `tiny` (0: no flush to zero), for every
    order of evaluation; None where no bound is derived (gamma_n bounds nothing, n u >= 1, or the
    flush to zero may take a whole slice's squares).

    NonNeg, max(w, 0), is a selection: exact, but for a subnormal w, which a platform that flushes
    subnormals to zero (TensorFlow on CPU) may return as 0: tiny there, 0 elsewhere.

    MaxNorm, MinMaxNorm and UnitNorm are y = w D(N) / N with N = sqrt(sum_A(w^2)) over a slice
    of n elements and D the desired norm (_desired: min(N, max_value); rate clip(N, min_value,
    max_value) + (1 - rate) N; 1). Step by step:
      S = sum_A(w^2), no cancellation: |dS| <= (gamma_n + 2 n tiny / S) S = theta S (Higham
          (3.5); each square and partial sum may be flushed below the normal range);
      N (or 1 / N, a reciprocal square root): relative error
          rho = (1 - theta)**-0.5 (1 + gamma_3) - 1 (the root's, exact in theta, and 3 roundings),
          so a computed N lies in [N_lo, N_hi] = [N (1 - rho), N / (1 - rho)];
      the formula names N twice, and an evaluation may take the two from different roots of the
          same S (D from sqrt(S), the division as a product by rsqrt(S): XLA rewrites a / sqrt(b)
          so), so they are taken apart, N_1 and N_2 each anywhere in [N_lo, N_hi]:
          |D(N_1) / N_2 - D(N) / N| <= dD / N_lo + |D(N)| (1 / N_lo - 1 / N),
          dD = max |D(N') - D(N)| over [N_lo, N_hi] (D is piecewise linear: at the ends and at
          the clip's corners inside);
      D's own formula: MaxNorm max_value's rounding into the format, at most
          u (1 + gamma_2) min(max_value, N_hi); MinMaxNorm the bounds' and the rate's rounding, the
          two products and the sum, gamma_4 |D|(N_hi), and 2 u |rate| |clip(N_1) - N_1| for the
          rate's rounding (or for C - N rounded in the rearranged N + rate (C - N)),
          |clip(N_1) - N_1| <= |clip(N) - N| + 2 (N_hi - N); UnitNorm nothing: e_D, over N_lo;
      the division (or the product by 1 / N) and the product by w: gamma_2.
    With r = dD / N_lo + |D(N)| (1 / N_lo - 1 / N) + e_D / N_lo:
        |dy| <= |w| (r + (|D(N)| / N + r) gamma_2) + tiny (1 + |D|(N_hi)),
    the last term w / N or the product flushed below the normal range and then scaled by D.
    An all-zero slice stays zero (the documented rescaling has no direction to keep): its bound
    is that floor.
    The docstrings state no epsilon: tf.keras's division by 1e-7 + N is not a rounding of the
    documented formula and is not in the bound (cases/divergences.yaml records where it shows).
    """
    w = np.asarray(w, dtype=np.float64)
    u = float(unit_roundoff)
    tiny = float(smallest_normal)
    if name == "NonNeg":
        subnormal = np.isfinite(w) & (w != 0) & (np.abs(w) < tiny)
        return np.where(subnormal, tiny, 0.0)
    if name not in ("MaxNorm", "MinMaxNorm", "UnitNorm"):
        raise ValueError(f"`name` must be one of {', '.join(CONSTRAINTS)}. Received: name={name!r}")
    axes = _axes(params.get("axis", 0), w.ndim)
    n = int(np.prod([w.shape[a] for a in axes]))
    if n * u >= 1:
        return None
    with np.errstate(all="ignore"):
        squares = np.sum(w * w, axis=axes, keepdims=True)
        norm = norms(w, params.get("axis", 0))
        nonzero = norm > 0
        theta = np.where(nonzero, gamma_or_inf(n, u) + 2.0 * n * tiny / np.where(nonzero, squares, 1.0), 0.0)
        if np.any(theta >= 1):
            return None
        rho = (1.0 - theta) ** -0.5 * (1.0 + gamma_or_inf(_ROOT_ROUNDINGS, u)) - 1.0
        safe = np.where(nonzero, norm, 1.0)
        low, high = safe * (1.0 - rho), safe / (1.0 - rho)
        desired = lambda n_: _desired(name, n_, params)[0]  # noqa: E731
        at = desired(safe)
        corners = [low, high]
        if name == "MinMaxNorm":
            corners += [np.clip(_number(k, params.get(k, d)), low, high) for k, d in (("min_value", 0.0), ("max_value", 1.0))]
        moved = np.max([np.abs(desired(c) - at) for c in corners], axis=0)
        magnitude_high = _desired(name, high, params)[1]
        if name == "MaxNorm":
            e_d = u * (1.0 + gamma_or_inf(2, u)) * np.minimum(abs(_number("max_value", params.get("max_value", 2))), high)
        elif name == "MinMaxNorm":
            rate = _number("rate", params.get("rate", 1.0))
            clipped = np.clip(safe, _number("min_value", params.get("min_value", 0.0)), _number("max_value", params.get("max_value", 1.0)))
            e_d = gamma_or_inf(4, u) * magnitude_high + 2.0 * u * abs(rate) * (np.abs(clipped - safe) + 2.0 * (high - safe))
        else:
            e_d = 0.0
        relative = (moved + e_d) / low + np.abs(at) * (1.0 / low - 1.0 / safe)
        total = relative + (np.abs(at) / safe + relative) * gamma_or_inf(2, u)
        bound = np.where(nonzero, np.abs(w) * total, 0.0) + tiny * (1.0 + np.where(nonzero, magnitude_high, 0.0))
    return np.where(np.isfinite(bound), bound, np.inf)
