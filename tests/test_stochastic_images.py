"""The training-mode checks of the image augmentation layers (conformance.checks.random_layers)
accept honest outputs (fake layers in NumPy drawing from the documented law) and catch planted
faults (a wrong range, a parameter shared by the batch or by the channels, the wrong law or the
wrong operation); the reference's new formulas against values worked by hand."""
import numpy as np
import pytest
from scipy import stats

from conformance.checks import random_layers
from conformance.checks.random_layers import check
from reference_impl import random_image_layers as ref

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


# --- the kinds whose per-image parameter is recovered: honest fakes pass, planted faults fail ------

XS = rng.normal(127.5, 30.0, size=(128, 6, 7, 3)).clip(0, 255)  # the catalogue's images, inside value_range


def failing(kind, x, y, params, layer):
    ok, message, metrics = check(kind, x, y, params, layer, TOL)
    assert not ok, f"the planted fault passed: {metrics}"
    return message


def passing(kind, x, y, params, layer):
    ok, message, metrics = check(kind, x, y, params, layer, TOL)
    assert ok, message
    return metrics


def test_solarize_by_hand():
    x = image_batch([[10.0, 100.0, 200.0, 250.0]])
    # a = 0.2 (51): z = 61, 151, 251, 255 (clipped); t = 0.5 (127.5): above it mirrored
    np.testing.assert_allclose(ref.solarize(x, [0.2], [0.5])[0, 0, :, 0], [61.0, 104.0, 4.0, 0.0])
    # value_range (0, 1): a = 0.1, t = 0.3 on 0.25 and 0.5: z = 0.35, 0.6 -> 0.65, 0.4
    np.testing.assert_allclose(ref.solarize(image_batch([[0.25, 0.5]]), [0.1], [0.3], (0, 1))[0, 0, :, 0], [0.65, 0.4])
    assert ref.solarization_ranges(0.3, [0.4, 0.8]) == ((0.0, 0.3), (0.4, 0.8))


def image_batch(rows):
    return np.asarray(rows, dtype=np.float64)[None, :, :, None]


def honest_solarization(x, a_range, t_range, value_range=(0, 255), shared_threshold=False, unscaled_lower=False):
    n = x.shape[0]
    a = rng.uniform(*a_range, size=n)
    t = rng.uniform(*t_range, size=1 if shared_threshold else n) * np.ones(n)
    if unscaled_lower:  # tf.keras 3.15: uniform(lower, upper * 255) in pixel units
        a = rng.uniform(a_range[0] / 255, a_range[1], size=n)
    return ref.solarize(x, a, t, value_range)


def test_honest_solarization_passes():
    params = {"addition_factor": [0.1, 0.4], "threshold_factor": [0.4, 0.8]}
    metrics = passing("solarization", XS, honest_solarization(XS, (0.1, 0.4), (0.4, 0.8)), params, "Solarization")
    assert metrics["images_not_solarized_by_one_rule"] == 0 and metrics["threshold_images_outside_range"] == 0
    # defaults: addition 0 and threshold 0, every pixel mirrored
    passing("solarization", XS, 255 - XS, {}, "Solarization")
    x = rng.normal(0.5, 0.12, size=(128, 5, 6, 3)).clip(0, 1)
    passing("solarization", x, honest_solarization(x, (0, 0.2), (0, 0.6), (0, 1)),
            {"addition_factor": 0.2, "threshold_factor": 0.6, "value_range": [0, 1]}, "Solarization")


def test_solarization_faults_are_caught():
    params = {"addition_factor": [0.1, 0.4], "threshold_factor": [0.4, 0.8]}
    # the lower bound not scaled (tf.keras): additions below 0.1
    message = failing("solarization", XS, honest_solarization(XS, (0.1, 0.4), (0.4, 0.8), unscaled_lower=True), params,
                      "Solarization")
    assert "additions" in message
    # one threshold for the batch
    message = failing("solarization", XS, honest_solarization(XS, (0.1, 0.4), (0.4, 0.8), shared_threshold=True), params,
                      "Solarization")
    assert "thresholds" in message and "Kolmogorov" in message
    # a threshold range of [0, 0.8] where [0.4, 0.8] is documented
    message = failing("solarization", XS, honest_solarization(XS, (0.1, 0.4), (0.0, 0.8)), params, "Solarization")
    assert "outside the documented [0.4, 0.8]" in message
    # the sum not clipped before mirroring
    a = rng.uniform(0.1, 0.4, size=128)[:, None, None, None] * 255
    message = failing("solarization", XS, 255 - (XS + a), {"addition_factor": [0.1, 0.4]}, "Solarization")
    assert "not clip(x + a) solarized" in message
    # the addition drawn per pixel
    z = np.clip(XS + rng.uniform(0.1, 0.4, size=XS.shape) * 255, 0, 255)
    failing("solarization", XS, 255 - z, {"addition_factor": [0.1, 0.4]}, "Solarization")


def test_posterize_by_hand():
    # 200.7 -> level 200 = 0b11001000; 4 bits keep 0b11000000 = 192, 1 bit 128, 8 bits 200
    x = image_batch([[200.7, 15.2]])
    np.testing.assert_allclose(ref.posterize(np.concatenate([x, x, x]), [4, 1, 8])[:, 0, :, 0],
                               [[192.0, 0.0], [128.0, 0.0], [200.0, 15.0]])
    # value_range (0, 1): 0.5 -> level 127 = 0b01111111, 2 bits keep 64 -> 64 / 255
    np.testing.assert_allclose(ref.posterize(image_batch([[0.5]]), [2], (0, 1))[0, 0, 0, 0], 64 / 255)
    assert ref.posterization_bits(4) == (4,) and ref.posterization_bits([2, 6]) == (2, 3, 4, 5, 6)
    for bad in (0, 9, 2.5, [6, 2]):
        with pytest.raises(ValueError):
            ref.posterization_bits(bad)


