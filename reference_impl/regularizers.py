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
import inspect
import numbers

import numpy as np

from reference_impl.rounding import gamma_or_inf

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


# --- rounding error bounds ------------------------------------------------------------------------


# A library's reciprocal square root is allowed 1.5 units in the last place (3 u relative); a
# square root and a division are two roundings: normalizing a vector counts 3 after its sum.
_ROOT_ROUNDINGS = 3


def error_bound(function, x, unit_roundoff, smallest_normal=0.0, **params):
    """Bound on the rounding error of the penalty's documented formula evaluated in a format of
    unit roundoff u and smallest normal `tiny` (0: no flush to zero), in every order of
    evaluation; None where no bound is derived (gamma_k bounds nothing for k u >= 1: 254 weights
    in bfloat16). `function`: l1, l2, l1_l2, orthogonal_regularizer or one of get()'s results,
    called as function(x, **params) (its own defaults for the factors left out).

    L1 = l1 * sum|x|, L2 = l2 * sum x^2, L1L2 = both, over the n elements of x. Every term is
    >= 0, so nothing cancels: the sum (an inner product, x^2 = x * x, in any order) is within
    gamma_n of its value (Higham (3.5)); the factor is rounded into the format and multiplies it:
    2 roundings; L1L2 adds the two penalties: 1 more.
        |dP| <= gamma_{n+3} (|l1| sum|x| + |l2| sum x^2) + tiny (2 n (|l1| + |l2|) + 3),
    the last term the squares and partial sums flushed below the normal range (TensorFlow
    flushes subnormals on CPU), and the products. A zero factor's term is exactly 0.

    OrthogonalRegularizer, P = factor * sum_{i != j} |<u_i, u_j>| / (n (n - 1)), u_i = v_i / ||v_i||
    for the n rows (or columns) v_i of length m:
      ||v_i||^2 within theta_i = gamma_m + 2 m tiny / ||v_i||^2 (as above); the root and the
          division (or a reciprocal square root and a product): every entry of u_i within
          rho_i = (1 - theta_i)**-0.5 (1 + gamma_3) - 1 relative (_ROOT_ROUNDINGS);
      G_ij = <u_i, u_j> in any order: the entries' errors and gamma_m of the dot product,
          |dG_ij| <= ((1 + rho_i)(1 + rho_j)(1 + gamma_m) - 1) A_ij, A_ij = sum_k |u_ik| |u_jk|
          (|G_ij| is 1-Lipschitz: the same for the magnitudes);
      the sum of the n^2 - n off-diagonal magnitudes (or of n^2 terms with the diagonal masked to
          0: exact products by 0 and 1): gamma_{n^2} relative, all terms >= 0;
      the factor's rounding, the division by n (n - 1) (or by the pairs n (n - 1) / 2 and a half,
          exact but for its rounding) and the products: 4 roundings.
        |dP| <= |factor| / (n (n - 1)) ((1 + gamma_{n^2+4}) sum_{i != j} |dG_ij|
                                          + gamma_{n^2+4} sum_{i != j} |G_ij|) + 4 tiny.
    A zero row (u_i = 0, orthogonal to all) contributes 0 to both; n < 2 has no pair: no bound.
    """
    u = float(unit_roundoff)
    tiny = float(smallest_normal)
    arguments = inspect.signature(function).bind(x, **params)
    arguments.apply_defaults()
    given = {k: v for k, v in arguments.arguments.items() if k != "x"}
    base = function.func if isinstance(function, functools.partial) else function
    if base is orthogonal_regularizer:
        return _orthogonal_bound(x, u, tiny, **given)
    l1_factor, l2_factor = (abs(_factor(k, given.get(k, 0.0))) for k in ("l1", "l2"))
    x = np.asarray(x, dtype=np.float64)
    n = x.size
    k = n + 3
    if k * u >= 1:
        return None
    with np.errstate(over="ignore", invalid="ignore"):
        magnitude = (l1_factor * _sum_abs(x) if l1_factor else 0.0) + (l2_factor * _sum_squares(x) if l2_factor else 0.0)
        bound = gamma_or_inf(k, u) * magnitude + tiny * (2.0 * n * (l1_factor + l2_factor) + 3.0)
    return np.float64(bound) if np.isfinite(bound) else np.float64(np.inf)


def _orthogonal_bound(x, u, tiny, factor=0.01, mode="rows"):
    factor = abs(_factor("factor", factor))
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or mode not in MODES:
        return None
    vectors = x if mode == "rows" else x.T
    n, m = vectors.shape
    if n < 2 or max(m, n * n + 4) * u >= 1:
        return None
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        biggest = np.max(np.abs(vectors), axis=1, keepdims=True)
        scaled = vectors / np.where(biggest > 0, biggest, 1.0)
        norms = np.sqrt(np.sum(scaled * scaled, axis=1, keepdims=True))
        units = scaled / np.where(norms > 0, norms, 1.0)
        squares = np.sum(vectors * vectors, axis=1)
        nonzero = biggest[:, 0] > 0
        theta = np.where(nonzero, gamma_or_inf(m, u) + 2.0 * m * tiny / np.where(squares > 0, squares, 1.0), 0.0)
    if np.any(theta >= 1) or not np.all(np.isfinite(units)):
        return None
    rho = (1.0 - theta) ** -0.5 * (1.0 + gamma_or_inf(_ROOT_ROUNDINGS, u)) - 1.0
    magnitudes = np.abs(units) @ np.abs(units).T
    entry = ((1.0 + rho[:, None]) * (1.0 + rho[None, :]) * (1.0 + gamma_or_inf(m, u)) - 1.0) * magnitudes
    gram = np.abs(units @ units.T)
    off = ~np.eye(n, dtype=bool)
    k = gamma_or_inf(n * n + 4, u)
    return np.float64(factor / (n * (n - 1)) * ((1.0 + k) * np.sum(entry[off]) + k * np.sum(gram[off])) + 4.0 * tiny)
