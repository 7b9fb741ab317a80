"""Gradients of the reference, in NumPy float64: directional derivatives by central differences
with Richardson extrapolation, the tolerance of a gradient check, and analytic vector-Jacobian
products (VJPs) of the convolution, Dense and a few activations as a second formulation.

The gradient check (issue 10) compares, for a random direction u over (inputs, weights) and a
random cotangent v of the output,

    a = <v, J u>  (this module: a central difference of the float64 reference along u)
    b = <J^T v, u>  (tf.keras: GradientTape's VJP of v in the case's dtype, dotted with u in float64)

which are equal for the exact derivative (the adjoint identity). One pair of scalars judges every
input and weight gradient at once, with no per-op gradient code in the reference.

Finite differences (`derivative`, `directional_derivative`)
-------------------------------------------------------------
g(t) = <v, f(point + t * u)>. The central difference

    D(h) = (g(h) - g(-h)) / (2 h) = g'(0) + c2 h**2 + c4 h**4 + c6 h**6 + ...

has only even powers of h. Levels i = 0, 1, ... use h_i = h0 / 2**i and the Richardson table
(ratio 2, so each column removes the next even power)

    A[i][0] = D(h_i),   A[i][j] = A[i][j-1] + (A[i][j-1] - A[i-1][j-1]) / (4**j - 1).

The table is kept for the whole output array (J u element by element, the `tangent`); the value
is its projection <v, .>. Error estimate of an entry (Ridders' rule, made robust): element by
element e = max(|A[i][j] - A[i][j-1]|, |A[i][j] - A[i-1][j-1]|, and below the diagonal
|A[i][j] - A[i-1][j]|), then sum |v| e. Each difference is the size of a correction the entry
already made, so it bounds the error of a lower-order entry and, pessimistically, of this one;
the third catches error terms that are not even powers of h (a jump of the second derivative
inside the step, as elu's at 0, leaves a term in |h| that the table does not remove); summing
|v| e instead of projecting keeps the errors of different elements from cancelling in the
estimate when they do not cancel in the value. The answer is the entry with the smallest estimate.
The reported error is that estimate, at least the rounding floor eps64 * sum |v| |f(point)| / h
of the step used (f's own float64 rounding in g(h) - g(-h), over 2h, twice), plus the kink term
below. The loop stops as soon as the estimate and the floor are below rtol * M (M = sum |v| |J u|,
the `magnitude`), when the estimate is down to twice the rounding floor of the newest step
(smaller steps only add noise), or after `max_levels` levels. Each level costs two evaluations
of f; the point itself costs one more unless `value_at_point` is given.

The first step. Without extrapolation the best central step balances c2 h**2 against eps / h:
h ~ cbrt(eps) L ~ 6e-6 L, with L the scale in t on which g varies. One extrapolation leaves
O(h**4) against eps / h: h ~ eps**(1/5) L ~ 7e-4 L, two leave O(h**6): h ~ eps**(1/7) L ~ 6e-3 L,
so a larger start than cbrt(eps) is right with Richardson. L is taken as the step in t that moves
the point by its own size, L = max(1, rms(point)) / rms(direction) (rms over every entry of
every array; the floor 1 because activations bend on a scale of 1 whatever the size of the
inputs). But a layer's pre-activations move sqrt(fan_in) times faster than its coordinates (4 to
30 times in the catalogue), and the table converges only once the first steps are in its
asymptotic range, so h0 = 2**-12 L ~ 2.4e-4 L: eps**(1/5) L divided by a typical gain of 3.
Measured on 15 conv layers (1-d and 2-d, fan-in 25 to 144; linear, tanh, sigmoid, gelu, elu;
the point's value given), rtol 7.6e-9 takes 5.9 evaluations on average (10 at most) and rtol
1e-11 takes 6.4 (16 at most; one wide elu layer stays unresolved at 1e-11: elu's second
derivative jumps at 0), against 6.5 / 7.7 for h0 = 2**-10 L and 8.0 / 8.8 for 2**-8 L; no error
estimate fell below the actual error (benchmarks/gradient_reference_benchmark.py). A bilinear or
quadratic g (a convolution or Dense without activation) is exact at level 0: 2 levels, 4 evaluations.

Kinks. At a kink of g at t0 (relu at 0, max-pool ties, abs at 0):
- 0 < |t0| < h for some of the steps: D(h) carries a term ~ jump * (h - |t0|) / h that is no
  power series in h; the corrections do not shrink and the estimate stays of the order of the
  jump |g'(t0+) - g'(t0-)| as long as the finest step straddles the kink: `converged` is False.
- t0 = 0 exactly: g(h) - g(-h) sees the two slopes symmetrically and D(h) = the mean of the
  one-sided derivatives for every h; the table converges, to a value that is no derivative. This
  is caught, element by element, by the second difference s(h) = (f(h) - 2 f(0) + f(-h)) / h,
  which is f''(0) h + O(h**3) where f is smooth (halving with h) and the jump f'(0+) - f'(0-) at
  a kink (constant). An element whose s stays put over the last two levels (same sign,
  0.75 < |s(h_L)| / |s(h_{L-1})| < 1.5: rounding noise grows like 1 / h instead) and stands above
  rounding noise (64 eps max(|f|, mean |f|) / h: f's rounding follows the size of the terms it
  sums, which an output near 0 understates) counts in `kinks`,
  and sum |v| max |s| / 2 over those elements (the distance from the mean to either one-sided
  derivative; the largest |s| of the levels, since a kink a little off the point shows less of
  its jump to the finest step) is added to the error. A kink too small to matter at the requested accuracy then
  does not spoil `converged`; a real one does.
- `one_sided` gives the forward and backward derivatives of g, (g(h) - g(0)) / h and
  (g(0) - g(-h)) / h Richardson-extrapolated in all powers of h (2**j in place of 4**j), from the
  same evaluations: what a case at a kink compares with the one-sided derivative Keras documents.
The check must not judge a derivative that has not converged: it reports "at a kink, or not
resolved by the finite difference" instead of passing or failing (`gradient_tolerance` refuses
it). A case whose inputs keep a distance delta from the kinks (in pre-activation units) is
resolved when the finest step moves no pre-activation by delta: pass a smaller `step` if needed.

Tolerance of the check (`gradient_tolerance`)
---------------------------------------------
    |a - b| <= 2 * fd_error + K * u * max(M_out, M_in) + 2 * tiny * sum_k |u_k|

- fd_error: the Ridders estimate of |a - <v, J u>| (`Derivative.error`), doubled because it is an
  estimate, not a bound.
- u: the unit roundoff of the case's dtype (2**-24 float32, 2**-11 float16, 2**-8 bfloat16,
  2**-53 float64); tiny: its smallest normal number (2**-126, 2**-14, 2**-126, 2**-1022).
- M_out = sum_i |v_i| |(J u)_i| (`Derivative.magnitude`, from the reference) and
  M_in = sum_k |g_k| |u_k| (from tf.keras's gradient g = J^T v; `gradient_dot`). These are the
  sizes of the two sums <v, J u> and <g, u> with no cancellation. The dtype-side error of b is
  sum_k delta_k u_k, delta_k the error of g_k: rounding g_k alone is |delta_k| <= u |g_k|, so
  |sum delta_k u_k| <= u M_in; accumulating g_k = sum_i v_i J_ik (a reduction of n terms) and
  evaluating J at forward values rounded in the dtype add a few u to a few u * sqrt(n) relative
  to |g_k| in practice; the same holds on the output side for (J u)_i with M_out. K = 128 = 2**7
  is the slack per element that the forward check's default tolerances give float32 (1e-5 ~ 168
  u), carried through the dot products in the worst case (every delta_k with the sign of u_k),
  which random rounding errors do not reach: so float noise passes, and a gradient off by a
  relative 1e-4 (float32) in a part that carries a fair share of M is caught.
- tiny * sum |u_k|: a gradient element flushed from subnormal to zero (the CPU does) moves b by
  at most tiny * |u_k|; doubled for the forward values flushed on the way.
Measured against tf.keras 3.15.1 / TensorFlow 2.21 on CPU (Conv2D 3x3 with 4 -> 6 and 16 -> 32
channels, Dense 64 -> 33; linear, tanh, sigmoid, gelu, elu; three draws each):
|a - b| <= 0.43 u max(M_out, M_in), i.e. at most 0.0034 of the tolerance, in float32, float16
and bfloat16 (135 checks); Dense with tanh or sigmoid on inputs scaled up to 16 (saturated: the
derivative formulas 1 - y**2 and y (1 - y) lose relative accuracy there) stayed below 0.11 of it.
In float64 every activation but gelu stayed below 0.05 of it; gelu exceeded it up to 227 times:
its float64 gradient is off by ~6e-9 absolute, as its forward value is (known divergence
gelu-float64-precision).
M_in comes from the side under test; that is safe: a wrong g that inflates M_in by a factor c
also moves b by about (c - 1) |b|, far more than K u c M_in unless c is within K u M_in / |b|
of 1.

The check should draw v in the dtype and give the reference the same (rounded) v, and give the
reference the point (inputs and weights) as the dtype-rounded values tf.keras holds, so that
neither side differs by the rounding of its arguments; u need not be rounded (it never reaches
tf.keras). `fd_accuracy(dtype)` is the rtol to ask of `directional_derivative`: 1/1000 of the
dtype's slack K * u (7.6e-9 for float32), but no finer than 1e-10 for float64: its K u = 1.4e-14
is beyond finite differences, so the fd_error term sets a float64 check's tolerance (about
2e-10 M); 1e-11 would leave wide layers with elu-like activations (second derivative jumping
at 0) unresolved, and 1e-9 would hide the known 1e-10 error of gelu's float64 gradient.

Analytic VJPs (a second formulation, for the reference's own tests)
-------------------------------------------------------------------
For y = conv_general(x, K) (stride s, dilation d, padding pairs (p_b, p_a) per dim, groups G):
- input:  dx = the transposed convolution of the cotangent with K (conv_transpose_general with
  padding (p_b, p_a) and output_padding r = (n + p_b + p_a - k_eff) mod s, so that it returns
  length n exactly), one call per feature group;
- kernel: dK[j, c, o] = sum_{b, i} x_pad[b, i * s + j * d, g(o) C_g + c] v[b, i, o], the
  correlation of the padded input with the cotangent: conv_general with the roles of batch and
  channels exchanged and strides and dilation swapped (taps j step by d, positions i by s),
  cropped to the kernel size, one call per group.
Dense y = act(x W + b): dz = act'(z) v, dx = dz W^T, dW = sum over leading axes of x^T dz, db = sum dz.
Activations: derivatives stated below (relu with its slope, threshold and max_value; sigmoid,
tanh, elu, exact gelu); at a kink they take the value of the side the forward rule assigns the
point to (relu at x == threshold: the "below" slope).
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import NamedTuple

import numpy as np

from reference_impl import activations as _activations
from reference_impl import conv as _conv

EPS64 = float(np.finfo(np.float64).eps)  # 2**-52
STEP_FRACTION = 2.0**-12  # h0 / L; see "The first step" above
MAX_LEVELS = 8  # 16 evaluations at most: h down to h0 / 128
DEFAULT_RTOL = 1e-11
FLOAT64_FD_ACCURACY = 1e-10  # fd_accuracy's floor (see the module docstring)
KINK_RATIO = 0.75  # |s(h/2)| > 0.75 |s(h)|: the second difference does not halve with h
NOISE_FACTOR = 64.0  # a second difference below 64 eps max(|f|, mean |f|) / h is rounding noise

# dtype name -> (unit roundoff u, smallest normal number)
FORMATS = {
    "float16": (2.0**-11, 2.0**-14),
    "bfloat16": (2.0**-8, 2.0**-126),
    "float32": (2.0**-24, 2.0**-126),
    "float64": (2.0**-53, 2.0**-1022),
}
ROUNDING_FACTOR = 128.0  # K: per-element slack of the dtype, 2**7 u (see the module docstring)
FD_SAFETY = 2.0  # the Ridders estimate is an estimate


class Derivative(NamedTuple):
    """A directional derivative <v, J u> and how far to trust it."""

    value: float  # the best extrapolated <v, J u>
    error: float  # estimated |value - exact|: the table's estimate or the rounding floor, plus half the kinks' jumps
    converged: bool  # error <= rtol * magnitude (False: at or near a kink, or not resolved)
    kinks: int  # output elements whose second difference did not shrink with h: a kink at the point itself
    magnitude: float  # M_out = sum |v| |J u|: the size of <v, J u> without cancellation
    tangent: np.ndarray  # J u element by element (the entry the value comes from)
    one_sided: tuple  # (forward, backward) derivatives of g at 0, extrapolated
    evaluations: int  # calls of f (or g)
    step: float  # h0, the first step


# --- Richardson tables -------------------------------------------------------------------------


def _extend(previous, estimate, power):
    """The next row of a Richardson table with ratio 2: error terms in h**power, h**(2 power), ...

    row[0] = estimate, row[j] = row[j-1] + (row[j-1] - previous[j-1]) / (2**(power j) - 1).
    """
    row = [estimate]
    for j in range(1, len(previous) + 1):
        row.append(row[j - 1] + (row[j - 1] - previous[j - 1]) / (2.0 ** (power * j) - 1.0))
    return row


def _best(rows, v):
    """(error, i, j) of the entry with the smallest error estimate in the last row of a table of >= 2
    rows (the caller keeps the best over the rows).

    The estimate of A[i][j] is sum_k |v_k| e_k with, element by element, Ridders'
    e = max(|A[i][j] - A[i][j-1]|, |A[i][j] - A[i-1][j-1]|) and, below the diagonal, also
    |A[i][j] - A[i-1][j]|: the same column one step back, which is about its own error when the
    error terms are not the assumed even powers (a term in |h|, from a jump of the second
    derivative inside the step, is not removed by the table and the other two differences can
    then be smaller than the error). Summing |v| times the element's estimate, rather than
    projecting the differences on v, keeps the errors of different elements from cancelling in
    the estimate when they do not in the value.
    """
    best = (math.inf, 0, 0)
    i = len(rows) - 1
    for j in range(1, i + 1):
        here = rows[i][j]
        e = np.maximum(np.abs(here - rows[i][j - 1]), np.abs(here - rows[i - 1][j - 1]))
        if j < i:
            e = np.maximum(e, np.abs(here - rows[i - 1][j]))
        err = float(np.sum(np.abs(v) * e))
        if err < best[0]:
            best = (err, i, j)
    return best


def _finite(name, value):
    if not np.all(np.isfinite(value)):
        raise ValueError(f"`{name}` must be finite for a finite difference. Received: non-finite values in {name}")
    return value


# --- the derivative of g(t) at 0 ---------------------------------------------------------------


def derivative(g, step, *, cotangent=None, value_at_zero=None, rtol=DEFAULT_RTOL, max_levels=MAX_LEVELS):
    """g'(0) projected on the cotangent: <v, dg/dt (0)>, by central differences and Richardson.

    g(t) returns a float64 array (or a scalar); cotangent v has its shape (None: g is a scalar
    and v = 1). step is h0 > 0. The scheme, the stopping rules, the error and the kink test are
    in the module docstring. Returns a Derivative.
    """
    if not (isinstance(step, (int, float, np.floating)) and math.isfinite(step) and step > 0):
        raise ValueError(f"`step` must be a positive finite number. Received: step={step!r}")
    if not (isinstance(max_levels, int) and max_levels >= 2):
        raise ValueError(f"`max_levels` must be an int >= 2 (one extrapolation). Received: max_levels={max_levels!r}")
    if not rtol > 0:
        raise ValueError(f"`rtol` must be positive. Received: rtol={rtol!r}")
    evaluations = 0

    def call(t):
        nonlocal evaluations
        evaluations += 1
        return np.asarray(g(t), dtype=np.float64)

    g0 = call(0.0) if value_at_zero is None else np.asarray(value_at_zero, dtype=np.float64)
    v = np.ones_like(g0) if cotangent is None else np.asarray(cotangent, dtype=np.float64)
    if v.shape != g0.shape:
        raise ValueError(f"`cotangent` must have the shape of g's value {g0.shape}. Received: cotangent.shape={v.shape}")
    _finite("cotangent", v)
    _finite("g(0)", g0)

    def project(a):
        return float(np.sum(v * a))

    noise_scale = float(np.sum(np.abs(v * g0)))

    def rounding_floor(i):  # f's float64 rounding in D(h_i): 2 eps sum |v f| / (2 h_i)
        return 2.0 * EPS64 * noise_scale / (2.0 * step / 2.0**i)

    central, forward, backward, second = [], [], [], []
    best = (math.inf, 0, 0)
    for i in range(max_levels):
        h = step / 2.0**i
        up, down = _finite("g(h)", call(h)), _finite("g(-h)", call(-h))
        central.append(_extend(central[-1] if central else [], (up - down) / (2.0 * h), 2))
        forward.append(_extend(forward[-1] if forward else [], (up - g0) / h, 1))
        backward.append(_extend(backward[-1] if backward else [], (g0 - down) / h, 1))
        # f's rounding is relative to the terms it sums, not to f itself (an output near 0): the mean |f| stands in
        size = np.maximum(np.maximum(np.abs(up), np.abs(down)), np.abs(g0))
        noise = NOISE_FACTOR * EPS64 * np.maximum(size, np.mean(size)) / h
        curvature = (up - 2.0 * g0 + down) / h
        second = [second[1] if second else None, curvature, noise, np.maximum(second[3], np.abs(curvature)) if second else np.abs(curvature)]
        if i == 0:
            continue
        best = min(best, _best(central, v))
        err, bi, bj = best
        magnitude = float(np.sum(np.abs(v * central[bi][bj])))
        if max(err, rounding_floor(bi)) <= rtol * magnitude:
            break  # accurate enough
        if err <= 2.0 * rounding_floor(i):
            break  # at the rounding floor of this step: smaller steps only add noise

    err, bi, bj = best
    tangent = central[bi][bj]
    magnitude = float(np.sum(np.abs(v * tangent)))
    # element by element: a second difference that does not halve with h, above rounding noise
    # (the largest |s| of the levels: with the kink a little off the point, the finest step sees less of the jump)
    previous, last, noise, largest = second
    # a jump is the same at every step: same sign, not shrinking, not growing either (noise grows like 1 / h)
    steady = (last * previous > 0) & (np.abs(last) > KINK_RATIO * np.abs(previous)) & (np.abs(last) < 1.5 * np.abs(previous))
    at_kink = steady & (np.abs(last) > noise)
    jumps = float(np.sum((np.abs(v) * largest)[at_kink])) / 2.0
    error = max(err, rounding_floor(bi)) + jumps
    one_sided = tuple(project(table[-1][-1]) for table in (forward, backward))
    converged = bool(error <= rtol * magnitude)
    return Derivative(project(tangent), float(error), converged, int(np.count_nonzero(at_kink)), magnitude,
                      tangent, one_sided, evaluations, float(step))


# --- directional derivatives of a function of named arrays -------------------------------------


def _as_arrays(value):
    """A mapping of name -> float64 array, or a single array under the key None."""
    if isinstance(value, Mapping):
        return {k: np.asarray(a, dtype=np.float64) for k, a in value.items()}
    return {None: np.asarray(value, dtype=np.float64)}


def _rms(arrays):
    total = sum(float(np.sum(a * a)) for a in arrays.values())
    count = sum(a.size for a in arrays.values())
    return math.sqrt(total / count) if count else 0.0


def first_step(point, direction):
    """h0 = 2**-12 * max(1, rms(point)) / rms(direction): see "The first step" in the module docstring."""
    p, u = _as_arrays(point), _as_arrays(direction)
    size = _rms(u)
    if size == 0.0:
        raise ValueError("`direction` must not be zero everywhere. Received: a direction with every entry 0")
    return STEP_FRACTION * max(1.0, _rms(p)) / size


def directional_derivative(f, point, direction, cotangent=None, *, value_at_point=None, rtol=DEFAULT_RTOL,
                           step=None, max_levels=MAX_LEVELS):
    """<v, J u>: the derivative at t = 0 of g(t) = <v, f(point + t * direction)>.

    point and direction: mappings of the same names to arrays of the same shapes (named inputs
    and weights), or two arrays; f takes what point is (a dict of float64 arrays, or one array)
    and returns a float64 array (or scalar) of the cotangent's shape (cotangent None: f returns
    a scalar). value_at_point: f(point) if already known (saves an evaluation). step: h0, default
    first_step(point, direction). Returns a Derivative (see `derivative`).
    """
    p, u = _as_arrays(point), _as_arrays(direction)
    _check_alike("direction", u, "point", p, "of the point ")
    for name in p:
        _finite(f"point[{name!r}]", p[name])
        _finite(f"direction[{name!r}]", u[name])
    single = not isinstance(point, Mapping)

    def g(t):
        moved = {name: p[name] + t * u[name] for name in p}
        return f(moved[None] if single else moved)

    h0 = first_step(p, u) if step is None else step
    return derivative(g, h0, cotangent=cotangent, value_at_zero=value_at_point, rtol=rtol, max_levels=max_levels)


# --- the check's tolerance -----------------------------------------------------------------------


def _format(dtype):
    if dtype not in FORMATS:
        raise ValueError(f"`dtype` must be one of {', '.join(FORMATS)}. Received: dtype={dtype!r}")
    return FORMATS[dtype]


def fd_accuracy(dtype):
    """The rtol to ask of directional_derivative for a check in `dtype`: max(1e-3 K u, 1e-10)."""
    u, _ = _format(dtype)
    return max(1e-3 * ROUNDING_FACTOR * u, FLOAT64_FD_ACCURACY)


def _check_alike(name, arrays, like_name, like, shape_of=""):
    """`arrays` must have the names of `like` and, name by name, its shapes (a ValueError names
    the argument and what it received)."""
    if set(arrays) != set(like):
        raise ValueError(f"`{name}` must have the names of `{like_name}` {sorted(like, key=str)}. "
                         f"Received: {name} names {sorted(arrays, key=str)}")
    for key in like:
        if arrays[key].shape != like[key].shape:
            raise ValueError(f"`{name}[{key!r}]` must have the shape {shape_of}{like[key].shape}. "
                             f"Received: {arrays[key].shape}")


def gradient_dot(gradient, direction):
    """(<g, u>, sum |g| |u|, sum |u|) in float64 over every name of the direction.

    gradient and direction: mappings of the same names to arrays of the same shapes (or two
    arrays). The first is b of the check, the second M_in, the third what the flush floor scales.
    """
    g, u = _as_arrays(gradient), _as_arrays(direction)
    _check_alike("gradient", g, "direction", u)
    with np.errstate(invalid="ignore"):  # an infinite gradient gives inf - inf in the sums: NaN, as IEEE arithmetic does
        dots = [float(np.sum(g[n] * u[n])) for n in u]
        magnitudes = [float(np.sum(np.abs(g[n] * u[n]))) for n in u]
        # fsum raises on inf - inf; non-finite parts are summed as IEEE arithmetic sums them
        dot, magnitude = (math.fsum(parts) if np.all(np.isfinite(parts)) else float(np.sum(parts)) for parts in (dots, magnitudes))
    l1 = math.fsum(float(np.sum(np.abs(u[n]))) for n in u)
    return dot, magnitude, l1


def gradient_tolerance(derivative, dtype, *, gradient_magnitude, direction_l1, factor=ROUNDING_FACTOR):
    """The largest |<v, J u>_fd - <g, u>| that float noise explains (module docstring):

        2 * derivative.error + factor * u * max(derivative.magnitude, gradient_magnitude)
        + 2 * tiny * direction_l1

    u and tiny are the dtype's unit roundoff and smallest normal; gradient_magnitude is
    sum |g| |u| and direction_l1 sum |u| (both from gradient_dot). A derivative that has not
    converged has no tolerance: the check reports it as at a kink or unresolved instead.
    """
    if not derivative.converged:
        raise ValueError(
            "The finite-difference derivative did not converge (at or near a kink, or not resolved): it "
            f"cannot judge a gradient. Received: value={derivative.value!r}, error={derivative.error!r}, "
            f"kinks={derivative.kinks}, magnitude={derivative.magnitude!r}"
        )
    u, tiny = _format(dtype)
    scale = max(derivative.magnitude, float(gradient_magnitude))
    return FD_SAFETY * derivative.error + factor * u * scale + 2.0 * tiny * float(direction_l1)


# --- analytic VJPs: activations ------------------------------------------------------------------

_SQRT_2 = math.sqrt(2.0)  # 1.4142135623730950488016887242097
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)  # 0.39894228040143267793994605993438
_erfc = np.frompyfunc(math.erfc, 1, 1)  # the C library's erfc, independent of the reference's own


def _relu_derivative(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """1 where x > threshold, else negative_slope; 0 where the output is clipped (y >= max_value)."""
    d = np.where(x > threshold, 1.0, float(negative_slope))
    if max_value is not None:
        d = np.where(_activations.relu(x, negative_slope, None, threshold) >= max_value, 0.0, d)
    return d


def _sigmoid_derivative(x):
    """sigmoid'(x) = s (1 - s), s = sigmoid(x)."""
    s = _activations.sigmoid(x)
    return s * (1.0 - s)


