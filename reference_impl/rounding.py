"""Forward error bounds: how far from the exact result a correct evaluation of a documented
formula in a floating-point format may land (Higham, *Accuracy and Stability of Numerical
Algorithms*, 2nd ed., SIAM 2002, chapters 2 and 3). NumPy only.

The model (Higham section 2.2): every basic operation of a format with unit roundoff u returns
fl(a op b) = (a op b)(1 + d), |d| <= u, for results in the normal range. The formats:

    format     p (significand bits)   u = 2**-p              smallest normal 2**emin
    float64    53                     1.1102230246251565e-16  2.2250738585072014e-308
    float32    24                     5.9604644775390625e-08  1.1754943508222875e-38
    float16    11                     4.8828125e-04           6.103515625e-05
    bfloat16    8                     3.90625e-03             1.1754943508222875e-38

Below the smallest normal a result is rounded with an absolute error below half the subnormal
spacing, or, where the platform flushes subnormals to zero (TensorFlow sets flush-to-zero on its
CPU threads), below the smallest normal itself: each rounding may also lose that much.

The bounds, each stated where it is used:
- sum_of_products: an inner product of K terms, in any order of summation, with or without fused
  multiply-adds, |fl(s) - s| <= gamma_K sum |x_i w_i|, gamma_K = K u / (1 - K u) (Higham
  Lemma 3.1 and (3.5)). The sum of magnitudes comes from the layer's own reference evaluated on
  |x| and |w|: for a multilinear layer that is exactly sum |x_i w_i| (+ |b|) per output.
- perturbed_sum_of_products: the same sum when its factors arrive with errors (attention's
  weighted sum of values, whose weights and values were computed): the perturbation of the
  exact factors, plus gamma_K times the magnitude of the perturbed ones.
- through: y = f(z) where z carries an error bound dz: |f(z + e) - f(z)| for |e| <= dz, taken as
  the larger of the two secants f(z +- dz) - f(z) (exact for monotone f, first order otherwise),
  plus f's own evaluation bound at z.
- elementwise: a few units in the last place of the result, plus u times the condition of f
  at x (u |x f'(x)|: an argument rounded inside the formula, x / sqrt(2) in gelu), plus u times
  the magnitude that the documented formula cancels (1 + exp(x) in softplus: a result far
  below 1 keeps an absolute error of order u, not u times itself).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Format:
    name: str
    precision: int  # significand bits p, the implicit bit included
    min_exponent: int  # emin: the smallest normal number is 2**emin

    @property
    def unit_roundoff(self) -> float:
        return 2.0 ** -self.precision

    @property
    def smallest_normal(self) -> float:
        return 2.0 ** self.min_exponent

    @property
    def subnormal_spacing(self) -> float:
        return 2.0 ** (self.min_exponent - self.precision + 1)

    @property
    def largest(self) -> float:
        """The largest finite value, (2 - 2**(1 - p)) * 2**emax with emax = 1 - emin (IEEE 754
        binary formats, and bfloat16): 65504 for float16."""
        return (2.0 - 2.0 ** (1 - self.precision)) * 2.0 ** (1 - self.min_exponent)


FORMATS = {f.name: f for f in (
    Format("float64", 53, -1022),
    Format("float32", 24, -126),
    Format("float16", 11, -14),
    Format("bfloat16", 8, -126),
)}

# "A few units in the last place": an elementwise function's documented formula has up to four
# operations (gelu: a scaling, erf, an addition, two products), each within 0.5 ulp if basic and
# about 1-2 ulps for the exp, log, tanh and erf of a math library, and composing them adds those
# errors to first order.
ELEMENTWISE_ULPS = 4.0


def format_of(dtype: str) -> Format:
    try:
        return FORMATS[dtype]
    except KeyError:
        raise ValueError(f"no floating-point format {dtype!r}; formats: {', '.join(FORMATS)}") from None


def gamma(k, u: float):
    """gamma_k = k u / (1 - k u): the bound on |prod (1 + d_i)^(+-1) - 1| over k roundings
    (Higham Lemma 3.1); valid while k u < 1."""
    k = np.asarray(k, dtype=np.float64)
    if np.any(k * u >= 1):
        raise ValueError(f"gamma_k needs k u < 1; received k={float(np.max(k)):g}, u={u:g}")
    return k * u / (1.0 - k * u)


def gamma_or_inf(k, u: float):
    """gamma_k where k u < 1, else inf: k roundings of unit roundoff u then bound nothing, and a
    bound built on them is infinite (the comparison falls back to the flat tolerance). For the
    bounds that carry an infinite term through; `gamma` raises instead."""
    k = np.asarray(k, dtype=np.float64)
    with np.errstate(divide="ignore"):
        out = np.where(k * u < 1, k * u / np.where(k * u < 1, 1.0 - k * u, 1.0), np.inf)
    return out if out.ndim else float(out)


def ulp(y, fmt: Format) -> np.ndarray:
    """The spacing of the format's numbers at |y|: 2**(e - p + 1) with 2**e <= |y| < 2**(e+1),
    and the subnormal spacing below the smallest normal (0 included). Infinite or NaN y: 0."""
    y = np.abs(np.asarray(y, dtype=np.float64))
    finite = np.isfinite(y) & (y > 0)
    with np.errstate(divide="ignore"):
        exponent = np.where(finite, np.floor(np.log2(np.where(finite, y, 1.0))), fmt.min_exponent)
    exponent = np.maximum(exponent, fmt.min_exponent)
    spacing = np.exp2(exponent - fmt.precision + 1)
    return np.where(np.isfinite(y), spacing, 0.0)


def ulp_distance(actual, expected, fmt: Format) -> np.ndarray:
    """|actual - expected| in units of the format's spacing at the expected value (0 where both
    are the same non-finite value, inf where only one is)."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    same_special = (actual == expected) | (np.isnan(actual) & np.isnan(expected))
    with np.errstate(invalid="ignore", over="ignore"):
        distance = np.abs(actual - expected) / ulp(expected, fmt)
    return np.where(same_special, 0.0, np.where(np.isfinite(distance), distance, np.inf))


