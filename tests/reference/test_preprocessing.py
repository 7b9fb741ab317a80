"""reference_impl.preprocessing against second formulations: the Keras docstrings' own examples
(hand values), loop versions of the resize written here from the half-pixel rule, identities
(a resize by an integer factor is UpSampling2D's, which reference_impl.reshaping checks), and
element-by-element lookups."""
import math

import numpy as np
import pytest

from reference_impl import preprocessing as P
from reference_impl import reshaping

TOL = dict(rtol=1e-12, atol=1e-12)


def test_rescaling_docstring_ranges():
    x = np.array([[0.0, 127.5, 255.0]])
    np.testing.assert_allclose(P.rescaling(x, scale=1 / 255), [[0.0, 0.5, 1.0]], **TOL)
    np.testing.assert_allclose(P.rescaling(x, scale=1 / 127.5, offset=-1), [[-1.0, 0.0, 1.0]], **TOL)


def loop_nearest(x, height, width):
    """For each output pixel, the input pixel whose square [t, t + 1) holds the output pixel's
    centre (i + 0.5) * n / m, found by walking the input pixels."""
    b, h, w, c = x.shape
    out = np.zeros((b, height, width, c))
    for i in range(height):
        for j in range(width):
            ci, cj = (i + 0.5) * h / height, (j + 0.5) * w / width
            ti = next(t for t in range(h) if t <= ci < t + 1 or t == h - 1)
            tj = next(t for t in range(w) if t <= cj < t + 1 or t == w - 1)
            out[:, i, j] = x[:, ti, tj]
    return out


def loop_bilinear(x, height, width):
    """Textbook bilinear interpolation at the half-pixel sample points, clamped to the edges."""
    b, h, w, c = x.shape
    out = np.zeros((b, height, width, c))
    for i in range(height):
        for j in range(width):
            y = min(max((i + 0.5) * h / height - 0.5, 0.0), h - 1)
            z = min(max((j + 0.5) * w / width - 0.5, 0.0), w - 1)
            y0, z0 = int(math.floor(y)), int(math.floor(z))
            y1, z1 = min(y0 + 1, h - 1), min(z0 + 1, w - 1)
            fy, fz = y - y0, z - z0
            out[:, i, j] = ((1 - fy) * (1 - fz) * x[:, y0, z0] + (1 - fy) * fz * x[:, y0, z1]
                            + fy * (1 - fz) * x[:, y1, z0] + fy * fz * x[:, y1, z1])
    return out


@pytest.mark.parametrize("height,width", [(3, 4), (8, 11), (5, 7), (2, 13), (1, 1)])
def test_resizing_nearest_and_bilinear_against_loops(height, width):
    x = np.random.default_rng(0).normal(size=(2, 5, 7, 3))
    np.testing.assert_allclose(P.resizing(x, height=height, width=width, interpolation="nearest"),
                               loop_nearest(x, height, width), **TOL)
    np.testing.assert_allclose(P.resizing(x, height=height, width=width), loop_bilinear(x, height, width), **TOL)


@pytest.mark.parametrize("interpolation", ["bilinear", "bicubic", "lanczos3", "lanczos5"])
def test_resizing_by_an_integer_factor_is_upsampling2d(interpolation):
    x = np.random.default_rng(1).normal(size=(2, 3, 4, 2))
    np.testing.assert_allclose(P.resizing(x, height=6, width=12, interpolation=interpolation),
                               reshaping.up_sampling2d(x, {}, size=(2, 3), interpolation=interpolation), **TOL)


def test_resizing_rows_sum_to_one_and_antialias_widens_the_kernel():
    for method in ("bilinear", "bicubic", "lanczos3", "lanczos5"):
        for n, m in ((9, 4), (4, 9), (7, 7)):
            for antialias in (False, True):
                np.testing.assert_allclose(P.resize_matrix(n, m, method, antialias).sum(axis=1), 1.0, **TOL)
    # halving with antialias: the triangle of half-width 2 input pixels over the 4 nearest taps
    np.testing.assert_allclose(P.resize_matrix(8, 4, "bilinear", antialias=True)[1], [0, 0.125, 0.375, 0.375, 0.125, 0, 0, 0], **TOL)
    np.testing.assert_allclose(P.resize_matrix(8, 4, "bilinear")[1], [0, 0, 0.5, 0.5, 0, 0, 0, 0], **TOL)


