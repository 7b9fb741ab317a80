"""Keras 3 initializers (`keras.initializers.*`) as the distributions they document, in NumPy float64.

Initializers are random, so the reference does not sample: `expected_distribution(name, shape,
**config)` returns the distribution of one entry of the initialized tensor, as a `Distribution`
with an exact `cdf`, `mean`, `std` and `support` (for a goodness-of-fit test of sampled values).

Fans of a weight shape (`compute_fans`): rank 0 -> (1, 1); rank 1 -> (n, n); rank 2 ->
(shape[0], shape[1]); rank >= 3 -> receptive field r = prod(shape[:-2]), fan_in = shape[-2] * r,
fan_out = shape[-1] * r. So a Dense kernel (in, units) has fans (in, units), a ConvND kernel
(*k, in / groups, filters) has fan_in prod(k) * in / groups, a transposed conv kernel
(*k, filters, in) has fan_in prod(k) * filters, a depthwise kernel (*k, in, depth_multiplier) has
fan_in prod(k) * in. `input_axes` / `output_axes` (VarianceScaling and the six Glorot/He/LeCun
classes), when given, replace fan_in / fan_out by the product of the shape over those axes.

VarianceScaling(scale=1.0, mode="fan_in", distribution="truncated_normal"), with
n = fan_in | fan_out | (fan_in + fan_out) / 2 (at least 1):
- "truncated_normal": mean 0 and standard deviation *after truncation* sqrt(scale / n), i.e. a
  normal of stddev sigma = sqrt(scale / n) / 0.87962566103423978 truncated to [-2 sigma, 2 sigma]
  (0.87962566103423978 = sqrt(1 - 4 phi(2) / erf(sqrt 2)) is the standard deviation of a unit normal
  truncated to +-2, `TRUNCATED_STD_FACTOR`);
- "untruncated_normal": a normal of stddev sqrt(scale / n);
- "uniform": uniform on [-limit, limit], limit = sqrt(3 * scale / n).
GlorotNormal / GlorotUniform = VarianceScaling(1.0, "fan_avg"), HeNormal / HeUniform = (2.0, "fan_in"),
LecunNormal / LecunUniform = (1.0, "fan_in"); *Normal use "truncated_normal", *Uniform "uniform".
RandomNormal(mean=0.0, stddev=0.05), RandomUniform(minval=-0.05, maxval=0.05),
TruncatedNormal(mean=0.0, stddev=0.05) truncated at mean +- 2 stddev (no correction: its true
standard deviation is 0.8796... * stddev), Zeros, Ones, Constant(value=0.0) (a scalar only).
Orthogonal(gain=1.0): shape of rank >= 2, flattened to (rows, cols) = (prod(shape[:-1]), shape[-1]);
orthonormal rows when rows < cols, orthonormal columns otherwise, times gain. The docstring says only
"obtained from the QR decomposition of a matrix of random numbers drawn from a normal distribution";
with the usual sign correction (columns of Q times the signs of R's diagonal) that matrix is uniformly
(Haar) distributed, so each entry is gain times a coordinate of a uniformly random unit vector of R^m,
m = max(rows, cols): mean 0, standard deviation |gain| / sqrt(m), on [-|gain|, |gain|].
Identity(gain=1.0): rank 2 only; gain * eye(rows, cols).
"""
from __future__ import annotations

import inspect
import math
import numbers
from dataclasses import dataclass

import numpy as np

from reference_impl.activations import _erfc, _ndtr

KINDS = ("normal", "truncated_normal", "uniform", "constant", "orthogonal", "identity")
MODES = ("fan_in", "fan_out", "fan_avg")
DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")

_SQRT_2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)  # 0.39894228040143267793994605993438
# Standard deviation of a unit normal truncated to [-2, 2]: sqrt(1 - 2 * 2 * phi(2) / (Phi(2) - Phi(-2))),
# phi(2) = exp(-2) / sqrt(2 pi), Phi(2) - Phi(-2) = erf(sqrt 2). Equals Keras' 0.87962566103423978.
TRUNCATED_STD_FACTOR = math.sqrt(1.0 - 4.0 * math.exp(-2.0) * _INV_SQRT_2PI / (1.0 - float(_erfc(_SQRT_2))))


