"""The training-mode checks of the image augmentation layers (conformance.checks.random_layers:
flip, brightness) accept honest outputs and catch planted faults."""
import numpy as np

from conformance.checks.random_layers import check

TOL = {"rtol": 1e-5, "atol": 1e-5}
rng = np.random.default_rng(5)
X = rng.normal(127.5, 30.0, size=(64, 7, 8, 3))


def flipped(x, axis, p=0.5):
    coin = rng.random(x.shape[0]) < p
    return np.where(coin[:, None, None, None], np.flip(x, axis=axis), x)


def test_honest_horizontal_flip_passes():
    ok, message, metrics = check("flip", X, flipped(X, 2), {"mode": "horizontal"}, "RandomFlip", TOL)
    assert ok, message
    assert metrics["images_matching_nothing"] == 0 and metrics["n_mask"] == 64


def test_flip_along_the_wrong_axis_is_caught():
    ok, message, metrics = check("flip", X, flipped(X, 1), {"mode": "horizontal"}, "RandomFlip", TOL)
    assert not ok and metrics["images_matching_nothing"] > 0 and "neither the input nor" in message


def test_flip_of_the_channels_is_caught():
    ok, message, _ = check("flip", X, flipped(X, 3), {"mode": "vertical"}, "RandomFlip", TOL)
    assert not ok


def test_flip_that_is_not_a_fair_coin_is_caught():
    ok, message, _ = check("flip", X, flipped(X, 2, p=0.95), {"mode": "horizontal"}, "RandomFlip", TOL)
    assert not ok and "allows" in message


def test_horizontal_and_vertical_accepts_any_of_the_four():
    y = flipped(flipped(X, 1), 2)
    ok, message, _ = check("flip", X, y, {"mode": "horizontal_and_vertical"}, "RandomFlip", TOL)
    assert ok, message
    ok, _, _ = check("flip", X, np.transpose(X[:, :7, :7], (0, 2, 1, 3)), {}, "RandomFlip", TOL)
    assert not ok


def honest_brightness(x, lower, upper, value_range=(0.0, 255.0)):
    low, high = value_range
    d = rng.uniform(lower, upper, size=x.shape[0]) * (high - low)
    return np.clip(x + d[:, None, None, None], low, high)


def test_honest_brightness_passes_with_clipping():
    y = honest_brightness(X, -0.6, 0.6)
    assert (y == 255).any() and (y == 0).any()
    ok, message, metrics = check("brightness", X, y, {"factor": 0.6}, "RandomBrightness", TOL)
    assert ok, message
    assert metrics["elements_off_one_delta_per_image"] == 0


def test_brightness_delta_per_pixel_is_caught():
    d = rng.uniform(-0.3, 0.3, size=X.shape) * 255
    ok, message, metrics = check("brightness", X, np.clip(X + d, 0, 255), {"factor": 0.3}, "RandomBrightness", TOL)
    assert not ok and metrics["elements_off_one_delta_per_image"] > 0


def test_brightness_delta_per_channel_is_caught():
    d = rng.uniform(-0.3, 0.3, size=(64, 1, 1, 3)) * 255
    ok, message, _ = check("brightness", X, np.clip(X + d, 0, 255), {"factor": 0.3}, "RandomBrightness", TOL)
    assert not ok and "one d per image" in message


def test_brightness_not_scaled_to_the_value_range_is_caught():
    # the factor used as the delta itself (no * 255): every factor far inside the range
    d = rng.uniform(-0.3, 0.3, size=64)
    ok, message, _ = check("brightness", X, X + d[:, None, None, None], {"factor": 0.3}, "RandomBrightness", TOL)
    assert not ok and "brightness factors" in message


def test_brightness_unclipped_is_caught():
    d = rng.uniform(-0.6, 0.6, size=64) * 255
    ok, message, _ = check("brightness", X, X + d[:, None, None, None], {"factor": 0.6}, "RandomBrightness", TOL)
    assert not ok


def test_brightness_in_a_unit_value_range():
    x = rng.normal(0.5, 0.12, size=(64, 5, 6, 3))
    y = honest_brightness(x, -0.1, 0.6, (0.0, 1.0))
    params = {"factor": [-0.1, 0.6], "value_range": [0, 1]}
    ok, message, _ = check("brightness", x, y, params, "RandomBrightness", TOL)
    assert ok, message
    ok, _, _ = check("brightness", x, honest_brightness(x, -0.1, 0.6), params, "RandomBrightness", TOL)
    assert not ok