def test_posterization_honest_and_faults():
    bits = rng.integers(2, 7, size=128)  # 2..6, the pair (2, 6)
    passing("posterization", XS, ref.posterize(XS, bits), {"factor": [2, 6]}, "RandomPosterization")
    passing("posterization", XS, ref.posterize(XS, np.full(128, 4)), {"factor": 4}, "RandomPosterization")
    # randint with the top excluded (tf.keras): 4 never kept, or 6 never kept
    message = failing("posterization", XS, ref.posterize(XS, rng.integers(1, 4, size=128)), {"factor": 4},
                      "RandomPosterization")
    assert "allowed [4]" in message
    message = failing("posterization", XS, ref.posterize(XS, rng.integers(2, 6, size=128)), {"factor": [2, 6]},
                      "RandomPosterization")
    assert "keep 6 bits" in message
    # bits drawn per channel, not per image
    per_channel = np.stack([ref.posterize(XS[..., c:c + 1], rng.integers(2, 7, size=128))[..., 0] for c in range(3)], -1)
    message = failing("posterization", XS, per_channel, {"factor": [2, 6]}, "RandomPosterization")
    assert "not their input posterized" in message
    # rounded to the nearest level instead of floored
    rounded = ref.posterize(np.round(XS), np.full(128, 8))
    failing("posterization", XS, rounded, {"factor": 8}, "RandomPosterization")


def test_rgb_hsv_round_trip_and_saturate_by_hand():
    x = rng.uniform(0, 255, size=(4, 3, 5, 3))
    h, s, v = ref.rgb_to_hsv(x)
    np.testing.assert_allclose(ref.hsv_to_rgb(h, s, v), x, rtol=1e-12, atol=1e-9)
    # pure red: h 0, s 1; (100, 50, 50): v 100, s 0.5, h 0; (50, 100, 50): h 1/3
    h, s, v = ref.rgb_to_hsv(np.array([[255.0, 0, 0], [100, 50, 50], [50, 100, 50]]))
    np.testing.assert_allclose(h, [0, 0, 1 / 3]) and np.testing.assert_allclose(s, [1, 0.5, 0.5])
    # saturation 0.5 times 1.5 = 0.75: (100, 25, 25); times 3 capped at 1: (100, 0, 0); times 0: gray (100, 100, 100)
    px = np.array([100.0, 50, 50])[None, None, None, :]
    np.testing.assert_allclose(ref.saturate(np.repeat(px, 3, axis=0), [1.5, 3.0, 0.0])[:, 0, 0],
                               [[100, 25, 25], [100, 0, 0], [100, 100, 100]])
    np.testing.assert_allclose(ref.saturation_multiplier([0.0, 0.5, 0.75]), [0.0, 1.0, 3.0])
    assert ref.saturation_multiplier(1.0) == np.inf


def honest_saturation(x, lower, upper, capped=True, multiplier=ref.saturation_multiplier):
    m = multiplier(rng.uniform(lower, upper, size=x.shape[0]))
    if capped:
        return ref.saturate(x, m)
    h, s, v = ref.rgb_to_hsv(x)
    return ref.hsv_to_rgb(h, s * m[:, None, None], v)


def test_saturation_honest_and_faults():
    metrics = passing("saturation", XS, honest_saturation(XS, 0.3, 0.6), {"factor": [0.3, 0.6]}, "RandomSaturation")
    assert metrics["elements_off_one_multiplier_per_image"] == 0
    passing("saturation", XS, honest_saturation(XS, 0.0, 0.6), {"factor": 0.6}, "RandomSaturation")
    # the saturation not capped at 1 (tf.keras with value_range (0, 255)): channels below 0
    x = XS.copy()
    x[:, 0, 0] = [200.0, 40.0, 180.0]  # saturation 0.8: above 1 from a multiplier of 1.25 (f = 5 / 9)
    y = honest_saturation(x, 0.3, 0.6, capped=False)
    assert y.min() < 0
    message = failing("saturation", x, y, {"factor": [0.3, 0.6]}, "RandomSaturation")
    assert "capped at 1" in message
    # a single float read as [-a, a] (tf.keras): half the images gray
    message = failing("saturation", XS, honest_saturation(XS, -0.6, 0.6), {"factor": 0.6}, "RandomSaturation")
    assert "saturation factors" in message
    # the multiplier 2 f instead of f / (1 - f)
    message = failing("saturation", XS, honest_saturation(XS, 0.2, 0.45, multiplier=lambda f: 2 * f),
                      {"factor": [0.2, 0.45]}, "RandomSaturation")
    assert "saturation factors" in message
    # the hue moved as well
    h, s, v = ref.rgb_to_hsv(XS)
    failing("saturation", XS, ref.hsv_to_rgb((h + 0.05) % 1, s, v), {"factor": [0.5, 0.5]}, "RandomSaturation")


def test_color_degeneration_honest_and_faults():
    f = rng.uniform(0.0, 0.6, size=128)
    passing("color_degeneration", XS, ref.color_degeneration(XS, f), {"factor": 0.6}, "RandomColorDegeneration")
    # any weighted mean is a gray: equal weights pass too
    passing("color_degeneration", XS, ref.color_degeneration(XS, f, (1 / 3, 1 / 3, 1 / 3)), {"factor": 0.6},
            "RandomColorDegeneration")
    # a single float read as [-a, a] (tf.keras)
    message = failing("color_degeneration", XS, ref.color_degeneration(XS, rng.uniform(-0.6, 0.6, size=128)),
                      {"factor": 0.6}, "RandomColorDegeneration")
    assert "degeneration factors" in message and "bounds" in message
    # one factor per channel
    per_channel = np.stack([ref.color_degeneration(XS, rng.uniform(0, 0.6, size=128))[..., c] for c in range(3)], -1)
    message = failing("color_degeneration", XS, per_channel, {"factor": 0.6}, "RandomColorDegeneration")
    assert "one f per image" in message
    # towards the image's mean, not the pixel's gray
    mean = XS.mean(axis=(1, 2, 3), keepdims=True)
    message = failing("color_degeneration", XS, XS + f[:, None, None, None] * (mean - XS), {"factor": 0.6},
                      "RandomColorDegeneration")
    assert "no weighted mean" in message
    # a gray that is not a mean of the channels (weights summing to 1.2)
    failing("color_degeneration", XS, ref.color_degeneration(XS, f, (0.4, 0.4, 0.4)), {"factor": 0.6},
            "RandomColorDegeneration")


def honest_mixup(x, alpha, shared=False, law=None):
    n = x.shape[0]
    lam = (law or (lambda size: rng.beta(alpha, alpha, size=size)))(1 if shared else n) * np.ones(n)
    return ref.mixup(x, lam, rng.permutation(n))