def test_crop_and_pad_to_aspect_ratio_by_hand():
    x = np.arange(35.0).reshape(1, 5, 7, 1)
    # 3 x 2 target: window 5 x floor(5 * 2 / 3) = 5 x 3, columns 2..4; rows 0, 2, 4 and columns 0, 2 of it
    np.testing.assert_array_equal(P.resizing(x, height=3, width=2, interpolation="nearest", crop_to_aspect_ratio=True)[0, :, :, 0],
                                  [[2, 4], [16, 18], [30, 32]])
    y = np.arange(15.0).reshape(1, 5, 3, 1)
    # 4 x 6 target: width padded to floor(5 * 6 / 4) = 7, two columns of fill each side
    padded = P.resizing(y, height=5, width=7, interpolation="nearest", pad_to_aspect_ratio=True, fill_value=-1)[0, :, :, 0]
    np.testing.assert_array_equal(padded[0], [-1, -1, 0, 1, 2, -1, -1])
    # a total pad of 1 (height 6 for 5) pads nothing ("evenly")
    np.testing.assert_array_equal(P.resizing(y, height=4, width=2, interpolation="nearest", pad_to_aspect_ratio=True)[0, :, :, 0],
                                  [[0, 2], [3, 5], [9, 11], [12, 14]])


def test_center_crop_by_hand():
    x = np.arange(35.0).reshape(1, 5, 7, 1)
    np.testing.assert_array_equal(P.center_crop(x, height=3, width=2)[0, :, :, 0], [[9, 10], [16, 17], [23, 24]])
    np.testing.assert_array_equal(P.center_crop(x, height=5, width=7), x)
    # smaller than the target: the crop of the 8:4 ratio (5 x 2, columns 2..3) resized bilinearly
    np.testing.assert_allclose(P.center_crop(x, height=8, width=4)[0, 0, :, 0], [2.0, 2.25, 2.75, 3.0], **TOL)
    np.testing.assert_allclose(P.center_crop(x, height=8, width=4, data_format="channels_first").shape, (1, 5, 8, 4))


def test_normalization_docstring_example_and_invert():
    x = np.array([[1.0], [2.0], [3.0]])
    np.testing.assert_allclose(P.normalization(x, mean=3.0, variance=2.0).ravel(), [-math.sqrt(2), -math.sqrt(0.5), 0.0], **TOL)
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 3, 4))
    for axis, mean, var in ((-1, rng.normal(size=4), rng.uniform(0.5, 2, 4)), (1, rng.normal(size=3), rng.uniform(0.5, 2, 3)),
                            ((1, 2), rng.normal(size=4), rng.uniform(0.5, 2, (3, 4))), (None, 0.5, 2.0)):
        y = P.normalization(x, axis=axis, mean=mean, variance=var)
        np.testing.assert_allclose(P.normalization(y, axis=axis, mean=mean, variance=var, invert=True), x, **TOL)
    # loop version for axis=1: each row t of every sample with its own mean and variance
    mean, var = np.array([0.5, -1.0, 2.0]), np.array([1.0, 4.0, 0.25])
    y = P.normalization(x, axis=1, mean=mean, variance=var)
    for b in range(2):
        for t in range(3):
            np.testing.assert_allclose(y[b, t], (x[b, t] - mean[t]) / math.sqrt(var[t]), **TOL)
    with pytest.raises(ValueError):
        P.normalization(x, axis=(1, 2), mean=np.zeros(12), variance=1.0)


def test_discretization_docstring_example():
    x = np.array([[-1.5, 1.0, 3.4, 0.5], [0.0, 3.0, 1.3, 0.0]])
    np.testing.assert_array_equal(P.discretization(x, bin_boundaries=[0.0, 1.0, 2.0]), [[0, 2, 3, 1], [1, 3, 2, 1]])
    counts = P.discretization(x, bin_boundaries=[0.0, 1.0, 2.0], output_mode="count")
    np.testing.assert_array_equal(counts, [[1, 1, 1, 1], [0, 2, 1, 1]])
    np.testing.assert_array_equal(P.discretization(np.array([[0.5], [2.0]]), bin_boundaries=[0.0, 1.0, 2.0], output_mode="one_hot"),
                                  [[0, 1, 0, 0], [0, 0, 0, 1]])


