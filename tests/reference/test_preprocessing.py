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