def honest_contrast(x, lo, hi, per="image"):
    shape = (x.shape[0], 1, 1, 1) if per == "image" else (x.shape[0], 1, 1, x.shape[3])
    f = rng.uniform(lo, hi, size=shape)
    mean = x.mean(axis=(1, 2), keepdims=True)
    return np.clip((x - mean) * f + mean, 0, 255)


def test_honest_contrast_passes():
    ok, message, metrics = check("contrast", X, honest_contrast(X, 0.6, 1.4), {"factor": 0.4}, "RandomContrast", TOL)
    assert ok, message
    assert metrics["elements_off_one_factor_per_image"] == 0


def test_contrast_factor_per_channel_is_caught():
    ok, message, _ = check("contrast", X, honest_contrast(X, 0.6, 1.4, per="channel"), {"factor": 0.4}, "RandomContrast", TOL)
    assert not ok and "one f per image" in message


def test_contrast_about_the_image_mean_instead_of_the_channel_mean_is_caught():
    x = X + np.array([-40.0, 0.0, 40.0])  # channel means apart
    f = rng.uniform(0.6, 1.4, size=(64, 1, 1, 1))
    mean = x.mean(axis=(1, 2, 3), keepdims=True)
    ok, message, _ = check("contrast", x, np.clip((x - mean) * f + mean, 0, 255), {"factor": 0.4}, "RandomContrast", TOL)
    assert not ok


def test_contrast_that_never_lowers_is_caught():
    # a single float a documents [1 - a, 1 + a]; [1, 1 + a] is a fault
    ok, message, _ = check("contrast", X, honest_contrast(X, 1.0, 1.4), {"factor": 0.4}, "RandomContrast", TOL)
    assert not ok and "contrast factors" in message


def honest_gray(x, p, weights=(0.299, 0.587, 0.114)):
    convert = rng.random(x.shape[0]) < p
    g = np.repeat((x @ np.asarray(weights))[..., None], 3, axis=-1)
    return np.where(convert[:, None, None, None], g, x)


def test_honest_grayscale_passes_and_counts():
    ok, message, metrics = check("grayscale", X, honest_gray(X, 0.5), {"factor": 0.5}, "RandomGrayscale", TOL)
    assert ok, message
    assert metrics["n_mask"] == 64


def test_grayscale_faults_are_caught():
    # weights that do not sum to 1 (not a mean of the channels)
    ok, _, _ = check("grayscale", X, honest_gray(X, 0.5, (0.5, 0.5, 0.5)), {"factor": 0.5}, "RandomGrayscale", TOL)
    assert not ok
    # a probability other than factor
    ok, message, _ = check("grayscale", X, honest_gray(X, 0.95), {"factor": 0.5}, "RandomGrayscale", TOL)
    assert not ok and "allows" in message


def test_invert_honest_and_faults():
    inverted = rng.random(64) < 0.5
    y = np.where(inverted[:, None, None, None], 255 - X, X)
    ok, message, _ = check("invert", X, y, {}, "RandomInvert", TOL)
    assert ok, message
    # the complement of the wrong range (1 - x, as for value_range (0, 1))
    ok, message, _ = check("invert", X, np.where(inverted[:, None, None, None], 1 - X, X), {}, "RandomInvert", TOL)
    assert not ok and "complement" in message
    # factor 0.3 means probabilities sampled in [0, 0.3]: 15 % inverted, not 50 %
    ok, message, _ = check("invert", X, y, {"factor": 0.3}, "RandomInvert", TOL)
    assert not ok and "allows" in message


def test_crop_at_one_location_for_the_batch_passes():
    y = X[:, 2:6, 1:6]
    ok, message, metrics = check("crop", X, y, {"height": 4, "width": 5}, "RandomCrop", TOL)
    assert ok, message
    assert metrics["location"] == "[2, 1]"


def test_crop_faults_are_caught():
    params = {"height": 4, "width": 5}
    # a location per image, not one for the batch
    y = np.stack([X[i, i % 3:i % 3 + 4, 1:6] for i in range(64)])
    ok, message, _ = check("crop", X, y, params, "RandomCrop", TOL)
    assert not ok and "64 of 64 images" in message
    # resized instead of cropped (every other row and column of a window)
    ok, message, _ = check("crop", X, X[:, ::2, ::2][:, :3, :4], {"height": 3, "width": 4}, "RandomCrop", TOL)
    assert not ok
    # the wrong size
    ok, message, _ = check("crop", X, X[:, :4, :4], params, "RandomCrop", TOL)
    assert not ok and "shape" in message