def test_category_encoding_docstring_examples():
    np.testing.assert_array_equal(P.category_encoding(np.array([3, 2, 0, 1]), num_tokens=4, output_mode="one_hot"),
                                  [[0, 0, 0, 1], [0, 0, 1, 0], [1, 0, 0, 0], [0, 1, 0, 0]])
    x = np.array([[0, 1], [0, 0], [1, 2], [3, 1]])
    np.testing.assert_array_equal(P.category_encoding(x, num_tokens=4, output_mode="multi_hot"),
                                  [[1, 1, 0, 0], [1, 0, 0, 0], [0, 1, 1, 0], [0, 1, 0, 1]])
    w = np.array([[0.1, 0.2], [0.1, 0.1], [0.2, 0.3], [0.4, 0.2]])
    np.testing.assert_allclose(P.category_encoding(x, num_tokens=4, output_mode="count", count_weights=w),
                               [[0.1, 0.2, 0, 0], [0.2, 0, 0, 0], [0, 0.2, 0.3, 0], [0, 0.2, 0, 0.4]], **TOL)
    with pytest.raises(ValueError):
        P.category_encoding(np.array([[4]]), num_tokens=4)


def test_integer_lookup_elementwise():
    vocabulary = [12, 36, 1138, 42]
    x = np.array([[12, 1138, 0, 99, 42], [-7, 36, 5, 0, 12]])
    index = P.integer_lookup(x, vocabulary=vocabulary, mask_token=0)  # docstring: [mask, OOV, vocabulary]
    for value, got in zip(x.ravel(), index.ravel()):
        expected = 0 if value == 0 else (2 + vocabulary.index(value) if value in vocabulary else 1)
        assert got == expected
    floormod = P.integer_lookup(x, vocabulary=vocabulary, num_oov_indices=3)
    for value, got in zip(x.ravel(), floormod.ravel()):
        assert got == (3 + vocabulary.index(value) if value in vocabulary else value % 3)
    np.testing.assert_array_equal(P.integer_lookup(np.array([[0, 1, 4]]), vocabulary=vocabulary, invert=True), [[-1, 12, 42]])
    # other output modes: the mask token is not in the vocabulary and its instances are dropped
    multi = P.integer_lookup(np.array([[12, 0, 99]]), vocabulary=vocabulary, mask_token=0, output_mode="multi_hot")
    np.testing.assert_array_equal(multi, [[1, 1, 0, 0, 0]])
    with pytest.raises(ValueError):
        P.integer_lookup(np.array([[99]]), vocabulary=vocabulary, num_oov_indices=0)


def test_adapted_moments_by_hand():
    from reference_impl.preprocessing import adapted_moments, normalization

    data = np.array([[1.0, 2.0], [3.0, 6.0], [5.0, 10.0]])
    mean, variance = adapted_moments(data, axis=-1)
    assert np.allclose(mean, [3.0, 6.0]) and np.allclose(variance, [8 / 3, 32 / 3])  # population variance
    mean, variance = adapted_moments([data[:1], data[1:]], axis=None)  # batches: their concatenation
    assert np.isclose(mean, 4.5) and np.isclose(variance, 175 / 6 - 4.5 ** 2)
    x = np.array([[3.0, 10.0]])
    assert np.allclose(normalization(x, adapt=data), [[0.0, 4.0 / np.sqrt(32 / 3)]])
    with pytest.raises(NotImplementedError):
        normalization(x, adapt=data, mean=1.0, variance=1.0)


def test_adapt_data_is_exact_in_float32():
    from conformance.ops.preprocessing_layers import adapt_data

    data = adapt_data({"shape": [50, 3], "loc": 100.0, "scale": 7.0, "seed": 4})
    assert data.shape == (50, 3) and np.array_equal(data.astype(np.float32).astype(np.float64), data)
    assert len(np.unique(data)) > 100 and not np.array_equal(data, np.round(data))  # non-integer, varied


# --- error bounds against evaluations of the formulas in float32 and float16 ------------------------

from reference_impl import rounding  # noqa: E402


def _keys_in(t, d):
    """Keys' cubic (a = -1/2) at |d| in the type t, in Horner form, every operation rounded."""
    a = np.abs(d).astype(t)
    inner = ((t(1.5) * a - t(2.5)) * a * a + t(1.0)).astype(t)
    outer = (((t(-0.5) * a + t(2.5)) * a - t(4.0)) * a + t(2.0)).astype(t)
    return np.where(a <= 1, inner, np.where(a < 2, outer, t(0))).astype(t)


