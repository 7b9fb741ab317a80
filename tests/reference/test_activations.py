"""reference_impl.activations: hand values from the documented formulas, stability, names."""
import math
import warnings

import numpy as np
import pytest

from reference_impl import activations as A

RTOL = 1e-14
ALPHA = 1.6732632423543772848170429916717
SCALE = 1.0507009873554804934193349852946


def close(got, want, rtol=RTOL, atol=0.0):
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


def test_relu_docstring_examples():
    x = [-10, -5, 0.0, 5, 10]
    close(A.relu(x), [0, 0, 0, 5, 10])
    close(A.relu(x, negative_slope=0.5), [-5, -2.5, 0, 5, 10])
    close(A.relu(x, max_value=5.0), [0, 0, 0, 5, 5])
    close(A.relu(x, threshold=5.0), [0, 0, 0, 0, 10])  # docstring prints [-0., -0., 0., 0., 10.]
    # Not a docstring example (the docstring varies one argument at a time); it follows from the rule:
    # slope 0.5 below threshold 5: 0.5 * (x - 5) = [-7.5, -5, -2.5, 0]; 10 is kept, then clipped to 5
    close(A.relu(x, negative_slope=0.5, max_value=5.0, threshold=5.0), [-7.5, -5, -2.5, 0, 5])


def test_selu_and_elu_hand_values():
    close(A.selu(-1.0), SCALE * ALPHA * (math.exp(-1.0) - 1.0))
    close(A.selu(2.0), 2.0 * SCALE)
    close(A.selu(0.0), 0.0)
    close(A.elu(-1.0), math.exp(-1.0) - 1.0)
    close(A.elu(-2.0, alpha=0.5), 0.5 * (math.exp(-2.0) - 1.0))
    close(A.elu(3.0), 3.0)


def test_piecewise_hand_values():
    close(A.relu6([-1.0, 3.0, 7.5]), [0, 3, 6])
    close(A.leaky_relu([-2.0, 0.0, 1.5]), [-0.4, 0, 1.5])  # slope 0.2: -2 * 0.2 = -0.4
    # relu6(x + 3) / 6: [-4 -> 0, -3 -> 0, 0 -> 0.5, 1.5 -> 0.75, 3 -> 1, 5 -> 1]
    close(A.hard_sigmoid([-4.0, -3.0, 0.0, 1.5, 3.0, 5.0]), [0, 0, 0.5, 0.75, 1, 1])
    # x * (x + 3) / 6 in [-3, 3]: 1 -> 4/6; -1 -> -2/6; 0 below -3; x above 3
    close(A.hard_silu([-4.0, -1.0, 1.0, 4.0]), [0, -2 / 6, 4 / 6, 4])
    close(A.hard_tanh([-2.0, -0.5, 0.25, 3.0]), [-1, -0.5, 0.25, 1])


def test_smooth_hand_values():
    e = math.e
    close(A.sigmoid([0.0, 1.0, -1.0]), [0.5, 1 / (1 + 1 / e), 1 / (1 + e)])
    close(A.log_sigmoid(1.0), math.log(1 / (1 + 1 / e)))
    close(A.tanh(0.5), (math.exp(0.5) - math.exp(-0.5)) / (math.exp(0.5) + math.exp(-0.5)))
    close(A.softplus([0.0, 1.0]), [math.log(2.0), math.log(1 + e)])
    close(A.softsign([3.0, -1.0]), [0.75, -0.5])
    close(A.silu(1.0), 1 / (1 + 1 / e))
    close(A.get("swish")(2.0), 2 / (1 + math.exp(-2.0)))
    close(A.mish(1.0), math.tanh(math.log(1 + e)))
    close(A.exponential(1.0), e)
    close(A.linear([1.5, -2.0]), [1.5, -2.0])


def test_gelu_exact_against_math_erf():
    x = np.linspace(-12.0, 12.0, 2401)
    want = np.array([0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in x])
    # For x < 0, 1 + erf(x / sqrt 2) cancels; there compare with the same value as 0.5 x erfc(-x / sqrt 2).
    # math.erfc(-x / sqrt 2) itself carries the rounding of x / sqrt 2, amplified by exp(-x**2 / 2) to
    # about x**2 * 1.1e-16 relative (the reference forms exp(-x**2 / 2) from x; see the mpmath test).
    tail = np.array([0.5 * v * math.erfc(-v / math.sqrt(2)) for v in x])
    close(A.gelu(x[x >= 0]), want[x >= 0], rtol=5e-15)
    close(A.gelu(x[x < 0]), tail[x < 0], rtol=4e-14)  # 12**2 * 2.2e-16 = 3.2e-14
    close(A.get("gelu")(1.0), 0.5 * (1 + math.erf(1 / math.sqrt(2))))


def test_gelu_tanh_form_hand_value():
    # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) at x = 1
    want = 0.5 * (1 + math.tanh(math.sqrt(2 / math.pi) * (1 + 0.044715)))
    close(A.gelu(1.0, approximate=True), want)


def test_erf_helpers_against_math():
    z = np.linspace(-7.0, 7.0, 1401)
    close(A._erf(z), [math.erf(v) for v in z], rtol=2e-15, atol=1e-300)
    close(A._erfc(z), [math.erfc(v) for v in z], rtol=5e-15)


def test_softmax_rows_sum_to_one_and_are_stable():
    rng = np.random.default_rng(0)
    x = rng.normal(0.5, 3.0, size=(4, 7))
    p = A.softmax(x)
    close(p.sum(axis=-1), np.ones(4))
    e = np.exp(x[0])
    close(p[0], e / e.sum())
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        close(A.softmax([1000.0, 0.0, -1000.0]), [1.0, math.exp(-1000.0), 0.0], atol=1e-300)
        close(A.softmax([1000.0, 1000.0]), [0.5, 0.5])
        close(A.softmax([-1000.0, -1000.0, -1000.0]), [1 / 3] * 3)
        close(A.log_softmax([1000.0, 1000.0]), [-math.log(2.0)] * 2)
        close(A.log_softmax([0.0, -1000.0]), [0.0, -1000.0])
        close(A.sigmoid([-800.0, 800.0]), [0.0, 1.0], atol=1e-300)


def test_softmax_axis():
    x = np.array([[1.0, 2.0], [3.0, 5.0]])
    close(A.softmax(x, axis=0)[:, 0], [1 / (1 + math.exp(2)), 1 / (1 + math.exp(-2))])


def test_get_and_float64():
    assert A.get(None) is A.linear
    assert A.get("silu") is A.get("swish")
    for name in ["linear", "relu", "sigmoid", "tanh", "softmax", "elu", "selu", "softplus", "softsign", "swish",
                 "silu", "gelu", "exponential", "relu6", "hard_sigmoid", "leaky_relu", "mish", "log_softmax"]:
        assert A.get(name)(np.array([[1, -2, 3]], dtype=np.int32)).dtype == np.float64, name
    with pytest.raises(ValueError, match=r"activation='nope'.*relu"):
        A.get("nope")


