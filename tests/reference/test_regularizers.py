"""reference_impl.regularizers: hand-computed penalties, documented defaults and examples, errors."""
import inspect
import math

import numpy as np
import pytest

from reference_impl import regularizers as R

# A small non-integer, asymmetric matrix:
#   sum |W|  = 0.5 + 1.25 + 2.0 + 0.75 + 0.3 + 1.1             = 5.9
#   sum W**2 = 0.25 + 1.5625 + 4.0 + 0.5625 + 0.09 + 1.21      = 7.675
W = np.array([[0.5, -1.25], [2.0, 0.75], [-0.3, 1.1]])


def close(got, want, rtol=1e-14, atol=0.0):
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


def test_documented_defaults():
    def defaults(f):
        return {k: p.default for k, p in inspect.signature(f).parameters.items() if k != "x"}

    assert defaults(R.l1) == {"l1": 0.01}
    assert defaults(R.l2) == {"l2": 0.01}
    assert defaults(R.l1_l2) == {"l1": 0.0, "l2": 0.0}
    assert defaults(R.orthogonal_regularizer) == {"factor": 0.01, "mode": "rows"}


def test_l1_l2_hand_values():
    close(R.l1(W), 0.059)
    close(R.l2(W), 0.07675)
    close(R.l1(W, l1=0.3), 1.77)
    close(R.l2(W, l2=0.2), 1.535)
    assert R.l1_l2(W) == 0.0
    close(R.l1_l2(W, l1=0.3, l2=0.2), 3.305)
    close(R.get("l1_l2")(W), 0.059 + 0.07675)  # the string "l1_l2": l1 = l2 = 0.01 (L1L2 docstring)
    close(R.get("l1")(W), 0.059)
    close(R.get("l2")(W), 0.07675)
    # a class name means the class with its defaults: L1L2() penalises nothing, unlike "l1_l2"
    close(R.get("L1")(W), 0.059)
    close(R.get("L2")(W), 0.07675)
    assert R.get("L1L2")(W) == 0.0
    for value in (R.l1(W), R.l2(W), R.l1_l2(W, 0.1, 0.1), R.orthogonal_regularizer(W)):
        assert isinstance(value, np.float64) and np.ndim(value) == 0


def test_regularizer_docstring_examples():
    ones = np.ones((5, 5))
    close(R.l2(ones, l2=2.0), 50.0)          # "regularizer = L2(2.) ... regularizer(tensor) -> 50.0"
    close(R.l1(ones, l1=0.01), 0.25)         # the Dense kernel example: L1(0.01) on a 5x5 kernel of ones
    close(R.l2(np.full((5, 5), 10.0), l2=0.01) / 5, 5.0)  # its activity term, divided by the batch size 5


def test_non_finite_values():
    x = np.array([1.0, -np.inf])
    assert R.l1(x) == np.inf and R.l2(x) == np.inf
    assert R.l1_l2(x, l1=0.0, l2=0.5) == np.inf  # a switched-off term adds 0, not 0 * inf
    assert np.isnan(R.l1(np.array([1.0, np.nan])))
    assert R.l2(np.array([1e200])) == np.inf  # overflow to the right limit, without a warning


# --- orthogonal regularizer -------------------------------------------------------------------------


def test_orthogonal_matrices_give_zero():
    c, s = math.cos(0.3), math.sin(0.3)
    rotation = np.array([[c, -s], [s, c]])
    close(R.orthogonal_regularizer(rotation, factor=1.0), 0.0, atol=1e-16)
    close(R.orthogonal_regularizer(rotation * [[3.0], [-0.2]], factor=1.0), 0.0, atol=1e-16)  # row scales do not count
    close(R.orthogonal_regularizer(np.eye(3)[:, :2], factor=1.0, mode="columns"), 0.0)
    close(R.orthogonal_regularizer(np.diag([1e200, 1e-200, 2.0]), factor=1.0), 0.0)  # no overflow / underflow


def test_orthogonal_2x2_hand():
    # rows u1 = (1, 0), u2 = (1, 1) / sqrt 2: |<u1, u2>| = 1 / sqrt 2; the mean over the ordered pairs (1,2), (2,1)
    # is 1 / sqrt 2 -> 0.01 / sqrt 2 = 0.0070710678118654752
    x = np.array([[1.0, 0.0], [1.0, 1.0]])
    close(R.orthogonal_regularizer(x), 0.0070710678118654752)
    # columns (1, 1) / sqrt 2 and (0, 1): the same |dot| = 1 / sqrt 2
    close(R.orthogonal_regularizer(x, factor=1.0, mode="columns"), 1 / math.sqrt(2))
    # anti-parallel rows are as far from orthogonal as parallel ones: |<u1, u2>| = 1
    close(R.orthogonal_regularizer(np.array([[2.0, 0.0], [-0.5, 0.0]]), factor=0.5), 0.5)