def _resize_weights_in(t, n, m, interpolation, half_pixel=True):
    """(m, n) resize weights computed in the type t: the positions, the kernel, the normalization."""
    i = np.arange(m).astype(t)
    c = ((i + t(0.5)) * t(n / m)).astype(t)
    if half_pixel:
        c = (c - t(0.5)).astype(t)
    d = (c[:, None] - np.arange(n).astype(t)[None, :]).astype(t)
    if interpolation == "bilinear":
        k = np.where(np.abs(d) < 1, (t(1) - np.abs(d)).astype(t), t(0)).astype(t)
    else:
        k = np.where(np.abs(d) < 2, _keys_in(t, d), t(0)).astype(t)
    total = np.zeros(m, dtype=t)
    for tap in range(n):  # the row's sum, in t
        total = (total + k[:, tap]).astype(t)
    return (k / total[:, None]).astype(t)


def _apply_in(t, weights, x, axis, reverse=False):
    """sum_s weights[p, s] x[..., s, ...] along `axis` (1 or 2 of (b, h, w, c)), accumulated in t
    one tap at a time, in increasing or decreasing order."""
    x = np.moveaxis(x, axis, -1)
    out = np.zeros(x.shape[:-1] + (weights.shape[0],), dtype=t)
    taps = range(weights.shape[1] - 1, -1, -1) if reverse else range(weights.shape[1])
    for s in taps:
        out = (out + (x[..., s:s + 1] * weights[:, s]).astype(t)).astype(t)
    return np.moveaxis(out, -1, axis)


def _resize_in(t, x, height, width, interpolation, order, half_pixel=True):
    """The separable resize evaluated in t: rows then columns in increasing tap order, or columns
    then rows in decreasing order."""
    a = _resize_weights_in(t, x.shape[1], height, interpolation, half_pixel)
    b = _resize_weights_in(t, x.shape[2], width, interpolation, half_pixel)
    x = x.astype(t)
    if order == "rows first":
        return _apply_in(t, b, _apply_in(t, a, x, 1), 2).astype(np.float64)
    return _apply_in(t, a, _apply_in(t, b, x, 2, reverse=True), 1, reverse=True).astype(np.float64)


def _bilinear_lerps_in(t, x, height, width):
    """Bilinear as nested interpolations a + f (b - a) in t, positions clamped to the image."""
    def axis(n, m):
        c = np.clip(((np.arange(m).astype(t) + t(0.5)) * t(n / m) - t(0.5)).astype(t), 0, n - 1).astype(t)
        lo = np.floor(c).astype(int)
        return lo, np.minimum(lo + 1, n - 1), (c - lo.astype(t)).astype(t)
    lo_h, hi_h, fh = axis(x.shape[1], height)
    lo_w, hi_w, fw = axis(x.shape[2], width)
    x = x.astype(t)

    def lerp(p, q, f):
        return (p + ((q - p).astype(t) * f).astype(t)).astype(t)
    fw4, fh4 = fw[None, None, :, None], fh[None, :, None, None]
    top = lerp(x[:, lo_h][:, :, lo_w], x[:, lo_h][:, :, hi_w], fw4)
    bottom = lerp(x[:, hi_h][:, :, lo_w], x[:, hi_h][:, :, hi_w], fw4)
    return lerp(top, bottom, fh4).astype(np.float64)


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
@pytest.mark.parametrize("interpolation", ["bilinear", "bicubic"])
@pytest.mark.parametrize("size", [(8, 11), (3, 4), (5, 3)])
def test_resize_bound_holds_for_evaluations_in_the_format(dtype, interpolation, size):
    fmt = rounding.format_of(np.dtype(dtype).name)
    x = np.random.default_rng(3).normal(1.0, 2.0, size=(2, 5, 7, 3)).astype(dtype).astype(np.float64)
    exact = P.resizing(x, height=size[0], width=size[1], interpolation=interpolation)
    bound = P.resize_error_bound(x, *size, interpolation, False, fmt)
    evaluations = {order: _resize_in(dtype, x, *size, interpolation, order) for order in ("rows first", "columns first")}
    if interpolation == "bilinear":
        evaluations["lerps"] = _bilinear_lerps_in(dtype, x, *size)
    for order, y in evaluations.items():
        ratio = np.max(np.abs(y - exact) / bound)
        assert ratio <= 1.0, (order, ratio)
    # and the bound is some hundreds of units of roundoff on the taps' magnitudes, not a blank cheque
    taps = 4 if interpolation == "bilinear" else 16
    assert np.max(bound) < {"bilinear": 100, "bicubic": 2000}[interpolation] * fmt.unit_roundoff * taps * np.max(np.abs(x))


