"""The error bounds (reference_impl.rounding, conformance.ops.bounds): hand values, and planted
faults caught where float noise is not."""
import numpy as np
import pytest

from conformance.compare import compare_arrays
from conformance.ops.registry import get_op
from reference_impl import activations as A
from reference_impl import conv as conv_ref
from reference_impl import rounding

F32, F16, F64 = (rounding.format_of(n) for n in ("float32", "float16", "float64"))


def test_formats_and_gamma_by_hand():
    assert F32.unit_roundoff == 2.0 ** -24 and F16.unit_roundoff == 2.0 ** -11
    assert F16.smallest_normal == 6.103515625e-05
    assert rounding.format_of("bfloat16").unit_roundoff == 0.00390625
    # gamma_3 in float16: 3 u / (1 - 3 u) = 0.00146484375 / 0.99853515625
    assert rounding.gamma(3, F16.unit_roundoff) == pytest.approx(0.00146484375 / 0.99853515625, rel=1e-15)
    with pytest.raises(ValueError, match="k u < 1"):
        rounding.gamma(300, rounding.format_of("bfloat16").unit_roundoff)


def test_ulp_by_hand():
    # float32: ulp(1) = 2**-23, ulp(1.5) = 2**-23, ulp(3) = 2**-22, ulp(0) = the subnormal spacing
    np.testing.assert_array_equal(rounding.ulp([1.0, 1.5, 3.0, -3.0, 0.0], F32),
                                  [2.0**-23, 2.0**-23, 2.0**-22, 2.0**-22, 2.0**-149])
    # float16: ulp(1000) = 2**(9 - 10) = 0.5
    assert rounding.ulp(1000.0, F16) == 0.5
    assert rounding.ulp_distance(np.float32(1.0) + np.float32(2.0**-22), 1.0, F32) == 2.0


def _conv_case(rng, cin):
    x = rng.normal(0.25, 1.0, size=(2, 7, 6, cin)).astype(np.float32).astype(np.float64)
    kernel = rng.normal(0.05, 0.5, size=(3, 3, cin, 4)).astype(np.float32).astype(np.float64)
    bias = rng.normal(0.5, 0.5, size=(4,)).astype(np.float32).astype(np.float64)
    return x, {"kernel": kernel, "bias": bias}


def _conv_float(x, w, dtype, *, accumulate=None):
    """Conv2D evaluated in `dtype` with sums accumulated in `accumulate` (default: dtype),
    products in `dtype`: im2col then a sequential sum in a random order of the terms."""
    accumulate = accumulate or dtype
    windows = np.lib.stride_tricks.sliding_window_view(x, (3, 3), axis=(1, 2))  # (2, 5, 4, C, 3, 3)
    windows = np.moveaxis(windows, 3, -1).reshape(2, 5, 4, -1).astype(dtype)
    k = w["kernel"].reshape(-1, 4).astype(dtype)
    terms = (windows[..., :, None] * k[None, None, None]).astype(dtype)  # (2, 5, 4, K, 4), rounded products
    order = np.random.default_rng(1).permutation(terms.shape[3])
    total = np.zeros(terms.shape[:3] + (4,), dtype=accumulate)
    for i in order:  # each partial sum rounded to the accumulation dtype
        total = (total + terms[..., i, :].astype(accumulate)).astype(accumulate)
    return (total.astype(dtype) + w["bias"].astype(dtype)).astype(dtype).astype(np.float64)


def _bound(x, w, fmt):
    op = get_op("Conv2D")
    params = {"filters": 4, "kernel_size": 3}
    output = op.compute(x, w, params, {})
    return output, op.error_bound(x, w, params, {}, fmt, output=output)


@pytest.mark.parametrize("cin", [3, 16, 64])
def test_conv_bound_holds_for_float32_sums_in_any_order_and_catches_float16_accumulation(cin):
    rng = np.random.default_rng(cin)
    x, w = _conv_case(rng, cin)
    exact, bound = _bound(x, w, F32)
    noisy = _conv_float(x, w, np.float32)  # a correct float32 evaluation, summed in a shuffled order
    assert compare_arrays(noisy, exact, rtol=0, atol=0, bound=bound).ok
    # a planted fault: the float32 layer accumulates in float16
    faulty = _conv_float(x, w, np.float32, accumulate=np.float16)
    assert not compare_arrays(faulty, exact, rtol=0, atol=0, bound=bound).ok