def test_mixup_weight_cdf():
    np.testing.assert_allclose(ref.mixup_weight_cdf([0.0, 0.25, 1.0], 1.0), [0.0, 0.25, 1.0])  # Beta(1, 1) is uniform
    np.testing.assert_allclose(ref.mixup_weight_cdf(0.5, 0.2), 0.5)  # symmetric
    np.testing.assert_allclose(ref.mixup_weight_cdf(0.3, 0.7), stats.beta(0.7, 0.7).cdf(0.3))


def test_mixup_honest_and_faults():
    metrics = passing("mixup", XS, honest_mixup(XS, 0.2), {}, "MixUp")
    assert metrics["images_not_a_mix_of_two"] == 0
    passing("mixup", XS, honest_mixup(XS, 0.7), {"alpha": 0.7}, "MixUp")
    # lambda uniform, not Beta(0.2, 0.2)
    message = failing("mixup", XS, honest_mixup(XS, 0.2, law=lambda size: rng.uniform(size=size)), {}, "MixUp")
    assert "Beta(0.2, 0.2)" in message
    # one lambda for the batch (0.3: a shared one near 0 or 1 would leave too few images to judge)
    failing("mixup", XS, honest_mixup(XS, 0.2, shared=True, law=lambda size: np.full(size, 0.3)), {}, "MixUp")
    # mixed with an image from outside the batch
    lam = rng.beta(0.2, 0.2, size=128)[:, None, None, None]
    message = failing("mixup", XS, lam * XS + (1 - lam) * rng.normal(127.5, 30, XS.shape), {}, "MixUp")
    assert "no mix" in message


def random_box(h, w):
    top, bottom = sorted(rng.integers(0, h + 1, size=2))
    left, right = sorted(rng.integers(0, w + 1, size=2))
    return int(top), int(left), int(bottom) + 1 if bottom == top else int(bottom), int(right) + 1 if right == left else int(right)


def test_cutmix_honest_and_faults():
    n, h, w = XS.shape[:3]
    boxes = [random_box(h, w) for _ in range(n)]
    partners = [int(j) for j in rng.permutation(n)]
    metrics = passing("cutmix", XS, ref.paste_boxes(XS, boxes, partners), {}, "CutMix")
    assert metrics["images_pasted"] > 100
    # the patch taken from another place of the partner
    shifted = ref.paste_boxes(XS, boxes, partners)
    for i, (top, left, bottom, right) in enumerate(boxes):
        if partners[i] != i and bottom - top < h:
            src = XS[partners[i], (top + 1) % (h - (bottom - top) + 1):][: bottom - top, left:right]
            shifted[i, top:bottom, left:right] = src
    message = failing("cutmix", XS, shifted, {}, "CutMix")
    assert "same place of another image" in message
    # pixels from the partner where a coin says so, not a rectangle
    mask = rng.random((n, h, w, 1)) < 0.3
    failing("cutmix", XS, np.where(mask, XS[partners], XS), {}, "CutMix")
    # blended, not pasted
    failing("cutmix", XS, 0.5 * XS + 0.5 * ref.paste_boxes(XS, boxes, partners), {}, "CutMix")


def honest_erasing(x, lower, upper, fill, p=None):
    n, h, w = x.shape[:3]
    erased = rng.random(n) < (rng.uniform(lower, upper, size=n) if p is None else p)
    boxes = [random_box(h, w) if e else None for e in erased]
    if fill is None:
        y = x.copy()
        for i, box in enumerate(boxes):
            if box:
                y[i, box[0]:box[2], box[1]:box[3]] = rng.normal(0, 255, size=(box[2] - box[0], box[3] - box[1], x.shape[3]))
        return y
    return ref.paste_boxes(x, boxes, [float(fill)] * n)


def test_erasing_honest_and_faults():
    x = rng.normal(127.5, 30.0, size=(256, 9, 10, 3))
    params = {"factor": [0.2, 0.6], "fill_value": 60.5}
    metrics = passing("erasing", x, honest_erasing(x, 0.2, 0.6, 60.5), params, "RandomErasing")
    assert 60 < metrics["images_erased"] < 150
    passing("erasing", x, honest_erasing(x, 0.2, 0.6, None), {"factor": [0.2, 0.6]}, "RandomErasing")
    # always erased: factor 1.0 read as "always applied" where a probability is sampled in [0, 1]
    message = failing("erasing", x, honest_erasing(x, 0, 1, 60.5, p=1.0), {"fill_value": 60.5}, "RandomErasing")
    assert "erased" in message and "p-value" in message
    # the wrong fill value
    message = failing("erasing", x, honest_erasing(x, 0.2, 0.6, 0.0), params, "RandomErasing")
    assert "filled with 60.5" in message
    # two rectangles (or an L shape) in an image, with noise: not one rectangle changed everywhere inside
    y = x.copy()
    y[:, 0:2, 0:2] = 0.0
    y[:, 5:7, 6:9] = 0.0
    failing("erasing", x, y, {"factor": [0.2, 0.6]}, "RandomErasing")


def test_gaussian_kernel_and_blur_by_hand():
    np.testing.assert_allclose(ref.gaussian_kernel(3, 1.0), np.array([np.exp(-0.5), 1, np.exp(-0.5)]) / (1 + 2 * np.exp(-0.5)))
    # a single bright pixel spreads as the kernel's outer product
    x = np.zeros((1, 5, 5, 1))
    x[0, 2, 2, 0] = 1.0
    g = ref.gaussian_kernel(3, 0.7)
    np.testing.assert_allclose(ref.gaussian_blur_interior(x, [0.7])[0, :, :, 0], np.outer(g, g))
    assert ref.blur_sigma_range(0.8) == (0.8, 0.8) and ref.blur_sigma_range([0.3, 0.9]) == (0.3, 0.9)
    with pytest.raises(ValueError):
        ref.blur_kernel_size(4)


def honest_blur(x, sigma_y, sigma_x, k=3):
    """The blur with zero padding (tf.keras's border), one (sigma_y, sigma_x) per image."""
    n, h, w, c = x.shape
    r = k // 2
    padded = np.pad(x, ((0, 0), (r, r), (r, r), (0, 0)))
    out = np.zeros_like(x)
    for i in range(n):
        gy, gx = ref.gaussian_kernel(k, sigma_y[i]), ref.gaussian_kernel(k, sigma_x[i])
        for a in range(k):
            for b in range(k):
                out[i] += gy[a] * gx[b] * padded[i, a:a + h, b:b + w]
    return out