def _f64(x):
    return np.asarray(x, dtype=np.float64)


def _phi(z):
    """Standard normal density exp(-z**2 / 2) / sqrt(2 pi) (0 at +-inf)."""
    z = _f64(z)
    with np.errstate(invalid="ignore", over="ignore"):
        return _INV_SQRT_2PI * np.exp(-0.5 * z * z)


def _Phi(z):
    """Standard normal cdf 0.5 * erfc(-z / sqrt 2) (the erf-based one of activations; accurate in the lower tail)."""
    return _ndtr(z)


def _upper(z):
    """Standard normal upper tail 1 - Phi(z) = Phi(-z) (accurate in the upper tail)."""
    return _ndtr(-_f64(z))


def _sphere_coordinate_cdf(u, m):
    """P(U <= u) for U one coordinate of a uniformly random unit vector of R^m (m >= 1).

    Density c_m (1 - u**2)**((m - 3) / 2) on [-1, 1]. With G_k(u) = integral_{-1}^u (1 - t**2)**(k/2) dt,
    integration by parts gives G_k(u) = (u (1 - u**2)**(k/2) + k G_{k-2}(u)) / (k + 1), so with k = m - 3
    F_k(u) = F_{k-2}(u) + u (1 - u**2)**(k/2) / (k G_{k-2}(1)),   G_k(1) = k / (k + 1) * G_{k-2}(1),
    from F_{-1}(u) = 1/2 + arcsin(u) / pi (m = 2, G_{-1}(1) = pi) or F_0(u) = (1 + u) / 2 (m = 3, G_0(1) = 2).
    m = 1: U = +-1 with probability 1/2 each. The loop runs (m - 2) // 2 times over the whole array
    (about 4 s for 1e6 values at m = 4096: for a goodness-of-fit test, evaluate it on a subsample).
    The error is absolute, about m * 1e-17 (the far tails are not accurate in relative terms).
    """
    u = _f64(u)
    inside = np.clip(u, -1.0, 1.0)
    if m == 1:
        return np.where(np.isnan(u), np.nan, np.where(u < -1.0, 0.0, np.where(u < 1.0, 0.5, 1.0)))
    w2 = (1.0 - inside) * (1.0 + inside)  # 1 - u**2 without cancellation near +-1
    if m % 2 == 0:
        k, total, norm, power = -1, 0.5 + np.arcsin(inside) / math.pi, math.pi, np.sqrt(w2)
    else:
        k, total, norm, power = 0, 0.5 * (1.0 + inside), 2.0, w2
    while k + 2 <= m - 3:  # power = (1 - u**2)**((k + 2) / 2), norm = G_k(1)
        k += 2
        total = total + inside * power / (k * norm)
        norm = norm * k / (k + 1)
        power = power * w2
    return np.where(np.isnan(u), np.nan, np.clip(total, 0.0, 1.0))