def underflow_floor(operations, fmt: Format):
    """What `operations` roundings may lose below the normal range when the platform flushes
    subnormal results to zero: the smallest normal each."""
    return np.asarray(operations, dtype=np.float64) * fmt.smallest_normal


def sum_of_products(magnitude, length, fmt: Format) -> np.ndarray:
    """Bound on the error of sums of `length` products (bias included as a term) whose exact
    magnitudes sum to `magnitude` = sum |x_i w_i| per output: gamma_length * magnitude (Higham
    (3.5)), plus the flush-to-zero floor of its 2 * length roundings."""
    magnitude = np.asarray(magnitude, dtype=np.float64)
    return gamma(length, fmt.unit_roundoff) * magnitude + underflow_floor(2 * np.asarray(length), fmt)


def perturbed_sum_of_products(magnitude, perturbation, length, fmt: Format) -> np.ndarray:
    """Bound on the error of sums of `length` products a_i b_i whose factors arrive computed,
    a_i + e_i and b_i + f_i with |e_i| <= da_i, |f_i| <= db_i:

        |fl(sum (a_i + e_i)(b_i + f_i)) - sum a_i b_i|
            <= sum (da_i |b_i| + (|a_i| + da_i) db_i)              (= perturbation)
             + gamma_length sum (|a_i| + da_i)(|b_i| + db_i)       (magnitude: Higham (3.5))

    plus the flush-to-zero floor of its 2 * length roundings. The caller forms both sums (one
    einsum each), since only it knows which index is contracted."""
    perturbation = np.asarray(perturbation, dtype=np.float64)
    return perturbation + sum_of_products(magnitude, length, fmt)


def secant(f, z, dz) -> np.ndarray:
    """max(|f(z + dz) - f(z)|, |f(z - dz) - f(z)|) in float64: how far f moves when its
    argument moves by up to dz (exact for monotone f on the interval)."""
    z = np.asarray(z, dtype=np.float64)
    dz = np.asarray(dz, dtype=np.float64)
    with np.errstate(all="ignore"):
        at = f(z)
        moved = np.maximum(np.abs(f(z + dz) - at), np.abs(f(z - dz) - at))
    return np.where(np.isfinite(moved), moved, np.inf)


def condition_term(f, x, fmt: Format) -> np.ndarray:
    """u |x f'(x)|, f' by a central difference in float64 (a step of 2**-20 relative, at least
    2**-30): the error of f at an argument rounded once inside its formula."""
    x = np.asarray(x, dtype=np.float64)
    h = np.maximum(np.abs(x) * 2.0 ** -20, 2.0 ** -30)
    with np.errstate(all="ignore"):
        slope = (f(x + h) - f(x - h)) / (2 * h)
    term = fmt.unit_roundoff * np.abs(x * slope)
    return np.where(np.isfinite(term), term, 0.0)


def elementwise(f, x, fmt: Format, cancelled=None) -> np.ndarray:
    """Bound on the error of y = f(x) evaluated elementwise by its documented formula:

        ELEMENTWISE_ULPS * (ulp(y) + 2 u S(x) + smallest normal * max(1, |x|)) + u |x f'(x)|

    S(x) = cancelled(x), the magnitude the formula cancels (0 when it cancels nothing): its
    rounding, u S, survives in a result far smaller than S. The last term is an intermediate
    flushed to zero below the normal range and then scaled by x (silu's x * sigmoid(x) at
    x = -88 in float32: sigmoid's 6e-39 flushed, 88 times that lost)."""
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(all="ignore"):
        y = np.asarray(f(x), dtype=np.float64)
    scale = 0.0 if cancelled is None else np.abs(np.asarray(cancelled(x), dtype=np.float64))
    flushed = fmt.smallest_normal * np.maximum(1.0, np.abs(np.where(np.isfinite(x), x, 0.0)))
    bound = ELEMENTWISE_ULPS * (ulp(y, fmt) + 2 * fmt.unit_roundoff * scale + flushed) + condition_term(f, x, fmt)
    return np.where(np.isfinite(bound), bound, np.inf)


def through(f, z, dz, fmt: Format, cancelled=None) -> np.ndarray:
    """Bound on the error of y = f(z) when z arrives with error up to dz: how far f moves over
    [z - dz, z + dz], plus f's own evaluation error at z (elementwise)."""
    return secant(f, z, dz) + elementwise(f, z, fmt, cancelled)