# --- every keras.activations name -------------------------------------------------------------

# dir(keras.activations) in Keras 3.15, minus get / serialize / deserialize.
KERAS_ACTIVATIONS = [
    "celu", "elu", "exponential", "gelu", "glu", "hard_shrink", "hard_sigmoid", "hard_silu", "hard_swish",
    "hard_tanh", "leaky_relu", "linear", "log_sigmoid", "log_softmax", "mish", "relu", "relu6", "selu",
    "sigmoid", "silu", "soft_shrink", "softmax", "softplus", "softsign", "sparse_plus", "sparse_sigmoid",
    "sparsemax", "squareplus", "swish", "tanh", "tanh_shrink", "threshold",
]


def test_every_keras_name_is_known():
    assert sorted(A.ACTIVATIONS) == sorted(KERAS_ACTIVATIONS)
    assert A.get("hard_swish") is A.hard_silu
    for name in KERAS_ACTIVATIONS:
        assert A.get(name) is A.ACTIVATIONS[name]
    assert A.get(A.relu) is A.relu  # callables pass through


def test_signature_defaults():
    import inspect

    def defaults(f):
        return {k: p.default for k, p in inspect.signature(f).parameters.items() if k != "x"}

    assert defaults(A.relu) == {"negative_slope": 0.0, "max_value": None, "threshold": 0.0}
    assert defaults(A.leaky_relu) == {"negative_slope": 0.2}
    assert defaults(A.elu) == {"alpha": 1.0}
    assert defaults(A.celu) == {"alpha": 1.0}
    assert defaults(A.gelu) == {"approximate": False}
    assert defaults(A.softmax) == {"axis": -1}
    assert defaults(A.log_softmax) == {"axis": -1}
    assert defaults(A.sparsemax) == {"axis": -1}
    assert defaults(A.glu) == {"axis": -1}
    assert defaults(A.hard_shrink) == {"threshold": 0.5}
    assert defaults(A.soft_shrink) == {"threshold": 0.5}
    assert defaults(A.squareplus) == {"b": 4}
    p = inspect.signature(A.threshold).parameters
    assert p["threshold"].default is inspect.Parameter.empty and p["default_value"].default is inspect.Parameter.empty
    assert defaults(A.leaky_relu_layer) == {"negative_slope": 0.3}
    assert defaults(A.relu_layer) == {"max_value": None, "negative_slope": 0.0, "threshold": 0.0}


# --- edge values: +-0, subnormals, +-88, +-89, +-1e4, +-inf, nan --------------------------------

INF, NAN = math.inf, math.nan
EDGE = [-INF, -1e4, -89.0, -88.0, -0.0, 0.0, 5e-324, 1e-310, 88.0, 89.0, 1e4, INF, NAN]
E88, E89 = math.exp(-88.0), math.exp(-89.0)  # 6.05e-39, 2.23e-39: 1 + e**-88 == 1 in float64
LOG2 = math.log(2.0)

# name -> values at EDGE, written from each docstring formula (limits at +-inf; nan stays nan).
# At 5e-324, products such as 0.5 * 5e-324 round to 0 or 5e-324: the comparison has atol 1e-323.
EDGE_VALUES = {
    "linear": EDGE,
    "relu": [0, 0, 0, 0, 0, 0, 5e-324, 1e-310, 88, 89, 1e4, INF, NAN],
    "relu6": [0, 0, 0, 0, 0, 0, 5e-324, 1e-310, 6, 6, 6, 6, NAN],
    "leaky_relu": [-INF, -2000, -17.8, -17.6, 0, 0, 5e-324, 1e-310, 88, 89, 1e4, INF, NAN],
    "elu": [-1, -1, -1 + E89, -1 + E88, 0, 0, 5e-324, 1e-310, 88, 89, 1e4, INF, NAN],
    "celu": [-1, -1, -1 + E89, -1 + E88, 0, 0, 5e-324, 1e-310, 88, 89, 1e4, INF, NAN],
    "selu": [-SCALE * ALPHA] * 4 + [0, 0, SCALE * 5e-324, SCALE * 1e-310, SCALE * 88, SCALE * 89, SCALE * 1e4,
                                    INF, NAN],
    "sigmoid": [0, 0, E89, E88, 0.5, 0.5, 0.5, 0.5, 1, 1, 1, 1, NAN],
    "log_sigmoid": [-INF, -1e4, -89, -88, -LOG2, -LOG2, -LOG2, -LOG2, -E88, -E89, 0, 0, NAN],
    "softplus": [0, 0, E89, E88, LOG2, LOG2, LOG2, LOG2, 88, 89, 1e4, INF, NAN],
    "softsign": [-1, -1e4 / 10001, -89 / 90, -88 / 89, 0, 0, 5e-324, 1e-310, 88 / 89, 89 / 90, 1e4 / 10001, 1, NAN],
    "tanh": [-1, -1, -1, -1, 0, 0, 5e-324, 1e-310, 1, 1, 1, 1, NAN],
    "tanh_shrink": [-INF, -9999, -88, -87, 0, 0, 0, 0, 87, 88, 9999, INF, NAN],  # x**3 / 3 underflows
    "exponential": [0, 0, E89, E88, 1, 1, 1, 1, 1 / E88, 1 / E89, INF, INF, NAN],
    # x * Phi(x): Phi(-88) ~ e**-3872 underflows
    "gelu": [0, 0, 0, 0, 0, 0, 2.5e-324, 5e-311, 88, 89, 1e4, INF, NAN],
    "silu": [0, 0, -89 * E89, -88 * E88, 0, 0, 2.5e-324, 5e-311, 88, 89, 1e4, INF, NAN],
    "swish": [0, 0, -89 * E89, -88 * E88, 0, 0, 2.5e-324, 5e-311, 88, 89, 1e4, INF, NAN],
    "mish": [0, 0, -89 * E89, -88 * E88, 0, 0, 0, math.tanh(LOG2) * 1e-310, 88, 89, 1e4, INF, NAN],
    "hard_sigmoid": [0, 0, 0, 0, 0.5, 0.5, 0.5, 0.5, 1, 1, 1, 1, NAN],
    "hard_silu": [0, 0, 0, 0, 0, 0, 2.5e-324, 5e-311, 88, 89, 1e4, INF, NAN],
    "hard_swish": [0, 0, 0, 0, 0, 0, 2.5e-324, 5e-311, 88, 89, 1e4, INF, NAN],
    "hard_tanh": [-1, -1, -1, -1, 0, 0, 5e-324, 1e-310, 1, 1, 1, 1, NAN],
    # NaN falls in the documented "0 otherwise": no comparison holds for it
    "hard_shrink": [-INF, -1e4, -89, -88, 0, 0, 0, 0, 88, 89, 1e4, INF, 0],
    "soft_shrink": [-INF, -9999.5, -88.5, -87.5, 0, 0, 0, 0, 87.5, 88.5, 9999.5, INF, 0],
    # (x + sqrt(x**2 + 4)) / 2 = 2 / (sqrt(x**2 + 4) - x) for x < 0
    "squareplus": [0, 2 / (math.sqrt(1e8 + 4) + 1e4), 2 / (math.sqrt(7925) + 89), 2 / (math.sqrt(7748) + 88),
                   1, 1, 1, 1, (88 + math.sqrt(7748)) / 2, (89 + math.sqrt(7925)) / 2, (1e4 + math.sqrt(1e8 + 4)) / 2,
                   INF, NAN],
    "sparse_plus": [0, 0, 0, 0, 0.25, 0.25, 0.25, 0.25, 88, 89, 1e4, INF, NAN],
    "sparse_sigmoid": [0, 0, 0, 0, 0.5, 0.5, 0.5, 0.5, 1, 1, 1, 1, NAN],
}