@dataclass(frozen=True)
class Distribution:
    """Distribution of one entry of an initialized tensor.

    kind "normal": N(loc, stddev**2).
    kind "truncated_normal": N(loc, stddev**2) (stddev of the *untruncated* normal) conditioned on [low, high].
    kind "uniform": uniform on [low, high].
    kind "constant": the point mass at `value`.
    kind "orthogonal": gain * a coordinate of a uniformly random unit vector of R^m, m = max(rows, cols),
        the marginal of an entry of a uniformly random (rows, cols) matrix with orthonormal rows
        (rows < cols) or columns.
    kind "identity": the entries of gain * eye(rows, cols): gain with probability min(rows, cols) / (rows * cols),
        0 otherwise (the distribution of an entry picked at random; the values themselves are fixed).
    `loc` is the mean parameter of the normal kinds (not a method clash with `mean()`).
    """

    kind: str
    loc: float = 0.0
    stddev: float = 0.0
    low: float = -math.inf
    high: float = math.inf
    value: float = 0.0
    gain: float = 1.0
    rows: int = 0
    cols: int = 0

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"`kind` must be one of {', '.join(map(repr, KINDS))}. Received: kind={self.kind!r}")
        if self.kind in ("normal", "truncated_normal") and not self.stddev > 0:
            raise ValueError(f"A {self.kind} needs stddev > 0. Received: stddev={self.stddev!r}")
        if self.kind in ("truncated_normal", "uniform") and not self.low < self.high:
            raise ValueError(f"A {self.kind} needs low < high. Received: low={self.low!r}, high={self.high!r}")
        if self.kind == "uniform" and not (math.isfinite(self.low) and math.isfinite(self.high)):
            raise ValueError(f"A uniform needs finite bounds. Received: low={self.low!r}, high={self.high!r}")
        if self.kind in ("orthogonal", "identity") and not (self.rows >= 1 and self.cols >= 1):
            raise ValueError(f"An {self.kind} needs rows, cols >= 1. Received: rows={self.rows!r}, cols={self.cols!r}")

    # -- helpers
    def _alpha_beta(self):
        return (self.low - self.loc) / self.stddev, (self.high - self.loc) / self.stddev

    def _truncated_mass(self):
        a, b = self._alpha_beta()
        return float(_upper(a) - _upper(b)) if a > 0 else float(_Phi(b) - _Phi(a))

    def _identity_p(self):
        return min(self.rows, self.cols) / (self.rows * self.cols)

    def cdf(self, x):
        """P(X <= x), vectorized, float64; nan for nan."""
        x = _f64(x)
        kind = self.kind
        if kind == "normal":
            y = _Phi((x - self.loc) / self.stddev)
        elif kind == "truncated_normal":
            a, b = self._alpha_beta()
            z = np.clip((x - self.loc) / self.stddev, a, b)
            mass = self._truncated_mass()
            y = (_upper(a) - _upper(z)) / mass if a > 0 else (_Phi(z) - _Phi(a)) / mass
        elif kind == "uniform":
            y = (np.clip(x, self.low, self.high) - self.low) / (self.high - self.low)
        elif kind == "constant":
            y = (x >= self.value).astype(np.float64)
        elif kind == "orthogonal":
            scale = abs(self.gain)
            if scale == 0:
                y = (x >= 0).astype(np.float64)
            else:
                y = _sphere_coordinate_cdf(x / scale, max(self.rows, self.cols))
        else:  # identity
            p = self._identity_p()
            y = (1.0 - p) * (x >= 0) + p * (x >= self.gain)
        return np.where(np.isnan(x), np.nan, np.clip(y, 0.0, 1.0))

    def mean(self):
        """E[X]. Truncated normal: loc + stddev * (phi(a) - phi(b)) / (Phi(b) - Phi(a)), a, b the standardized bounds."""
        if self.kind == "normal":
            return float(self.loc)
        if self.kind == "truncated_normal":
            a, b = self._alpha_beta()
            return float(self.loc + self.stddev * (_phi(a) - _phi(b)) / self._truncated_mass())
        if self.kind == "uniform":
            return 0.5 * (self.low + self.high)
        if self.kind == "constant":
            return float(self.value)
        if self.kind == "orthogonal":
            return 0.0
        return self.gain * self._identity_p()

    def std(self):
        """Standard deviation of X.

        Truncated normal: stddev * sqrt(1 + (a phi(a) - b phi(b)) / Z - ((phi(a) - phi(b)) / Z)**2),
        Z = Phi(b) - Phi(a); uniform: (high - low) / sqrt(12); orthogonal: |gain| / sqrt(max(rows, cols));
        identity: |gain| * sqrt(p (1 - p)), p = min(rows, cols) / (rows * cols).
        """
        if self.kind == "normal":
            return float(self.stddev)
        if self.kind == "truncated_normal":
            a, b = self._alpha_beta()
            mass = self._truncated_mass()
            pa, pb = float(_phi(a)), float(_phi(b))
            a_pa = a * pa if math.isfinite(a) else 0.0
            b_pb = b * pb if math.isfinite(b) else 0.0
            return float(self.stddev * math.sqrt(1.0 + (a_pa - b_pb) / mass - ((pa - pb) / mass) ** 2))
        if self.kind == "uniform":
            return (self.high - self.low) / math.sqrt(12.0)
        if self.kind == "constant":
            return 0.0
        if self.kind == "orthogonal":
            return abs(self.gain) / math.sqrt(max(self.rows, self.cols))
        p = self._identity_p()
        return abs(self.gain) * math.sqrt(p * (1.0 - p))

    def support(self):
        """(lo, hi): the smallest closed interval holding X (infinite for the normal)."""
        if self.kind in ("normal", "truncated_normal", "uniform"):
            return (float(self.low), float(self.high))
        if self.kind == "constant":
            return (float(self.value), float(self.value))
        if self.kind == "orthogonal":
            return (-abs(self.gain), abs(self.gain))
        if self._identity_p() == 1.0:
            return (float(self.gain), float(self.gain))
        return (min(0.0, self.gain), max(0.0, self.gain))


