"""Keras 3 activation functions (`keras.activations.*`) in NumPy float64.

Each function casts its input with `np.asarray(x, dtype=np.float64)` and returns float64.
Formulas follow the Keras 3 docstrings; where a docstring rounds a constant (SELU) the full
value from the cited paper is used. `get(name)` maps a Keras activation name (or None) to
the function, as the `activation=` argument of a layer does.
"""
from __future__ import annotations

import math

import numpy as np

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


def _erfc_fraction(z):
    """erfc(z) = exp(-z**2)/sqrt(pi) / (z + (1/2)/(z + (2/2)/(z + (3/2)/(z + ...)))) for z >= 1.

    The continued fraction is evaluated from level 250 back to level 1; z is capped at 40,
    where erfc has long underflowed to 0 (erfc(27) < 1e-318), so that z = inf gives 0, not nan.
    """
    z = np.minimum(z, 40.0)
    f = z.copy()
    for level in range(_ERFC_FRACTION_DEPTH, 0, -1):
        f = z + (0.5 * level) / f
    return _INV_SQRT_PI * _exp_minus_square(z) / f


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


# --- activations ------------------------------------------------------------------------


def linear(x):
    """linear(x) = x."""
    return _f64(x).copy()


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """relu(x) = x where x > threshold, else negative_slope * (x - threshold); then min(., max_value).

    Defaults give max(x, 0).
    """
    x = _f64(x)
    y = np.where(x > threshold, x, negative_slope * (x - threshold))
    if max_value is not None:
        y = np.minimum(y, max_value)
    return y


def relu6(x):
    """relu6(x) = min(max(x, 0), 6)."""
    return np.clip(_f64(x), 0.0, 6.0)


def leaky_relu(x, negative_slope=0.2):
    """leaky_relu(x) = x for x > 0, negative_slope * x otherwise (negative_slope = 0.2)."""
    x = _f64(x)
    return np.where(x > 0, x, negative_slope * x)


def elu(x, alpha=1.0):
    """elu(x) = x for x > 0, alpha * (exp(x) - 1) otherwise (alpha = 1.0; exp(x) - 1 via expm1)."""
    x = _f64(x)
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))


def selu(x):
    """selu(x) = scale * x for x > 0, scale * alpha * (exp(x) - 1) otherwise.

    alpha = 1.6732632423543772848170429916717, scale = 1.0507009873554804934193349852946.
    """
    x = _f64(x)
    return SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(np.minimum(x, 0.0)))


def sigmoid(x):
    """sigmoid(x) = 1 / (1 + exp(-x)); evaluated as exp(x) / (1 + exp(x)) for x < 0."""
    x = _f64(x)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def log_sigmoid(x):
    """log_sigmoid(x) = log(1 / (1 + exp(-x))) = -softplus(-x)."""
    return -np.logaddexp(0.0, -_f64(x))


def hard_sigmoid(x):
    """hard_sigmoid(x) = relu6(x + 3) / 6: 0 for x <= -3, 1 for x >= 3, x / 6 + 0.5 between."""
    return np.clip(_f64(x) + 3.0, 0.0, 6.0) / 6.0


def hard_silu(x):
    """hard_silu(x) = x * relu6(x + 3) / 6: 0 for x < -3, x for x > 3, x * (x + 3) / 6 between."""
    x = _f64(x)
    return x * hard_sigmoid(x)


def tanh(x):
    """tanh(x) = (exp(x) - exp(-x)) / (exp(x) + exp(-x))."""
    return np.tanh(_f64(x))


def hard_tanh(x):
    """hard_tanh(x) = -1 for x < -1, x for -1 <= x <= 1, 1 for x > 1."""
    return np.clip(_f64(x), -1.0, 1.0)


def softplus(x):
    """softplus(x) = log(exp(x) + 1), evaluated as logaddexp(0, x)."""
    return np.logaddexp(0.0, _f64(x))


def softsign(x):
    """softsign(x) = x / (|x| + 1)."""
    x = _f64(x)
    return x / (np.abs(x) + 1.0)


def silu(x):
    """silu(x) = swish(x) = x * sigmoid(x)."""
    x = _f64(x)
    return x * sigmoid(x)


def mish(x):
    """mish(x) = x * tanh(softplus(x)), softplus(x) = log(exp(x) + 1)."""
    x = _f64(x)
    return x * np.tanh(softplus(x))


def gelu(x, approximate=False):
    """Exact: gelu(x) = 0.5 * x * (1 + erf(x / sqrt(2))), evaluated as 0.5 * x * erfc(-x / sqrt(2)).

    approximate=True: 0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x**3))),
    sqrt(2 / pi) = 0.79788456080286535587989211986876, sqrt(2) = 1.4142135623730950488016887242097.
    erf/erfc are computed here (series and continued fraction), relative error about 1e-15.
    """
    x = _f64(x)
    if approximate:
        inner = _SQRT_2_OVER_PI * (x + GELU_TANH_COEFFICIENT * x**3)
        return 0.5 * x * (1.0 + np.tanh(inner))
    return 0.5 * x * _erfc(-x / _SQRT_2)


def exponential(x):
    """exponential(x) = exp(x)."""
    return np.exp(_f64(x))


def softmax(x, axis=-1):
    """softmax(x)_i = exp(x_i - max(x)) / sum_j exp(x_j - max(x)) along `axis` (= exp(x) / sum(exp(x)))."""
    x = _f64(x)
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(x, axis=-1):
    """log_softmax(x)_i = (x_i - m) - log(sum_j exp(x_j - m)), m = max(x), along `axis`."""
    x = _f64(x)
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


_BY_NAME = {
    "linear": linear,
    "relu": relu,
    "relu6": relu6,
    "leaky_relu": leaky_relu,
    "elu": elu,
    "selu": selu,
    "sigmoid": sigmoid,
    "log_sigmoid": log_sigmoid,
    "hard_sigmoid": hard_sigmoid,
    "hard_silu": hard_silu,
    "hard_swish": hard_silu,
    "tanh": tanh,
    "hard_tanh": hard_tanh,
    "softplus": softplus,
    "softsign": softsign,
    "silu": silu,
    "swish": silu,
    "mish": mish,
    "gelu": gelu,
    "exponential": exponential,
    "softmax": softmax,
    "log_softmax": log_softmax,
}

KNOWN = tuple(sorted(_BY_NAME))


def get(name):
    """Return the float64 function for a Keras activation name; None means "linear"."""
    if name is None:
        return linear
    if isinstance(name, str) and name in _BY_NAME:
        return _BY_NAME[name]
    raise ValueError(f"Unknown activation: activation={name!r}. Known names: {', '.join(KNOWN)} (or None).")
