"""reference_impl.random_image_layers against values computed by hand."""
import numpy as np
import pytest

from reference_impl import random_image_layers as ref


def image(rows):
    """A (1, H, W, 1) batch from a list of rows."""
    return np.asarray(rows, dtype=np.float64)[None, :, :, None]


def test_identity_layers_return_the_input_as_float64():
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4, 1) + 0.5
    for layer in ("RandomFlip", "RandomZoom", "AugMix", "Solarization"):
        y = ref.inference(layer, x, {})
        assert y.dtype == np.float64 and np.array_equal(y, x)


def test_crop_window_is_the_largest_centred_window_of_the_target_aspect():
    # 10 x 8 to 3 x 4: width 8 gives height 6, rows 2..7
    assert ref.crop_window(10, 8, 3, 4) == (2, 0, 6, 8)
    # 7 x 9 to 7 x 5: height 7 gives width 5, columns 2..6
    assert ref.crop_window(7, 9, 7, 5) == (0, 2, 7, 5)
    # odd slack rounds down: 7 x 8 to 7 x 5, (8 - 5) / 2 = 1.5 -> 1
    assert ref.crop_window(7, 8, 7, 5) == (0, 1, 7, 5)


def test_center_crop_without_resize():
    x = image([[1, 2, 3, 4, 5], [6, 7, 8, 9, 10]])
    # 2 x 5 to 2 x 3: columns 1..3
    assert np.array_equal(ref.center_crop_resize(x, 2, 3)[0, :, :, 0], [[2, 3, 4], [7, 8, 9]])


def test_center_crop_then_halving_resize_averages_2x2_blocks():
    # 6 x 4 to 1 x 2: the window of aspect 1:2 is 2 x 4 (rows 2, 3); halving averages 2 x 2 blocks
    x = image([[0, 0, 0, 0], [0, 0, 0, 0], [1, 3, 10, 20], [5, 7, 30, 40], [0, 0, 0, 0], [0, 0, 0, 0]])
    y = ref.center_crop_resize(x, 1, 2)
    assert y.shape == (1, 1, 2, 1)
    np.testing.assert_allclose(y[0, :, :, 0], [[4.0, 25.0]])


def test_bilinear_upsampling_by_two_uses_half_pixel_centres():
    # [0, 4] to 4 samples at -0.25, 0.25, 0.75, 1.25 -> clamped 0, 0.25, 0.75, 1
    y = ref.resize_bilinear(image([[0.0, 4.0]]), 1, 4)
    np.testing.assert_allclose(y[0, 0, :, 0], [0.0, 1.0, 3.0, 4.0])


def test_auto_contrast_stretches_each_channel_to_the_value_range():
    x = np.zeros((1, 1, 3, 2))
    x[0, 0, :, 0] = [10, 20, 30]       # min 10, max 30 -> 0, 127.5, 255
    x[0, 0, :, 1] = [0.5, 1.0, 0.75]   # min 0.5, max 1 -> 0, 255, 127.5
    y = ref.auto_contrast(x)
    np.testing.assert_allclose(y[0, 0, :, 0], [0, 127.5, 255])
    np.testing.assert_allclose(y[0, 0, :, 1], [0, 255, 127.5])
    y = ref.auto_contrast(x, value_range=(-1, 1))
    np.testing.assert_allclose(y[0, 0, :, 0], [-1, 0, 1])


def test_auto_contrast_of_a_constant_channel_is_undefined():
    with pytest.raises(ValueError, match="constant channel"):
        ref.auto_contrast(np.ones((1, 2, 2, 1)))


def test_equalization_by_hand():
    # 4 pixels, 4 bins over [0, 255] (width 63.75): values in bins 0, 0, 1, 3
    # counts [2, 1, 0, 1], cdf [2, 3, 3, 4], cdf_min 2, n - cdf_min 2
    # levels round((cdf - 2) / 2 * 255) = [0, 128 (127.5 rounds to even -> 128), 128, 255]
    x = image([[10.0, 50.0], [100.0, 250.0]])
    y = ref.equalization(x, bins=4)
    np.testing.assert_allclose(y[0, :, :, 0], [[0.0, 0.0], [128.0, 255.0]])


