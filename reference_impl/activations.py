"""Keras 3 activation functions (`keras.activations.*`) and activation layers in NumPy float64.

Each function casts its input with `np.asarray(x, dtype=np.float64)` and returns float64.
Formulas follow the Keras 3.15 docstrings; where a docstring rounds a constant (SELU) the full
value from the cited paper is used. Beyond the docstrings, the reference is careful in float64:
no cancellation (gelu, tanh_shrink, squareplus), no overflow (softplus, sigmoid, softmax), the
mathematical limit at +-inf (silu(-inf) = 0, softsign(inf) = 1), and NaN in gives NaN out, also
for piecewise rules whose comparisons are all False at NaN (hard_shrink, soft_shrink, threshold).

`ACTIVATIONS` maps every keras.activations name to its function; `get(name)` looks a name (or
None, or a callable) up as the `activation=` argument of a layer does. The layer references
(`activation_layer`, `relu_layer`, `leaky_relu_layer`, `prelu_layer`, `elu_layer`,
`softmax_layer`) follow the layer docstrings. Defaults that differ between function and layer:
leaky_relu 0.2 vs LeakyReLU 0.3; relu keeps x only where x > threshold, the ReLU layer formula
where x >= threshold.
"""
from __future__ import annotations

import math

import numpy as np

from reference_impl import rounding

# SELU constants (Klambauer et al., 2017); the Keras docstring rounds them to 1.67326324 / 1.05070098.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
# 0.044715 and sqrt(2 / pi) = 0.79788456080286535587989211986876 of the tanh form of GELU.
GELU_TANH_COEFFICIENT = 0.044715
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_PI = 1.0 / math.sqrt(math.pi)  # 0.56418958354775628694807945156077
_SQRT_2 = math.sqrt(2.0)  # 1.4142135623730950488016887242097

_ERF_SERIES_TERMS = 40  # |z| < 1: the 40th term is below 2**40 / 81!! ~ 1e-48 of the first
_ERFC_FRACTION_DEPTH = 250  # z >= 1: relative error of the truncated fraction below 1e-15
_TANH_FRACTION_DEPTH = 14  # |x| < 1: Lambert's fraction for tanh, error below 1e-30


def _f64(x):
    return np.asarray(x, dtype=np.float64)


# --- erf / erfc (vectorized, no scipy) --------------------------------------------------


def _exp_minus_square(z):
    """exp(-z**2), with z**2 split as hi**2 + (z - hi)(z + hi) so that the square is not rounded.

    hi is z rounded to a multiple of 2**-12, whose square is exact in float64 for |z| < 2**14.
    """
    hi = np.round(z * 4096.0) / 4096.0
    return np.exp(-hi * hi) * np.exp(-(z - hi) * (z + hi))


def _erf_series(z):
    """erf(z) = 2/sqrt(pi) * exp(-z**2) * sum_{n>=0} 2**n z**(2n+1) / (1*3*5*...*(2n+1)).

    Every term has the sign of z, so the sum has no cancellation; used for |z| < 1.
    """
    z2 = z * z
    term = z.copy()
    total = z.copy()
    for n in range(1, _ERF_SERIES_TERMS):
        term = term * (2.0 * z2 / (2 * n + 1))
        total = total + term
    return 2.0 * _INV_SQRT_PI * _exp_minus_square(z) * total


def _erfc_denominator(z):
    """z + (1/2)/(z + (2/2)/(z + (3/2)/(z + ...))), evaluated from level 250 back to level 1 (z >= 1).

    erfc(z) = exp(-z**2) / sqrt(pi) / this; z is capped at 40, where erfc has long underflowed to 0
    (erfc(27) < 1e-318), so that z = inf gives a finite denominator.
    """
    z = np.minimum(z, 40.0)
    f = z.copy()
    for level in range(_ERFC_FRACTION_DEPTH, 0, -1):
        f = z + (0.5 * level) / f
    return f


def _erfc_fraction(z):
    """erfc(z) = exp(-z**2)/sqrt(pi) / (z + (1/2)/(z + (2/2)/(z + (3/2)/(z + ...)))) for z >= 1."""
    z = np.minimum(z, 40.0)
    return _INV_SQRT_PI * _exp_minus_square(z) / _erfc_denominator(z)


def _erfc(z):
    """Complementary error function erfc(z) = 1 - erf(z), accurate in relative terms for all z.

    |z| < 1: 1 - series(z); z >= 1: continued fraction; z <= -1: 2 - erfc(-z).
    """
    z = _f64(z)
    out = np.empty_like(z)
    small = np.abs(z) < 1.0
    out[small] = 1.0 - _erf_series(z[small])
    big = ~small & (z > 0)
    out[big] = _erfc_fraction(z[big])
    negative = ~small & ~(z > 0)  # includes nan, which stays nan
    out[negative] = 2.0 - _erfc_fraction(-z[negative])
    return out


def _erf(z):
    """Error function erf(z) = 2/sqrt(pi) * integral_0^z exp(-t**2) dt.

    |z| < 1: series; |z| >= 1: sign(z) * (1 - erfc(|z|)).
    """
    z = _f64(z)
    out = np.empty_like(z)
    small = np.abs(z) < 1.0
    out[small] = _erf_series(z[small])
    out[~small] = np.sign(z[~small]) * (1.0 - _erfc(np.abs(z[~small])))
    return out


def _ndtr(x):
    """Standard normal cdf Phi(x) = P(X <= x) = 0.5 * erfc(-x / sqrt(2)), accurate in relative terms for all x.

    For x < -sqrt(2) (the lower tail), 0.5 * exp(-x**2 / 2) / sqrt(pi) / denominator(-x / sqrt(2)),
    with exp(-x**2 / 2) formed from x itself: through the rounded x / sqrt(2), exp(-z**2) would
    pick up a relative error of about z**2 * 2.2e-16 (1e-13 at x = -30).
    """
    x = _f64(x)
    out = np.array(0.5 * _erfc(-x / _SQRT_2), dtype=np.float64)  # 0-d stays an array
    tail = x < -_SQRT_2
    t = np.maximum(x[tail], -60.0)  # Phi(-60) ~ 1e-784 underflows; the cap keeps x = -inf finite
    hi = np.round(t * 4096.0) / 4096.0  # hi**2 / 2 is exact
    half_square_exp = np.exp(-0.5 * hi * hi) * np.exp(-0.5 * (t - hi) * (t + hi))
    out[tail] = 0.5 * _INV_SQRT_PI * half_square_exp / _erfc_denominator(-t / _SQRT_2)
    return out


# --- helpers for limits and NaN ---------------------------------------------------------