@pytest.mark.parametrize("name", sorted(EDGE_VALUES))
def test_edge_values(name):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning at any edge
        got = A.get(name)(np.array(EDGE))
    np.testing.assert_allclose(got, EDGE_VALUES[name], rtol=1e-13, atol=1e-323, err_msg=name)
    assert got.dtype == np.float64


def test_edge_values_with_arguments():
    x = np.array(EDGE)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        close(A.gelu(x, approximate=True), EDGE_VALUES["gelu"], rtol=1e-13, atol=1e-323)
        close(A.threshold(x, 1.0, -7.0), [-7.0] * 8 + [88, 89, 1e4, INF, -7.0])  # NaN: "default_value otherwise"
        close(A.relu(x, negative_slope=0.5, threshold=1.0), [-INF, -5000.5, -45, -44.5, -0.5, -0.5, -0.5, -0.5,
                                                           88, 89, 1e4, INF, NAN])
        close(A.relu(x, max_value=6.0), EDGE_VALUES["relu6"], atol=1e-323)
        close(A.leaky_relu(x, negative_slope=0.0), EDGE_VALUES["relu"], atol=1e-323)  # 0 * -inf -> 0 (limit)
        close(A.celu(x, alpha=2.0)[:4], [-2, -2, 2 * math.expm1(-44.5), 2 * math.expm1(-44.0)])
        close(A.squareplus(x, b=0.0), EDGE_VALUES["relu"], atol=1e-323)  # b = 0: (x + |x|) / 2


def test_vector_functions_at_edges():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for f in (A.softmax, A.sparsemax):
            close(f([INF, 0.0, 1.0]), [1, 0, 0])           # a single +inf takes everything (the limit)
            close(f([-INF, 0.0, 1e4]), [0, 0, 1])
            assert np.isnan(f([INF, INF, 0.0])).all()     # several +inf: no limit
            assert np.isnan(f([-INF, -INF])).all()        # 0 / 0
            assert np.isnan(f([NAN, 0.0, 1.0])).all()
            close(f([1e308, 1e308, -1e308]), [0.5, 0.5, 0])  # no overflow in x - max
            close(f([5e-324, 0.0]), [0.5, 0.5])
        close(A.log_softmax([INF, 0.0, 1.0]), [0, -INF, -INF])
        close(A.log_softmax([-INF, 0.0, 0.0]), [-INF, -LOG2, -LOG2])
        assert np.isnan(A.log_softmax([INF, INF])).all() and np.isnan(A.log_softmax([-INF, -INF])).all()
        close(A.log_softmax([1e4, -1e4]), [0, -2e4])
        close(A.glu([1e4, -INF, -INF, 1e4]), [0, -INF])  # a * sigmoid(b): 1e4 * 0, -inf * 1


# --- kinks and thresholds, exactly and one ulp away -----------------------------------------------


def up(v):
    return np.nextafter(v, INF)


def down(v):
    return np.nextafter(v, -INF)


def test_values_at_kinks():
    # relu: x == threshold is "below" (docstring example relu([.., 5, ..], threshold=5) -> 0)
    close(A.relu([5.0, up(5.0), down(5.0)], threshold=5.0), [0, up(5.0), 0])
    close(A.relu([5.0, down(5.0)], negative_slope=0.5, threshold=5.0), [0, 0.5 * (down(5.0) - 5.0)])
    close(A.relu([3.0, up(3.0)], max_value=3.0), [3, 3])
    # hard_sigmoid: 0 at x <= -3, 1 at x >= 3, x / 6 + 0.5 between
    close(A.hard_sigmoid([-3.0, 3.0, up(-3.0), down(3.0)]), [0, 1, up(-3.0) / 6 + 0.5, down(3.0) / 6 + 0.5],
          atol=1e-16)
    close(A.hard_silu([-3.0, 3.0, up(-3.0), down(3.0), down(-3.0), up(3.0)]),
          [0, 3, up(-3.0) * (up(-3.0) + 3) / 6, down(3.0) * (down(3.0) + 3) / 6, 0, up(3.0)], atol=1e-300)
    # hard_shrink: x only where |x| > threshold
    close(A.hard_shrink([0.5, -0.5, up(0.5), down(-0.5)]), [0, 0, up(0.5), down(-0.5)])
    close(A.hard_shrink([1.0, -1.0, 1.5], threshold=1.0), [0, 0, 1.5])
    close(A.soft_shrink([0.5, -0.5, 0.75, -0.75, 0.25]), [0, 0, 0.25, -0.25, 0])
    close(A.soft_shrink([2.5, -1.0], threshold=2.0), [0.5, 0])
    # sparse_plus: 0 at x <= -1, (x + 1)**2 / 4 inside, x at x >= 1; continuous at both ends
    close(A.sparse_plus([-1.0, 1.0, up(-1.0), down(1.0), 0.5]), [0, 1, (up(-1.0) + 1) ** 2 / 4, (down(1.0) + 1) ** 2 / 4,
                                                                0.5625], atol=1e-300)
    close(A.sparse_sigmoid([-1.0, 1.0, 0.5, -0.5]), [0, 1, 0.75, 0.25])
    close(A.hard_tanh([-1.0, 1.0, up(1.0), down(-1.0)]), [-1, 1, 1, -1])
    close(A.threshold([1.0, up(1.0), down(1.0)], 1.0, -7.0), [-7, up(1.0), -7])
    close(A.celu([0.0, -0.0, down(0.0)]), [0, 0, down(0.0)], atol=1e-323)
    close(A.leaky_relu([0.0, -2.5]), [0, -0.5])


# --- independent formulations -----------------------------------------------------------------------


GRID = np.concatenate([np.linspace(-40.0, 40.0, 321), [-3.3e-5, 3.3e-5, -1e-8, 1e-8, -2e-150, 2e-150, -0.999, 0.999]])