def test_resize_bound_catches_a_scale_error_and_an_off_by_half_pixel_sampling():
    fmt = rounding.format_of("float32")
    x = np.random.default_rng(4).normal(1.0, 2.0, size=(2, 5, 7, 3)).astype(np.float32).astype(np.float64)
    exact = P.resizing(x, height=8, width=11)
    bound = P.resize_error_bound(x, 8, 11, "bilinear", False, fmt)
    correct = _resize_in(np.float32, x, 8, 11, "bilinear", "rows first")
    assert np.all(np.abs(correct - exact) <= bound)
    assert np.any(np.abs(correct * (1 + 1e-3) - exact) > bound)  # a 1e-3 scale error
    shifted = _resize_in(np.float32, x, 8, 11, "bilinear", "rows first", half_pixel=False)  # corners, not centres
    assert np.sum(np.abs(shifted - exact) > bound) > 0.5 * exact.size


def test_resize_bound_by_hand_for_a_two_pixel_bilinear_row():
    # pixels [1, 3] -> 4 columns (one row -> one row): output 1 samples c = 0.25, weights (0.75, 0.25), y = 1.5
    fmt = rounding.format_of("float32")
    u, tiny = fmt.unit_roundoff, fmt.smallest_normal

    def g(k):
        return k * u / (1 - k * u)
    x = np.array([1.0, 3.0]).reshape(1, 1, 2, 1)
    np.testing.assert_allclose(P.resizing(x, height=1, width=4).ravel(), [1.0, 1.5, 2.5, 3.0], **TOL)
    # the row axis, 1 -> 1: one tap of weight 1, K(0) rounded once (u), the sum of one tap, the
    # division (u), the lerp form's gamma_2; its position error moves nothing (a single tap)
    spread = u + g(1)
    d_row = (u + spread) / (1 - spread) + u + g(2)
    # the column axis: the position 0.25 = 0.75 * 2 / 4 ... off by gamma_3 (q + 1/2), q = 0.75, moves
    # both weights by as much; each tap's offset d rounds (gamma_3 |d|, slope 1) and 1 - |d| once (u K)
    moved = g(3) * 1.25
    dk = np.array([u * 0.75 + g(3) * 0.25, u * 0.25 + g(3) * 0.75])
    w = np.array([0.75, 0.25])
    spread = dk.sum() + g(2)
    d_col = moved + (dk + w * spread) / (1 - spread) + u * w + g(2)
    # K = 1 * 2 taps + 1: (1 + gamma_3) P |x| Q - |A| |x| |B| + 2 K tiny
    expected = (1 + g(3)) * (1 + d_row) * ((w + d_col) @ [1.0, 3.0]) - 1.5 + 6 * tiny
    bound = P.resize_error_bound(x, 1, 4, "bilinear", False, fmt).ravel()
    np.testing.assert_allclose(bound[1], expected, rtol=1e-6)
    np.testing.assert_allclose(bound[1] / u, 56.0, rtol=1e-2)  # 3.3e-6: a 1e-5 error on 1.5 is outside


def test_nearest_resize_is_exact_unless_a_centre_sits_on_a_pixel_border():
    x = np.random.default_rng(5).normal(size=(1, 5, 7, 2))
    fmt16 = rounding.format_of("float16")
    assert np.all(P.resize_error_bound(x, 8, 11, "nearest", False, fmt16) == 0)
    # 6 -> 9: the centre of output 1 is (1.5) 6 / 9 = 1, a border: a rounded scale may pick pixel 0
    y = np.arange(6.0).reshape(1, 6, 1, 1)
    bound = P.resize_error_bound(y, 9, 1, "nearest", False, rounding.format_of("float32")).ravel()
    assert bound[1] == 1.0 and np.count_nonzero(bound) == 3  # centres 1, 3, 5 (outputs 1, 4, 7)