def test_orthogonal_3x2_hand():
    # rows u1 = (1, 2)/sqrt 5, u2 = (3, -4)/5, u3 = (1, 0):
    #   <u1,u2> = (3 - 8) / (5 sqrt 5) = -1/sqrt 5, <u1,u3> = 1/sqrt 5, <u2,u3> = 3/5
    #   mean |.| over the 3 pairs = (2/sqrt 5 + 0.6) / 3 = 0.49814239699997197
    x = np.array([[1.0, 2.0], [3.0, -4.0], [0.5, 0.0]])
    close(R.orthogonal_regularizer(x, factor=1.0), (2 / math.sqrt(5) + 0.6) / 3)
    close(R.orthogonal_regularizer(x, factor=0.2), 0.2 * (2 / math.sqrt(5) + 0.6) / 3)
    # columns c1 = (1, 3, 0.5)/sqrt 10.25, c2 = (2, -4, 0)/sqrt 20: <c1,c2> = (2 - 12) / sqrt(205)
    close(R.orthogonal_regularizer(x, factor=1.0, mode="columns"), 10 / math.sqrt(205))
    close(R.orthogonal_regularizer(x.T, factor=1.0, mode="columns"), R.orthogonal_regularizer(x, factor=1.0))


def test_orthogonal_against_gram_matrix_formula():
    # factor * 0.5 * sum |off-diagonal of the Gram matrix of the normalized rows| / (n (n - 1) / 2)
    x = np.random.default_rng(6).normal(size=(5, 3))
    u = x / np.linalg.norm(x, axis=1, keepdims=True)
    gram = u @ u.T
    n = 5
    want = 0.03 * 0.5 * (np.abs(gram).sum() - np.trace(np.abs(gram))) / (n * (n - 1) / 2)
    close(R.orthogonal_regularizer(x, factor=0.03), want, rtol=1e-13)


def test_orthogonal_edge_cases():
    close(R.orthogonal_regularizer(np.array([[0.0, 0.0], [1.0, 2.0]]), factor=1.0), 0.0)  # a zero row: no direction
    assert np.isnan(R.orthogonal_regularizer(np.array([[1.0, 2.0]])))  # one row: no pair to average over
    assert np.isnan(R.orthogonal_regularizer(np.array([[1.0, np.nan], [1.0, 2.0]])))


def test_errors():
    with pytest.raises(ValueError, match=r"x.shape=\(2, 2, 2\)"):
        R.orthogonal_regularizer(np.ones((2, 2, 2)))
    with pytest.raises(ValueError, match=r"x.shape=\(4,\)"):
        R.orthogonal_regularizer(np.ones(4))
    with pytest.raises(ValueError, match=r"mode='cols'"):
        R.orthogonal_regularizer(W, mode="cols")
    with pytest.raises(ValueError, match=r"name='l3'"):
        R.get("l3")
    with pytest.raises(ValueError, match=r"l1='0.1'"):
        R.l1(W, l1="0.1")
    assert R.get(None) is None
    assert R.get("orthogonal_regularizer") is R.orthogonal_regularizer


# --- the rounding error bound -------------------------------------------------------------------

U32, U16 = 2.0 ** -24, 2.0 ** -11
TINY32, TINY16 = 2.0 ** -126, 2.0 ** -14


def _penalty(x, l1, l2, dtype, order, fault=None):
    """l1 * sum|x| + l2 * sum x^2 in `dtype`: "pairwise" (NumPy's sum), or "sequential" (one
    partial sum after another, from the last element, the factor applied to each term first).
    Faults: "scale" (1e-3 too large), "float16 sum" (the sums accumulated in float16)."""
    x = x.astype(dtype).ravel()
    terms = {"l1": np.abs(x), "l2": x * x}
    total = dtype(0)
    for key, factor in (("l1", l1), ("l2", l2)):
        if factor == 0:
            continue
        t = terms[key]
        if fault == "float16 sum":
            s = np.cumsum(t.astype(np.float16), dtype=np.float16)[-1].astype(dtype) * dtype(factor)
        elif order == "pairwise":
            s = dtype(factor) * np.sum(t, dtype=dtype)
        else:
            s = np.cumsum((dtype(factor) * t)[::-1], dtype=dtype)[-1]
        total = dtype(total + s)
    return float(total) * (1 + 1e-3 if fault == "scale" else 1)


FACTORS = [(R.l1, {"l1": 0.01}, 0.01, 0.0), (R.l2, {"l2": 0.3}, 0.0, 0.3), (R.l1_l2, {"l1": 0.02, "l2": 0.3}, 0.02, 0.3),
           (R.get("l1_l2"), {}, 0.01, 0.01)]