def test_gaussian_blur_honest_and_faults():
    x = rng.normal(127.5, 30.0, size=(64, 9, 10, 3))
    params = {"factor": [1.0, 1.0], "sigma": [0.3, 0.9]}
    s = rng.uniform(0.3, 0.9, size=64)
    metrics = passing("gaussian_blur", x, honest_blur(x, s, s), params, "RandomGaussianBlur")
    assert metrics["images_not_one_isotropic_blur"] == 0
    passing("gaussian_blur", x, honest_blur(x, np.full(64, 0.8), np.full(64, 0.8)), {"sigma": 0.8}, "RandomGaussianBlur")
    # one (sigma_y, sigma_x) for the batch (tf.keras)
    sy, sx = rng.uniform(0.3, 0.9, size=2)
    message = failing("gaussian_blur", x, honest_blur(x, np.full(64, sy), np.full(64, sx)), params, "RandomGaussianBlur")
    assert "same sigma along both axes" in message
    # one isotropic sigma for the batch
    message = failing("gaussian_blur", x, honest_blur(x, np.full(64, sy), np.full(64, sy)), params, "RandomGaussianBlur")
    assert "height sigmas" in message
    # sigmas from [0.1, 0.9]
    s = rng.uniform(0.1, 0.9, size=64)
    failing("gaussian_blur", x, honest_blur(x, s, s), params, "RandomGaussianBlur")
    # a box blur
    box = sum(np.roll(np.roll(x, a, 1), b, 2) for a in (-1, 0, 1) for b in (-1, 0, 1)) / 9
    failing("gaussian_blur", x, box, params, "RandomGaussianBlur")


def test_training_unmodelled_says_why():
    assert ref.training_unmodelled("RandomHue", {"factor": 0.5}).startswith("its documented distribution")
    assert "factor [1, 1]" in ref.training_unmodelled("RandomGaussianBlur", {"factor": 0.5})
    assert ref.training_unmodelled("RandomGaussianBlur", {"factor": [1.0, 1.0]}) is None
    assert ref.training_unmodelled("Solarization", {}) is None


def test_censored_uniform_is_conservative_and_exact_for_points():
    lower, upper = 0.2, 0.7
    truth = rng.uniform(lower, upper, size=200)
    # point intervals: the plain KS statistic
    metrics, messages = {}, []
    random_layers._censored_uniform(truth, truth, lower, upper, "t", metrics, messages)
    assert metrics["t_ks_lower_bound"] == pytest.approx(stats.kstest(truth, stats.uniform(lower, upper - lower).cdf).statistic)
    assert not messages
    # wide intervals around the truth: the bound never exceeds the true statistic
    for _ in range(20):
        lo, hi = truth - rng.uniform(0, 0.2, size=200), truth + rng.uniform(0, 0.2, size=200)
        metrics = {}
        random_layers._censored_uniform(lo, hi, lower, upper, "t", metrics, [])
        true_d = stats.kstest(truth, stats.uniform(lower, upper - lower).cdf).statistic
        assert metrics["t_ks_lower_bound"] <= true_d + 1e-12
    # intervals that miss the range are named
    messages = []
    random_layers._censored_uniform(np.array([0.0, 0.3]), np.array([0.1, 0.4]), lower, upper, "t", {}, messages)
    assert "1 of 2 images need a t outside" in messages[0]


def test_new_kinds_false_alarm_at_a_visible_level(monkeypatch):
    """Honest fakes at FALSE_ALARM = 0.2: each statistic rejects at most its share of it, so over 30
    draws per kind the failures stay well below 30 (expected at most 6; 18 has probability < 1e-5)."""
    monkeypatch.setattr(random_layers, "FALSE_ALARM", 0.2)
    x = XS[:64]
    fakes = {
        "solarization": (lambda: honest_solarization(x, (0.1, 0.4), (0.4, 0.8)),
                         {"addition_factor": [0.1, 0.4], "threshold_factor": [0.4, 0.8]}),
        "posterization": (lambda: ref.posterize(x, rng.integers(2, 7, size=64)), {"factor": [2, 6]}),
        "color_degeneration": (lambda: ref.color_degeneration(x, rng.uniform(0.2, 0.7, size=64)), {"factor": [0.2, 0.7]}),
        "saturation": (lambda: honest_saturation(x, 0.3, 0.6), {"factor": [0.3, 0.6]}),
        "mixup": (lambda: honest_mixup(x, 0.2), {}),
    }
    for kind, (draw, params) in fakes.items():
        failures = sum(not check(kind, x, draw(), params, kind, TOL)[0] for _ in range(30))
        assert failures <= 18, f"{kind}: {failures} of 30 honest draws failed at FALSE_ALARM 0.2"


# --- the geometric kinds: RandomTranslation, RandomRotation, RandomZoom (nearest, constant fill) ---

XG = np.random.default_rng(7).normal(127.5, 30.0, size=(128, 15, 18, 3))  # own stream
FILL = -1000.0
GEO = {"interpolation": "nearest", "fill_mode": "constant", "fill_value": FILL}


def test_geometric_sources_by_hand():
    x = np.arange(20.0).reshape(1, 4, 5, 1)
    # down 1 and left 2: row 0 filled, row r holds row r - 1 from column 2 on
    np.testing.assert_array_equal(ref.geometric("translation", x, [[1, -2]], -1)[0, ..., 0],
                                  [[-1, -1, -1, -1, -1], [2, 3, 4, -1, -1], [7, 8, 9, -1, -1], [12, 13, 14, -1, -1]])
    # a quarter turn counter-clockwise about the centre (2, 2): the pixel above the centre goes left of it
    dot = np.zeros((1, 5, 5, 1))
    dot[0, 1, 2, 0] = 1.0
    turned = ref.geometric("rotation", dot, [np.pi / 2], 0.0)[0, ..., 0]
    assert turned[2, 1] == 1.0 and turned.sum() == 1.0
    # zoom 2 (f = 1, zoomed out) of a 5 x 5 about (2, 2): output (r, c) samples (2 + 2 (r - 2), 2 + 2 (c - 2))
    x = np.arange(25.0).reshape(1, 5, 5, 1)
    np.testing.assert_array_equal(ref.geometric("zoom", x, [[2.0, 2.0]], -1)[0, ..., 0],
                                  [[-1] * 5, [-1, 0, 2, 4, -1], [-1, 10, 12, 14, -1], [-1, 20, 22, 24, -1], [-1] * 5])
    # ranges: a float a is [-a, a]; a pair its (lower, upper); rotations beyond half a turn are not modelled
    assert ref.translation_ranges(0.2, [-0.2, 0.3]) == ((-0.2, 0.2), (-0.2, 0.3))
    assert ref.zoom_ranges(0.3) == ((-0.3, 0.3), None)
    with pytest.raises(ValueError):
        ref.zoom_ranges([-1.0, 0.2])
    assert "half a turn" in ref.training_unmodelled("RandomRotation", {"factor": 0.6, **GEO})
    assert "nearest" in ref.training_unmodelled("RandomZoom", {"height_factor": 0.2})
    assert ref.training_unmodelled("RandomTranslation", {"height_factor": 0.2, "width_factor": 0.2, **GEO}) is None