def test_against_scipy():
    special = pytest.importorskip("scipy.special")
    x = GRID
    close(A.sigmoid(x), special.expit(x), rtol=1e-13)
    close(A.log_sigmoid(x), special.log_expit(x), rtol=1e-13)
    close(A.silu(x), x * special.expit(x), rtol=1e-13)
    # x * P(X <= x). Below x = -20, scipy's ndtr (like erfc(-x / sqrt 2)) carries the rounding of
    # x / sqrt 2, amplified to ~x**2 * 1.1e-16 relative; the mpmath test covers the far tail.
    mid = x >= -20
    close(A.gelu(x[mid]), x[mid] * special.ndtr(x[mid]), rtol=1e-13, atol=1e-300)
    close(A.gelu(x[mid]), 0.5 * x[mid] * special.erfc(-x[mid] / math.sqrt(2)), rtol=1e-13, atol=1e-300)
    close(A.softplus(x), np.where(x > 0, x + np.log1p(np.exp(-np.abs(x))), np.log1p(np.exp(-np.abs(x)))), rtol=1e-13)
    rows = np.random.default_rng(1).normal(0, 20, size=(6, 9))
    close(A.softmax(rows), special.softmax(rows, axis=-1), rtol=1e-13, atol=1e-300)
    close(A.softmax(rows, axis=0), special.softmax(rows, axis=0), rtol=1e-13, atol=1e-300)
    close(A.log_softmax(rows), special.log_softmax(rows, axis=-1), rtol=1e-13)
    close(A.glu(rows[:, :8]), rows[:, :4] * special.expit(rows[:, 4:8]), rtol=1e-13)


def test_against_high_precision_docstring_formulas():
    """Each docstring formula evaluated with 400 (or more) significant digits by mpmath.

    400 digits absorb the cancellations of the formulas as written (exp(x) - 1 at x = -2e-150,
    x - tanh(x), x + sqrt(x**2 + b) at x = -40).
    """
    mp = pytest.importorskip("mpmath")
    alpha, scale = mp.mpf("1.6732632423543772848170429916717"), mp.mpf("1.0507009873554804934193349852946")
    formulas = {
        "sigmoid": lambda v: 1 / (1 + mp.exp(-v)),
        "log_sigmoid": lambda v: mp.log(1 / (1 + mp.exp(-v))),
        "softplus": lambda v: mp.log(mp.exp(v) + 1),
        "softsign": lambda v: v / (abs(v) + 1),
        "tanh": lambda v: mp.sinh(v) / mp.cosh(v),
        "tanh_shrink": lambda v: v - mp.tanh(v),
        "elu": lambda v: v if v > 0 else mp.exp(v) - 1,
        "celu": lambda v: v if v >= 0 else mp.exp(v) - 1,
        "selu": lambda v: scale * v if v > 0 else scale * alpha * (mp.exp(v) - 1),
        "silu": lambda v: v / (1 + mp.exp(-v)),
        "mish": lambda v: v * mp.tanh(mp.log(mp.exp(v) + 1)),
        "gelu": lambda v: v * mp.ncdf(v),
        "exponential": mp.exp,
        "squareplus": lambda v: (v + mp.sqrt(v * v + 4)) / 2,
        "hard_sigmoid": lambda v: 0 if v <= -3 else (1 if v >= 3 else v / 6 + mp.mpf(1) / 2),
        "hard_silu": lambda v: 0 if v < -3 else (v if v > 3 else v * (v + 3) / 6),
        "sparse_plus": lambda v: 0 if v <= -1 else (v if v >= 1 else (v + 1) ** 2 / 4),
    }
    x = GRID
    with mp.workdps(400):
        for name, formula in formulas.items():
            want = np.array([float(formula(mp.mpf(float(v)))) for v in x])
            np.testing.assert_allclose(A.get(name)(x), want, rtol=1e-13, atol=1e-300, err_msg=name)
        want = np.array([float(2 * (mp.exp(mp.mpf(float(v)) / 2) - 1)) if v < 0 else v for v in x])
        np.testing.assert_allclose(A.celu(x, alpha=2.0), want, rtol=1e-13, err_msg="celu alpha=2")
        want = np.array([float((mp.mpf(float(v)) + mp.sqrt(mp.mpf(float(v)) ** 2 + mp.mpf("0.5"))) / 2) for v in x])
        np.testing.assert_allclose(A.squareplus(x, b=0.5), want, rtol=1e-13, err_msg="squareplus b=0.5")
    with mp.workdps(2500):  # 1 + tanh(u) for u down to -2400 needs about 2100 digits
        c = mp.sqrt(2 / mp.pi)
        want = np.array([float(v / 2 * (1 + mp.tanh(c * (v + mp.mpf("0.044715") * v**3))))
                         for v in map(mp.mpf, map(float, x))])
    np.testing.assert_allclose(A.gelu(x, approximate=True), want, rtol=1e-13, atol=1e-300, err_msg="gelu tanh form")


# --- softmax family -----------------------------------------------------------------------------------


def test_softmax_tuple_axis_is_softmax_of_the_merged_axes():
    x = np.random.default_rng(2).normal(0, 3, size=(2, 3, 4, 5))
    merged = np.moveaxis(x, (1, 3), (2, 3)).reshape(2, 4, 15)
    want = np.moveaxis(A.softmax(merged).reshape(2, 4, 3, 5), (2, 3), (1, 3))
    close(A.softmax(x, axis=(1, 3)), want, rtol=1e-13)
    close(A.softmax(x, axis=[3, -3]), want, rtol=1e-13)
    close(A.log_softmax(x, axis=(1, 3)), np.log(want), rtol=1e-13)
    close(A.softmax(x, axis=(0, 1, 2, 3)).sum(), 1.0)


def test_softmax_bad_axis():
    for bad in [2, -3, (0, 0), (), 1.0, None]:
        with pytest.raises(ValueError, match=r"axis="):
            A.softmax(np.ones((2, 3)), axis=bad)
    with pytest.raises(ValueError, match=r"axis=\(0, 1\)"):
        A.sparsemax(np.ones((2, 3)), axis=(0, 1))  # documented as an int


def _sparsemax_by_bisection(v):
    """tau with sum(max(v - tau, 0)) = 1, by bisection on [max - 1, max] (the sum is decreasing in tau)."""
    lo, hi = v.max() - 1.0, v.max()
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if np.maximum(v - mid, 0).sum() > 1 else (lo, mid)
    return np.maximum(v - 0.5 * (lo + hi), 0)