# --- shapes and fans ------------------------------------------------------------------------


def _is_int(v):
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _shape(shape):
    try:
        values = tuple(shape)
    except TypeError:
        values = None
    if values is None or not all(_is_int(v) and v >= 0 for v in values):
        raise ValueError(f"`shape` must be a tuple of non-negative ints. Received: shape={shape!r}")
    return tuple(int(v) for v in values)


def _axes_product(name, axes, shape):
    rank = len(shape)
    try:
        values = tuple(axes)
    except TypeError:
        values = None
    if values is None or not all(_is_int(a) and -rank <= a < rank for a in values):
        raise ValueError(f"`{name}` must be a list of ints in [-{rank}, {rank}) for a shape of rank {rank}. "
                         f"Received: {name}={axes!r}")
    return math.prod(shape[a] for a in values)


def compute_fans(shape, input_axes=None, output_axes=None):
    """(fan_in, fan_out) of a weight shape.

    rank 0: (1, 1); rank 1: (n, n); rank 2: (shape[0], shape[1]); rank >= 3: r = prod(shape[:-2]),
    (shape[-2] * r, shape[-1] * r). input_axes / output_axes, when given, replace fan_in / fan_out
    by prod(shape[a] for a in the axes) (negative axes count from the end).
    """
    shape = _shape(shape)
    if len(shape) == 0:
        fan_in = fan_out = 1
    elif len(shape) == 1:
        fan_in = fan_out = shape[0]
    else:
        receptive_field = math.prod(shape[:-2])
        fan_in, fan_out = shape[-2] * receptive_field, shape[-1] * receptive_field
    if input_axes is not None:
        fan_in = _axes_product("input_axes", input_axes, shape)
    if output_axes is not None:
        fan_out = _axes_product("output_axes", output_axes, shape)
    return int(fan_in), int(fan_out)


def dense_kernel_shape(input_dim, units):
    """Shape of a Dense kernel: (input_dim, units)."""
    for name, v in (("input_dim", input_dim), ("units", units)):
        if not (_is_int(v) and v >= 1):
            raise ValueError(f"`{name}` must be a positive int. Received: {name}={v!r}")
    return (int(input_dim), int(units))


def _matrix_shape(shape):
    """(rows, cols) = (prod(shape[:-1]), shape[-1]) of a shape of rank >= 2."""
    if len(shape) < 2:
        raise ValueError(f"The shape must be at least two-dimensional. Received: shape={shape!r} of rank {len(shape)}")
    return math.prod(shape[:-1]), shape[-1]


def identity_matrix(shape, gain=1.0):
    """gain * eye(rows, cols) for a rank-2 shape (rows, cols); ones on the main diagonal of a non-square shape."""
    shape = _shape(shape)
    if len(shape) != 2:
        raise ValueError(f"Identity is only defined for 2D shapes. Received: shape={shape} of rank {len(shape)}")
    return float(gain) * np.eye(shape[0], shape[1], dtype=np.float64)


