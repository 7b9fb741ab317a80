"""reference_impl.activations: hand values from the documented formulas, stability, names."""
import math

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
    close(A.relu(x, threshold=5.0), [0, 0, 0, 0, 10])
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
    tail = np.array([0.5 * v * math.erfc(-v / math.sqrt(2)) for v in x])
    close(A.gelu(x), np.where(x < 0, tail, want), rtol=5e-15)
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