def test_sparsemax_hand_values_and_ties():
    close(A.sparsemax([2.0, 2.0, 0.0]), [0.5, 0.5, 0])          # tie at the top: tau = (4 - 1) / 2
    close(A.sparsemax([1.0, 1.0]), [0.5, 0.5])
    close(A.sparsemax([2.0, 2.0, 2.0]), [1 / 3] * 3)
    close(A.sparsemax([0.5, 0.5, 0.0]), [0.5, 0.5, 0])          # 1 + 3 * 0 == 1 + ... boundary: k(z) = 2
    close(A.sparsemax([0.2, 0.1, 0.1, 0.0]), [0.35, 0.25, 0.25, 0.15])  # tau = (0.4 - 1) / 4 = -0.15
    close(A.sparsemax([1.0, 0.0]), [1, 0])                       # 1 + 2 * 0 == 1: boundary, same tau either way
    close(A.sparsemax([3.0, 1.0, 0.0]), [1, 0, 0])
    close(A.sparsemax([0.0, 0.0, 0.0]), [1 / 3] * 3)
    close(A.sparsemax([[0.1, 1.1], [0.5, 0.2]], axis=0), [[0.3, 0.95], [0.7, 0.05]])


def test_sparsemax_against_bisection():
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.normal(0, 1, size=(50, 7)), np.round(rng.normal(0, 1, size=(50, 7)), 1)])
    got = A.sparsemax(x)
    want = np.array([_sparsemax_by_bisection(v) for v in x])
    close(got, want, rtol=1e-13, atol=1e-14)
    close(got.sum(axis=-1), np.ones(len(x)), rtol=1e-14)
    close(np.moveaxis(A.sparsemax(x.T, axis=0), 0, 1), got)


def test_glu_halves():
    x = np.array([[1.0, -2.0, 0.5, 3.0], [0.0, 4.0, -1.0, -1.0]])
    close(A.glu(x), x[:, :2] / (1 + np.exp(-x[:, 2:])))
    close(A.glu(x, axis=0), x[:1] / (1 + np.exp(-x[1:])))
    with pytest.raises(ValueError, match=r"x.shape=\(2, 3\), axis=-1"):
        A.glu(np.ones((2, 3)))


def test_tanh_shrink_small_values_keep_relative_accuracy():
    # x - tanh(x) = x**3/3 - 2x**5/15 + 17x**7/315 - 62x**9/2835 + 1382x**11/155925 - 21844x**13/6081075 + ...
    x = np.array([1e-8, 1e-3, -0.05])
    series = x**3 / 3 - 2 * x**5 / 15 + 17 * x**7 / 315 - 62 * x**9 / 2835 + 1382 * x**11 / 155925
    close(A.tanh_shrink(x), series, rtol=2e-15)  # at 0.05 the next term is 1e-15 of x**3 / 3


# --- activation layers -------------------------------------------------------------------------------


def test_activation_layer_docstring_example():
    x = np.array([-3.0, -1.0, 0.0, 2.0])
    close(A.activation_layer(x, "relu"), [0, 0, 0, 2])
    close(A.activation_layer(x, A.relu), [0, 0, 0, 2])
    close(A.activation_layer(x, None), x)
    close(A.activation_layer(x, "gelu"), A.gelu(x))  # the exact form, as activations.gelu
    with pytest.raises(ValueError, match="activation='nope'"):
        A.activation_layer(x, "nope")


def test_relu_layer_docstring_formula():
    x = np.array([-10, -5, 0.0, 5, 10])
    close(A.relu_layer(x, max_value=10, negative_slope=0.5, threshold=0), [-5, -2.5, 0, 5, 10])  # docstring example
    # f = max_value if x >= max_value; x if threshold <= x < max_value; negative_slope * (x - threshold) otherwise
    close(A.relu_layer(x, threshold=5.0), [0, 0, 0, 5, 10])         # x == threshold is kept (relu gives 0)
    close(A.relu([5.0], threshold=5.0), [0])
    close(A.relu_layer(x, negative_slope=0.5, max_value=5.0, threshold=5.0), [-7.5, -5, -2.5, 5, 5])
    close(A.relu_layer([3.0, 5.0, 1.0], threshold=5.0, max_value=2.0), [2, 2, 0])  # max_value <= x < threshold
    close(A.relu_layer(np.array(EDGE)), EDGE_VALUES["relu"], atol=1e-323)
    for kwargs, name in [(dict(max_value=-1.0), "max_value"), (dict(negative_slope=-0.1), "negative_slope"),
                         (dict(threshold=-1.0), "threshold"), (dict(threshold=None), "threshold")]:
        with pytest.raises(ValueError, match=f"{name}="):
            A.relu_layer(x, **kwargs)


def test_leaky_relu_layer():
    x = np.array([-10, -5, 0.0, 5, 10])
    close(A.leaky_relu_layer(x, negative_slope=0.5), [-5, -2.5, 0, 5, 10])  # docstring example
    close(A.leaky_relu_layer(x), [-3, -1.5, 0, 5, 10])                      # layer default 0.3
    close(A.leaky_relu(x), [-2, -1, 0, 5, 10])                              # function default 0.2
    with pytest.raises(ValueError, match=r"negative_slope=-0.5"):
        A.leaky_relu_layer(x, negative_slope=-0.5)


def test_prelu_layer_shapes_and_values():
    assert A.prelu_shape((None, 3, 4, 5)) == (3, 4, 5)
    assert A.prelu_shape((None, 3, 4, 5), shared_axes=[1, 2]) == (1, 1, 5)  # docstring example
    assert A.prelu_shape((None, 3, 4), shared_axes=2) == (3, 1)
    assert A.prelu_shape((None, 3, 4), shared_axes=[-1]) == (3, 1)  # -1 is the last axis
    x = np.array([[[-2.0, 1.0], [-4.0, -0.5], [3.0, -1.0]]])  # (1, 3, 2)
    alpha = np.array([[0.25, -0.5]])  # (1, 2): shared over axis 1
    close(A.prelu_layer(x, alpha, shared_axes=[1]), [[[-0.5, 1.0], [-1.0, 0.25], [3.0, 0.5]]])
    close(A.prelu_layer(x, np.zeros((3, 2))), np.maximum(x, 0))  # alpha_initializer "Zeros": relu
    close(A.prelu_layer([[-INF, INF, NAN]], np.zeros(3)), [[0, INF, NAN]])
    with pytest.raises(ValueError, match=r"alpha.shape=\(3, 2\)"):
        A.prelu_layer(x, np.zeros((3, 2)), shared_axes=1)
    for bad in [0, 3, [1, 3], -3, "1"]:
        with pytest.raises(ValueError, match="shared_axes="):
            A.prelu_shape((None, 3, 4), shared_axes=bad)


def test_prelu_layer_accepts_its_weight_objects():
    # PReLU documents alpha_initializer, alpha_regularizer and alpha_constraint; none changes the
    # output for a given alpha (the regularizer's penalty goes to layer.losses)
    x = np.array([[[-2.0, 1.0], [-4.0, -0.5], [3.0, -1.0]]])
    alpha = np.array([[0.25, -0.5]])
    plain = A.prelu_layer(x, alpha, shared_axes=[1])
    objects = dict(alpha_initializer="ones", alpha_regularizer="l2", alpha_constraint={"class_name": "NonNeg"})
    np.testing.assert_array_equal(A.prelu_layer(x, alpha, shared_axes=[1], **objects), plain)
    with pytest.raises(TypeError, match="alpha_regulariser"):  # a misspelt name is still refused
        A.prelu_layer(x, alpha, shared_axes=[1], alpha_regulariser="l2")