@pytest.mark.parametrize("function, params, l1, l2", FACTORS)
@pytest.mark.parametrize("dtype, u, tiny", [(np.float32, U32, TINY32), (np.float16, U16, TINY16)])
def test_bound_holds_for_evaluations_in_two_orders_and_catches_faults(function, params, l1, l2, dtype, u, tiny):
    rng = np.random.default_rng(9)
    worst = 0.0
    for trial in range(40):
        x = (rng.standard_normal((6, 8)) * rng.choice([0.1, 1.0, 3.0])).astype(dtype).astype(np.float64)
        exact = function(x, **params)
        bound = R.error_bound(function, x, u, tiny, **params)
        for order in ("pairwise", "sequential"):
            error = abs(_penalty(x, l1, l2, dtype, order) - exact)
            assert error <= bound, (trial, order)
            worst = max(worst, error / bound)
        if dtype == np.float32:
            for fault in ("scale", "float16 sum"):
                assert abs(_penalty(x, l1, l2, dtype, "pairwise", fault) - exact) > bound, (trial, fault)
    assert worst > 0.01  # gamma_{n+3} is a worst case; random roundings come within 100x of it


def test_bound_hand_value():
    # L1L2(l1=0.5, l2=0.25) of 4 weights: gamma_7 (0.5 sum|x| + 0.25 sum x^2) + tiny (2 * 4 * 0.75 + 3)
    x = np.array([1.0, -2.0, 0.5, 3.0])
    want = 7 * U32 / (1 - 7 * U32) * (0.5 * 6.5 + 0.25 * 14.25) + TINY32 * 9.0
    close(R.error_bound(R.l1_l2, x, U32, TINY32, l1=0.5, l2=0.25), want)
    # a zero factor is exactly 0: L1L2's defaults leave the floor alone
    close(R.error_bound(R.l1_l2, x, U32, TINY32), 3 * TINY32)
    # gamma_{n+3} bounds nothing for 254 weights in bfloat16
    assert R.error_bound(R.l2, np.ones(253), 2.0 ** -8) is None
    assert R.error_bound(R.l2, np.ones(252), 2.0 ** -8) is not None


def _orthogonal_in(x, factor, mode, dtype, order, fault=None):
    """OrthogonalRegularizer in `dtype`: "divided" normalizes by sqrt of a pairwise sum, takes the
    Gram matrix by matmul and masks its diagonal, factor * 0.5 * sum / pairs; "rsqrt" multiplies
    by 1 / sqrt of a sequential sum, sums the dot products |<u_i, u_j>| for i != j one after
    another and divides by n (n - 1). Faults: "scale" (1e-3), "signed" (no magnitude)."""
    v = (x if mode == "rows" else x.T).astype(dtype)
    n = v.shape[0]
    if order == "divided":
        units = v / np.sqrt(np.sum(v * v, axis=1, keepdims=True, dtype=dtype))
        gram = np.abs(units @ units.T) * (dtype(1) - np.eye(n, dtype=dtype))
        y = dtype(factor) * dtype(0.5) * np.sum(gram, dtype=dtype) / dtype(n * (n - 1) / 2)
    else:
        units = v * (dtype(1) / np.sqrt(np.cumsum(v * v, axis=1, dtype=dtype)[:, -1:]))
        dots = [np.cumsum(units[i] * units[j], dtype=dtype)[-1] for i in range(n) for j in range(n) if i != j]
        if fault != "signed":
            dots = np.abs(dots)
        y = dtype(factor) * (np.cumsum(np.asarray(dots, dtype=dtype), dtype=dtype)[-1] / dtype(n * (n - 1)))
    return float(y) * (1 + 1e-3 if fault == "scale" else 1)


@pytest.mark.parametrize("mode", ["rows", "columns"])
@pytest.mark.parametrize("dtype, u, tiny", [(np.float32, U32, TINY32), (np.float16, U16, TINY16)])
def test_orthogonal_bound_holds_in_two_orders_and_catches_faults(mode, dtype, u, tiny):
    rng = np.random.default_rng(12)
    worst, signed_caught = 0.0, 0
    for trial in range(30):
        x = (rng.standard_normal((5, 7)) * rng.choice([0.2, 1.0, 4.0])).astype(dtype).astype(np.float64)
        exact = R.orthogonal_regularizer(x, factor=1.5, mode=mode)
        bound = R.error_bound(R.orthogonal_regularizer, x, u, tiny, factor=1.5, mode=mode)
        for order in ("divided", "rsqrt"):
            error = abs(_orthogonal_in(x, 1.5, mode, dtype, order) - exact)
            assert error <= bound, (trial, order)
            worst = max(worst, error / bound)
        # signed dot products: caught unless nearly all of them happen to be positive
        signed_caught += abs(_orthogonal_in(x, 1.5, mode, dtype, "rsqrt", "signed") - exact) > bound
        if dtype == np.float32:
            assert abs(_orthogonal_in(x, 1.5, mode, dtype, "divided", "scale") - exact) > bound
    assert worst > 0.005
    assert signed_caught >= 27
    # one row has no pair: no bound, as no mean
    assert R.error_bound(R.orthogonal_regularizer, np.ones((1, 3)), U32) is None
