"""Keras 3 weight regularizers (`keras.regularizers.*`) in NumPy float64: each returns a float64 penalty.

Formulas from the Keras 3.15 docstrings:
- L1(l1=0.01):          l1 * reduce_sum(abs(x))
- L2(l2=0.01):          l2 * reduce_sum(square(x))      (no 1/2)
- L1L2(l1=0.0, l2=0.0): both terms, added; as the string "l1_l2" both factors are 0.01.
  A factor of exactly 0 contributes 0 (also against an infinite weight, where 0 * inf would be nan).
- OrthogonalRegularizer(factor=0.01, mode="rows"), rank-2 weights only: "proportional to `factor`
  times the mean of the dot products between the L2-normalized rows (or columns) of the inputs,
  excluding the product of each row/column with itself". Taken with proportionality constant 1 and
  the magnitude of each dot product (a signed mean would reward anti-parallel rows, against the
  docstring's "encourages input vectors to be orthogonal"):
      factor * sum_{i != j} |<u_i, u_j>| / (n (n - 1)),   u_i = row_i / ||row_i||
  (= factor * 0.5 * sum |off-diagonal of the Gram matrix| / (n (n - 1) / 2)). A zero row has no
  direction and is taken as orthogonal to all (u_i = 0). n = 1 has no pair: the mean is undefined (nan).
"""
from __future__ import annotations

import functools
import numbers

import numpy as np

MODES = ("rows", "columns")


def _factor(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"`{name}` must be a float. Received: {name}={value!r}")
    return float(value)


def _term(factor, total):
    """factor * total, with a zero factor giving exactly 0 (a term that is switched off)."""
    return np.float64(0.0) if factor == 0 else np.float64(factor * total)


def _sum_abs(x):
    return np.sum(np.abs(np.asarray(x, dtype=np.float64)))


def _sum_squares(x):
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(over="ignore"):
        return np.sum(x * x)


def l1(x, l1=0.01):
    """L1: l1 * sum(|x|) (l1 = 0.01)."""
    return _term(_factor("l1", l1), _sum_abs(x))


def l2(x, l2=0.01):
    """L2: l2 * sum(x**2) (l2 = 0.01; no 1/2)."""
    return _term(_factor("l2", l2), _sum_squares(x))


def l1_l2(x, l1=0.0, l2=0.0):
    """L1L2: l1 * sum(|x|) + l2 * sum(x**2) (class defaults l1 = l2 = 0.0; the string "l1_l2" uses 0.01 each)."""
    return np.float64(_term(_factor("l1", l1), _sum_abs(x)) + _term(_factor("l2", l2), _sum_squares(x)))


def orthogonal_regularizer(x, factor=0.01, mode="rows"):
    """OrthogonalRegularizer: factor * mean over pairs i != j of |<u_i, u_j>|, u_i the L2-normalized rows
    (mode="rows") or columns (mode="columns") of a rank-2 x; see the module docstring.
    """
    factor = _factor("factor", factor)
    if mode not in MODES:
        raise ValueError(f"`mode` must be one of {', '.join(map(repr, MODES))}. Received: mode={mode!r}")
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"OrthogonalRegularizer needs rank-2 weights. Received: x.shape={x.shape} of rank {x.ndim}")
    vectors = x if mode == "rows" else x.T
    n = vectors.shape[0]
    if n < 2:
        return np.float64(np.nan)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        # scale by the largest |entry| first, so that the norm neither overflows nor underflows
        biggest = np.max(np.abs(vectors), axis=1, keepdims=True)
        scaled = vectors / np.where(biggest > 0, biggest, 1.0)
        norms = np.sqrt(np.sum(scaled * scaled, axis=1, keepdims=True))
        units = scaled / np.where(norms > 0, norms, 1.0)
    gram = np.abs(units @ units.T)
    np.fill_diagonal(gram, 0.0)
    return _term(factor, np.sum(gram) / (n * (n - 1)))


_BY_NAME = {
    "l1": l1,
    "l2": l2,
    "l1_l2": functools.partial(l1_l2, l1=0.01, l2=0.01),  # the L1L2 docstring: "l1_l2" means l1 = l2 = 0.01
    "orthogonal_regularizer": orthogonal_regularizer,
    # a class name is an identifier too, meaning the class with its own defaults (the class
    # signatures: L1(l1=0.01), L2(l2=0.01), L1L2(l1=0.0, l2=0.0), OrthogonalRegularizer(factor=0.01))
    "L1": l1,
    "L2": l2,
    "L1L2": l1_l2,
    "OrthogonalRegularizer": orthogonal_regularizer,
}
KNOWN = tuple(sorted(_BY_NAME))


def get(name):
    """The penalty function for a Keras regularizer string identifier; None gives None (no regularizer)."""
    if name is None:
        return None
    if isinstance(name, str) and name in _BY_NAME:
        return _BY_NAME[name]
    raise ValueError(f"Unknown regularizer: name={name!r}. Known names: {', '.join(KNOWN)} (or None).")
