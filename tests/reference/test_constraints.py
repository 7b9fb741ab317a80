"""reference_impl.constraints: hand-computed projections, the documented defaults and axis
conventions, and an independent formulation (an explicit loop over the output units, the norm
from math.hypot and each unit's scalar rule written out) for every kernel layout."""
import inspect
import itertools
import math

import numpy as np
import pytest

from reference_impl import constraints as C

# A Dense kernel (3, 5) of exact binary values; column norms (axis 0):
#   |(0.75, 1.5, 1.5)|     = 0.75 * |(1, 2, 2)|   = 2.25
#   |(1.0, 1.5, 3.0)|      = 0.5  * |(2, 3, 6)|   = 3.5
#   |(-0.125, 0.5, -1.0)|  = 0.125 * |(1, 4, 8)|  = 1.125
#   |(1.0, -1.0, 1.75)|    = 0.25 * |(4, 4, 7)|   = 2.25
#   |(0, 0, 0)|            = 0
W = np.array([[0.75, 1.0, -0.125, 1.0, 0.0],
              [1.5, 1.5, 0.5, -1.0, 0.0],
              [1.5, 3.0, -1.0, 1.75, 0.0]])


def close(got, want, rtol=1e-14, atol=1e-15):
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


def test_documented_defaults():
    def defaults(f):
        return {k: p.default for k, p in inspect.signature(f).parameters.items() if k != "w"}

    assert defaults(C.max_norm) == {"max_value": 2, "axis": 0}
    assert defaults(C.min_max_norm) == {"min_value": 0.0, "max_value": 1.0, "rate": 1.0, "axis": 0}
    assert defaults(C.unit_norm) == {"axis": 0}
    assert defaults(C.non_neg) == {}
    assert set(C.CONSTRAINTS) == {"MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm"}


def test_norms_by_hand():
    close(C.norms(W, 0), [[2.25, 3.5, 1.125, 2.25, 0.0]])
    # rows: |(0.75, 1, -0.125, 1, 0)|^2 = 0.5625 + 1 + 0.015625 + 1 = 2.578125
    close(C.norms(W, 1)[:, 0], np.sqrt([2.578125, 2.25 + 2.25 + 0.25 + 1.0, 2.25 + 9.0 + 1.0 + 3.0625]))
    close(C.norms(W, [0, 1]), [[math.sqrt(2.25**2 + 3.5**2 + 1.125**2 + 2.25**2)]])
    assert C.norms(W, 0).shape == (1, 5) and C.norms(np.ones((2, 3, 4)), [0, 2]).shape == (1, 3, 1)


def test_max_norm_by_hand():
    # limit 2.25: the columns at the limit, below it and the zero column are unchanged; the
    # column of norm 3.5 is scaled by 2.25 / 3.5 = 9 / 14
    want = W.copy()
    want[:, 1] = [9 / 14, 27 / 28, 27 / 14]
    close(C.max_norm(W, max_value=2.25), want)
    # the default limit 2: norms 2.25 -> x 8/9, 3.5 -> x 4/7; 1.125 and 0 stay
    want = np.array([[2 / 3, 4 / 7, -0.125, 8 / 9, 0.0],
                     [4 / 3, 6 / 7, 0.5, -8 / 9, 0.0],
                     [4 / 3, 12 / 7, -1.0, 14 / 9, 0.0]])
    close(C.max_norm(W), want)
    close(C.max_norm(W, max_value=100), W)          # everything within the limit: unchanged exactly
    assert np.array_equal(C.max_norm(W, max_value=100), W)


def test_unit_norm_by_hand():
    want = np.array([[1 / 3, 2 / 7, -1 / 9, 4 / 9, 0.0],
                     [2 / 3, 3 / 7, 4 / 9, -4 / 9, 0.0],
                     [2 / 3, 6 / 7, -8 / 9, 7 / 9, 0.0]])
    close(C.unit_norm(W), want)
    close(C.unit_norm(np.array([[3.0, -4.0]]), axis=1), [[0.6, -0.8]])