def _times(a, b):
    """a * b, where a factor that is exactly 0 gives 0 even against +-inf (the limit, not nan).

    NaN still propagates: 0 * nan is nan.
    """
    a, b = _f64(a), _f64(b)
    with np.errstate(invalid="ignore"):
        product = a * b
    zero = ((a == 0) & ~np.isnan(b)) | ((b == 0) & ~np.isnan(a))
    return np.where(zero, 0.0, product)


def _vanishing_at_minus_inf(x, y):
    """y, with -0.0 where x = -inf (x * g(x) with g(x) -> 0 faster than 1 / |x| there)."""
    return np.where(x == -np.inf, -0.0, y)


def _is_int(v):
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def _axes(name, axis, ndim, *, allow_tuple):
    """`axis` (an int, or if allow_tuple a non-empty tuple/list of distinct ints) as non-negative axes."""
    if _is_int(axis):
        values = (axis,)
    elif allow_tuple and isinstance(axis, (tuple, list)) and len(axis) > 0:
        values = tuple(axis)
    else:
        values = None
    ok = values is not None and all(_is_int(a) and -ndim <= a < ndim for a in values)
    if ok:
        values = tuple(int(a) % ndim for a in values)
        ok = len(set(values)) == len(values)
    if not ok:
        kind = "an int or a tuple/list of distinct ints" if allow_tuple else "an int"
        raise ValueError(f"`{name}` must be {kind} in [-{ndim}, {ndim}) for an input of rank {ndim}. "
                         f"Received: {name}={axis!r}")
    return values


def _one_hot_at_plus_inf(x, axes, m, y, limit):
    """y, except in slices whose max m is +inf: there the limit (at the +inf entry, elsewhere) if the
    slice has a single +inf, nan if it has several (the limit depends on how they grow).
    """
    at_inf = x == np.inf
    count = np.sum(at_inf, axis=axes, keepdims=True)
    one_hot = np.where(count == 1, np.where(at_inf, limit[0], limit[1]), np.nan)
    return np.where(m == np.inf, one_hot, y)


# --- activations ------------------------------------------------------------------------


def linear(x):
    """linear(x) = x."""
    return _f64(x).copy()


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """relu(x) = x where x > threshold, else negative_slope * (x - threshold); then min(., max_value).

    Defaults give max(x, 0). x == threshold counts as "below" (the docstring example
    relu([-10, -5, 0, 5, 10], threshold=5) = [0, 0, 0, 0, 10]). With negative_slope = 0 the
    damped part is 0, also at x = -inf.
    """
    x = _f64(x)
    with np.errstate(invalid="ignore"):
        below = _times(negative_slope, x - threshold)
    y = np.where(x > threshold, x, below)
    if max_value is not None:
        y = np.minimum(y, max_value)
    return y


def relu6(x):
    """relu6(x) = min(max(x, 0), 6)."""
    return np.clip(_f64(x), 0.0, 6.0)


def leaky_relu(x, negative_slope=0.2):
    """leaky_relu(x) = x for x > 0, negative_slope * x otherwise (negative_slope = 0.2 here, 0.3 in the layer)."""
    x = _f64(x)
    return np.where(x > 0, x, _times(negative_slope, x))


def elu(x, alpha=1.0):
    """elu(x) = x for x > 0, alpha * (exp(x) - 1) otherwise (alpha = 1.0; exp(x) - 1 via expm1)."""
    x = _f64(x)
    return np.where(x > 0, x, _times(alpha, np.expm1(np.minimum(x, 0.0))))


def selu(x):
    """selu(x) = scale * x for x > 0, scale * alpha * (exp(x) - 1) otherwise.

    alpha = 1.6732632423543772848170429916717, scale = 1.0507009873554804934193349852946.
    """
    x = _f64(x)
    return SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(np.minimum(x, 0.0)))