@pytest.mark.parametrize("dtype", [np.float16, np.float32])
def test_rescaling_bound_holds_for_evaluations_in_the_format_and_catches_a_scale_error(dtype):
    fmt = rounding.format_of(np.dtype(dtype).name)
    x = np.random.default_rng(6).uniform(0, 255, size=(4, 50)).astype(dtype).astype(np.float64)
    scale, offset = 1 / 127.5, -1.0
    exact = x * scale + offset
    bound = P.rescaling_error_bound(x, fmt, scale=scale, offset=offset)
    t = dtype
    separate = ((x.astype(t) * t(scale)).astype(t) + t(offset)).astype(np.float64)
    fused = (x.astype(t).astype(np.float64) * float(t(scale)) + float(t(offset))).astype(t).astype(np.float64)
    for y in (separate, fused):
        assert np.all(np.abs(y - exact) <= bound)
    if dtype == np.float32:
        assert np.any(np.abs(separate * (1 + 1e-3) - exact) > bound)
    # by hand: gamma_3 (|x / 127.5| + 1) + 3 tiny at x = 255: gamma_3 * 3
    np.testing.assert_allclose(P.rescaling_error_bound(np.array([255.0]), fmt, scale=scale, offset=offset),
                               rounding.gamma(3, fmt.unit_roundoff) * 3 + 3 * fmt.smallest_normal, rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float16, np.float32])
def test_normalization_bound_holds_for_evaluations_in_the_format_and_catches_a_wrong_mean(dtype):
    fmt = rounding.format_of(np.dtype(dtype).name)
    rng = np.random.default_rng(7)
    # inputs near a mean 30 times their spread: x - mean cancels
    mean, variance = np.array([30.1, -2.3, 0.7]), np.array([1.1, 0.3, 2.9])
    x = (mean + rng.normal(0, 1, size=(64, 3))).astype(dtype).astype(np.float64)
    exact = P.normalization(x, mean=mean, variance=variance)
    bound = P.normalization_error_bound(x, fmt, mean=mean, variance=variance)
    t = dtype
    m, s = mean.astype(t), np.sqrt(variance.astype(t)).astype(t)
    direct = (((x.astype(t) - m).astype(t)) / s).astype(t).astype(np.float64)
    inverse = (t(1) / s).astype(t)
    distributed = ((x.astype(t) * inverse).astype(t) - (m * inverse).astype(t)).astype(t).astype(np.float64)
    for y in (direct, distributed):
        assert np.all(np.abs(y - exact) <= bound)
    if dtype == np.float32:
        wrong = (((x.astype(t) - (mean * (1 + 1e-3)).astype(t)).astype(t)) / s).astype(np.float64)
        assert np.any(np.abs(wrong - exact) > bound)
    # invert: x sigma + mean
    back = P.normalization(exact, mean=mean, variance=variance, invert=True)
    z = exact.astype(t)
    evaluated = ((z * s).astype(t) + m).astype(t).astype(np.float64)
    exact_back = P.normalization(z.astype(np.float64), mean=mean, variance=variance, invert=True)
    assert np.all(np.abs(evaluated - exact_back) <= P.normalization_error_bound(z.astype(np.float64), fmt, mean=mean,
                                                                               variance=variance, invert=True))
    np.testing.assert_allclose(back, x, rtol=1e-12, atol=1e-12)
    assert P.normalization_error_bound(x, fmt, mean=mean, variance=variance, adapt=np.zeros((4, 3))) is None