def test_min_max_norm_by_hand():
    # [1.5, 2.25], rate 0.75: 2.25 inside (unchanged); 3.5 -> 0.75 * 2.25 + 0.25 * 3.5 = 2.5625,
    # factor 2.5625 / 3.5 = 41 / 56; 1.125 -> 0.75 * 1.5 + 0.25 * 1.125 = 1.40625, factor 1.25
    want = W.copy()
    want[:, 1] *= 41 / 56
    want[:, 2] = [-0.15625, 0.625, -1.25]
    close(C.min_max_norm(W, min_value=1.5, max_value=2.25, rate=0.75), want)
    close(C.min_max_norm(W, min_value=1.5, max_value=2.25, rate=0.0), W)   # rate 0: no rescaling
    # the defaults [0, 1], rate 1: every nonzero column to norm 1 (all norms are above 1)
    close(C.min_max_norm(W), C.unit_norm(W))
    # rate 0.5 on the column of norm 3.5 with the defaults: desired 0.5 * 1 + 0.5 * 3.5 = 2.25
    close(C.norms(C.min_max_norm(W, rate=0.5), 0)[0, 1], 2.25)


def test_non_neg_by_hand():
    want = np.array([[0.75, 1.0, 0.0, 1.0, 0.0],
                     [1.5, 1.5, 0.5, 0.0, 0.0],
                     [1.5, 3.0, 0.0, 1.75, 0.0]])
    assert np.array_equal(C.non_neg(W), want)
    close(C.non_neg(np.array([-1.0, 1.0])), [0.0, 1.0])      # the Constraint docstring's example
    out = C.non_neg(np.array([-np.inf, np.inf, -0.0, np.nan, -1e-300]))
    assert out[0] == 0 and out[1] == np.inf and out[2] == 0 and np.isnan(out[3]) and out[4] == 0


def test_relations_between_the_constraints():
    rng = np.random.default_rng(3)
    w = rng.normal(0.2, 0.8, (3, 3, 4, 6))
    axis = [0, 1, 2]
    # MinMaxNorm(0, m, rate=1) is MaxNorm(m); MinMaxNorm(1, 1, rate=1) is UnitNorm
    close(C.min_max_norm(w, 0.0, 2.5, 1.0, axis), C.max_norm(w, 2.5, axis))
    close(C.min_max_norm(w, 1.0, 1.0, 1.0, axis), C.unit_norm(w, axis))
    # projections: applying a second time changes nothing
    for f in (lambda v: C.max_norm(v, 2.5, axis), lambda v: C.unit_norm(v, axis),
              lambda v: C.min_max_norm(v, 1.5, 2.5, 1.0, axis), C.non_neg):
        close(f(f(w)), f(w))
    # the promised norms
    assert np.all(C.norms(C.max_norm(w, 2.5, axis), axis) <= 2.5 * (1 + 1e-15))
    close(C.norms(C.unit_norm(w, axis), axis), np.ones((1, 1, 1, 6)))
    n = C.norms(C.min_max_norm(w, 4.0, 4.5, 1.0, axis), axis)
    assert np.all((n >= 4.0 * (1 - 1e-15)) & (n <= 4.5 * (1 + 1e-15)))


def test_zero_slices_stay_zero():
    z = np.zeros((4, 3))
    for out in (C.unit_norm(z), C.max_norm(z), C.min_max_norm(z, 1.0, 2.0), C.non_neg(z)):
        assert np.array_equal(out, z)


def test_extreme_magnitudes_neither_overflow_nor_underflow():
    close(C.unit_norm(np.array([[3e200], [-4e200]])), [[0.6], [-0.8]])
    close(C.unit_norm(np.array([[3e-200], [-4e-200]])), [[0.6], [-0.8]])
    close(C.max_norm(np.array([[3e200], [4e200]]), max_value=10), [[6.0], [8.0]])
    # a tiny column within the limit is left exactly as it is: no epsilon
    tiny = np.array([[3e-8], [-4e-8]])
    assert np.array_equal(C.max_norm(tiny), tiny)
    close(C.unit_norm(tiny), [[0.6], [-0.8]])