def test_elu_layer():
    x = np.array([-2.0, -0.5, 0.0, 1.5])
    close(A.elu_layer(x), A.elu(x))
    close(A.elu_layer(x, alpha=0.5), [0.5 * math.expm1(-2.0), 0.5 * math.expm1(-0.5), 0, 1.5])


def test_softmax_layer_docstring_example_and_mask():
    close(A.softmax_layer(np.array([1.0, 2.0, 1.0])), [0.21194157, 0.5761169, 0.21194157], rtol=1e-7)  # printed from float32
    x = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    e = math.exp(2.0)
    # masked positions get 0 and leave the normalization; a fully masked row is all 0
    close(A.softmax_layer(x, mask=[[1, 0, 1], [0, 0, 0]]), [[1 / (1 + e), 0, e / (1 + e)], [0, 0, 0]])
    close(A.softmax_layer(x, mask=np.array([[True, False, True]])), [[1 / (1 + e), 0, e / (1 + e)]] * 2)
    close(A.softmax_layer(x, mask=np.array([True, True, False])), A.softmax_layer(x[:, :2]).tolist() and
          np.c_[A.softmax(x[:, :2]), [0, 0]])
    close(A.softmax_layer([[NAN, 1.0, 1.0]], mask=[[0, 1, 1]]), [[0, 0.5, 0.5]])  # a masked nan does not count
    # one kept logit gets all the probability, even -inf (the float16 rounding of -1e9); several -inf: undefined
    close(A.softmax_layer([[np.inf, -np.inf, 3.0], [np.inf, -np.inf, -np.inf]], mask=[[0, 1, 0], [0, 1, 1]]), [[0, 1, 0], [0, NAN, NAN]])
    close(A.softmax_layer(x, axis=(0, 1)), A.softmax(x.ravel()).reshape(2, 3))
    close(A.softmax_layer(x, axis=[0, 1], mask=[[1, 1, 1], [1, 1, 0]]).sum(), 1.0)
    for bad in [np.ones((2, 2)), np.ones((3, 3)), np.ones((1, 2, 3))]:
        with pytest.raises(ValueError, match=r"mask.shape="):
            A.softmax_layer(x, mask=bad)


# --- error bounds of softmax, log_softmax and glu ---------------------------------------------------

from conformance.compare import compare_arrays  # noqa: E402
from reference_impl import rounding  # noqa: E402

F32, F16 = rounding.format_of("float32"), rounding.format_of("float16")


def _rows(dtype):
    """Rows of a large spread (N(0, 8), exps far below the normal range) and of near-ties (values
    one or two units apart in the format), in `dtype`."""
    rng = np.random.default_rng(11)
    spread = rng.normal(0.0, 8.0, size=(6, 9))
    spacing = float(np.spacing(dtype(3.0)))
    ties = 3.0 + spacing * rng.integers(-2, 3, size=(6, 9))
    return np.concatenate([spread, ties]).astype(dtype)


def _sequential_sum(terms, dtype, reverse=False):
    """sum over the last axis, each partial sum rounded to dtype, in the given order."""
    total = np.zeros(terms.shape[:-1], dtype=dtype)
    for i in (range(terms.shape[-1] - 1, -1, -1) if reverse else range(terms.shape[-1])):
        total = (total + terms[..., i]).astype(dtype)
    return total[..., None]


def _softmax_in(dtype, x, order):
    """softmax along the last axis evaluated in dtype: "pairwise" (max shifted, NumPy's pairwise
    sum, one division), "reverse" (max shifted, a sequential sum from the end, a reciprocal and a
    product), "naive" (no max subtraction)."""
    x = x.astype(dtype)
    shifted = x if order == "naive" else (x - x.max(axis=-1, keepdims=True)).astype(dtype)
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(shifted).astype(dtype)
        if order == "reverse":
            return (e * (dtype(1) / _sequential_sum(e, dtype, reverse=True)).astype(dtype)).astype(dtype)
        return (e / e.sum(axis=-1, keepdims=True, dtype=dtype)).astype(dtype)


@pytest.mark.parametrize("dtype,fmt", [(np.float32, F32), (np.float16, F16)])
@pytest.mark.parametrize("order", ["pairwise", "reverse"])
def test_softmax_bound_holds_for_evaluations_in_the_format(dtype, fmt, order):
    x = _rows(dtype).astype(np.float64)
    exact = A.softmax(x)
    bound = A.softmax_error_bound(x, fmt)
    computed = _softmax_in(dtype, x, order).astype(np.float64)
    result = compare_arrays(computed, exact, rtol=0, atol=0, bound=bound)
    assert result.ok, result.message
    # not vacuous: the largest error uses a visible share of the bound
    assert 0.02 < result.metrics["max_bound_ratio"] <= 1


def test_softmax_bound_holds_for_the_naive_order_within_range_and_catches_its_float16_overflow():
    # exp(x) without the max: the same value while exp(x) stays normal (|x| <= 20 in float32)
    x = np.clip(_rows(np.float32).astype(np.float64), -20, 20)
    assert compare_arrays(_softmax_in(np.float32, x, "naive").astype(np.float64), A.softmax(x), rtol=0, atol=0,
                          bound=A.softmax_error_bound(x, F32)).ok
    # in float16 exp(12) = 162755 overflows (65504 is the largest): inf / inf, where the shifted
    # evaluation is exact to a few units
    row = np.array([[12.0, 11.5, 3.0, -2.0]])
    naive = _softmax_in(np.float16, row, "naive").astype(np.float64)
    assert np.isnan(naive).any()
    assert not compare_arrays(naive, A.softmax(row), rtol=0, atol=0, bound=A.softmax_error_bound(row, F16)).ok
    assert compare_arrays(_softmax_in(np.float16, row, "pairwise").astype(np.float64), A.softmax(row), rtol=0, atol=0,
                          bound=A.softmax_error_bound(row, F16)).ok


def test_softmax_bound_by_hand():
    # softmax([0, 0]) in float32: y = 1/2, d = 0, so rho = E u = 4 u (exp's own error only);
    # A = sum y rho = 4 u, sigma = A + 2 n tiny + gamma_1 (1 + A + n tiny) with n = 2;
    # err = (y rho + tiny + y sigma) / (1 - sigma); bound = err + gamma_2 (y + err) + tiny
    u, tiny = 2.0**-24, F32.smallest_normal
    sigma = 4 * u + 4 * tiny + u / (1 - u) * (1 + 4 * u + 2 * tiny)
    err = (0.5 * 4 * u + tiny + 0.5 * sigma) / (1 - sigma)
    want = err + 2 * u / (1 - 2 * u) * (0.5 + err) + tiny
    np.testing.assert_allclose(A.softmax_error_bound(np.array([0.0, 0.0]), F32), [want, want], rtol=1e-12)
    # to first order: err = 2 u + 5 u / 2, plus gamma_2 / 2 = u: 5.5 u (3.3e-7)
    assert want == pytest.approx(5.5 * u, rel=1e-6)