def test_conv_bound_catches_a_one_percent_scale_error_the_float16_bound_allows_float16_noise():
    rng = np.random.default_rng(5)
    x, w = _conv_case(rng, 8)
    exact, bound = _bound(x, w, F32)
    assert not compare_arrays(exact * 1.01, exact, rtol=0, atol=0, bound=bound).ok
    # in float16 (inputs rounded to float16 first, as the harness does), a correct float16
    # evaluation is within the float16 bound
    x16 = x.astype(np.float16).astype(np.float64)
    w16 = {k: v.astype(np.float16).astype(np.float64) for k, v in w.items()}
    exact16, bound16 = _bound(x16, w16, F16)
    assert compare_arrays(_conv_float(x16, w16, np.float16), exact16, rtol=0, atol=0, bound=bound16).ok


def test_the_magnitude_of_a_conv_is_the_reference_on_absolute_values():
    # one output of a 1x1 convolution: y = 2 * 3 + (-1) * 4 + 0.5 = 2.5; sum |x w| + |b| = 10.5,
    # K = 2 products + the bias = 3 roundings: gamma_3 * 10.5 (+ the flush floor 6 * tiny)
    op = get_op("Conv2D")
    x = np.array([[[[2.0, -1.0]]]])
    w = {"kernel": np.array([[[[3.0], [4.0]]]]), "bias": np.array([0.5])}
    params = {"filters": 1, "kernel_size": 1}
    out = op.compute(x, w, params, {})
    assert out.item() == 2.5 == conv_ref.conv(x, **w, rank=2, **params).item()
    got = op.error_bound(x, w, params, {}, F32, output=out)
    u = 2.0 ** -24
    assert got.item() == pytest.approx(3 * u / (1 - 3 * u) * 10.5 + 6 * F32.smallest_normal, rel=1e-12)


def test_elementwise_bound_by_hand_and_planted_faults():
    # tanh at 0.5 in float32: 4 (ulp(tanh 0.5) + 2 u S + tiny * 1) + u |0.5 (1 - tanh(0.5)**2)|,
    # where tanh(0.5) = 0.4621 lies in [1/4, 1/2) (ulp = 2**(-2 - 23)) and S = 1, what the
    # documented (exp(x) - exp(-x)) / (exp(x) + exp(-x)) cancels near 0
    op = get_op("activations.tanh")
    x = np.array([0.5])
    y = np.tanh(x)
    want = 4 * (2.0**-25 + 2 * 2.0**-24 + F32.smallest_normal) + 2.0**-24 * 0.5 * (1 - y[0] ** 2)
    assert op.error_bound(x, {}, {}, {}, F32, output=y)[0] == pytest.approx(want, rel=1e-6)
    # a correctly rounded float32 tanh passes; the same values 1e-4 off, or a tanh computed in
    # float16, do not
    grid = np.linspace(-6, 6, 1001)
    exact = np.tanh(grid)
    bound = op.error_bound(grid, {}, {}, {}, F32, output=exact)
    assert compare_arrays(np.tanh(grid.astype(np.float32)).astype(np.float64), exact, rtol=0, atol=0, bound=bound).ok
    assert not compare_arrays(exact * (1 + 1e-4), exact, rtol=0, atol=0, bound=bound).ok
    half = np.tanh(grid.astype(np.float16)).astype(np.float64)
    assert not compare_arrays(half, exact, rtol=0, atol=0, bound=bound).ok


def test_softplus_documented_formula_in_float32_is_within_its_bound():
    # log(exp(x) + 1) evaluated as written in float32 loses everything below u for x < -17: the
    # bound allows that (the formula cancels the 1), a clamp to 0 from x < -5 it does not
    op = get_op("activations.softplus")
    x = np.linspace(-30, 30, 601).astype(np.float32).astype(np.float64)
    exact = op.compute(x, {})
    bound = op.error_bound(x, {}, {}, {}, F32, output=exact)
    as_written = np.log(np.exp(x.astype(np.float32)) + np.float32(1)).astype(np.float64)
    assert compare_arrays(as_written, exact, rtol=0, atol=0, bound=bound).ok
    clamped = np.where(x < -5, 0.0, exact)
    assert not compare_arrays(clamped, exact, rtol=0, atol=0, bound=bound).ok


def test_exact_ops_have_a_zero_bound_and_subtract_adds_magnitudes():
    flatten = get_op("Flatten")
    x = np.ones((2, 3, 4))
    assert not np.any(flatten.error_bound(x, {}, {}, {}, F32, output=x.reshape(2, -1)))
    subtract = get_op("Subtract")
    a, b = np.array([[3.0, -2.0]]), np.array([[1.0, 5.0]])
    got = subtract.error_bound({"a": a, "b": b}, {}, {}, {}, F32, output=a - b)
    u = 2.0 ** -24
    np.testing.assert_allclose(got, (u / (1 - u)) * np.array([[4.0, 7.0]]) + 2 * F32.smallest_normal, rtol=1e-12)