def test_axis_forms():
    rng = np.random.default_rng(4)
    w = rng.normal(0.25, 1.0, (3, 3, 4, 5))
    close(C.unit_norm(w, [-4, -3, -2]), C.unit_norm(w, [0, 1, 2]))
    close(C.unit_norm(w, [2, 0, 1]), C.unit_norm(w, [0, 1, 2]))
    close(C.unit_norm(w, (0, 1, 2)), C.unit_norm(w, [0, 1, 2]))
    close(C.max_norm(w, 1.0, -1), C.max_norm(w, 1.0, 3))
    close(C.unit_norm(w, [0, 1, 2, 3]), w / np.sqrt(np.sum(w * w)))   # the whole tensor


@pytest.mark.parametrize("axis", [4, -5, [0, 4], [], [0, 0], [1, -3], 1.0, True, "0", None])
def test_bad_axis_is_rejected(axis):
    with pytest.raises(ValueError):
        C.unit_norm(np.ones((2, 3, 4, 5)), axis=axis)


@pytest.mark.parametrize("name, value", [("max_value", "2"), ("max_value", None), ("max_value", True)])
def test_bad_limit_is_rejected(name, value):
    with pytest.raises(ValueError):
        C.max_norm(np.ones((2, 3)), **{name: value})
    with pytest.raises(ValueError):
        C.min_max_norm(np.ones((2, 3)), **{name: value})


# --- an independent formulation: an explicit loop over the output units --------------------------

def _loop(w, axis, rule):
    """For every index of the axes NOT in `axis` (one output unit each), take the slice, its norm
    by math.hypot, and multiply it by rule(norm); written without reference_impl's helpers."""
    w = np.asarray(w, dtype=np.float64)
    axes = {a % w.ndim for a in (axis if isinstance(axis, list) else [axis])}
    kept = [d for d in range(w.ndim) if d not in axes]
    out = np.empty_like(w)
    for unit in itertools.product(*(range(w.shape[d]) for d in kept)):
        index = [slice(None)] * w.ndim
        for d, i in zip(kept, unit):
            index[d] = i
        piece = w[tuple(index)]
        norm = math.hypot(*piece.ravel().tolist())
        out[tuple(index)] = piece * rule(norm)
    return out


def _max_rule(m):
    return lambda n: 1.0 if n <= m else m / n


def _unit_rule(n):
    return 1.0 / n if n > 0 else 1.0


def _min_max_rule(lo, hi, rate):
    return lambda n: (rate * min(max(n, lo), hi) + (1 - rate) * n) / n if n > 0 else 1.0


@pytest.mark.parametrize("layout", sorted(C.KERNEL_AXES))
def test_every_kernel_layout_against_a_loop(layout):
    shapes = {
        "Dense": (6, 8), "recurrent": (5, 20), "Conv1D": (3, 4, 6), "Conv2D": (3, 3, 4, 6),
        "Conv3D": (2, 3, 3, 2, 5), "Conv1DTranspose": (3, 5, 4), "Conv2DTranspose": (3, 3, 6, 4),
        "Conv3DTranspose": (2, 2, 2, 5, 3), "DepthwiseConv1D": (5, 3, 2), "DepthwiseConv2D": (3, 3, 4, 2),
        "SeparableConv2D.pointwise": (1, 1, 8, 6),
    }
    axis = C.KERNEL_AXES[layout]
    rng = np.random.default_rng(len(layout))
    w = rng.normal(0.1, 0.6, shapes[layout])
    norms = C.norms(w, axis).ravel()
    limit = float(np.median(norms))                      # slices on both sides of it
    assert norms.min() < limit < norms.max()
    close(C.max_norm(w, limit, axis), _loop(w, axis, _max_rule(limit)), rtol=1e-13)
    close(C.unit_norm(w, axis), _loop(w, axis, _unit_rule), rtol=1e-13)
    lo, hi = float(np.quantile(norms, 0.25)), float(np.quantile(norms, 0.75))
    for rate in (1.0, 0.4, 0.0):
        close(C.min_max_norm(w, lo, hi, rate, axis), _loop(w, axis, _min_max_rule(lo, hi, rate)), rtol=1e-13)
    # one unit of the layout holds exactly the documented slice: the Conv2D filter f is
    # w[:, :, :, f], a transposed Conv2D's filter f is w[:, :, f, :], a depthwise unit (c, m) is w[:, :, c, m]
    if layout == "Conv2D":
        close(C.unit_norm(w, axis)[..., 2], w[..., 2] / np.linalg.norm(w[..., 2]))
    if layout == "Conv2DTranspose":
        close(C.unit_norm(w, axis)[:, :, 1, :], w[:, :, 1, :] / np.linalg.norm(w[:, :, 1, :]))
    if layout == "DepthwiseConv2D":
        close(C.unit_norm(w, axis)[:, :, 3, 1], w[:, :, 3, 1] / np.linalg.norm(w[:, :, 3, 1]))