def test_equalization_per_image_and_channel_and_value_range():
    x = np.zeros((2, 1, 2, 2))
    x[0, 0, :, 0] = [0.1, 0.9]   # two bins: 0 and 255
    x[0, 0, :, 1] = [0.9, 0.1]
    x[1, 0, :, 0] = [0.3, 0.3]   # one occupied bin: unchanged
    x[1, 0, :, 1] = [0.2, 0.6]
    y = ref.equalization(x, value_range=(0, 1), bins=8)
    np.testing.assert_allclose(y[0, 0, :, 0], [0.0, 1.0])
    np.testing.assert_allclose(y[0, 0, :, 1], [1.0, 0.0])
    np.testing.assert_allclose(y[1, 0, :, 0], [0.3, 0.3])
    np.testing.assert_allclose(y[1, 0, :, 1], [0.0, 1.0])


def test_flip_candidates_follow_the_mode():
    x = image([[1, 2], [3, 4]])
    horizontal = ref.flip_candidates(x, "horizontal")
    assert len(horizontal) == 2 and np.array_equal(horizontal[1][0, :, :, 0], [[2, 1], [4, 3]])
    vertical = ref.flip_candidates(x, "vertical")
    assert np.array_equal(vertical[1][0, :, :, 0], [[3, 4], [1, 2]])
    both = ref.flip_candidates(x, "horizontal_and_vertical")
    assert len(both) == 4 and np.array_equal(both[3][0, :, :, 0], [[4, 3], [2, 1]])
    with pytest.raises(ValueError, match="mode"):
        ref.flip_candidates(x, "diagonal")


def test_brightness_range_and_clipping():
    assert ref.brightness_range(0.2) == (-0.2, 0.2)
    assert ref.brightness_range([-0.1, 0.6]) == (-0.1, 0.6)
    with pytest.raises(ValueError):
        ref.brightness_range(1.5)
    x = np.stack([image([[10.0, 250.0]])[0], image([[10.0, 250.0]])[0]])
    y = ref.brightness(x, [20.0, -15.0])
    np.testing.assert_allclose(y[:, 0, :, 0], [[30.0, 255.0], [0.0, 235.0]])


def test_output_shapes():
    assert ref.output_shape("RandomCrop", (2, 10, 8, 3), height=3, width=4) == (2, 3, 4, 3)
    assert ref.output_shape("RandomZoom", (2, 10, 8, 3), height_factor=0.2) == (2, 10, 8, 3)
    with pytest.raises(ValueError, match="low < high"):
        ref.output_shape("RandomBrightness", (2, 4, 4, 3), factor=0.1, value_range=[1, 0])


def test_contrast_range_and_formula():
    assert ref.contrast_range(0.4) == (0.6, 1.4)
    assert ref.contrast_range([0.2, 0.5]) == (0.8, 1.5)
    with pytest.raises(ValueError):
        ref.contrast_range(-0.1)
    # channel mean 20: (10 - 20) * 2 + 20 = 0, (30 - 20) * 2 + 20 = 40; second image f = 0.5 about mean 100
    x = np.stack([image([[10.0, 30.0]])[0], image([[50.0, 150.0]])[0]])
    y = ref.contrast(x, [2.0, 0.5])
    np.testing.assert_allclose(y[:, 0, :, 0], [[0.0, 40.0], [75.0, 125.0]])
    # clipped to value_range: (10 - 20) * 3 + 20 = -10 -> 0
    np.testing.assert_allclose(ref.contrast(x[:1], [3.0])[0, 0, :, 0], [0.0, 50.0])


def test_invert_and_probabilities():
    np.testing.assert_allclose(ref.invert(image([[0.0, 55.5]]))[0, 0, :, 0], [255.0, 199.5])
    np.testing.assert_allclose(ref.invert(image([[0.25]]), value_range=(-1, 1))[0, 0, 0, 0], -0.25)
    assert ref.invert_probability() == 0.5
    assert ref.invert_probability(0.3) == 0.15
    assert ref.invert_probability([0.2, 0.6]) == pytest.approx(0.4)
    assert ref.grayscale_probability(0.3) == 0.3
    with pytest.raises(ValueError):
        ref.grayscale_probability(1.5)