def _tanh_derivative(x):
    """tanh'(x) = 1 - tanh(x)**2."""
    return 1.0 - np.tanh(x) ** 2


def _elu_derivative(x, alpha=1.0):
    """1 for x > 0, alpha * exp(x) otherwise."""
    return np.where(x > 0, 1.0, alpha * np.exp(np.minimum(x, 0.0)))


def _gelu_derivative(x):
    """d/dx [x Phi(x)] = Phi(x) + x phi(x), Phi(x) = erfc(-x / sqrt 2) / 2, phi(x) = exp(-x**2 / 2) / sqrt(2 pi)."""
    cdf = 0.5 * _erfc(-x / _SQRT_2).astype(np.float64)
    return cdf + x * _INV_SQRT_2PI * np.exp(-0.5 * x * x)


ACTIVATION_DERIVATIVES = {
    None: lambda x: np.ones_like(x),
    "linear": lambda x: np.ones_like(x),
    "relu": _relu_derivative,
    "sigmoid": _sigmoid_derivative,
    "tanh": _tanh_derivative,
    "elu": _elu_derivative,
    "gelu": _gelu_derivative,
}


def activation_vjp(activation, x, cotangent, **params):
    """v * activation'(x), element by element, for the names of ACTIVATION_DERIVATIVES (params: relu's
    negative_slope, max_value, threshold; elu's alpha)."""
    if activation not in ACTIVATION_DERIVATIVES:
        raise ValueError(f"`activation` must be one of {', '.join(map(str, ACTIVATION_DERIVATIVES))} for an "
                         f"analytic VJP. Received: activation={activation!r}")
    x = np.asarray(x, dtype=np.float64)
    return np.asarray(cotangent, dtype=np.float64) * ACTIVATION_DERIVATIVES[activation](x, **params)