def honest_translation(x, h_range, w_range, shared=False, sign=1.0):
    n, h, w = x.shape[:3]
    size = 1 if shared else n
    d = np.stack([rng.uniform(*h_range, size=size) * h, rng.uniform(*w_range, size=size) * w], axis=1)
    return ref.geometric("translation", x, sign * d * np.ones((n, 1)), FILL)


def honest_rotation(x, lower, upper, shared=False, turn=2 * np.pi):
    n = x.shape[0]
    return ref.geometric("rotation", x, rng.uniform(lower, upper, size=1 if shared else n) * turn * np.ones(n), FILL)


def honest_zoom(x, h_range, w_range=None, shared=False, law=lambda f: 1 + f):
    n = x.shape[0]
    size = 1 if shared else n
    fh = rng.uniform(*h_range, size=size)
    fw = fh if w_range is None else rng.uniform(*w_range, size=size)
    return ref.geometric("zoom", x, np.stack([law(fh), law(fw)], axis=1) * np.ones((n, 1)), FILL)


def test_translation_honest_and_faults():
    params = {"height_factor": [-0.2, 0.3], "width_factor": [0.1, 0.4], **GEO}
    metrics = passing("translation", XG, honest_translation(XG, (-0.2, 0.3), (0.1, 0.4)), params, "RandomTranslation")
    assert metrics["pixels_not_copied_nor_fill"] == 0 and metrics["images_not_one_parameter"] == 0
    assert metrics["fill_pixels"] > 0
    passing("translation", XG, honest_translation(XG, (-0.2, 0.2), (-0.3, 0.3)),
            {"height_factor": 0.2, "width_factor": 0.3, **GEO}, "RandomTranslation")
    # the sign flipped (up where down is documented): shifts outside [-0.2, 0.3]
    message = failing("translation", XG, honest_translation(XG, (-0.2, 0.3), (0.1, 0.4), sign=-1.0), params,
                      "RandomTranslation")
    assert "outside the documented" in message
    # one shift for the whole batch
    message = failing("translation", XG, honest_translation(XG, (-0.2, 0.3), (0.1, 0.4), shared=True), params,
                      "RandomTranslation")
    assert "Kolmogorov" in message
    # a float a read as [0, a]
    message = failing("translation", XG, honest_translation(XG, (0, 0.3), (0, 0.3)),
                      {"height_factor": 0.3, "width_factor": 0.3, **GEO}, "RandomTranslation")
    assert "shifts" in message
    # the fraction of the other axis's size (width for the height)
    n, h, w = XG.shape[:3]
    d = np.stack([rng.uniform(-0.2, 0.3, n) * w * 2, rng.uniform(0.1, 0.4, n) * w], axis=1)
    failing("translation", XG, ref.geometric("translation", XG, d, FILL), params, "RandomTranslation")
    # bilinear values, not copies; wrapped around instead of filled
    message = failing("translation", XG, 0.5 * (XG + np.roll(XG, 1, axis=2)), params, "RandomTranslation")
    assert "neither fill_value" in message
    message = failing("translation", XG, np.roll(XG, (2, 3), axis=(1, 2)), params, "RandomTranslation")
    assert "copy their pixels from places no one shift" in message


def test_rotation_honest_and_faults():
    params = {"factor": [-0.05, 0.2], **GEO}
    metrics = passing("rotation", XG, honest_rotation(XG, -0.05, 0.2), params, "RandomRotation")
    assert metrics["images_not_one_parameter"] == 0 and metrics["fill_pixels_inside_the_image"] == 0
    passing("rotation", XG, honest_rotation(XG, -0.1, 0.1), {"factor": 0.1, **GEO}, "RandomRotation")
    # clockwise for a positive factor
    message = failing("rotation", XG, honest_rotation(XG, -0.2, 0.05), params, "RandomRotation")
    assert "outside the documented" in message
    # one angle for the batch
    message = failing("rotation", XG, honest_rotation(XG, -0.05, 0.2, shared=True), params, "RandomRotation")
    assert "Kolmogorov" in message
    # the factor a fraction of pi, not of 2 pi: every angle in half the range
    message = failing("rotation", XG, honest_rotation(XG, -0.05, 0.2, turn=np.pi), params, "RandomRotation")
    assert "per-image rotations" in message
    # about the top-left corner, not the centre
    n, h, w = XG.shape[:3]
    a = rng.uniform(-0.05, 0.2, n)[:, None, None] * 2 * np.pi
    r, c = np.meshgrid(np.arange(h, dtype=float), np.arange(w, dtype=float), indexing="ij")
    corner = ref.nearest_resample(XG, np.sin(a) * c + np.cos(a) * r, np.cos(a) * c - np.sin(a) * r, FILL)
    message = failing("rotation", XG, corner, params, "RandomRotation")
    assert "no one rotation about the centre" in message