def test_the_documented_examples_axis():
    """The docstrings' two examples: Dense (input_dim, output_dim) with axis=0 constrains each
    vector of length input_dim (a column); Conv2D (rows, cols, input_depth, output_depth) with
    axis=[0, 1, 2] each filter of size (rows, cols, input_depth)."""
    rng = np.random.default_rng(5)
    dense = rng.normal(0.3, 1.0, (7, 3))
    out = C.unit_norm(dense, 0)
    for j in range(3):
        close(out[:, j], dense[:, j] / np.linalg.norm(dense[:, j]))
    conv = rng.normal(0.3, 1.0, (3, 2, 4, 5))
    out = C.max_norm(conv, 2.0, [0, 1, 2])
    for f in range(5):
        n = np.linalg.norm(conv[..., f])
        close(out[..., f], conv[..., f] * min(1.0, 2.0 / n))


# --- the rounding error bound -------------------------------------------------------------------

U32, U16 = 2.0 ** -24, 2.0 ** -11
TINY32, TINY16 = 2.0 ** -126, 2.0 ** -14


def _in_format(name, w, params, dtype, order, fault=None):
    """The constraint evaluated in `dtype` over axis 0, in two orders: "divided", w * (D / N)
    with N = sqrt(S) and S summed pairwise (tf.keras's order, without its epsilon); "rsqrt",
    (w * rsqrt(S)) * D with S summed one term after another, D from its own sqrt(S) and rsqrt
    rounded once from the exact 1 / sqrt(S).
    Faults: "scale" (1e-3 too large), "float16 sum" (S summed in float16), "epsilon" (tf.keras's
    division by 1e-7 + N)."""
    w = w.astype(dtype)
    squares = w * w
    if fault == "float16 sum":
        s = np.cumsum(squares.astype(np.float16), axis=0, dtype=np.float16)[-1:].astype(dtype)
    elif order == "divided":
        s = np.sum(squares, axis=0, keepdims=True, dtype=dtype)
    else:
        s = np.cumsum(squares[::-1], axis=0, dtype=dtype)[-1:]
    norm = np.sqrt(s)
    if name == "UnitNorm":
        desired = np.ones_like(norm)
    elif name == "MaxNorm":
        desired = np.minimum(norm, dtype(params["max_value"]))
    else:
        rate = dtype(params["rate"])
        desired = rate * np.clip(norm, dtype(params["min_value"]), dtype(params["max_value"])) + (dtype(1) - rate) * norm
    if order == "divided":
        y = w * (desired / (norm + dtype(1e-7) if fault == "epsilon" else norm))
    else:
        # a correctly rounded reciprocal square root of the same S, rounded apart from D's sqrt
        y = (w * (1.0 / np.sqrt(s.astype(np.float64))).astype(dtype)) * desired
    y = y.astype(np.float64)
    return y * (1 + 1e-3) if fault == "scale" else y


CASES = [("UnitNorm", {}), ("MaxNorm", {"max_value": 1.5}), ("MinMaxNorm", {"min_value": 0.8, "max_value": 1.6, "rate": 1.0}),
         ("MinMaxNorm", {"min_value": 0.8, "max_value": 1.6, "rate": 0.3})]


def _columns(rng, dtype, n=12, columns=400):
    # columns of norm from about 0.3 to 5: each side of the limits above
    w = rng.standard_normal((n, columns)) * rng.uniform(0.1, 1.5, size=(1, columns))
    return w.astype(dtype).astype(np.float64)