def is_orthogonal(values, gain=1.0, atol=1e-6):
    """True if values, as a (prod(shape[:-1]), shape[-1]) matrix W, has orthogonal rows or columns of norm |gain|.

    rows <= cols: W W^T = gain**2 I; rows > cols: W^T W = gain**2 I; each entry within atol.
    """
    w = _f64(values)
    rows, cols = _matrix_shape(w.shape)
    w = w.reshape(rows, cols)
    gram = w @ w.T if rows <= cols else w.T @ w
    return bool(np.all(np.abs(gram - gain**2 * np.eye(len(gram))) <= atol))


# --- the initializers -----------------------------------------------------------------------


def _number(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value):
        raise ValueError(f"`{name}` must be a real number. Received: {name}={value!r}")
    return float(value)


def _normal(mean, stddev, truncated):
    mean = _number("mean", mean)
    stddev = _number("stddev", stddev)
    if stddev < 0:
        raise ValueError(f"`stddev` must be >= 0. Received: stddev={stddev!r}")
    if stddev == 0:
        return Distribution("constant", value=mean)
    if truncated:
        return Distribution("truncated_normal", loc=mean, stddev=stddev, low=mean - 2 * stddev, high=mean + 2 * stddev)
    return Distribution("normal", loc=mean, stddev=stddev)


def _random_normal(shape, mean=0.0, stddev=0.05, seed=None):
    return _normal(mean, stddev, truncated=False)


def _truncated_normal(shape, mean=0.0, stddev=0.05, seed=None):
    return _normal(mean, stddev, truncated=True)


def _random_uniform(shape, minval=-0.05, maxval=0.05, seed=None):
    low, high = _number("minval", minval), _number("maxval", maxval)
    if low > high:
        raise ValueError(f"`minval` must not exceed `maxval`. Received: minval={minval!r}, maxval={maxval!r}")
    if low == high:
        return Distribution("constant", value=low)
    return Distribution("uniform", low=low, high=high)


def _constant(shape, value=0.0):
    if np.ndim(value) != 0:
        raise ValueError(f"Constant only accepts a scalar `value`. Received: value={value!r}")
    return Distribution("constant", value=_number("value", np.asarray(value).item()))


def _zeros(shape):
    return Distribution("constant", value=0.0)


def _ones(shape):
    return Distribution("constant", value=1.0)