def test_softmax_bound_catches_planted_faults():
    x = _rows(np.float32).astype(np.float64)
    exact, bound = A.softmax(x), A.softmax_error_bound(x, F32)
    # a 1e-3 relative scale error
    assert not compare_arrays(exact * (1 + 1e-3), exact, rtol=0, atol=0, bound=bound).ok
    # a float32 softmax computed in float16
    assert not compare_arrays(_softmax_in(np.float16, x, "pairwise").astype(np.float64), exact, rtol=0, atol=0,
                              bound=bound).ok
    # the Softmax layer's mask dropped: masked positions get probability, the rest too much
    mask = np.random.default_rng(3).random(x.shape) < 0.6
    mask[:, 0] = True
    masked, masked_bound = A.softmax_layer(x, mask=mask), A.softmax_error_bound(x, F32, keep=mask)
    assert compare_arrays(np.where(mask, _softmax_in(np.float32, np.where(mask, x, -np.inf), "pairwise"), 0.0),
                          masked, rtol=0, atol=0, bound=masked_bound).ok
    assert not compare_arrays(A.softmax(x), masked, rtol=0, atol=0, bound=masked_bound).ok
    # masked positions are allowed only a flushed subnormal
    assert np.all(masked_bound[~mask] == F32.smallest_normal)


def test_softmax_corner_moves_are_the_extremes_over_the_box():
    rng = np.random.default_rng(2)
    for _ in range(50):
        n = int(rng.integers(2, 7))
        x, dz = rng.normal(0, 3, n), np.abs(rng.normal(0, 0.3, n))
        y = A.softmax(x)
        up, down = A._corner_moves(y, dz, (0,))
        for i in range(n):
            corner = -dz.copy()
            corner[i] = dz[i]
            assert A.softmax(x + corner)[i] / y[i] - 1 == pytest.approx(up[i], rel=1e-9, abs=1e-15)
            assert 1 - A.softmax(x - corner)[i] / y[i] == pytest.approx(down[i], rel=1e-9, abs=1e-15)
        inside = A.softmax(x + rng.uniform(-1, 1, (100, n)) * dz) / y - 1
        assert np.all(inside <= up + 1e-12) and np.all(-inside <= down + 1e-12)
    # the dominant probability moves by about 2 y (1 - y) dz, not the first order's 2 y dz
    y = A.softmax(np.array([5.0, 0.0]))
    up, _ = A._corner_moves(y, np.array([0.01, 0.01]), (0,))
    assert up[0] == pytest.approx(2 * (1 - y[0]) * 0.01, rel=0.02)


def _log_softmax_in(dtype, x, order):
    """log_softmax along the last axis in dtype: "shifted" ((x - m) - log S) or "lse"
    (x - (m + log S)), S summed sequentially."""
    x = x.astype(dtype)
    m = x.max(axis=-1, keepdims=True)
    shifted = (x - m).astype(dtype)
    log_sum = np.log(_sequential_sum(np.exp(shifted).astype(dtype), dtype)).astype(dtype)
    if order == "shifted":
        return (shifted - log_sum).astype(dtype)
    return (x - (m + log_sum).astype(dtype)).astype(dtype)


@pytest.mark.parametrize("dtype,fmt", [(np.float32, F32), (np.float16, F16)])
@pytest.mark.parametrize("order", ["shifted", "lse"])
def test_log_softmax_bound_holds_for_both_orders_and_catches_a_shift(dtype, fmt, order):
    # rows with a large maximum, where x - (m + log S) cancels m against x
    x = np.concatenate([_rows(dtype), _rows(dtype) + dtype(300)]).astype(dtype).astype(np.float64)
    exact, bound = A.log_softmax(x), A.log_softmax_error_bound(x, fmt)
    result = compare_arrays(_log_softmax_in(dtype, x, order).astype(np.float64), exact, rtol=0, atol=0, bound=bound)
    assert result.ok, result.message
    assert result.metrics["max_bound_ratio"] > 0.02
    # a planted fault: a normalizer 0.1% too large (log S off by about 1e-3)
    if dtype is np.float32:
        assert not compare_arrays(exact - 1e-3, exact, rtol=0, atol=0, bound=bound).ok


def test_glu_bound_holds_for_float32_and_float16_and_catches_a_scale_error():
    rng = np.random.default_rng(4)
    for dtype, fmt in ((np.float32, F32), (np.float16, F16)):
        x = rng.normal(0.25, 4.0, size=(5, 12)).astype(dtype)
        a, b = np.split(x, 2, axis=-1)
        computed = (a * (dtype(1) / (dtype(1) + np.exp(-b)).astype(dtype)).astype(dtype)).astype(dtype)
        exact, bound = A.glu(x.astype(np.float64)), A.glu_error_bound(x.astype(np.float64), fmt)
        assert compare_arrays(computed.astype(np.float64), exact, rtol=0, atol=0, bound=bound).ok
        if dtype is np.float32:
            assert not compare_arrays(exact * (1 + 1e-3), exact, rtol=0, atol=0, bound=bound).ok
    assert A.glu_error_bound(np.ones((2, 3)), F32) is None  # an odd axis: no halves, no bound


def test_glu_bound_with_an_input_error_holds_over_the_box_and_catches_a_scale_error():
    """glu as a layer's activation: its argument carries the sum of products' error dz. Inputs
    anywhere in [x - dz, x + dz], evaluated in float16, stay within the bound of the exact glu(x)."""
    rng = np.random.default_rng(7)
    x = rng.normal(0.25, 3.0, size=(6, 10))
    dz = np.abs(x) * 2e-3 + 1e-3
    bound = A.glu_error_bound(x, F16, dz=dz)
    exact = A.glu(x)
    for trial in range(20):
        moved = (x + dz * rng.uniform(-1, 1, size=x.shape)).astype(np.float16)
        a, b = np.split(moved, 2, axis=-1)
        computed = (a * (np.float16(1) / (np.float16(1) + np.exp(-b)))).astype(np.float64)
        assert compare_arrays(computed, exact, rtol=0, atol=0, bound=bound).ok, trial
    # the box's corners reach far into it: a corner of it alone uses over a tenth of the bound
    assert np.max(np.abs(A.glu(x + dz) - exact) / bound) > 0.1
    assert not compare_arrays(exact * 1.05, exact, rtol=0, atol=0, bound=bound).ok  # a 5% scale error
    close(A.glu_error_bound(x, F16, dz=np.zeros_like(x)), A.glu_error_bound(x, F16))  # no input error: as before


# --- sparsemax's error bound --------------------------------------------------------------------