def test_zoom_honest_and_faults():
    params = {"height_factor": [-0.3, 0.2], **GEO}
    metrics = passing("zoom", XG, honest_zoom(XG, (-0.3, 0.2)), params, "RandomZoom")
    assert metrics["images_with_two_zooms"] == 0
    both = {"height_factor": [0.1, 0.4], "width_factor": [-0.4, -0.1], **GEO}
    passing("zoom", XG, honest_zoom(XG, (0.1, 0.4), (-0.4, -0.1)), both, "RandomZoom")
    passing("zoom", XG, honest_zoom(XG, (-0.3, 0.3)), {"height_factor": 0.3, **GEO}, "RandomZoom")
    # width_factor None but the axes drawn apart (the aspect ratio not kept)
    message = failing("zoom", XG, honest_zoom(XG, (-0.3, 0.2), (-0.3, 0.2)), params, "RandomZoom")
    assert "aspect ratio" in message
    # zoomed in for a positive factor (1 - f)
    message = failing("zoom", XG, honest_zoom(XG, (-0.3, 0.2), law=lambda f: 1 - f), params, "RandomZoom")
    assert "outside the documented" in message
    # one zoom for the batch
    failing("zoom", XG, honest_zoom(XG, (0.1, 0.4), (-0.4, -0.1), shared=True), both, "RandomZoom")
    # the content scaled by 1 + f (the output spans 1 / (1 + f)): the wrong law
    message = failing("zoom", XG, honest_zoom(XG, (-0.3, 0.2), law=lambda f: 1 / (1 + f)), params, "RandomZoom")
    assert "zoom" in message
    # about the corner, not the centre
    n, h, w = XG.shape[:3]
    z = 1 + rng.uniform(-0.3, 0.2, n)[:, None, None]
    r, c = np.meshgrid(np.arange(h, dtype=float), np.arange(w, dtype=float), indexing="ij")
    failing("zoom", XG, ref.nearest_resample(XG, z * r, z * c, FILL), params, "RandomZoom")


def test_geometric_copies_found_among_many_equal_values():
    """A bfloat16 image of 0..255 has few distinct values (128 above 128): many input pixels share
    each first channel, and the copy each output pixel is must still be found among them."""
    import ml_dtypes

    x = np.asarray(np.asarray(XG, dtype=ml_dtypes.bfloat16), dtype=np.float64)
    assert np.unique(x[0, ..., 0]).size < 0.6 * x[0, ..., 0].size
    params = {"height_factor": [-0.3, 0.2], **GEO}
    metrics = passing("zoom", x, honest_zoom(x, (-0.3, 0.2)), params, "RandomZoom")
    assert metrics["pixels_not_copied_nor_fill"] == 0 and metrics["images_not_one_parameter"] == 0
    failing("zoom", x, honest_zoom(x, (-0.3, 0.2), law=lambda f: 1 - f), params, "RandomZoom")


def test_geometric_false_alarm_at_a_visible_level(monkeypatch):
    """As below, for the geometric kinds: honest fakes at FALSE_ALARM = 0.2, 30 draws each."""
    monkeypatch.setattr(random_layers, "FALSE_ALARM", 0.2)
    x = XG[:64]
    fakes = {
        "translation": (lambda: honest_translation(x, (-0.2, 0.3), (-0.2, 0.2)),
                        {"height_factor": [-0.2, 0.3], "width_factor": 0.2, **GEO}),
        "rotation": (lambda: honest_rotation(x, -0.05, 0.2), {"factor": [-0.05, 0.2], **GEO}),
        "zoom": (lambda: honest_zoom(x, (-0.3, 0.2)), {"height_factor": [-0.3, 0.2], **GEO}),
    }
    for kind, (draw, params) in fakes.items():
        failures = sum(not check(kind, x, draw(), params, kind, TOL)[0] for _ in range(30))
        assert failures <= 18, f"{kind}: {failures} of 30 honest draws failed at FALSE_ALARM 0.2"


# --- 16 bits: outputs rounded to float16 or bfloat16 (random_layers' interval checks) -------------
#
# Honest fakes evaluate each layer's documented formula in the 16-bit format the way TensorFlow
# does (every operation rounded to nearest, parameters drawn in float32 or in the format and
# rounded), on inputs of the format; the planted faults are the float32 ones, made in 16 bits.

FORMATS16 = ("float16", "bfloat16")


def r16(values, fmt):
    """values rounded to nearest in `fmt`, as float64."""
    import ml_dtypes

    kind = {"float16": np.float16, "bfloat16": ml_dtypes.bfloat16}[fmt]
    return np.asarray(values, dtype=np.float64).astype(kind).astype(np.float64)


def check16(kind, x, y, params, layer, fmt):
    return check(kind, x, y, params, layer, {"rtol": 1.6e-2, "atol": 1e-2}, fmt)


def passing16(kind, x, y, params, layer, fmt):
    ok, message, metrics = check16(kind, x, y, params, layer, fmt)
    assert ok, f"{fmt}: {message}"
    assert metrics["rounded_to"] == fmt
    return metrics


def failing16(kind, x, y, params, layer, fmt):
    ok, message, metrics = check16(kind, x, y, params, layer, fmt)
    assert not ok, f"{fmt}: the planted fault passed: {metrics}"
    return message


def per(x, shape_of):
    return {"image": (x.shape[0], 1, 1, 1), "channel": (x.shape[0], 1, 1, x.shape[3]), "pixel": x.shape}[shape_of]


def brightness16(x, lower, upper, fmt, value_range=(0.0, 255.0), shape_of="image", gen=None):
    """clip(x + d) in the format: d = f (high - low) drawn in float32, cast to the format, added, rounded."""
    gen = gen or rng
    low, high = value_range
    d = r16(gen.uniform(lower, upper, size=per(x, shape_of)) * (high - low), fmt)
    return np.clip(r16(x + d, fmt), low, high)


def contrast16(x, lower, upper, fmt, shape_of="image", gen=None):
    """clip((x - m) f + m): f drawn in the format, the mean over the height then the width rounded, then
    the subtraction, the product and the sum rounded, as RandomContrast in float16."""
    gen = gen or rng
    f = r16(gen.uniform(lower, upper, size=per(x, shape_of)), fmt)
    m = r16(r16(x.mean(axis=1, keepdims=True), fmt).mean(axis=2, keepdims=True), fmt)
    return np.clip(r16(r16(r16(x - m, fmt) * f, fmt) + m, fmt), 0, 255)


