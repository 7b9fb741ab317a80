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