def _sparsemax_in(dtype, x):
    """sparsemax along the last axis by the paper's algorithm, every operation rounded to dtype:
    the shift by the max, the running sums (in order), 1 + k z_k, tau and the subtraction; and
    the support size k' it picked."""
    x = x.astype(dtype)
    z = (x - x.max(axis=-1, keepdims=True)).astype(dtype)
    ordered = (-np.sort(-z.astype(np.float64), axis=-1)).astype(dtype)
    n = x.shape[-1]
    sums, total = np.zeros_like(ordered), np.zeros(x.shape[:-1], dtype=dtype)
    for i in range(n):
        total = (total + ordered[..., i]).astype(dtype)
        sums[..., i] = total
    k = np.arange(1, n + 1).astype(dtype)
    picked = (dtype(1) + (k * ordered).astype(dtype)).astype(dtype) > sums
    size = np.max(np.where(picked, np.arange(1, n + 1), 1), axis=-1, keepdims=True)
    tau = ((np.take_along_axis(sums, size - 1, axis=-1) - dtype(1)).astype(dtype) / size.astype(dtype)).astype(dtype)
    return np.maximum((z - tau).astype(dtype), dtype(0)).astype(np.float64), size[..., 0]


def _exact_support_size(x):
    z = -np.sort(-(x - x.max(axis=-1, keepdims=True)), axis=-1)
    k = np.arange(1, x.shape[-1] + 1)
    return np.max(np.where(1 + k * z > np.cumsum(z, axis=-1), k, 1), axis=-1)


def _near_boundary_rows(rng, dtype, count=4000):
    """Rows whose fourth and fifth values sit within 2e-3 of the threshold the top three give,
    so that a rounded comparison may pick another support size than the exact one."""
    top = -np.sort(-rng.uniform(-0.6, 0.0, size=(count, 3)), axis=-1)
    top[:, 0] = 0.0
    tau3 = (top.sum(axis=-1, keepdims=True) - 1.0) / 3.0
    return np.concatenate([top, tau3 + rng.normal(0.0, 2e-3, size=(count, 2))], axis=-1).astype(dtype).astype(np.float64)


@pytest.mark.parametrize("name", ["float32", "float16", "bfloat16"])
def test_sparsemax_bound_holds_for_the_papers_algorithm_in_the_format(name):
    import ml_dtypes
    dtype = {"float32": np.float32, "float16": np.float16, "bfloat16": ml_dtypes.bfloat16}[name]
    fmt = rounding.format_of(name)
    rng = np.random.default_rng(12)
    rows = [rng.normal(0.3, scale, size=(300, n)) for scale in (0.1, 1.0, 4.0) for n in (2, 5, 8, 33)]
    rows = [r.astype(dtype).astype(np.float64) for r in rows] + [_near_boundary_rows(rng, dtype)]
    ratios = []
    for x in rows:
        computed, _ = _sparsemax_in(dtype, x)
        result = compare_arrays(computed, A.sparsemax(x), rtol=0, atol=0, bound=A.sparsemax_error_bound(x, fmt))
        assert result.ok, result.message
        ratios.append(result.metrics["max_bound_ratio"])
    assert 0.05 < max(ratios) <= 1  # not vacuous
    # the near-boundary rows do make a rounded comparison pick another support size
    x = rows[-1]
    assert np.sum(_sparsemax_in(dtype, x)[1] != _exact_support_size(x)) > 10 or name == "float32"


def test_sparsemax_bound_by_hand():
    # [1, 0] in float32: z = [0, -1], S = [0, -1], margins 1 and 0 (k = 2 on the boundary), both
    # tau_k = -1, so no shortfall; dtau = max(gamma_5 (0 + 1) / 1, gamma_6 (1 + 1) / 2) + 2 s =
    # gamma_6 + 2 s. y_1 = 1 (p = 1): dtau + u (1 + dtau); y_2 = 0 at the clamp (p = 0, d = 1):
    # reach = u + dtau, plus u reach
    u, s = 2.0**-24, F32.subnormal_spacing
    dtau = 6 * u / (1 - 6 * u) + 2 * s
    want = [dtau + u * (1 + dtau), (u + dtau) * (1 + u)]
    np.testing.assert_allclose(A.sparsemax_error_bound(np.array([1.0, 0.0]), F32), want, rtol=1e-12)
    assert want[0] == pytest.approx(7 * u, rel=1e-6)
    # far below the threshold: exactly 0 on both sides, no error allowed
    assert A.sparsemax_error_bound(np.array([3.0, 0.0, -5.0]), F32)[2] == 0.0
    # +inf or NaN in a slice: judged by position; all -inf: nan on both sides
    assert np.all(A.sparsemax_error_bound(np.array([[np.inf, 0, 1], [np.nan, 0, 1], [-np.inf] * 3]), F32) == 0)


def test_sparsemax_bound_with_an_input_error_holds_over_the_box():
    rng = np.random.default_rng(13)
    x = rng.normal(0.2, 0.6, size=(40, 9))
    dz = np.abs(x) * 2e-3 + 1e-3
    exact, bound = A.sparsemax(x), A.sparsemax_error_bound(x, F16, dz=dz)
    assert np.all(np.isfinite(bound))
    for trial in range(30):
        moved = x + dz * rng.choice([-1.0, 1.0], size=x.shape) * rng.uniform(0.5, 1.0, size=x.shape)
        computed, _ = _sparsemax_in(np.float16, moved.astype(np.float16).astype(np.float64))
        assert compare_arrays(computed, exact, rtol=0, atol=0, bound=bound).ok, trial
    close(A.sparsemax_error_bound(x, F16, dz=np.zeros_like(x)), A.sparsemax_error_bound(x, F16))
    # an input error as large as the values themselves: the bound says nothing (NaN, the flat
    # tolerance judges) where it would reach the range of a probability
    wide = A.sparsemax_error_bound(x, F16, dz=np.full(x.shape, 2.0))
    assert np.isnan(wide[exact > 0]).all()


def test_sparsemax_bound_catches_planted_faults():
    rng = np.random.default_rng(14)
    x = rng.normal(0.3, 1.0, size=(50, 8))
    exact = A.sparsemax(x)
    for fmt in (F32, F16):
        bound = A.sparsemax_error_bound(x, fmt)
        assert not compare_arrays(exact * 1.01, exact, rtol=0, atol=0, bound=bound).ok  # a 1% scale error
    # a float32 sparsemax computed in float16
    assert not compare_arrays(_sparsemax_in(np.float16, x)[0], exact, rtol=0, atol=0,
                              bound=A.sparsemax_error_bound(x, F32)).ok
    # tf.keras's recorded divergence (sparsemax-not-a-projection): [0, 0, 0] for [2, 2, 0]
    tie = np.array([2.0, 2.0, 0.0])
    assert not compare_arrays(np.zeros(3), A.sparsemax(tie), rtol=0, atol=0, bound=A.sparsemax_error_bound(tie, F32)).ok