def celu(x, alpha=1.0):
    """celu(x) = x for x >= 0, alpha * (exp(x / alpha) - 1) for x < 0 (alpha = 1.0; via expm1)."""
    x = _f64(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        negative = _times(alpha, np.expm1(np.minimum(x, 0.0) / alpha))
    return np.where(x >= 0, x, negative)


def sigmoid(x):
    """sigmoid(x) = 1 / (1 + exp(-x)); evaluated as exp(x) / (1 + exp(x)) for x < 0."""
    x = _f64(x)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def log_sigmoid(x):
    """log_sigmoid(x) = log(1 / (1 + exp(-x))) = -softplus(-x), evaluated as -logaddexp(0, -x)."""
    with np.errstate(invalid="ignore"):  # nan in -> nan out, without a warning
        return -np.logaddexp(0.0, -_f64(x))


def hard_sigmoid(x):
    """hard_sigmoid(x) = 0 for x <= -3, 1 for x >= 3, x / 6 + 0.5 between; evaluated as clip(x + 3, 0, 6) / 6."""
    return np.clip(_f64(x) + 3.0, 0.0, 6.0) / 6.0


def hard_sigmoid_keras2(x):
    """Keras 2's hard_sigmoid (tf_keras.activations.hard_sigmoid, whose docstring defines it as
    "if x < -2.5: return 0; if x > 2.5: return 1; if -2.5 <= x <= 2.5: return 0.2 * x + 0.5"):
    slope 0.2 where Keras 3's has 1/6; evaluated as clip(0.2 x + 0.5, 0, 1)."""
    return np.clip(0.2 * _f64(x) + 0.5, 0.0, 1.0)


def hard_silu(x):
    """hard_silu(x) = hard_swish(x) = 0 for x < -3, x for x > 3, x * (x + 3) / 6 between (0 at -inf)."""
    x = _f64(x)
    with np.errstate(invalid="ignore"):
        y = x * hard_sigmoid(x)
    return _vanishing_at_minus_inf(x, y)


def sparse_sigmoid(x):
    """sparse_sigmoid(x) = 0 for x <= -1, 0.5 * (x + 1) for -1 < x < 1, 1 for x >= 1."""
    return np.clip(0.5 * (_f64(x) + 1.0), 0.0, 1.0)


def sparse_plus(x):
    """sparse_plus(x) = 0 for x <= -1, (1/4) * (x + 1)**2 for -1 < x < 1, x for x >= 1."""
    x = _f64(x)
    inner = 0.25 * (np.clip(x, -1.0, 1.0) + 1.0) ** 2
    return np.where(x <= -1.0, 0.0, np.where(x < 1.0, inner, x))


def tanh(x):
    """tanh(x) = sinh(x) / cosh(x) = (exp(x) - exp(-x)) / (exp(x) + exp(-x))."""
    return np.tanh(_f64(x))


def hard_tanh(x):
    """hard_tanh(x) = -1 for x < -1, x for -1 <= x <= 1, 1 for x > 1."""
    return np.clip(_f64(x), -1.0, 1.0)


def tanh_shrink(x):
    """tanh_shrink(x) = x - tanh(x).

    For |x| < 1 the difference cancels; there Lambert's continued fraction
    tanh(x) = x / (1 + q), q = x**2 / (3 + x**2 / (5 + x**2 / (7 + ...))), gives
    x - tanh(x) = x * q / (1 + q) with no cancellation (depth 14: error below 1e-30 at |x| = 1).
    """
    x = _f64(x)
    near_zero = np.abs(x) < 1.0
    xs = np.where(near_zero, x, 0.0)
    x2 = xs * xs
    tail = np.full_like(x2, 2.0 * _TANH_FRACTION_DEPTH + 3.0)
    for level in range(_TANH_FRACTION_DEPTH, 0, -1):
        tail = (2.0 * level + 1.0) + x2 / tail
    q = x2 / tail
    with np.errstate(invalid="ignore"):  # inf - tanh(inf) is inf; nan stays nan
        return np.where(near_zero, xs * q / (1.0 + q), x - np.tanh(x))


def hard_shrink(x, threshold=0.5):
    """hard_shrink(x) = x if |x| > threshold, 0 otherwise (threshold = 0.5).

    NaN is not > threshold, so it falls in "otherwise": 0, as the documented formula says."""
    x = _f64(x)
    return np.where(np.abs(x) > threshold, x, 0.0)


def soft_shrink(x, threshold=0.5):
    """soft_shrink(x) = x - threshold if x > threshold, x + threshold if x < -threshold, 0 otherwise.

    threshold = 0.5; NaN satisfies neither comparison: 0 ("otherwise").
    """
    x = _f64(x)
    return np.where(x > threshold, x - threshold, np.where(x < -threshold, x + threshold, 0.0))


def threshold(x, threshold, default_value):
    """threshold(x) = x if x > threshold, default_value otherwise (NaN is not > threshold:
    default_value, as the documented formula says)."""
    x = _f64(x)
    return np.where(x > threshold, x, np.float64(default_value))


def softplus(x):
    """softplus(x) = log(exp(x) + 1), evaluated as logaddexp(0, x)."""
    with np.errstate(invalid="ignore"):  # nan in -> nan out, without a warning
        return np.logaddexp(0.0, _f64(x))


def softsign(x):
    """softsign(x) = x / (|x| + 1); +-1 at +-inf (the limit)."""
    x = _f64(x)
    with np.errstate(invalid="ignore"):
        y = x / (np.abs(x) + 1.0)
    return np.where(np.isinf(x), np.sign(x), y)


def squareplus(x, b=4):
    """squareplus(x) = (x + sqrt(x**2 + b)) / 2 (b = 4).

    x >= 0: x / 2 + s / 2 with s = sqrt(x**2 + b) = hypot(x, sqrt(b)) (no overflow);
    x < 0: the same value written without cancellation, (b / 4) / (s / 2 - x / 2).
    For b < 0 the result is NaN where x**2 + b < 0.
    """
    x = _f64(x)
    b = float(b)
    # divide: for x above about 1e8, s == x in float64 and the x < 0 branch (not taken there) divides by 0
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        s = np.hypot(x, math.sqrt(b)) if b >= 0 else np.sqrt(x * x + b)
        positive = 0.5 * x + 0.5 * s
        negative = (0.25 * b) / (0.5 * s - 0.5 * x)
    return np.where(x < 0, negative, positive)


def silu(x):
    """silu(x) = swish(x) = x * sigmoid(x) (0 at -inf)."""
    x = _f64(x)
    with np.errstate(invalid="ignore"):
        y = x * sigmoid(x)
    return _vanishing_at_minus_inf(x, y)


def mish(x):
    """mish(x) = x * tanh(softplus(x)), softplus(x) = log(exp(x) + 1) (0 at -inf)."""
    x = _f64(x)
    with np.errstate(invalid="ignore"):
        y = x * np.tanh(softplus(x))
    return _vanishing_at_minus_inf(x, y)


def gelu(x, approximate=False):
    """Exact (default): gelu(x) = x * P(X <= x), X ~ N(0, 1) = 0.5 * x * (1 + erf(x / sqrt(2))).

    Evaluated as x * Phi(x), Phi(x) = 0.5 * erfc(-x / sqrt(2)) (no cancellation for x < 0; see _ndtr), 0 at -inf;
    erf/erfc are computed here (series and continued fraction), relative error about 1e-15.
    approximate=True: 0.5 * x * (1 + tanh(u)), u = sqrt(2 / pi) * (x + 0.044715 * x**3),
    evaluated as x * sigmoid(2 * u) (the same value: 1 + tanh(u) = 2 * sigmoid(2 u)).
    sqrt(2 / pi) = 0.79788456080286535587989211986876, sqrt(2) = 1.4142135623730950488016887242097.
    """
    x = _f64(x)
    with np.errstate(invalid="ignore", over="ignore"):
        if approximate:
            u = _SQRT_2_OVER_PI * (x + GELU_TANH_COEFFICIENT * x**3)
            y = x * sigmoid(2.0 * u)
        else:
            y = x * _ndtr(x)
    return _vanishing_at_minus_inf(x, y)


def exponential(x):
    """exponential(x) = exp(x) (inf above log(max float) = 709.78)."""
    with np.errstate(over="ignore"):
        return np.exp(_f64(x))


def softmax(x, axis=-1):
    """softmax(x) = exp(x) / sum(exp(x)) along `axis` (an int or a tuple of ints).

    Evaluated as exp(x - m) / sum(exp(x - m)), m = max(x) over the axes. Limits: a slice with one
    +inf gives 1 there and 0 elsewhere; several +inf, or all -inf, leave it undefined (nan).
    """
    x = _f64(x)
    axes = _axes("axis", axis, x.ndim, allow_tuple=True)
    m = np.max(x, axis=axes, keepdims=True)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        e = np.exp(x - np.where(np.isfinite(m), m, 0.0))
        y = e / np.sum(e, axis=axes, keepdims=True)
    return _one_hot_at_plus_inf(x, axes, m, y, (1.0, 0.0))


def log_softmax(x, axis=-1):
    """log_softmax(x) = log(softmax(x)) = (x - m) - log(sum(exp(x - m))), m = max(x) over `axis`.

    `axis` is an int or a tuple of ints. Limits as softmax: one +inf gives 0 there and -inf
    elsewhere; several +inf, or all -inf, give nan.
    """
    x = _f64(x)
    axes = _axes("axis", axis, x.ndim, allow_tuple=True)
    m = np.max(x, axis=axes, keepdims=True)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        shifted = x - np.where(np.isfinite(m), m, 0.0)
        y = shifted - np.log(np.sum(np.exp(shifted), axis=axes, keepdims=True))
        y = np.where(m == -np.inf, np.nan, y)
    return _one_hot_at_plus_inf(x, axes, m, y, (0.0, -np.inf))


# --- error bounds of softmax, log_softmax and glu (reference_impl.rounding's model) ------------

# A library exp or log is within 2 ulps of the exact value, a relative error of at most 4 u
# (one ulp of y is between u |y| and 2 u |y|); float16 and bfloat16 kernels that evaluate it in
# float32 and round once are within 0.5 ulp of their own format, well inside.
LIBRARY_FUNCTION_ERROR = 4.0  # in units of u


def _corner_moves(y, dz, axes):
    """(up, down): the largest relative rise and fall of softmax_i over the box |e_j| <= dz_j,
    softmax(x + e)_i / y_i - 1 and 1 - softmax(x + e)_i / y_i (y = softmax(x)). softmax(x + e)_i =
    y_i exp(e_i) / sum_j y_j exp(e_j) increases with e_i and decreases with every other e_j,
    so its extremes are the corners e_i = +-dz_i, e_j = -+dz_j (j != i):

        up_i   = ((1 - y_i) expm1(dz_i) - R-_i) / (1 + y_i expm1(dz_i) + R-_i),   R-_i = sum_{j != i} y_j expm1(-dz_j) <= 0
        down_i = (R+_i - (1 - y_i) expm1(-dz_i)) / (1 + y_i expm1(-dz_i) + R+_i), R+_i = sum_{j != i} y_j expm1(dz_j) >= 0

    (sum_j y_j = 1). Exact over the box, where the first-order y_i (dz_i + sum_j y_j dz_j)
    overstates a dominant probability's move by 1 / (1 - y_i): its own dz_i moves the
    normalizer with it."""
    with np.errstate(over="ignore", invalid="ignore"):
        rise, fall = np.expm1(dz), np.expm1(-dz)
        others_fall = np.minimum(np.sum(np.where(y > 0, y * fall, 0.0), axis=axes, keepdims=True) - y * fall, 0.0)
        others_rise = np.maximum(np.sum(np.where(y > 0, y * rise, 0.0), axis=axes, keepdims=True) - y * rise, 0.0)
        rest = np.maximum(1.0 - y, 0.0)
        up = np.maximum(rest * rise - others_fall, 0.0) / (1.0 + y * rise + others_fall)
        down = np.maximum(others_rise - rest * fall, 0.0) / (1.0 + y * fall + others_rise)
    # an unbounded dz (inf, or 0 * inf above): anything
    return np.where(np.isnan(up), np.inf, up), np.where(np.isnan(down), 1.0, np.minimum(down, 1.0))


def _normalizer_error(y_high, d_high, n, axes, fmt):
    """(rho, sigma): bounds on the relative errors of each computed exp(x_j - m) and of the
    computed sum S = sum_j exp(x_j - m), in the format `fmt`, per element and per slice of n
    elements along `axes`.

    rho_j = (1 + E u) exp(u |d_j|) - 1: the difference d_j = x_j - m rounded once (|dd_j| <=
    u |d_j|, which exp turns into the relative error exp(u |d_j|) - 1: large where |d_j| is, in
    a row of large spread) and exp's own E u (E = LIBRARY_FUNCTION_ERROR). Each exp below the
    normal range may also be flushed, an absolute error of at most tiny (the smallest normal).
    sigma = A + 2 n tiny + gamma_{n-1} (1 + A + n tiny), A = sum_j y_j rho_j: the exps' errors,
    their flushes and those of partial sums (n of each), and the n - 1 additions in any order
    (Higham (4.4): gamma_{n-1} times the sum of the terms), all relative to S, which is >= 1
    (its largest term is exp(0) = 1). y_high, d_high: upper bounds on y and |d| at the point
    evaluated."""
    u, tiny = fmt.unit_roundoff, fmt.smallest_normal
    with np.errstate(over="ignore", invalid="ignore"):
        rho = np.expm1(d_high * u) + LIBRARY_FUNCTION_ERROR * u * np.exp(d_high * u)
        weighted = np.sum(np.where(y_high > 0, y_high * rho, 0.0), axis=axes, keepdims=True)
    sigma = weighted + 2 * n * tiny + rounding.gamma(max(n - 1, 0), u) * (1.0 + weighted + n * tiny)
    return rho, sigma


def _slice_size(shape, axes):
    return math.prod(shape[a] for a in axes)


def softmax_error_bound(x, fmt, axis=-1, *, keep=None, dz=None):
    """Per-element bound on |computed - softmax(x)| for softmax evaluated in the format `fmt`
    (a rounding.Format) as documented, y_i = exp(x_i - m) / sum_j exp(x_j - m), m = max x over
    `axis` (an int or a tuple), with the sum in any order and the division as one division or a
    reciprocal and a product; or None where gamma_{n-1} is undefined (n u >= 1).

    keep (optional, broadcast to x): the Softmax layer's mask; masked positions are 0 (bound
    tiny: what a masked logit shifted far down leaves after exp) and take no part.
    dz (optional, broadcast to x): a bound on an error x already carries (a Dense layer's sum
    of products before its softmax activation). The bound is then the move of softmax over
    the box |e_j| <= dz_j plus its own evaluation error at the moved point:

    move_i = y_i max(up_i, down_i), the exact extremes of softmax over the box (_corner_moves:
      about y_i ((1 - y_i) dz_i + sum_{j != i} y_j dz_j) for small dz);
    own_i = err_i + gamma_2 (y'_i + err_i) + tiny, err_i = (y'_i rho_i + tiny + y'_i sigma) / (1 - sigma)
      (_normalizer_error's rho and sigma: computed exp_i / computed S against exp_i / S is
      (a_i + y_i b) / (S - b) with |computed exp_i - exp_i| <= a_i = S (y_i rho_i) + tiny and
      |computed S - S| <= b = S sigma; gamma_2 for the division or reciprocal and product;
      tiny for a result flushed to zero), with y' = min(y + move, 1) and |d'_j| = |d_j| + dz_j
      + max dz the values at the moved point.
    An evaluation that does not subtract the max has the same value and no rounding of d, so
    this bound holds for it too while its exps stay in the normal range (it overflows in
    float16 above x = 11.09: not a correct evaluation there).
    Slices holding +inf or NaN (one-hot or NaN, judged by their position) get 0.
    """
    parts = softmax_error_parts(x, fmt, axis, keep=keep, dz=dz)
    return None if parts is None else parts[0] + parts[1]


def softmax_error_parts(x, fmt, axis=-1, *, keep=None, dz=None):
    """(move, own) of softmax_error_bound, or None: the bound on |softmax(x + e) - softmax(x)|
    over the box |e| <= dz, and the bound on the evaluation's own error at x + e. They are kept
    apart for a weighted sum of the probabilities (attention): the move sums to 0 over the
    axis (both are probabilities), so it may weigh values relative to any common offset."""
    x = _f64(x)
    axes = _axes("axis", axis, x.ndim, allow_tuple=True)
    n = _slice_size(x.shape, axes)
    if (n - 1) * fmt.unit_roundoff >= 1:
        return None
    kept = np.ones(x.shape, dtype=bool) if keep is None else np.broadcast_to(np.asarray(keep).astype(bool), x.shape)
    y = softmax_layer(x, axis=axes, mask=None if keep is None else kept)
    dz = np.where(kept, np.broadcast_to(0.0 if dz is None else _f64(dz), x.shape), 0.0)
    dz = np.where(np.isnan(dz), np.inf, dz)
    tiny = fmt.smallest_normal
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # an all-masked slice: 0 / 0
        shifted = np.where(kept, x, -np.inf)
        m = np.max(shifted, axis=axes, keepdims=True)
        d = np.abs(shifted - np.where(np.isfinite(m), m, 0.0))
        up, down = _corner_moves(y, dz, axes)
        move = np.where(y > 0, np.minimum(y * np.maximum(up, down), 1.0), 0.0)
        y_high = np.minimum(y + move, 1.0)
        d_high = d + dz + np.max(dz, axis=axes, keepdims=True)
        rho, sigma = _normalizer_error(y_high, d_high, n, axes, fmt)
        err = (np.where(y_high > 0, y_high * rho, 0.0) + tiny + y_high * sigma) / (1.0 - sigma)
        own = err + rounding.gamma(2, fmt.unit_roundoff) * (y_high + err) + tiny
        own = np.where(sigma < 1, own, 2.0)  # a probability computed in [0, 1 + O(u)]
    own = np.where(np.isfinite(own), own, 2.0)
    own = np.where(kept, own, tiny)
    defined = ~((m == np.inf) | np.isnan(m))  # np.max passes NaN on
    return np.where(defined, move, 0.0), np.where(defined, own, 0.0)


def log_softmax_error_bound(x, fmt, axis=-1, *, dz=None):
    """Per-element bound on |computed - log_softmax(x)| for log_softmax evaluated in the format
    `fmt` as documented, l_i = (x_i - m) - log(sum_j exp(x_j - m)), m = max x over `axis`, or
    rearranged as x_i - (m + log S) (log-sum-exp first); None where gamma_{n-1} is undefined.

    With d = x - m, S = sum_j exp(d_j), L = log S (0 <= L <= log n) and rho, sigma as in
    _normalizer_error (the computed S is within S sigma of S):
      dL = -log(1 - sigma) + E u (L + dL0)     the log of the perturbed S (dL0, its first
                                               term), and log's own error
      order (x_i - m) - L:   u |d_i| + dL       the rounded difference d_i
      order x_i - (m + L):   u (|m| + L + dL) + dL   the rounded m + L: the cancellation of a
                                                 large m against x_i, u |m| where |l_i| is small
      either order, last:    u (|l_i| + err) + tiny  the final subtraction
    own_i = max of the two orders, then the last rounding. With dz (an error x carries),
    move_i = max(log(1 + up_i), -log(1 - down_i)) (l_i = log softmax_i, so its extremes over
    the box |e_j| <= dz_j are the logs of _corner_moves's), and the own error is taken with
    |d| + dz + max dz, |m| + max dz, |l| + move and y (1 + up). Slices holding +inf or NaN get 0; the -inf
    entries of a row (-inf out) too.
    """
    x = _f64(x)
    axes = _axes("axis", axis, x.ndim, allow_tuple=True)
    n = _slice_size(x.shape, axes)
    if (n - 1) * fmt.unit_roundoff >= 1:
        return None
    u, tiny = fmt.unit_roundoff, fmt.smallest_normal
    y = softmax(x, axis=axes)
    log_y = log_softmax(x, axis=axes)
    dz = np.broadcast_to(0.0 if dz is None else _f64(dz), x.shape)
    dz = np.where(np.isnan(dz), np.inf, dz)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        m = np.max(x, axis=axes, keepdims=True)
        d = np.abs(x - np.where(np.isfinite(m), m, 0.0))
        up, down = _corner_moves(y, dz, axes)
        move = np.maximum(np.log1p(up), -np.log1p(-down))
        dz_max = np.max(dz, axis=axes, keepdims=True)
        y_high = np.minimum(y * (1.0 + up), 1.0)
        d_high = d + dz + dz_max
        rho, sigma = _normalizer_error(y_high, d_high, n, axes, fmt)
        # L at the moved point, at most: each x_j - max x moves by at most dz_j + max dz
        big_l = np.log(np.sum(np.exp(-d), axis=axes, keepdims=True)) + 2 * dz_max
        perturbed_log = -np.log1p(-sigma)
        dl = perturbed_log + LIBRARY_FUNCTION_ERROR * u * (big_l + perturbed_log)
        shifted_first = u * d_high + dl
        lse_first = u * (np.abs(m) + dz_max + big_l + dl) + dl
        err = np.maximum(shifted_first, lse_first)
        bound = move + err + u * (np.abs(log_y) + move + err) + tiny
        bound = np.where(sigma < 1, bound, np.inf)
    finite_slice = np.isfinite(m) & ~np.isnan(np.max(x, axis=axes, keepdims=True))
    return np.where(finite_slice & np.isfinite(log_y), bound, 0.0)


def glu_error_bound(x, fmt, axis=-1, *, dz=None):
    """Per-element bound on |computed - glu(x)| for glu(x) = a * sigmoid(b) evaluated in the
    format `fmt` (a, b the halves of x along `axis`), when x arrives with the error dz (a
    layer's sum of products, whose activation glu is; None: exact inputs):

        da sigmoid(b) + A S + A s_err + u A (sigmoid(b) + S + s_err) + tiny (1 + A)

    with da, db the halves of dz, A = |a| + da, S = secant(sigmoid, b, db) (how far sigmoid
    moves over [b - db, b + db]): the first two terms are how far the exact glu moves over the
    box of inputs (|a' sigmoid(b') - a sigmoid(b)| <= |a' - a| sigmoid(b) + |a'| |sigmoid(b') -
    sigmoid(b)|). s_err = rounding.elementwise(sigmoid, b): sigmoid's own bound (a few ulps, its
    condition u |b sigmoid'(b)| for the forms a / (1 + exp(-b)) that round exp's argument, and a
    result flushed below the normal range, which the product then scales); u for the product's
    rounding; tiny for the product flushed. Elementwise once split, so any order."""
    x = _f64(x)
    (ax,) = _axes("axis", axis, x.ndim, allow_tuple=False)
    if x.shape[ax] % 2:
        return None
    a, b = np.split(x, 2, axis=ax)
    da, db = (np.zeros_like(a), np.zeros_like(b)) if dz is None else np.split(np.broadcast_to(_f64(dz), x.shape), 2, axis=ax)
    u, tiny = fmt.unit_roundoff, fmt.smallest_normal
    s_err = rounding.elementwise(sigmoid, b, fmt)
    size = np.abs(a) + da
    moved = rounding.secant(sigmoid, b, db)
    with np.errstate(invalid="ignore", over="ignore"):
        bound = (da * sigmoid(b) + size * moved + size * s_err + u * size * (sigmoid(b) + moved + s_err)
                 + tiny * (1.0 + size))
    return np.where(np.isfinite(bound), bound, 0.0)


def sparsemax(x, axis=-1):
    """sparsemax(x) = max(x - tau(x), 0) along `axis` (an int), Martins & Astudillo (2016).

    tau is the threshold with sum(max(x - tau, 0)) = 1 (the Euclidean projection of x onto the
    probability simplex): with z = x sorted in decreasing order, k(z) = max{k : 1 + k z_k > z_1 + .. + z_k}
    and tau = (z_1 + .. + z_k(z) - 1) / k(z). x is shifted by its max first (tau shifts with it).
    Ties need no special care: [2, 2, 0] -> [0.5, 0.5, 0]. Limits as softmax: one +inf gives a
    one-hot; several +inf, or all -inf, give nan; -inf entries get 0.
    """
    x = _f64(x)
    (ax,) = _axes("axis", axis, x.ndim, allow_tuple=False)
    v = np.moveaxis(x, ax, -1)
    m = np.max(v, axis=-1, keepdims=True)
    with np.errstate(over="ignore", invalid="ignore"):
        shifted = v - np.where(np.isfinite(m), m, 0.0)
        z = np.flip(np.sort(shifted, axis=-1), axis=-1)
        cumulative = np.cumsum(z, axis=-1)
        k = np.arange(1, v.shape[-1] + 1, dtype=np.float64)
        in_support = 1.0 + k * z > cumulative
        k_z = np.max(np.where(in_support, np.arange(1, v.shape[-1] + 1), 0), axis=-1, keepdims=True)
        total = np.take_along_axis(cumulative, np.maximum(k_z - 1, 0), axis=-1)
        tau = (total - 1.0) / np.maximum(k_z, 1)
        y = np.maximum(shifted - tau, 0.0)
    y = np.where(np.isfinite(m), y, np.nan)  # nan slices, all -inf slices
    y = _one_hot_at_plus_inf(v, (v.ndim - 1,), m, y, (1.0, 0.0))
    return np.moveaxis(y, -1, ax)


def sparsemax_error_bound(x, fmt, axis=-1, *, dz=None):
    """Per-element bound on |computed - sparsemax(x)| for sparsemax evaluated in the format `fmt`
    by the sparsemax paper's algorithm (Martins and Astudillo 2016, Algorithm 1): z = x - max x
    sorted in decreasing order, S_k = z_1 + .. + z_k (in order), k' = max{k : 1 + k z_k > S_k}
    by the rounded comparison, tau' = (S_k' - 1) / k', y_i = max(z_i - tau', 0); or None where
    gamma_{n+4} is undefined ((n + 4) u >= 1). dz (optional, broadcast to x): an error x already
    carries (a layer's sum of products, whose activation sparsemax is); D = its max over the slice.

    Two facts of the exact map carry it. (1) tau = max_k tau_k with tau_k = (S_k - 1) / k (each
    k gives sum_i max(z_i - tau_k, 0) >= 1, with equality at the support's size), so a wrong k'
    only lowers tau' = tau_k' <= tau. (2) tau is monotone in x and moves with a common shift, so
    |tau(x + e) - tau(x)| <= max |e| = D, and the exact output moves by at most dz_i + D.
    The rounded comparison at k differs from the exact margin m_k = 1 + k z_k - S_k by at most

        E_k = gamma_4 (1 + k (|z_k| + 2D)) + gamma_{k+1} (a_k + 2 k D) + 2 k D + (k + 4) s,

    a_k = |z_1| + .. + |z_k| (the shift's rounding and the sum's, and the input error moving the
    margin, which a common shift does not change), s the subnormal spacing for a product flushed.
    k' is at least k_sure = max{k : m_k > E_k} (computed true, and k' is the largest such) and
    lies in P = {k >= k_sure : m_k > -E_k}. So |tau' computed - tau| <= dtau with

        dtau = max_{k in P} (tau - tau_k) + 2 D + max_{k in P} (gamma_{k+4} (a_k + 2 k D + 1) / k + 2 s)

    (the wrong k's shortfall, which the input error moves by 2D, and the rounding of
    (S_k - 1) / k: the sum's, the subtraction's, k's own in a format without it and the
    division's). With p_i = z_i - tau (the exact argument of the clamp) and d_i = |z_i|,

        r_i = dz_i + D + u (d_i + 2D) + dtau + u (|p_i| + dz_i + D + u (d_i + 2D) + dtau)

    bounds the computed argument's distance from p_i (the input error, the shift's rounding,
    tau's, the subtraction's), so the bound is r_i where p_i > -r_i and 0 elsewhere (both
    arguments <= 0: both clamp to exactly 0). A computed output lies in [0, 1 + O(u)]
    (tau' >= tau_1 = z_1 - 1), so r_i >= max(y_i, 1 + 4u - y_i) bounds nothing: NaN there, an
    element the comparison judges by the flat tolerance (a large input error in 16 bits).
    Slices holding +inf or NaN, or all -inf, get 0 (judged by their position)."""
    x = _f64(x)
    (ax,) = _axes("axis", axis, x.ndim, allow_tuple=False)
    n, u, s = x.shape[ax], fmt.unit_roundoff, fmt.subnormal_spacing
    if (n + 4) * u >= 1:
        return None
    v = np.moveaxis(x, ax, -1)
    e = np.moveaxis(np.broadcast_to(0.0 if dz is None else _f64(dz), x.shape), ax, -1)
    e = np.where(np.isnan(e), np.inf, e)
    big_d = np.max(e, axis=-1, keepdims=True)
    y = np.moveaxis(sparsemax(x, axis=ax), ax, -1)
    m = np.max(v, axis=-1, keepdims=True)
    k = np.arange(1, n + 1, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        shifted = v - np.where(np.isfinite(m), m, 0.0)
        z = np.flip(np.sort(shifted, axis=-1), axis=-1)
        sums, magnitudes = np.cumsum(z, axis=-1), np.cumsum(np.abs(z), axis=-1)
        margin = 1.0 + k * z - sums
        moved = magnitudes + 2.0 * k * big_d
        slack = (rounding.gamma(4, u) * (1.0 + k * (np.abs(z) + 2.0 * big_d)) + rounding.gamma(k + 1, u) * moved
                 + 2.0 * k * big_d + (k + 4) * s)
        k_sure = np.max(np.where((margin > slack) | (k == 1), k, 1.0), axis=-1, keepdims=True)
        possible = (k >= k_sure) & ((margin > -slack) | (k == k_sure))
        tau_k = (sums - 1.0) / k
        tau = np.max(tau_k, axis=-1, keepdims=True)
        shortfall = np.max(np.where(possible, tau - tau_k, 0.0), axis=-1, keepdims=True)
        division = np.max(np.where(possible, rounding.gamma(k + 4, u) * (moved + 1.0) / k + 2.0 * s, 0.0),
                          axis=-1, keepdims=True)
        dtau = shortfall + 2.0 * big_d + division
        p = shifted - tau
        reach = e + big_d + u * (np.abs(shifted) + 2.0 * big_d) + dtau
        r = reach + u * (np.abs(p) + reach)
        bound = np.where(p > -r, r, 0.0)
        # a bound that reaches the farthest a probability can be says nothing: NaN, which the
        # comparison judges by the flat tolerance (as a rate's bound that reaches 1)
        bound = np.where(np.isnan(bound) | (bound >= np.maximum(y, 1.0 + 4.0 * u - y)), np.nan, bound)
    defined = np.isfinite(m)  # np.max passes NaN on; +inf: a one-hot, all -inf: nan
    return np.moveaxis(np.where(defined, bound, 0.0), -1, ax)


def glu(x, axis=-1):
    """glu(x) = a * sigmoid(b), with x split along `axis` into two equal halves a (first) and b (second)."""
    x = _f64(x)
    (ax,) = _axes("axis", axis, x.ndim, allow_tuple=False)
    if x.shape[ax] % 2:
        raise ValueError(f"glu splits `x` into two equal halves along `axis`, so its size there must be even. "
                         f"Received: x.shape={x.shape}, axis={axis}")
    a, b = np.split(x, 2, axis=ax)
    with np.errstate(invalid="ignore"):
        return a * sigmoid(b)


ACTIVATIONS = {
    "celu": celu,
    "elu": elu,
    "exponential": exponential,
    "gelu": gelu,
    "glu": glu,
    "hard_shrink": hard_shrink,
    "hard_sigmoid": hard_sigmoid,
    "hard_silu": hard_silu,
    "hard_swish": hard_silu,
    "hard_tanh": hard_tanh,
    "leaky_relu": leaky_relu,
    "linear": linear,
    "log_sigmoid": log_sigmoid,
    "log_softmax": log_softmax,
    "mish": mish,
    "relu": relu,
    "relu6": relu6,
    "selu": selu,
    "sigmoid": sigmoid,
    "silu": silu,
    "soft_shrink": soft_shrink,
    "softmax": softmax,
    "softplus": softplus,
    "softsign": softsign,
    "sparse_plus": sparse_plus,
    "sparse_sigmoid": sparse_sigmoid,
    "sparsemax": sparsemax,
    "squareplus": squareplus,
    "swish": silu,
    "tanh": tanh,
    "tanh_shrink": tanh_shrink,
    "threshold": threshold,
}
_BY_NAME = ACTIVATIONS  # earlier name, kept for existing callers


def _below_zero(x, scale):
    return np.where(x <= 0, scale, 0.0)


# The magnitude S(x) that each documented formula cancels, for its error bound
# (reference_impl.rounding.elementwise: the rounding u S of the cancelled quantity survives in a
# result far below S). Activations whose formula cancels nothing are absent (S = 0): relu,
# relu6, leaky_relu, sigmoid, hard_tanh, softsign, exponential, silu, sparse_sigmoid,
# sparse_plus, hard_shrink, threshold, linear. Axis activations (softmax, ...) have no
# elementwise bound at all.
CANCELLED = {
    # the docstring's tanh(x) = (exp(x) - exp(-x)) / (exp(x) + exp(-x)): near 0 the numerator
    # cancels terms of size about 1 (relative to the denominator), an absolute error of order u
    "tanh": lambda x, **_: np.ones_like(x),
    # alpha * (exp(x) - 1) for x <= 0: exp(x), of size alpha exp(x), cancels against alpha
    "elu": lambda x, alpha=1.0, **_: _below_zero(x, abs(alpha) * np.exp(np.minimum(x, 0.0))),
    "selu": lambda x, **_: _below_zero(x, SELU_SCALE * SELU_ALPHA * np.exp(np.minimum(x, 0.0))),
    "celu": lambda x, alpha=1.0, **_: _below_zero(x, abs(alpha) * np.exp(np.minimum(x, 0.0) / alpha)),
    # log(1 + exp(+-x)): the 1 of 1 + exp(.) is rounded with the sum
    "softplus": lambda x, **_: np.ones_like(x),
    "log_sigmoid": lambda x, **_: np.ones_like(x),
    # x - tanh(x)
    "tanh_shrink": lambda x, **_: np.abs(x),
    # (x + sqrt(x**2 + b)) / 2 for x < 0
    "squareplus": lambda x, **_: np.abs(x),
    # x * tanh(softplus(x)): softplus's absolute error u, times |x|
    "mish": lambda x, **_: np.abs(x),
    # 0.5 x (1 + erf(x / sqrt(2))) or 0.5 x (1 + tanh(.)): the 1 cancels for x < 0
    "gelu": lambda x, **_: 0.5 * np.abs(x),
    # x / 6 + 0.5: x / 6 cancels against 0.5 near -3 (Keras 2's 0.2 x + 0.5: KERAS2_CANCELLED)
    "hard_sigmoid": lambda x, **_: np.abs(x) / 6.0,
    "hard_silu": lambda x, **_: x * x / 6.0,
    "hard_swish": lambda x, **_: x * x / 6.0,
    # x -+ threshold, and relu's negative_slope * (x - threshold): the threshold, rounded to
    # the format, cancels against x
    "soft_shrink": lambda x, threshold=0.5, **_: np.full_like(x, abs(threshold)),
    "relu": lambda x, negative_slope=0.0, threshold=0.0, **_: np.full_like(x, abs(negative_slope * threshold)),
}

# Keras 2's own forms of names it shares with Keras 3 (conformance/ops/keras2.py), with what
# each cancels: 0.2 x against 0.5 near -2.5
KERAS2_ACTIVATIONS = {"hard_sigmoid": hard_sigmoid_keras2}
KERAS2_CANCELLED = {"hard_sigmoid": lambda x, **_: 0.2 * np.abs(x)}

KNOWN = tuple(sorted(ACTIVATIONS))


def get(name):
    """Return the float64 function for a Keras activation name; None means "linear"; callables pass through.

    Functions with required arguments (threshold) are returned as they are; the caller supplies them.
    """
    if name is None:
        return linear
    if isinstance(name, str) and name in ACTIVATIONS:
        return ACTIVATIONS[name]
    if callable(name):
        return name
    raise ValueError(f"Unknown activation: activation={name!r}. Known names: {', '.join(KNOWN)} (or None).")


# --- activation layers (keras.layers.Activation, ReLU, LeakyReLU, PReLU, ELU, Softmax) ----------


def _non_negative(name, value, *, allow_none=False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or not value >= 0:
        raise ValueError(f"`{name}` must be a float >= 0{' or None' if allow_none else ''}. Received: {name}={value!r}")
    return float(value)


def activation_layer(x, activation):
    """Activation layer: activation(x), with `activation` a keras.activations name (None = linear) or a callable."""
    return np.asarray(get(activation)(_f64(x)), dtype=np.float64)


def relu_layer(x, max_value=None, negative_slope=0.0, threshold=0.0):
    """ReLU layer, per its docstring formula (arguments: floats >= 0, max_value None = unlimited):

        f(x) = max_value                         if x >= max_value
        f(x) = x                                 if threshold <= x < max_value
        f(x) = negative_slope * (x - threshold)  otherwise

    Unlike the relu function (x kept only where x > threshold, then min(., max_value)), x == threshold
    is kept here, and max_value <= x < threshold gives max_value. The two agree whenever
    threshold == 0 or x != threshold and max_value >= threshold.
    """
    max_value = _non_negative("max_value", max_value, allow_none=True)
    negative_slope = _non_negative("negative_slope", negative_slope)
    threshold = _non_negative("threshold", threshold)
    x = _f64(x)
    y = np.where(x >= threshold, x, _times(negative_slope, x - threshold))
    if max_value is not None:
        y = np.where(x >= max_value, max_value, y)
    return y


def leaky_relu_layer(x, negative_slope=0.3):
    """LeakyReLU layer: f(x) = negative_slope * x for x < 0, x for x >= 0 (negative_slope >= 0, default 0.3)."""
    negative_slope = _non_negative("negative_slope", negative_slope)
    x = _f64(x)
    return np.where(x >= 0, x, _times(negative_slope, x))


def prelu_shape(input_shape, shared_axes=None):
    """Shape of the PReLU `alpha` weight: input_shape[1:] (batch dropped) with every shared axis set to 1.

    shared_axes: None, an int or a list of ints counting the batch axis as 0 (so 1 .. rank - 1);
    negative ints count from the end (-1 is the last axis).
    """
    rank = len(input_shape)
    if shared_axes is None:
        axes = ()
    elif _is_int(shared_axes):
        axes = (shared_axes,)
    elif isinstance(shared_axes, (tuple, list)):
        axes = tuple(shared_axes)
    else:
        axes = None
    if axes is None or not all(_is_int(a) and (1 <= a < rank or -rank < a <= -1) for a in axes):
        raise ValueError(f"`shared_axes` must be None, an int or a list of ints in 1 .. {rank - 1} "
                         f"(or -{rank - 1} .. -1) for an input of rank {rank}. Received: shared_axes={shared_axes!r}")
    shape = list(input_shape[1:])
    for a in axes:
        shape[(a if a > 0 else a + rank) - 1] = 1
    return tuple(shape)


def prelu_layer(x, alpha, shared_axes=None, alpha_initializer="Zeros", alpha_regularizer=None, alpha_constraint=None):
    """PReLU layer: f(x) = alpha * x for x < 0, x for x >= 0, alpha broadcast over the batch and shared axes.

    alpha must have shape prelu_shape(x.shape, shared_axes) = x.shape[1:] with shared axes set to 1.
    alpha_initializer ("Initializer function for the weights"), alpha_regularizer ("Regularizer
    for the weights") and alpha_constraint ("Constraint for the weights") are accepted and do
    not change the output: the initializer only draws the alpha given here, a regularizer adds a
    penalty of alpha to the layer's losses, and a constraint acts after an optimizer step.
    """
    x = _f64(x)
    alpha = _f64(alpha)
    expected = prelu_shape(x.shape, shared_axes)
    if alpha.shape != expected:
        raise ValueError(f"`alpha` must have shape {expected} (input shape {x.shape}, shared_axes={shared_axes!r}). "
                         f"Received: alpha.shape={alpha.shape}")
    return np.where(x >= 0, x, _times(alpha, x))


def elu_layer(x, alpha=1.0):
    """ELU layer: f(x) = alpha * (exp(x) - 1) for x < 0, x for x >= 0 (alpha = 1.0), as the elu function."""
    return elu(x, alpha=alpha)


def softmax_layer(x, axis=-1, mask=None):
    """Softmax layer: exp(x - max(x)) / sum(exp(x - max(x))) along `axis` (an int or a list of ints).

    mask (optional, 1 = keep, 0 = mask) must broadcast to x: each of its dimensions is 1 or equal to the
    matching one of x (aligned from the right), and it has no more dimensions than x. Masked positions
    get probability 0 and take no part in the normalization; a slice with every position masked is all 0.
    A slice that keeps a single position gives it 1, whatever its logit: the softmax of one value is 1
    for every finite value, so also in the limit at -inf (several kept logits all -inf leave the limit
    undefined: nan, as `softmax`).
    """
    x = _f64(x)
    axes = _axes("axis", axis, x.ndim, allow_tuple=True)
    if mask is None:
        return softmax(x, axis=axes)
    mask = np.asarray(mask)
    ok = mask.ndim <= x.ndim and all(m in (1, n) for m, n in zip(mask.shape[::-1], x.shape[::-1]))
    if not ok:
        raise ValueError(f"`mask` must broadcast to the inputs (each dimension 1 or equal to the input's). "
                         f"Received: mask.shape={mask.shape} for inputs of shape {x.shape}")
    keep = np.broadcast_to(mask.astype(bool), x.shape)
    y = softmax(np.where(keep, x, -np.inf), axis=axes)
    alone = keep & (np.sum(keep, axis=axes, keepdims=True) == 1)
    y = np.where(alone & ~np.isnan(x), 1.0, y)
    return np.where(keep & np.any(keep, axis=axes, keepdims=True), y, 0.0)