@pytest.mark.parametrize("name, params", CASES)
@pytest.mark.parametrize("dtype, u, tiny", [(np.float32, U32, TINY32), (np.float16, U16, TINY16)])
def test_bound_holds_for_evaluations_in_two_orders_and_catches_faults(name, params, dtype, u, tiny):
    rng = np.random.default_rng(3)
    w = _columns(rng, dtype)
    exact = C.CONSTRAINTS[name](w, **params)
    bound = C.error_bound(name, w, u, tiny, **params)
    for order in ("divided", "rsqrt"):
        error = np.abs(_in_format(name, w, params, dtype, order) - exact)
        assert np.all(error <= bound), order
        assert np.max(error / bound) > 0.05, order  # not vacuous
    if dtype == np.float32:
        for fault in ("scale", "float16 sum"):
            assert np.mean(np.abs(_in_format(name, w, params, dtype, "divided", fault) - exact) > bound) > 0.3, fault


@pytest.mark.parametrize("name, params", CASES)
def test_bound_catches_the_epsilon_on_small_norms(name, params):
    # tf.keras's 1e-7 + N: 1e-4 relative on columns of norm 1e-3, far beyond float32's bound
    rng = np.random.default_rng(4)
    w = (rng.standard_normal((6, 50)) * 4e-4).astype(np.float32).astype(np.float64)
    exact = C.CONSTRAINTS[name](w, **params)
    bound = C.error_bound(name, w, U32, TINY32, **params)
    assert np.all(np.abs(_in_format(name, w, params, np.float32, "divided") - exact) <= bound)
    with_epsilon = np.abs(_in_format(name, w, params, np.float32, "divided", "epsilon") - exact)
    assert np.mean(with_epsilon > bound) > 0.9


def test_bound_hand_value_and_zero_column():
    # UnitNorm of the column (3, 4): S = 25 within theta = gamma_2, rho = (1 - theta)**-0.5
    # (1 + gamma_3) - 1, N in [5 (1 - rho), 5 / (1 - rho)]; D = 1 moves nothing, so
    # r = 1 / N_lo - 1 / 5, and |dy| = |w| (r + (1 / 5 + r) gamma_2); the zero column: 0
    def gamma(k):
        return k * U32 / (1 - k * U32)

    rho = (1 - gamma(2)) ** -0.5 * (1 + gamma(3)) - 1
    r = 1 / (5 * (1 - rho)) - 1 / 5
    per_unit = r + (0.2 + r) * gamma(2)
    close(C.error_bound("UnitNorm", np.array([[3.0, 0.0], [4.0, 0.0]]), U32), [[3 * per_unit, 0.0], [4 * per_unit, 0.0]])
    # MaxNorm leaves a column within its limit as it is: the bound still holds the roots'
    # rounding, as an evaluation may take D = sqrt(S) and 1 / N = rsqrt(S) apart
    bound = C.error_bound("MaxNorm", np.array([[3.0], [4.0]]), U32, max_value=10.0)
    assert 2 * rho * 4 < bound[1, 0] < 3 * rho * 4


def test_non_neg_bound_is_exact_but_for_subnormals():
    w = np.array([1.5, -2.0, 0.0, 1e-45, -1e-45, 1e-30, np.inf, np.nan])
    close(C.error_bound("NonNeg", w, U32, TINY32), [0.0, 0.0, 0.0, TINY32, TINY32, 0.0, 0.0, 0.0])
    assert np.all(C.error_bound("NonNeg", w, U32) == 0)


def test_bound_gives_up_where_gamma_or_the_flush_bounds_nothing():
    # gamma_n needs n u < 1: 256 squares in bfloat16
    assert C.error_bound("UnitNorm", np.ones((256, 2)), 2.0 ** -8) is None
    assert C.error_bound("UnitNorm", np.ones((100, 2)), 2.0 ** -8) is not None
    # a float16 column of 3e-3's: every square below float16's normal range, flushed away
    assert C.error_bound("UnitNorm", np.full((4, 2), 3e-3), U16, TINY16) is None
    # an all-zero column is no obstacle: it stays zero, its bound is the floor
    with_zero = C.error_bound("MinMaxNorm", np.array([[0.0, 1.0], [0.0, 2.0]]), U16, TINY16, min_value=1.5, max_value=2.25)
    assert with_zero[0, 0] == TINY16 and np.all(np.isfinite(with_zero))