def variance_scaling(shape, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None,
                     input_axes=None, output_axes=None):
    """Distribution of VarianceScaling(scale, mode, distribution) on `shape` (see the module docstring)."""
    scale = _number("scale", scale)
    if not scale > 0:
        raise ValueError(f"`scale` must be a positive float. Received: scale={scale!r}")
    if mode not in MODES:
        raise ValueError(f"`mode` must be one of {', '.join(map(repr, MODES))}. Received: mode={mode!r}")
    if distribution not in DISTRIBUTIONS:
        raise ValueError(f"`distribution` must be one of {', '.join(map(repr, DISTRIBUTIONS))}. "
                         f"Received: distribution={distribution!r}")
    fan_in, fan_out = compute_fans(shape, input_axes, output_axes)
    n = max(1.0, {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[mode])
    if distribution == "uniform":
        limit = math.sqrt(3.0 * scale / n)
        return Distribution("uniform", low=-limit, high=limit)
    stddev = math.sqrt(scale / n)
    if distribution == "untruncated_normal":
        return Distribution("normal", stddev=stddev)
    sigma = stddev / TRUNCATED_STD_FACTOR
    return Distribution("truncated_normal", stddev=sigma, low=-2.0 * sigma, high=2.0 * sigma)


def _preset(scale, mode, distribution):
    def initializer(shape, seed=None, input_axes=None, output_axes=None):
        return variance_scaling(shape, scale, mode, distribution, seed, input_axes, output_axes)
    return initializer


def _orthogonal(shape, gain=1.0, seed=None):
    rows, cols = _matrix_shape(shape)
    return Distribution("orthogonal", gain=_number("gain", gain), rows=rows, cols=cols)


def _identity(shape, gain=1.0):
    if len(shape) != 2:
        raise ValueError(f"Identity is only defined for 2D shapes. Received: shape={shape} of rank {len(shape)}")
    gain = _number("gain", gain)
    if gain == 0 or shape[0] * shape[1] == 0:
        return Distribution("constant", value=0.0)
    return Distribution("identity", gain=gain, rows=shape[0], cols=shape[1])


_INITIALIZERS = {
    "RandomNormal": _random_normal,
    "RandomUniform": _random_uniform,
    "TruncatedNormal": _truncated_normal,
    "Zeros": _zeros,
    "Ones": _ones,
    "Constant": _constant,
    "VarianceScaling": variance_scaling,
    "GlorotNormal": _preset(1.0, "fan_avg", "truncated_normal"),
    "GlorotUniform": _preset(1.0, "fan_avg", "uniform"),
    "HeNormal": _preset(2.0, "fan_in", "truncated_normal"),
    "HeUniform": _preset(2.0, "fan_in", "uniform"),
    "LecunNormal": _preset(1.0, "fan_in", "truncated_normal"),
    "LecunUniform": _preset(1.0, "fan_in", "uniform"),
    "Orthogonal": _orthogonal,
    "Identity": _identity,
}
# keras.initializers aliases: snake_case names and the *Initializer class aliases.
_ALIASES = {
    "random_normal": "RandomNormal", "random_uniform": "RandomUniform", "truncated_normal": "TruncatedNormal",
    "zeros": "Zeros", "ones": "Ones", "constant": "Constant", "variance_scaling": "VarianceScaling",
    "glorot_normal": "GlorotNormal", "glorot_uniform": "GlorotUniform", "he_normal": "HeNormal",
    "he_uniform": "HeUniform", "lecun_normal": "LecunNormal", "lecun_uniform": "LecunUniform",
    "orthogonal": "Orthogonal", "OrthogonalInitializer": "Orthogonal",
    "identity": "Identity", "IdentityInitializer": "Identity",
}
KNOWN = tuple(sorted(_INITIALIZERS)) + tuple(sorted(_ALIASES))


def expected_distribution(name, shape, **config):
    """Distribution of one entry of `keras.initializers.<name>(**config)(shape)`.

    name: a class name (e.g. "GlorotUniform") or its snake_case alias ("glorot_uniform"); config:
    the documented constructor arguments with their documented defaults (`seed` is accepted and
    has no effect on the distribution). Unknown names, modes, distributions -> ValueError; an
    argument the initializer does not take -> TypeError.
    """
    canonical = _ALIASES.get(name, name) if isinstance(name, str) else None
    if canonical not in _INITIALIZERS:
        raise ValueError(f"Unknown initializer: name={name!r}. Known names: {', '.join(KNOWN)}. "
                         "(STFT is deterministic and not modelled here.)")
    shape = _shape(shape)
    function = _INITIALIZERS[canonical]
    accepted = [p for p in inspect.signature(function).parameters if p != "shape"]
    unknown = sorted(set(config) - set(accepted))
    if unknown:
        raise TypeError(f"{canonical} does not take {', '.join(map(repr, unknown))}. "
                        f"Its arguments: {', '.join(accepted) or '(none)'}")
    return function(shape, **config)


def arguments(name):
    """The documented constructor arguments of initializer `name` (class name or alias), with
    their defaults, as {argument: default}; `seed` included."""
    canonical = _ALIASES.get(name, name)
    if canonical not in _INITIALIZERS:
        raise ValueError(f"Unknown initializer: name={name!r}. Known names: {', '.join(KNOWN)}.")
    return {p.name: p.default for p in inspect.signature(_INITIALIZERS[canonical]).parameters.values() if p.name != "shape"}