@pytest.mark.parametrize("dtype, loc, scale", [(np.float16, 2.5, 3.0), (np.float32, 2.5, 3.0), (np.float32, 100.0, 0.25)])
@pytest.mark.parametrize("batch_size", [None, 7])
def test_adapted_normalization_bound_holds_for_moments_computed_in_the_format(dtype, loc, scale, batch_size):
    # adapt's data: 41 rows of a mean 2.5 and spread 3 (the catalogue's case), or of a mean 400
    # times the spread (normalization_adapt_axes'), where the variance's one pass cancels; the
    # moments are computed in the format as sums left to right, the variance in one pass
    # (mean(d^2) - m^2), batches combined by a running update, stored in the format
    fmt = rounding.format_of(np.dtype(dtype).name)
    t = dtype
    rng = np.random.default_rng(11)
    data = rng.normal(loc, scale, size=(41, 3))
    batches = [data[i:i + batch_size] for i in range(0, 41, batch_size)] if batch_size else [data]
    mean, square, seen = np.zeros(3, t), np.zeros(3, t), 0
    for b in batches:
        b = b.astype(t)
        batch_mean, batch_square = np.zeros(3, t), np.zeros(3, t)
        for row in b:
            batch_mean, batch_square = (batch_mean + row).astype(t), (batch_square + row * row).astype(t)
        batch_mean, batch_square = (batch_mean / t(len(b))).astype(t), (batch_square / t(len(b))).astype(t)
        weight = t(len(b) / (seen + len(b)))
        mean = (mean + weight * (batch_mean - mean)).astype(t)
        square = (square + weight * (batch_square - square)).astype(t)
        seen += len(b)
    variance = (square - mean * mean).astype(t)
    exact_mean, exact_variance = data.mean(axis=0), data.var(axis=0)
    given = batches if batch_size else data
    x = rng.normal(0, 1.5, size=(16, 3)).astype(t).astype(np.float64)
    assert np.all(variance > 0)
    # invert: x sigma + m, from the moments computed above
    computed = ((x.astype(t) * np.sqrt(variance).astype(t)).astype(t) + mean).astype(np.float64)
    exact = x * np.sqrt(exact_variance) + exact_mean
    bound = P.normalization_error_bound(x, fmt, adapt=given, invert=True)
    assert np.all(np.abs(computed - exact) <= bound)
    # the normalization, (x - m) / sigma, at inputs around the data's mean
    z = (exact_mean + x * np.sqrt(exact_variance)).astype(t)
    computed = (((z - mean).astype(t)) / np.sqrt(variance).astype(t)).astype(np.float64)
    exact = (z.astype(np.float64) - exact_mean) / np.sqrt(exact_variance)
    bound = P.normalization_error_bound(z.astype(np.float64), fmt, adapt=given)
    assert np.all(np.abs(computed - exact) <= bound)
    if loc == 100.0:  # mean(d^2) - m^2 may lose the whole variance in float32 (dv > v): no bound
        assert np.all(np.isinf(bound))
    elif dtype == np.float32:  # a mean off by a hundredth of the spread is caught
        wrong = (((z - (exact_mean + 1e-2 * scale).astype(t)).astype(t)) / np.sqrt(variance).astype(t)).astype(np.float64)
        assert np.any(np.abs(wrong - exact) > bound)


def test_discretization_bound_counts_the_boundaries_the_format_rounds():
    f32 = rounding.format_of("float32")
    # 0.1 is not a float32 number: float32(0.1) = 0.100000001490116 > 0.1; an x between them may go either way
    x = np.array([[0.1, float(np.float32(0.1)), 0.05, 0.5]])
    assert P.discretization_error_bound(x, f32, bin_boundaries=[0.1, 0.25]).tolist() == [[1.0, 1.0, 0.0, 0.0]]
    assert np.all(P.discretization_error_bound(x, f32, bin_boundaries=[0.0, 0.25]) == 0)
    counts = P.discretization_error_bound(x, f32, bin_boundaries=[0.1, 0.25], output_mode="count")
    assert counts.tolist() == [[2.0, 2.0, 0.0]]  # two ambiguous elements, each in bin 0 or 1
    np.testing.assert_array_equal(P.round_to_format(np.array([0.1, 1.0, 1 / 3]), rounding.format_of("float16")),
                                  np.array([0.1, 1.0, 1 / 3]).astype(np.float16).astype(np.float64))


def test_category_encoding_bound_is_the_weighted_counts_sums():
    f16 = rounding.format_of("float16")
    x = np.array([[0, 1], [0, 0]])
    w = np.array([[0.1, -0.2], [0.3, 0.3]])
    bound = P.category_encoding_error_bound(x, f16, num_tokens=3, output_mode="count", count_weights=w)
    g = rounding.gamma(2, f16.unit_roundoff)
    np.testing.assert_allclose(bound, g * np.array([[0.1, 0.2, 0.0], [0.6, 0.0, 0.0]]) + 4 * f16.smallest_normal, rtol=1e-12)
    assert np.all(P.category_encoding_error_bound(x, f16, num_tokens=3, output_mode="multi_hot") == 0)