# --- analytic VJPs: convolution and Dense --------------------------------------------------------


def _conv_pads(x, kernel, strides, dilation, padding):
    """(rank, strides, dilation, [(before, after)] per spatial dim) of conv_general's padding rule."""
    rank = x.ndim - 2
    strides = _conv._int_tuple("strides", strides, rank, minimum=1)
    dilation = _conv._int_tuple("dilation", dilation, rank, minimum=1)
    modes = padding if not isinstance(padding, str) else (padding.lower(),) * rank
    pads = [
        _conv._pads(mode, n, _conv._effective_size(k, d), s)
        for mode, n, k, d, s in zip(modes, x.shape[1:-1], kernel.shape[:rank], dilation, strides)
    ]
    return rank, strides, dilation, pads


def conv_vjp(x, kernel, cotangent, *, strides, dilation, padding, groups=1):
    """(dx, dkernel) of <v, conv_general(x, kernel, ...)>, channels_last, float64.

    dx: the transposed convolution of v with the kernel (per feature group), output length n;
    dkernel: the correlation of the padded input with v (per group). See the module docstring.
    """
    x = np.asarray(x, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    v = np.asarray(cotangent, dtype=np.float64)
    expected = _conv.conv_general(x, kernel, strides=strides, dilation=dilation, padding=padding, groups=groups).shape
    if v.shape != expected:
        raise ValueError(f"`cotangent` must have the output's shape {expected}. Received: cotangent.shape={v.shape}")
    rank, strides, dilation, pads = _conv_pads(x, kernel, strides, dilation, padding)
    window, (cg, out_channels) = kernel.shape[:rank], kernel.shape[-2:]
    og = out_channels // groups
    remainders = [
        (n + b + a - _conv._effective_size(k, d)) % s
        for n, (b, a), k, d, s in zip(x.shape[1:-1], pads, window, dilation, strides)
    ]
    x_pad = np.pad(x, [(0, 0)] + [tuple(p) for p in pads] + [(0, 0)])
    dx, dk = [], []
    for g in range(groups):
        kg = kernel[..., g * og:(g + 1) * og]  # (*k, C_g, O_g): maps O_g -> C_g in the transposed direction
        vg = v[..., g * og:(g + 1) * og]
        dx.append(_conv.conv_transpose_general(vg, kg, strides=strides, dilation=dilation, padding=tuple(pads),
                                               output_padding=tuple(remainders)))
        # dK[j, c, o] = sum_{b, i} x_pad[b, i s + j d, c] v[b, i, o]: batch <-> channels, strides <-> dilation
        xg = np.moveaxis(x_pad[..., g * cg:(g + 1) * cg], (0, -1), (-1, 0))  # (C_g, *spatial, batch)
        kernel_of_v = np.moveaxis(vg, 0, -2)  # (*out, batch, O_g)
        full = _conv.conv_general(xg, kernel_of_v, strides=dilation, dilation=strides, padding="valid")
        crop = full[(slice(None),) + tuple(slice(0, k) for k in window)]  # (C_g, *k, O_g)
        dk.append(np.moveaxis(crop, 0, -2))
    return np.concatenate(dx, axis=-1), np.concatenate(dk, axis=-1)


def conv_layer_vjp(x, kernel, bias, cotangent, *, strides=1, padding="valid", data_format="channels_last",
                   dilation_rate=1, groups=1, activation=None):
    """{"inputs", "kernel"[, "bias"]}: the VJP of Conv1D/2D/3D, activation(conv(x, kernel) + bias).

    The forward pre-activation z is recomputed with conv_general; dz = activation'(z) v; the
    bias gradient sums dz over batch and spatial dims; channels_first moves the channel axis.
    """
    data_format = _conv.data_format_argument(data_format)
    xc = _conv.to_channels_last(x, data_format)
    vc = _conv.to_channels_last(cotangent, data_format)
    z = _conv.conv_general(xc, kernel, strides=strides, dilation=dilation_rate, padding=padding, groups=groups)
    if bias is not None:
        z = z + np.asarray(bias, dtype=np.float64)
    dz = activation_vjp(activation, z, vc)
    dx, dk = conv_vjp(xc, kernel, dz, strides=strides, dilation=dilation_rate, padding=padding, groups=groups)
    out = {"inputs": _conv.from_channels_last(dx, data_format), "kernel": dk}
    if bias is not None:
        out["bias"] = dz.sum(axis=tuple(range(dz.ndim - 1)))
    return out


def dense_vjp(x, kernel, bias, cotangent, *, activation=None):
    """{"inputs", "kernel"[, "bias"]}: the VJP of Dense, activation(tensordot(x, kernel, 1) + bias).

    dz = activation'(z) v; dx = dz W^T; dW[i, u] = sum over leading axes of x[..., i] dz[..., u];
    db = sum of dz over leading axes.
    """
    x = np.asarray(x, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    z = np.tensordot(x, kernel, axes=1)
    if bias is not None:
        z = z + np.asarray(bias, dtype=np.float64)
    dz = activation_vjp(activation, z, cotangent)
    lead = tuple(range(x.ndim - 1))
    out = {"inputs": dz @ kernel.T, "kernel": np.tensordot(x, dz, axes=(lead, lead))}
    if bias is not None:
        out["bias"] = dz.sum(axis=lead)
    return out