def test_perturbed_sum_of_products_by_hand():
    # a = [0.5, -2] with errors [1e-3, 0], b = [4, 1] with errors [0, 2e-3]: the perturbation is
    # sum da |b| + (|a| + da) db = 4e-3 + 4e-3 = 8e-3, the magnitude sum (|a| + da)(|b| + db)
    # = 0.501 * 4 + 2 * 1.002 = 4.008; K = 2 in float32
    u = 2.0**-24
    got = rounding.perturbed_sum_of_products(4.008, 8e-3, 2, F32)
    assert got == pytest.approx(8e-3 + 2 * u / (1 - 2 * u) * 4.008 + 4 * F32.smallest_normal, rel=1e-15)


def _dense_softmax_in(dtype, x, w):
    """Dense(units, activation="softmax") in dtype: a sequential sum of rounded products, the bias,
    then softmax with the max shifted."""
    x, kernel, bias = x.astype(dtype), w["kernel"].astype(dtype), w["bias"].astype(dtype)
    total = np.zeros(x.shape[:-1] + kernel.shape[1:], dtype=dtype)
    for i in range(x.shape[-1]):
        total = (total + (x[..., i, None] * kernel[i]).astype(dtype)).astype(dtype)
    z = (total + bias).astype(dtype)
    e = np.exp((z - z.max(axis=-1, keepdims=True)).astype(dtype)).astype(dtype)
    return (e / e.sum(axis=-1, keepdims=True, dtype=dtype)).astype(dtype).astype(np.float64)


@pytest.mark.parametrize("dtype,fmt", [(np.float32, F32), (np.float16, F16)])
def test_dense_softmax_activation_is_bounded_through_the_sum_and_catches_faults(dtype, fmt):
    rng = np.random.default_rng(7)
    x = rng.normal(0.25, 1.0, size=(4, 16)).astype(dtype).astype(np.float64)
    w = {"kernel": rng.normal(0.05, 0.5, size=(16, 6)).astype(dtype).astype(np.float64),
         "bias": rng.normal(0.5, 0.5, size=(6,)).astype(dtype).astype(np.float64)}
    op, params = get_op("Dense"), {"units": 6, "activation": "softmax"}
    exact = op.compute(x, w, params, {})
    bound = op.error_bound(x, w, params, {}, fmt, output=exact)
    assert bound is not None and bound.shape == exact.shape  # judged by a bound, not the flat tolerance
    result = compare_arrays(_dense_softmax_in(dtype, x, w), exact, rtol=0, atol=0, bound=bound)
    assert result.ok, result.message
    # planted faults: a dropped term (the bias); in float32 a 1e-3 scale error of the
    # probabilities and the layer computed in float16 (in float16, gamma_17 = 0.8% of the sum's
    # magnitude moves the probabilities by several percent: a 1e-3 scale is within the bound)
    no_bias = _dense_softmax_in(dtype, x, {**w, "bias": np.zeros(6)})
    assert not compare_arrays(no_bias, exact, rtol=0, atol=0, bound=bound).ok
    if dtype is np.float32:
        assert not compare_arrays(exact * (1 + 1e-3), exact, rtol=0, atol=0, bound=bound).ok
        assert not compare_arrays(_dense_softmax_in(np.float16, x, w), exact, rtol=0, atol=0, bound=bound).ok
    # sparsemax as the activation: its bound takes the sum's error; any pre-activation within
    # that error (the linear layer's own bound) gives an exact sparsemax within it
    sparse = {**params, "activation": "sparsemax"}
    exact_sparse = op.compute(x, w, sparse, {})
    sparse_bound = op.error_bound(x, w, sparse, {}, fmt, output=exact_sparse)
    assert sparse_bound is not None and sparse_bound.shape == exact_sparse.shape
    z = op.compute(x, w, {**params, "activation": None}, {})
    dz = op.error_bound(x, w, {**params, "activation": None}, {}, fmt, output=z)
    for sign in rng.choice([-1.0, 1.0], size=(10,) + z.shape):
        moved = A.sparsemax(z + sign * dz)
        assert np.all(np.abs(moved - exact_sparse) <= np.where(np.isnan(sparse_bound), 1.0, sparse_bound))


def test_gamma_or_inf_is_gamma_below_one_and_infinite_from_there():
    # 5 roundings of 2^-24: 5 2^-24 / (1 - 5 2^-24); 256 of bfloat16's 2^-8: k u = 1, and 300 of
    # them (k u > 1, where the formula turns negative) bound nothing
    assert rounding.gamma_or_inf(5, 2.0 ** -24) == 5 * 2.0 ** -24 / (1 - 5 * 2.0 ** -24)
    assert rounding.gamma_or_inf(256, 2.0 ** -8) == float("inf")
    assert rounding.gamma_or_inf(300, 2.0 ** -8) == float("inf")
    np.testing.assert_array_equal(rounding.gamma_or_inf(np.array([2, 300]), 2.0 ** -8), [2 / 254, np.inf])