def solarization16(x, a_range, t_range, fmt, value_range=(0, 255), shared_threshold=False, unscaled_lower=False):
    """Solarization in the format: x mapped to 0..255, a and t drawn in the format (times 255), the sum
    clipped, mirrored where it reaches the threshold, mapped back; every operation rounded."""
    low, high = value_range
    n = x.shape[0]
    a = rng.uniform(a_range[0] / 255 if unscaled_lower else a_range[0], a_range[1], size=n)
    t = rng.uniform(*t_range, size=1 if shared_threshold else n) * np.ones(n)
    a, t = (r16(v * 255, fmt)[:, None, None, None] for v in (a, t))
    px = r16(r16(x - low, fmt) * (255 / (high - low)), fmt)
    z = np.clip(r16(px + a, fmt), 0, 255)
    z = np.where(z < t, z, r16(255 - z, fmt))
    return r16(r16(z * ((high - low) / 255), fmt) + low, fmt)


def saturation16(x, lower, upper, fmt, capped=True, shape_of="image", law=None, gen=None):
    """RandomSaturation as TensorFlow computes it in the format: rgb_to_hsv in double, cast; the
    multiplier f / (1 - f) from float32, cast; S m rounded and clipped; hsv_to_rgb's ramps and
    (1 - S + S d) V with every operation rounded."""
    gen = gen or rng
    f = gen.uniform(lower, upper, size=per(x, shape_of)[:1] + (1, 1) if shape_of == "image" else x.shape[:3])
    m = r16((law or (lambda f: f / (1 - f)))(f), fmt)
    h, s, v = (r16(c, fmt) for c in ref.rgb_to_hsv(x))
    s = r16(s * m, fmt)
    s = np.clip(s, 0, 1 if capped else 255)
    dh = r16(h * 6, fmt)
    ramps = [np.clip(r16(np.abs(r16(dh - 3, fmt)) - 1, fmt), 0, 1),
             np.clip(r16(2 - np.abs(r16(dh - 2, fmt)), fmt), 0, 1),
             np.clip(r16(2 - np.abs(r16(dh - 4, fmt)), fmt), 0, 1)]
    one_s = r16(1 - s, fmt)
    return np.stack([r16(r16(one_s + r16(s * d, fmt), fmt) * v, fmt) for d in ramps], axis=-1)


def mixup16(x, alpha, fmt, law=None, affine=True):
    """MixUp in the format: lambda ~ Beta(alpha, alpha) cast, 1 - lambda, both products and the sum rounded."""
    n = x.shape[0]
    w = r16(law(n) if law else rng.beta(alpha, alpha, size=n), fmt)[:, None, None, None]
    other = r16(1 - w, fmt) if affine else w
    partner = rng.permutation(n)
    return r16(r16(w * x, fmt) + r16(other * x[partner], fmt), fmt)


@pytest.mark.parametrize("fmt", FORMATS16)
def test_brightness_in_16_bits_honest_and_faults(fmt):
    x = r16(X, fmt)
    y = brightness16(x, -0.6, 0.6, fmt)
    assert (y == 255).any() and (y == 0).any()
    metrics = passing16("brightness", x, y, {"factor": 0.6}, "RandomBrightness", fmt)
    assert metrics["images_not_one_delta"] == 0
    passing16("brightness", x, brightness16(x, -0.1, 0.6, fmt), {"factor": [-0.1, 0.6]}, "RandomBrightness", fmt)
    xu = r16(rng.normal(0.5, 0.12, size=(64, 5, 6, 3)), fmt)
    unit = {"factor": 0.3, "value_range": [0, 1]}
    passing16("brightness", xu, brightness16(xu, -0.3, 0.3, fmt, (0.0, 1.0)), unit, "RandomBrightness", fmt)
    # a factor 10% off its range: [-0.33, 0.33] where 0.3 is documented
    message = failing16("brightness", x, brightness16(x, -0.33, 0.33, fmt, gen=np.random.default_rng(50)), {"factor": 0.3},
                        "RandomBrightness", fmt)
    assert "outside the documented [-0.3, 0.3]" in message
    # one delta per channel, or per pixel
    for shape_of in ("channel", "pixel"):
        message = failing16("brightness", x, brightness16(x, -0.3, 0.3, fmt, shape_of=shape_of), {"factor": 0.3},
                            "RandomBrightness", fmt)
        assert "one d per image" in message
    # not scaled to the value range (the factor added as it is)
    d = r16(rng.uniform(-0.3, 0.3, size=64), fmt)[:, None, None, None]
    message = failing16("brightness", x, np.clip(r16(x + d, fmt), 0, 255), {"factor": 0.3}, "RandomBrightness", fmt)
    assert "brightness factors" in message


@pytest.mark.parametrize("fmt", FORMATS16)
def test_contrast_in_16_bits_honest_and_faults(fmt):
    x = r16(X, fmt)
    passing16("contrast", x, contrast16(x, 0.6, 1.4, fmt), {"factor": 0.4}, "RandomContrast", fmt)
    metrics = passing16("contrast", x, contrast16(x, 0.8, 1.5, fmt), {"factor": [0.2, 0.5]}, "RandomContrast", fmt)
    assert metrics["images_not_one_factor"] == 0
    message = failing16("contrast", x, contrast16(x, 0.6, 1.4, fmt, shape_of="channel"), {"factor": 0.4}, "RandomContrast", fmt)
    assert "one f per image" in message
    # never lowers the contrast (tf.keras with a single float): [1, 1.4] where [0.6, 1.4] is documented
    message = failing16("contrast", x, contrast16(x, 1.0, 1.4, fmt), {"factor": 0.4}, "RandomContrast", fmt)
    assert "contrast factors: Kolmogorov-Smirnov" in message
    # a factor 10% off: [0.8, 1.55] where [0.8, 1.5] is documented
    message = failing16("contrast", x, contrast16(x, 0.8, 1.55, fmt, gen=np.random.default_rng(51)), {"factor": [0.2, 0.5]},
                        "RandomContrast", fmt)
    assert "outside the documented [0.8, 1.5]" in message