def test_crop_locations():
    assert ref.crop_locations(3, 4, 2, 3) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert ref.crop_locations(2, 2, 2, 2) == [(0, 0)]
    with pytest.raises(ValueError, match="does not fit"):
        ref.crop_locations(2, 5, 3, 3)


# --- error bounds of the inference -----------------------------------------------------------------

from reference_impl import preprocessing  # noqa: E402
from reference_impl import rounding  # noqa: E402


def _auto_contrast_in(t, x, low, high, through_standard_range):
    """AutoContrast in the type t: directly, low + (x - m) (high - low) / (M - m), or mapped to
    [0, 255], stretched there as x' s + (-m' s), and mapped back."""
    x = x.astype(t)
    if through_standard_range:
        x = ((x - t(low)).astype(t) * t(255.0 / (high - low))).astype(t)
        m, big_m = x.min(axis=(1, 2), keepdims=True), x.max(axis=(1, 2), keepdims=True)
        scale = (t(255.0) / (big_m - m).astype(t)).astype(t)
        y = np.clip(((x * scale).astype(t) + (-m * scale).astype(t)).astype(t), 0, 255).astype(t)
        return ((y * t((high - low) / 255.0)).astype(t) + t(low)).astype(t).astype(np.float64)
    m, big_m = x.min(axis=(1, 2), keepdims=True), x.max(axis=(1, 2), keepdims=True)
    r = (t(high - low) / (big_m - m).astype(t)).astype(t)
    return np.clip((t(low) + ((x - m).astype(t) * r).astype(t)).astype(t), low, high).astype(np.float64)


@pytest.mark.parametrize("dtype", [np.float16, np.float32])
@pytest.mark.parametrize("value_range", [(0, 255), (-1, 1)])
def test_auto_contrast_bound_holds_for_evaluations_in_the_format(dtype, value_range):
    fmt = rounding.format_of(np.dtype(dtype).name)
    low, high = value_range
    rng = np.random.default_rng(8)
    x = (low + (high - low) * rng.uniform(0.2, 0.8, size=(3, 6, 7, 3))).astype(dtype).astype(np.float64)
    exact = ref.auto_contrast(x, value_range=value_range)
    bound = ref.auto_contrast_error_bound(x, fmt, value_range=value_range)
    for through in (False, True):
        assert np.all(np.abs(_auto_contrast_in(dtype, x, low, high, through) - exact) <= bound), through
    if dtype == np.float32:
        # a 1e-3 scale error in the stretch is caught
        wrong = np.clip(low + (x - x.min(axis=(1, 2), keepdims=True)) * (high - low) * (1 + 1e-3)
                        / np.ptp(x, axis=(1, 2), keepdims=True), low, high)
        assert np.any(np.abs(wrong - exact) > bound)
    # by hand at the channel's minimum (v = low): gamma_12 (2 |m| r + 2 |low| r + 2 |low|) + 12 tiny
    m = x.min(axis=(1, 2), keepdims=True)
    r = (high - low) / np.ptp(x, axis=(1, 2), keepdims=True)
    at_min = rounding.gamma(12, fmt.unit_roundoff) * (2 * np.abs(m) * r + 2 * abs(low) * r + 2 * abs(low)) + 12 * fmt.smallest_normal
    where = x == m
    np.testing.assert_allclose(bound[where], np.broadcast_to(at_min, x.shape)[where], rtol=1e-12)


def test_inference_bounds_are_exact_for_the_identities_and_the_resize_bound_for_random_crop():
    fmt = rounding.format_of("float16")
    x = np.random.default_rng(9).normal(127.5, 30, size=(2, 10, 8, 3))
    assert np.all(ref.inference_error_bound("RandomFlip", x, {}, fmt) == 0)
    assert np.all(ref.inference_error_bound("RandomCrop", x, {"height": 10, "width": 5}, fmt) == 0)  # a crop
    # 3 x 4 from the centred 6 x 8 window (rows 2..7): its bilinear resize's bound
    np.testing.assert_array_equal(ref.inference_error_bound("RandomCrop", x, {"height": 3, "width": 4}, fmt),
                                  preprocessing.resize_error_bound(x[:, 2:8], 3, 4, "bilinear", False, fmt))
    assert ref.inference_error_bound("Equalization", x, {}, fmt) is None