@pytest.mark.parametrize("fmt", FORMATS16)
def test_solarization_in_16_bits_honest_and_faults(fmt):
    x = r16(XS, fmt)
    params = {"addition_factor": [0.1, 0.4], "threshold_factor": [0.4, 0.8]}
    metrics = passing16("solarization", x, solarization16(x, (0.1, 0.4), (0.4, 0.8), fmt), params, "Solarization", fmt)
    assert metrics["images_not_solarized_by_one_rule"] == 0
    xu = r16(rng.normal(0.5, 0.12, size=(128, 5, 6, 3)).clip(0, 1), fmt)
    unit = {"addition_factor": 0.2, "threshold_factor": 0.6, "value_range": [0, 1]}
    passing16("solarization", xu, solarization16(xu, (0, 0.2), (0, 0.6), fmt, (0, 1)), unit, "Solarization", fmt)
    message = failing16("solarization", x, solarization16(x, (0.1, 0.4), (0.4, 0.8), fmt, unscaled_lower=True), params,
                        "Solarization", fmt)
    assert "addition" in message
    message = failing16("solarization", x, solarization16(x, (0.1, 0.4), (0.4, 0.8), fmt, shared_threshold=True), params,
                        "Solarization", fmt)
    assert "thresholds" in message
    message = failing16("solarization", x, solarization16(x, (0.1, 0.4), (0.0, 0.8), fmt), params, "Solarization", fmt)
    assert "outside the documented [0.4, 0.8]" in message


@pytest.mark.parametrize("fmt", FORMATS16)
def test_saturation_in_16_bits_honest_and_faults(fmt):
    x = r16(XS, fmt)
    metrics = passing16("saturation", x, saturation16(x, 0.2, 0.45, fmt), {"factor": [0.2, 0.45]}, "RandomSaturation", fmt)
    assert metrics["images_not_one_multiplier"] == 0 and metrics["elements_off_one_multiplier_per_image"] == 0
    passing16("saturation", x, saturation16(x, 0.3, 0.6, fmt), {"factor": [0.3, 0.6]}, "RandomSaturation", fmt)
    # a multiplier per pixel
    message = failing16("saturation", x, saturation16(x, 0.2, 0.45, fmt, shape_of="pixel"), {"factor": [0.2, 0.45]},
                        "RandomSaturation", fmt)
    assert "no single m" in message or "saturation factors" in message
    # the linear map 2 f where f / (1 - f) is documented: the same three points at 0 and 0.5 only
    message = failing16("saturation", x, saturation16(x, 0.2, 0.45, fmt, law=lambda f: 2 * f), {"factor": [0.2, 0.45]},
                        "RandomSaturation", fmt)
    assert "saturation factors" in message
    # the saturation not capped at 1 (tf.keras with value_range (0, 255)): channels below 0
    message = failing16("saturation", x, saturation16(x, 0.3, 0.6, fmt, capped=False), {"factor": [0.3, 0.6]},
                        "RandomSaturation", fmt)
    assert "capped at 1" in message
    # a factor range 10% off: [0.2, 0.495] where [0.2, 0.45] is documented
    message = failing16("saturation", x, saturation16(x, 0.2, 0.495, fmt, gen=np.random.default_rng(52)),
                        {"factor": [0.2, 0.45]}, "RandomSaturation", fmt)
    assert "saturation factor" in message


@pytest.mark.parametrize("fmt", FORMATS16)
def test_mixup_in_16_bits_honest_and_faults(fmt):
    x = r16(XS, fmt)
    metrics = passing16("mixup", x, mixup16(x, 0.2, fmt), {}, "MixUp", fmt)
    assert metrics["images_not_a_mix_of_two"] == 0
    passing16("mixup", x, mixup16(x, 0.7, fmt), {"alpha": 0.7}, "MixUp", fmt)
    # the wrong Beta parameter: Beta(5, 5), 1 / alpha, where alpha = 0.2 is documented (their cdfs
    # differ by 0.39 at most; Beta(0.7, 0.7) differs from Beta(0.2, 0.2) by 0.2, which 128 images
    # cannot tell at the level, in float32 either)
    message = failing16("mixup", x, mixup16(x, 0.2, fmt, law=lambda n: rng.beta(5.0, 5.0, size=n)), {"alpha": 0.2}, "MixUp", fmt)
    assert "Beta(0.2, 0.2) cdf" in message
    # weights that do not sum to 1 (w x_i + w x_j)
    message = failing16("mixup", x, mixup16(x, 0.2, fmt, affine=False), {}, "MixUp", fmt)
    assert "no mix" in message


def test_16_bit_checks_false_alarm_at_a_visible_level(monkeypatch):
    """Honest 16-bit fakes at FALSE_ALARM = 0.2, 20 draws per kind and format: the interval checks
    are conservative, so the failures stay far below the 20 x 0.2 = 4 the level allows (12 or more has
    probability below 1e-3)."""
    monkeypatch.setattr(random_layers, "FALSE_ALARM", 0.2)
    fakes = {
        "brightness": (lambda x, fmt: brightness16(x, -0.3, 0.3, fmt), {"factor": 0.3}),
        "contrast": (lambda x, fmt: contrast16(x, 0.8, 1.5, fmt), {"factor": [0.2, 0.5]}),
        "solarization": (lambda x, fmt: solarization16(x, (0.1, 0.4), (0.4, 0.8), fmt),
                         {"addition_factor": [0.1, 0.4], "threshold_factor": [0.4, 0.8]}),
        "saturation": (lambda x, fmt: saturation16(x, 0.2, 0.45, fmt), {"factor": [0.2, 0.45]}),
        "mixup": (lambda x, fmt: mixup16(x, 0.2, fmt), {}),
    }
    for fmt in FORMATS16:
        x = r16(XS[:64], fmt)
        for kind, (draw, params) in fakes.items():
            failures = sum(not check16(kind, x, draw(x, fmt), params, kind, fmt)[0] for _ in range(20))
            assert failures < 12, f"{kind} in {fmt}: {failures} of 20 honest draws failed at FALSE_ALARM 0.2"


def test_float32_tolerance_path_still_applies_to_16_bit_outputs_without_a_dtype():
    """Without the dtype, a 16-bit output is judged with the tolerance, as before: the interval checks
    are chosen by the case's dtype, not guessed from the values."""
    x = r16(X, "bfloat16")
    ok, message, metrics = check("brightness", x, brightness16(x, -0.3, 0.3, "bfloat16"), {"factor": 0.3},
                                 "RandomBrightness", {"rtol": 1.6e-2, "atol": 1e-2})
    assert "rounded_to" not in metrics and "elements_off_one_delta_per_image" in metrics
    for dtype in ("float32", "float64", None):
        assert "rounded_to" not in check("brightness", X, honest_brightness(X, -0.3, 0.3), {"factor": 0.3},
                                         "RandomBrightness", TOL, dtype)[2]
