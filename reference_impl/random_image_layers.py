"""Keras 3 image augmentation layers (RandomFlip, RandomBrightness, ..., AugMix, RandAugment,
AutoContrast, Equalization) in NumPy float64: what their documentation fixes.

Images are batched, channels_last: (batch, height, width, channels). Most of the layers are
random in training, so the reference states, rather than samples, what a training output must
satisfy (conformance.checks.random_layers); at inference each does what its docstring says:

- the identity, for every layer whose docstring says so ("At inference time, the output will
  be identical to the input", RandomBrightness; "During inference time, the output will be
  identical to input", RandomFlip; "At inference time, the layer does nothing",
  RandomRotation; "randomly adjusts contrast during training", RandomContrast; ...), and for
  the layers whose docstring is silent about inference (AugMix, CutMix, MixUp, RandAugment,
  RandomColorDegeneration, RandomColorJitter, RandomElasticTransform, RandomErasing,
  RandomGaussianBlur, RandomGrayscale, RandomHeight, RandomHue, RandomInvert,
  RandomPerspective, RandomPosterization, RandomSaturation, RandomSharpness, RandomShear,
  RandomWidth, Solarization). Reading taken: a data augmentation is a training-time
  transformation, as Keras's base class for them documents for the whole family (the layers
  are "only active during training"), so silence means the identity. INFERENCE_IS_IDENTITY lists them.
- RandomCrop(height, width): "At inference time, [...] the input will be resized and cropped
  so as to return the largest possible window in the image that matches the target aspect
  ratio": `center_crop_resize`. The window is the centred (crop_h, crop_w) with crop_h =
  min(H, floor(W * height / width)), crop_w = min(W, floor(H * width / height)), starting at
  floor((H - crop_h) / 2), floor((W - crop_w) / 2) (reading taken: the docs do not say how a
  non-integer size or offset rounds; floor, as CenterCrop's centring), resized to (height,
  width) bilinearly with half-pixel centres (Resizing's default interpolation).
- AutoContrast(value_range): "active at both training and inference time": `auto_contrast`.
  "Auto contrast stretches the values of an image across the entire available value_range":
  y = low + (x - m) * (high - low) / (M - m), m and M the minimum and maximum of the image,
  taken per channel (reading taken: as PIL's ImageOps.autocontrast, the operation the layer is
  named after, which stretches each band), then clipped to [low, high]. A constant channel
  (M = m) is undefined by the formula: the reference raises ValueError.
- Equalization(value_range, bins): "At inference time, the equalization is consistently
  applied": `equalization`, histogram equalization of each channel of each image: the
  channel's values v are put in `bins` equal-width bins over value_range (bin
  floor((v - low) / (high - low) * bins), the top value in the last bin); with cdf the
  cumulative count of the bins, n the number of pixels and cdf_min the first non-zero cdf,
  v maps to low + round((cdf(bin(v)) - cdf_min) / (n - cdf_min) * 255) / 255 * (high - low)
  (the textbook formula, 256 output levels; n = cdf_min, a single occupied bin, leaves the
  channel unchanged). Reading taken for the bins: `bins` equal-width bins over value_range, as
  a "fixed-width" histogram (NumPy's, TensorFlow's histogram_fixed_width); Keras 3.15 uses bins
  of width (high - low) / (bins - 1) with the top value alone in the last one. Both readings
  agree on integer pixels 0..255 with 256 bins (one bin per level), which is what the catalogue
  compares in training.

In training (the statistical kinds, `STOCHASTIC`):

- flip (RandomFlip(mode)): every image is either unchanged or flipped, "horizontal" a
  left-right flip (the width axis), "vertical" a top-bottom flip (the height axis),
  "horizontal_and_vertical" any of the four; with one axis, each image is flipped with
  probability 1/2 (the flipped count is Binomial(batch, 1/2); reading taken: "randomly flips"
  with nothing else said is a fair coin).
- brightness (RandomBrightness(factor, value_range)): y = clip(x + d, low, high) with one d
  per image ("0.1 * 255 to all the channel"), d = f * (high - low), f uniform on
  [lower, upper] (`brightness_range`: a float a means [-a, a]).
- crop (RandomCrop(height, width)) on images at least as large as the target: "this layer will
  randomly choose a location to crop images down to a target size. The layer will crop all the
  images in the same batch to the same cropping location": the output is x[:, top:top + height,
  left:left + width] for one (top, left) (`crop_locations` lists the possible ones).
- contrast (RandomContrast(factor, value_range)): "For each channel, this layer computes the
  mean of the image pixels in the channel and then adjusts each component x of each pixel to
  (x - mean) * contrast_factor + mean", one factor per image, "randomly picked between
  [1.0 - lower, 1.0 + upper]" where "When represented as a single float, lower = upper"
  (`contrast_range`). Reading taken: the result is clipped to value_range (the docstring does
  not say; "value_range: the range of values the incoming images will have").
- grayscale (RandomGrayscale(factor)): each image is unchanged or converted, with probability
  factor ("A value of 1.0 means all images will be converted"); a converted image has all
  channels equal to a luminance of the pixel. Reading taken: the docstring names "standard RGB
  to grayscale conversion coefficients" without values, so the check asks only that the gray
  value be a weighted mean of the pixel's channels (between their minimum and maximum).
- invert (RandomInvert(factor, value_range)): each image is unchanged or inverted, "the pixel
  values are transformed to their complementary values": low + high - x (reading taken: the
  complement within value_range); an image is inverted with a probability sampled "between the
  two values for each image" (a float a: between 0 and a), so, marginally, with probability
  the midpoint (`invert_probability`).

A value "sampled between" two bounds is read, for every layer below as above, as uniform on them,
one draw per image where the docstring says "for each image" / "for every image augmented".
`zero_based_range`: a pair is its two values, a single float a is [0, a] ("If a single float is
used, a value between 0.0 and the passed float is sampled").

- solarization (Solarization(addition_factor, threshold_factor, value_range)): "Applies
  (max_value - pixel + min_value) for each pixel"; a per-image addition a "(times the value range
  of input images, e.g. 255), is added to each pixel before solarization and thresholding", and
  "only pixel values above this threshold will be solarized": z = clip(x + a (high - low), low,
  high), y = low + high - z where z > low + t (high - low), else z (`solarize`); a and t drawn per
  image from `solarization_ranges` ("If a float is passed, the range is interpreted as (0,
  addition_factor)"). Readings taken: the threshold is a fraction of value_range as the addition
  is (the docstring scales only the addition explicitly; read in pixel units, a threshold_factor
  in [0, 1] would solarize almost every pixel of a (0, 255) image); the sum is clipped to
  value_range before the threshold ("Images passed to the layer should have values within
  value_range"; the mirror of an unclipped sum leaves the range); the default threshold 0
  solarizes every pixel, as "When created without threshold parameter, the layer performs
  solarization to all values" says.
- posterization (RandomPosterization(factor, value_range)): "factor: integer, the number of bits
  to keep for each channel. Must be a value between 1-8": each value is mapped to 0..255 and the
  top b bits of its integer part are kept, floor(v / 2**(8 - b)) 2**(8 - b), mapped back
  (`posterize`); an integer factor keeps exactly that many bits in every image. Readings taken: a
  pair (lo, hi), which the docstring does not describe, is every number of bits from lo to hi,
  both included, equally likely per image (`posterization_bits`; the family's "sampled between
  the two values" over the integers); the bits of a non-integer value are those of its integer
  part (floor, as a conversion to uint8).
- color_degeneration (RandomColorDegeneration(factor, value_range)): the image "converts [...] to
  gray scale, then back to color. It then takes a weighted average between original image and the
  degenerated image": y = x + f (gray - x), "factor=0.0 [...] a no-op", "1.0 uses the degenerated
  result entirely" (`color_degeneration`), f per image from `zero_based_range`. The docstring
  names no gray coefficients: the check asks only that gray be a weighted mean of the pixel's
  channels, and recovers f from the channel differences, each scaled by 1 - f whatever the weights.
- saturation (RandomSaturation(factor, value_range)): "factor=0.5 makes this layer perform a
  no-op operation. factor=0.0 makes the image fully grayscale. factor=1.0 makes the image fully
  saturated": the HSV saturation (max - min) / max of every pixel multiplied by m = f / (1 - f)
  (`saturation_multiplier`), capped at 1, hue and value kept (`saturate`); f per image from
  `zero_based_range`. Reading taken: the docstring fixes three points of the map from f to m;
  f / (1 - f) is the one through them that makes every coloured pixel fully saturated at f = 1
  (a linear 2 f would only double the saturation). A saturation above 1 is no saturation, hence
  the cap.
- mixup (MixUp(alpha)): the docstring says "MixUp implements the MixUp data augmentation
  technique" and cites its paper (Zhang et al., "mixup: Beyond Empirical Risk Minimization"):
  y_i = lambda_i x_i + (1 - lambda_i) x_j (`mixup`) with j another image of the batch and lambda ~
  Beta(alpha, alpha) (`mixup_weight_cdf`). Readings taken: one lambda per image (the paper draws
  lambda for each pair it mixes; its reference code's one draw per minibatch is a shortcut); the
  partner is any image of the batch (the paper's code pairs the batch with a permutation of
  itself, so an image may be its own partner and come out unchanged).
- cutmix (CutMix(factor)): "patches are cut and pasted between two images in the dataset": each
  image is its input with one rectangle replaced by the same rectangle of another image of the
  batch (the paper's mask M (.) x_A + (1 - M) (.) x_B with a box M; `paste_boxes`). Not judged:
  the patch's size. "factor: [...] These values define the range from which the mixing weight is
  sampled" says neither how the weight is drawn nor how the box follows from it.
- erasing (RandomErasing(factor, scale, fill_value, value_range)): an image is erased with a
  probability "sampled between min and max for each image" (a float: between 0 and it), so
  marginally with the midpoint (`erasing_probability`, as RandomInvert); an erased image is its
  input with one rectangle set to fill_value, or, for None, to values "from a normal distribution"
  (any values then). Not judged: the rectangle's size ("scale: [...] the aspect ratio range of the
  erased patch", whose default (0.02, 0.33) reads as an area fraction). Reading taken: the
  per-image rule over "factor=1.0 means erasing is always applied", which contradicts it for the
  default factor (keras-team/keras#20837, open, rewrites that description); the catalogue's case
  uses a pair, which only the per-image rule describes.
- gaussian_blur (RandomGaussianBlur(factor, kernel_size, sigma, value_range)), with factor [1, 1]:
  every image blurred by the separable kernel_size x kernel_size Gaussian of one standard
  deviation ("sigma: [...] Standard deviation of the Gaussian kernel [...] If a tuple is provided,
  a value is sampled between the two for each image"; a float is that deviation), the same along
  both axes, the sampled kernel exp(-k**2 / (2 sigma**2)) normalized to sum 1
  (`gaussian_blur_interior`). Readings taken: factor 1 blurs every image fully ("a value of 1.0
  performs the most aggressive blurring available"); what a factor below 1 does ("controls the
  extent") is not said, so validation refuses it in training (`training_unmodelled`); the border,
  whose padding is not documented, is not compared.

- translation, rotation, zoom (RandomTranslation, RandomRotation, RandomZoom), with
  interpolation="nearest" and fill_mode="constant" only (`training_unmodelled`): output pixel q of
  image i is the input pixel nearest a source position s_i(q), or fill_value where that pixel lies
  beyond the edge ("constant: (k k k k | a b c d | k k k k)"; `nearest_resample`, `geometric`):
  - translation: s = (r - dy, c - dx), dy = f_h * height "shifting image down" for f_h > 0, dx = f_w
    * width "shifting image right"; f_h and f_w uniform on `translation_ranges` ("height_factor=(-0.2,
    0.3) results in an output shifted by a random amount in the range [-20%, +30%]"; "height_factor=0.2
    [...] in the range [-20%, +20%]": a float a is [-a, a], `signed_range`);
  - rotation: the offset from the centre turned by -a (`rotation_sources`), so the content turns by
    a, counter-clockwise as displayed for a > 0 ("A positive values means rotating counter
    clock-wise"); a = 2 pi f, f uniform on `rotation_range` ("a float represented as fraction of 2
    Pi"; "factor=(-0.2, 0.3) results in an output rotation by a random amount in the range [-20% *
    360, 30% * 360]"); factors within half a turn only, where the angle is not ambiguous;
  - zoom: s = centre + (1 + f) (q - centre) per axis (`zoom_sources`), f uniform on `zoom_ranges`:
    "A positive value means zooming out", the output spanning (1 + f) times the input; width_factor
    None means "zooming vertical and horizontal directions by preserving the aspect ratio": the
    height's draw for both axes.
  Readings taken: one draw per image ("apply random translations to each image", "random rotations
  to each image", "randomly zoom in or out on each axis of an image independently"), the two axes of
  a translation or a zoom each its own draw; "zoomed out by 20%" is an output spanning 1.2 times the
  input (linear in the factor; the other reading, content scaled by 1 / 1.2, is not uniform in it);
  the centre of rotation and zoom is the middle of the pixel centres, ((H - 1) / 2, (W - 1) / 2)
  (`image_centre`: the docstrings say neither); "fraction of value" is the fraction of the image's
  size along the axis; the nearest pixel is the rounded source position, and an exact tie (the
  docstrings do not say how it rounds) has probability 0, so the check accepts either neighbour
  within COORDINATE_SLACK of one. The shift, angle and zoom are continuous, but the output shows
  them only rounded to pixels: the check recovers each as the interval of values that explains
  every copied pixel and every fill, and tests those intervals against the uniform law
  (conformance.checks.random_layers._censored_uniform), not a discretized law.

Not modelled in training (validation refuses them, `training_unmodelled`): RandomHue and
RandomSharpness (the docstrings do not say how factor maps to the hue shift or which blur is
blended), RandomTranslation, RandomRotation and RandomZoom with bilinear interpolation or another
fill_mode (the copied pixel no longer tells the source position), RandomShear (its docstring fixes a
range of "a percentage of the image to shear over", "0.3 shears pixels up to 30% of the way across
the image", but neither the shear's direction nor the point it is measured from: Keras 3.15 also
flips its sign at random, which the docstring does not mention), RandomPerspective and
RandomElasticTransform (their docstrings fix no per-image law of the corners or the displacement
field), RandomColorJitter, AugMix and RandAugment (compositions of the above); RandomHeight and
RandomWidth are Keras 3's legacy classes, documented "DEPRECATED.", whose output size is one draw
for the whole batch.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

LAYERS = (
    "AugMix", "AutoContrast", "CutMix", "Equalization", "MixUp", "RandAugment", "RandomBrightness",
    "RandomColorDegeneration", "RandomColorJitter", "RandomContrast", "RandomCrop", "RandomElasticTransform",
    "RandomErasing", "RandomFlip", "RandomGaussianBlur", "RandomGrayscale", "RandomHeight", "RandomHue",
    "RandomInvert", "RandomPerspective", "RandomPosterization", "RandomRotation", "RandomSaturation",
    "RandomSharpness", "RandomShear", "RandomTranslation", "RandomWidth", "RandomZoom", "Solarization",
)
INFERENCE_IS_IDENTITY = frozenset(LAYERS) - {"RandomCrop", "AutoContrast", "Equalization"}
# the training-time checks the reference states (conformance.checks.random_layers)
STOCHASTIC = {"RandomCrop": "crop", "RandomFlip": "flip", "RandomBrightness": "brightness", "RandomContrast": "contrast",
              "RandomGrayscale": "grayscale", "RandomInvert": "invert", "Solarization": "solarization",
              "RandomPosterization": "posterization", "RandomColorDegeneration": "color_degeneration",
              "RandomSaturation": "saturation", "MixUp": "mixup", "CutMix": "cutmix", "RandomErasing": "erasing",
              "RandomGaussianBlur": "gaussian_blur", "RandomTranslation": "translation", "RandomRotation": "rotation",
              "RandomZoom": "zoom"}
FLIP_MODES = ("horizontal", "vertical", "horizontal_and_vertical")
# mode -> the image axes (of a (height, width, channels) image) a flip may reverse
FLIP_AXES = {"horizontal": (1,), "vertical": (0,), "horizontal_and_vertical": (0, 1)}


def _images(x) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 4:
        raise ValueError(f"images must be batched, (batch, height, width, channels). Received: shape={x.shape}")
    return x


def value_range_argument(value_range) -> tuple[float, float]:
    """(low, high): two real numbers, low < high."""
    if isinstance(value_range, (str, bytes)) or not hasattr(value_range, "__len__") or len(value_range) != 2:
        raise ValueError(f"value_range must be a pair (low, high). Received: value_range={value_range!r}")
    low, high = (float(v) for v in value_range)
    if not low < high:
        raise ValueError(f"value_range must have low < high. Received: value_range={value_range!r}")
    return low, high


def identity(x, **ignored) -> np.ndarray:
    """y = x: the inference of every layer in INFERENCE_IS_IDENTITY."""
    return np.asarray(x, dtype=np.float64)


def crop_window(in_h: int, in_w: int, height: int, width: int) -> tuple[int, int, int, int]:
    """(top, left, crop_h, crop_w): the largest centred window of aspect height / width (module docstring)."""
    if not (isinstance(height, numbers.Integral) and isinstance(width, numbers.Integral)) or height < 1 or width < 1:
        raise ValueError(f"height and width must be positive integers. Received: height={height!r}, width={width!r}")
    crop_h = max(min(in_h, (in_w * height) // width), 1)
    crop_w = max(min(in_w, (in_h * width) // height), 1)
    return (in_h - crop_h) // 2, (in_w - crop_w) // 2, crop_h, crop_w


def _linear_weights(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) matrix of 1-D linear interpolation with half-pixel centres: output i
    samples the input at s = (i + 0.5) * n_in / n_out - 0.5, clamped to [0, n_in - 1]."""
    s = np.clip((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0, n_in - 1)
    lo = np.floor(s).astype(int)
    hi = np.minimum(lo + 1, n_in - 1)
    w = np.zeros((n_out, n_in))
    np.add.at(w, (np.arange(n_out), lo), 1 - (s - lo))
    np.add.at(w, (np.arange(n_out), hi), s - lo)
    return w


def resize_bilinear(x, height: int, width: int) -> np.ndarray:
    """Separable bilinear resize of (batch, H, W, C) images to (height, width), half-pixel centres."""
    x = _images(x)
    return np.einsum("ih,bhwc,jw->bijc", _linear_weights(x.shape[1], height), x, _linear_weights(x.shape[2], width))


def center_crop_resize(x, height: int, width: int, **ignored) -> np.ndarray:
    """RandomCrop at inference: the centred window of the target aspect ratio, resized to (height, width)."""
    x = _images(x)
    top, left, crop_h, crop_w = crop_window(x.shape[1], x.shape[2], height, width)
    window = x[:, top:top + crop_h, left:left + crop_w, :]
    if (crop_h, crop_w) == (height, width):
        return window.copy()
    return resize_bilinear(window, height, width)


def auto_contrast(x, value_range=(0, 255), **ignored) -> np.ndarray:
    """y = clip(low + (x - m) * (high - low) / (M - m), low, high), m, M per image and channel."""
    x = _images(x)
    low, high = value_range_argument(value_range)
    m, big_m = x.min(axis=(1, 2), keepdims=True), x.max(axis=(1, 2), keepdims=True)
    if np.any(big_m == m):
        raise ValueError("AutoContrast of a constant channel divides by zero (max == min): the documentation defines no output")
    return np.clip(low + (x - m) * (high - low) / (big_m - m), low, high)


def equalization(x, value_range=(0, 255), bins=256, **ignored) -> np.ndarray:
    """Histogram equalization of each channel of each image (module docstring)."""
    x = _images(x)
    low, high = value_range_argument(value_range)
    if not isinstance(bins, numbers.Integral) or bins < 1:
        raise ValueError(f"bins must be a positive integer. Received: bins={bins!r}")
    b, h, w, c = x.shape
    n = h * w
    index = np.clip(np.floor((x - low) / (high - low) * bins), 0, bins - 1).astype(np.int64)  # (b, h, w, c)
    flat = index.transpose(0, 3, 1, 2).reshape(b * c, n)
    counts = np.zeros((b * c, bins), dtype=np.int64)
    np.add.at(counts, (np.repeat(np.arange(b * c), n), flat.ravel()), 1)
    cdf = np.cumsum(counts, axis=1)
    cdf_min = np.take_along_axis(cdf, np.argmax(cdf > 0, axis=1)[:, None], axis=1)  # (b * c, 1)
    denominator = n - cdf_min
    levels = np.round((cdf - cdf_min) / np.where(denominator == 0, 1, denominator) * 255)
    mapped = np.take_along_axis(levels, flat, axis=1)
    out = low + mapped / 255 * (high - low)
    out = np.where(denominator == 0, x.transpose(0, 3, 1, 2).reshape(b * c, n), out)
    return out.reshape(b, c, h, w).transpose(0, 2, 3, 1)


def flip_candidates(x, mode: str = "horizontal_and_vertical") -> list[np.ndarray]:
    """The images a RandomFlip output may hold, each (batch, H, W, C): [x, flips...]; the
    first flip is the one with probability 1/2 when the mode names one axis."""
    if mode not in FLIP_MODES:
        raise ValueError(f"mode must be one of {FLIP_MODES}. Received: mode={mode!r}")
    x = _images(x)
    axes = [a + 1 for a in FLIP_AXES[mode]]
    out = [x] + [np.flip(x, axis=a) for a in axes]
    if len(axes) == 2:
        out.append(np.flip(x, axis=tuple(axes)))
    return out


def brightness_range(factor) -> tuple[float, float]:
    """[lower, upper] of the per-image brightness factor f: a float a gives [-a, a]; a pair is
    (lower, upper); every bound within [-1, 1]."""
    if isinstance(factor, numbers.Real) and not isinstance(factor, bool):
        lower, upper = -abs(float(factor)), abs(float(factor))
    elif isinstance(factor, (list, tuple)) and len(factor) == 2:
        lower, upper = float(factor[0]), float(factor[1])
    else:
        raise ValueError(f"factor must be a float or a pair of floats. Received: factor={factor!r}")
    if not (-1 <= lower <= upper <= 1) or math.isnan(lower) or math.isnan(upper):
        raise ValueError(f"factor must lie in [-1, 1] with lower <= upper. Received: factor={factor!r}")
    return lower, upper


def brightness(x, delta, value_range=(0, 255)) -> np.ndarray:
    """y = clip(x + d, low, high) with d (batch,) one delta per image (already scaled)."""
    x = _images(x)
    low, high = value_range_argument(value_range)
    return np.clip(x + np.asarray(delta, dtype=np.float64)[:, None, None, None], low, high)


def crop_locations(in_h: int, in_w: int, height: int, width: int) -> list[tuple[int, int]]:
    """Every (top, left) of a height x width window inside an in_h x in_w image."""
    if height > in_h or width > in_w:
        raise ValueError(f"a {height} x {width} window does not fit in {in_h} x {in_w}: the documented training "
                         "output is then the inference one (resized and cropped)")
    return [(t, l) for t in range(in_h - height + 1) for l in range(in_w - width + 1)]


def contrast_range(factor) -> tuple[float, float]:
    """[1 - lower, 1 + upper] of the per-image contrast factor: a float a gives lower = upper = a;
    a pair is (lower, upper); both non-negative."""
    if isinstance(factor, numbers.Real) and not isinstance(factor, bool):
        lower = upper = float(factor)
    elif isinstance(factor, (list, tuple)) and len(factor) == 2:
        lower, upper = float(factor[0]), float(factor[1])
    else:
        raise ValueError(f"factor must be a float or a pair of floats. Received: factor={factor!r}")
    if not (lower >= 0 and upper >= 0):
        raise ValueError(f"factor must be positive (a fraction of the value). Received: factor={factor!r}")
    return 1.0 - lower, 1.0 + upper


def contrast(x, factors, value_range=(0, 255)) -> np.ndarray:
    """clip((x - mean) * f + mean, low, high), mean per image and channel, f (batch,) per image."""
    x = _images(x)
    low, high = value_range_argument(value_range)
    mean = x.mean(axis=(1, 2), keepdims=True)
    return np.clip((x - mean) * np.asarray(factors, dtype=np.float64)[:, None, None, None] + mean, low, high)


def invert_probability(factor=1.0) -> float:
    """The marginal probability that an image is inverted: the midpoint of [p0, p1] (a float a: [0, a])."""
    if isinstance(factor, numbers.Real) and not isinstance(factor, bool):
        p0, p1 = 0.0, float(factor)
    elif isinstance(factor, (list, tuple)) and len(factor) == 2:
        p0, p1 = float(factor[0]), float(factor[1])
    else:
        raise ValueError(f"factor must be a float or a pair of floats. Received: factor={factor!r}")
    if not 0 <= p0 <= p1 <= 1:
        raise ValueError(f"factor must be probabilities 0 <= min <= max <= 1. Received: factor={factor!r}")
    return (p0 + p1) / 2


def invert(x, value_range=(0, 255)) -> np.ndarray:
    """The complement within value_range: low + high - x."""
    low, high = value_range_argument(value_range)
    return low + high - _images(x)


def grayscale_probability(factor=0.5) -> float:
    """The probability that an image is converted: factor, in [0, 1]."""
    if isinstance(factor, bool) or not isinstance(factor, numbers.Real) or not 0 <= factor <= 1:
        raise ValueError(f"factor must be a float between 0 and 1. Received: factor={factor!r}")
    return float(factor)


def _factor_pair(factor, name: str) -> tuple[float, float] | None:
    """(lower, upper) of a pair, None for a single number; ValueError otherwise."""
    if isinstance(factor, numbers.Real) and not isinstance(factor, bool):
        return None
    if isinstance(factor, (list, tuple)) and len(factor) == 2 and all(
            isinstance(v, numbers.Real) and not isinstance(v, bool) for v in factor):
        return float(factor[0]), float(factor[1])
    raise ValueError(f"{name} must be a float or a pair of floats. Received: {name}={factor!r}")


def zero_based_range(factor, name: str = "factor") -> tuple[float, float]:
    """[lower, upper] of a per-image value "sampled between" a pair's two values, or between 0
    and a single float; both within [0, 1], lower <= upper."""
    pair = _factor_pair(factor, name)
    lower, upper = pair if pair is not None else (0.0, float(factor))
    if not 0 <= lower <= upper <= 1:
        raise ValueError(f"{name} must lie in [0, 1] with lower <= upper. Received: {name}={factor!r}")
    return lower, upper


def solarization_ranges(addition_factor=0.0, threshold_factor=0.0) -> tuple[tuple[float, float], tuple[float, float]]:
    """([a0, a1], [t0, t1]): the ranges of the per-image addition and threshold, as fractions of
    value_range (`zero_based_range` each; 0.0, the default, is the constant 0)."""
    return zero_based_range(addition_factor, "addition_factor"), zero_based_range(threshold_factor, "threshold_factor")


def solarize(x, additions, thresholds, value_range=(0, 255)) -> np.ndarray:
    """z = clip(x + a (high - low), low, high); y = low + high - z where z > low + t (high - low),
    else z; a and t (batch,) one per image, as fractions of value_range."""
    x = _images(x)
    low, high = value_range_argument(value_range)
    span = high - low
    a = np.asarray(additions, dtype=np.float64)[:, None, None, None]
    t = np.asarray(thresholds, dtype=np.float64)[:, None, None, None]
    z = np.clip(x + a * span, low, high)
    return np.where(z > low + t * span, low + high - z, z)


def posterization_bits(factor) -> tuple[int, ...]:
    """The numbers of bits an image may keep: an integer b in 1..8 gives (b,); a pair (lo, hi)
    every integer from lo to hi, both included (module docstring)."""
    pair = _factor_pair(factor, "factor")
    values = (factor,) if pair is None else pair
    if not all(float(v).is_integer() and 1 <= v <= 8 for v in values) or values[0] > values[-1]:
        raise ValueError(f"factor must be an integer number of bits between 1 and 8 (or a pair lo <= hi of them). "
                         f"Received: factor={factor!r}")
    return tuple(range(int(values[0]), int(values[-1]) + 1))


def posterize(x, bits, value_range=(0, 255)) -> np.ndarray:
    """Each value mapped to 0..255, its integer part with the low 8 - b bits cleared, mapped back;
    b (batch,) one per image."""
    x = _images(x)
    low, high = value_range_argument(value_range)
    level = np.floor(np.clip((x - low) / (high - low) * 255, 0, 255))
    step = 2.0 ** (8 - np.asarray(bits, dtype=np.float64))[:, None, None, None]
    return low + np.floor(level / step) * step / 255 * (high - low)


# a weighted mean of the channels (ITU-R 601 luma): what the tests' fake layers use; the checks
# ask only that the gray value be a weighted mean (the docstrings name no coefficients)
LUMA_WEIGHTS = (0.299, 0.587, 0.114)


def gray(x, weights=LUMA_WEIGHTS) -> np.ndarray:
    """(batch, H, W, 1): the weighted mean of each pixel's channels."""
    return (_images(x) @ np.asarray(weights, dtype=np.float64))[..., None]


def color_degeneration(x, factors, weights=LUMA_WEIGHTS) -> np.ndarray:
    """y = x + f (gray - x), f (batch,) one per image: f = 0 the input, f = 1 the gray image."""
    x = _images(x)
    f = np.asarray(factors, dtype=np.float64)[:, None, None, None]
    return x + f * (gray(x, weights) - x)


def rgb_to_hsv(x) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(h, s, v) of (..., 3) RGB values (any non-negative scale): v = max, s = (max - min) / max
    (0 where max = 0), h in [0, 1) the hexcone hue (0 where max = min)."""
    x = np.asarray(x, dtype=np.float64)
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    v, m = x.max(axis=-1), x.min(axis=-1)
    c = v - m
    s = np.where(v > 0, c / np.where(v > 0, v, 1.0), 0.0)
    safe = np.where(c > 0, c, 1.0)
    h = np.where(v == r, (g - b) / safe, np.where(v == g, 2.0 + (b - r) / safe, 4.0 + (r - g) / safe))
    h = np.where(c > 0, (h / 6.0) % 1.0, 0.0)
    return h, s, v


def hsv_to_rgb(h, s, v) -> np.ndarray:
    """(..., 3) RGB from hue h in [0, 1), saturation s and value v (the inverse of rgb_to_hsv)."""
    h, s, v = (np.asarray(a, dtype=np.float64) for a in (h, s, v))
    k = lambda n: (n + h * 6.0) % 6.0
    f = lambda n: v - v * s * np.clip(np.minimum(k(n), 4.0 - k(n)), 0.0, 1.0)
    return np.stack([f(5.0), f(3.0), f(1.0)], axis=-1)


def saturation_multiplier(factor) -> np.ndarray:
    """The saturation multiplier of a RandomSaturation factor f: f / (1 - f) (module docstring)."""
    f = np.asarray(factor, dtype=np.float64)
    with np.errstate(divide="ignore"):
        return np.where(f < 1, f / np.where(f < 1, 1 - f, 1.0), np.inf)


def saturate(x, multipliers) -> np.ndarray:
    """RGB images with the HSV saturation of each pixel multiplied by m (batch,), capped at 1."""
    x = _images(x)
    h, s, v = rgb_to_hsv(x)
    m = np.asarray(multipliers, dtype=np.float64)[:, None, None]
    with np.errstate(invalid="ignore"):  # inf * 0 (a gray pixel, an infinite multiplier) stays gray
        scaled = np.where(s > 0, s * m, 0.0)
    return hsv_to_rgb(h, np.clip(scaled, 0.0, 1.0), v)


def mixup_alpha(alpha=0.2) -> float:
    """The Beta(alpha, alpha) parameter: a positive number."""
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not alpha > 0:
        raise ValueError(f"alpha must be a positive number. Received: alpha={alpha!r}")
    return float(alpha)


def mixup_weight_cdf(weights, alpha=0.2) -> np.ndarray:
    """P(lambda <= w) for lambda ~ Beta(alpha, alpha): the regularized incomplete beta function."""
    from scipy import special

    return special.betainc(mixup_alpha(alpha), mixup_alpha(alpha), np.clip(np.asarray(weights, dtype=np.float64), 0, 1))


def mixup(x, weights, partners) -> np.ndarray:
    """y_i = lambda_i x_i + (1 - lambda_i) x_partner(i)."""
    x = _images(x)
    w = np.asarray(weights, dtype=np.float64)[:, None, None, None]
    return w * x + (1 - w) * x[np.asarray(partners)]


def paste_boxes(x, boxes, sources) -> np.ndarray:
    """Each image with the box (top, left, bottom, right), bottom and right excluded, replaced by
    the same box of `sources` (a (batch,) index into x: CutMix), or by a value (a float: erasing).
    An entry None leaves the image unchanged."""
    x = _images(x)
    y = x.copy()
    for i, (box, source) in enumerate(zip(boxes, sources)):
        if box is None or source is None:
            continue
        top, left, bottom, right = box
        y[i, top:bottom, left:right] = x[source, top:bottom, left:right] if isinstance(source, numbers.Integral) else source
    return y


def erasing_probability(factor=1.0) -> float:
    """The marginal probability that an image is erased: the midpoint of [p0, p1] (a float a: [0, a])."""
    return invert_probability(factor)


def blur_sigma_range(sigma=1.0) -> tuple[float, float]:
    """[lower, upper] of the per-image standard deviation: a float s is s itself; a pair is
    sampled between its two values; every bound positive."""
    pair = _factor_pair(sigma, "sigma")
    lower, upper = pair if pair is not None else (float(sigma), float(sigma))
    if not 0 < lower <= upper:
        raise ValueError(f"sigma must be positive, lower <= upper. Received: sigma={sigma!r}")
    return lower, upper


def blur_kernel_size(kernel_size=3) -> int:
    if isinstance(kernel_size, bool) or not isinstance(kernel_size, numbers.Integral) or kernel_size < 1 or kernel_size % 2 == 0:
        raise ValueError(f"kernel_size must be a positive odd integer. Received: kernel_size={kernel_size!r}")
    return int(kernel_size)


def gaussian_kernel(size: int, sigma: float) -> np.ndarray:
    """The (size,) sampled Gaussian exp(-k**2 / (2 sigma**2)), k = -(size // 2)..size // 2, summing to 1."""
    k = np.arange(size, dtype=np.float64) - (size - 1) / 2
    w = np.exp(-0.5 * (k / sigma) ** 2)
    return w / w.sum()


def gaussian_blur_interior(x, sigmas, kernel_size=3) -> np.ndarray:
    """The blur of each image by the separable kernel gaussian_kernel(kernel_size, sigma_i) x
    itself, at the pixels whose window lies inside the image: (batch, H - k + 1, W - k + 1, C)."""
    x = _images(x)
    k = blur_kernel_size(kernel_size)
    out_h, out_w = x.shape[1] - k + 1, x.shape[2] - k + 1
    if out_h < 1 or out_w < 1:
        raise ValueError(f"a {k} x {k} kernel has no interior pixel in a {x.shape[1]} x {x.shape[2]} image")
    out = np.zeros((x.shape[0], out_h, out_w, x.shape[3]))
    for i, sigma in enumerate(np.asarray(sigmas, dtype=np.float64)):
        g = gaussian_kernel(k, sigma)
        for a in range(k):
            for b in range(k):
                out[i] += g[a] * g[b] * x[i, a:a + out_h, b:b + out_w]
    return out


def training_unmodelled(layer: str, params: dict) -> str | None:
    """Why `layer` with `params` has no documented training distribution the checks can judge
    (None when it has one)."""
    if layer not in STOCHASTIC:
        return "its documented distribution is not modelled; only its inference (training: false) is"
    if layer in GEOMETRIC and (params.get("interpolation") != "nearest" or params.get("fill_mode") != "constant"):
        return ("only interpolation 'nearest' with fill_mode 'constant' (both given) is modelled: the per-image "
                "parameter is recovered from which input pixel each output pixel copies, and where it fills")
    if layer == "RandomRotation" and max(map(abs, signed_range(params.get("factor", 0.0)))) > 0.5:
        return "only factors within half a turn are modelled: an angle is recovered from the image modulo a turn"
    if layer == "RandomGaussianBlur" and _factor_pair(params.get("factor", 1.0), "factor") != (1.0, 1.0):
        return ("only factor [1, 1] is modelled: the docstring says how far factor = 1 blurs (\"the most aggressive "
                "blurring available\") but not what a factor below 1 does")
    return None


INFERENCE = {"RandomCrop": center_crop_resize, "AutoContrast": auto_contrast, "Equalization": equalization}


def inference(layer: str, x, params: dict) -> np.ndarray:
    """The documented output at inference (training=False) of `layer` on images x."""
    return INFERENCE.get(layer, identity)(x, **params)


# --- rounding error bounds of the inference ---------------------------------------------------------
# Per output element, how far a correct evaluation of the documented inference in a floating-point
# format (reference_impl.rounding.Format, unit roundoff u) may land from the exact result, inputs
# already in the format (Higham, ch. 2-3: gamma_k = k u / (1 - k u)); None: no bound derived.


def center_crop_resize_error_bound(x, fmt, height: int, width: int, **ignored):
    """RandomCrop at inference: the window is cut exactly (0 where no resize follows); the
    bilinear resize of the window is bounded as Resizing's
    (reference_impl.preprocessing.resize_error_bound: its weights' and its sums' roundings)."""
    from reference_impl.preprocessing import resize_error_bound  # the same resize, bounded once

    x = _images(x)
    top, left, crop_h, crop_w = crop_window(x.shape[1], x.shape[2], height, width)
    window = x[:, top:top + crop_h, left:left + crop_w, :]
    if (crop_h, crop_w) == (height, width):
        return np.zeros(window.shape)
    return resize_error_bound(window, height, width, "bilinear", False, fmt)


def auto_contrast_error_bound(x, fmt, value_range=(0, 255), **ignored):
    """AutoContrast: v = low + (x - m) r with r = (high - low) / (M - m), then clipped (clipping
    moves no error outwards: |clip(a) - clip(b)| <= |a - b|). m and M are exact (a minimum and a
    maximum of the inputs). The roundings, in any of the forms the formula takes:
      direct         x - m, M - m, high - low, the division, the product, the sum: 6 roundings on
                     |x - m| r <= (|x| + |m|) r, one more on |low| and |v|;
      distributed    x r + (low - m r): the products round before x and m cancel,
                     on (|x| + |m|) r;
      through [0, 255]  the images mapped to a standard range and back, (x - low) 255 /
                     (high - low) and its inverse: 3 roundings each way, on (|x| + |low|) r
                     and (|m| + |low|) r going in, on |v| + |low| coming out.
    Along the longest chain 12 roundings:
        |dy| <= gamma_12 ((|x| + |m| + 2 |low|) r + |low| + |v|) + 12 tiny."""
    x = _images(x)
    low, high = value_range_argument(value_range)
    m, big_m = x.min(axis=(1, 2), keepdims=True), x.max(axis=(1, 2), keepdims=True)
    if np.any(big_m == m):
        return None
    u = fmt.unit_roundoff
    r = (high - low) / (big_m - m)
    v = low + (x - m) * r
    magnitude = (np.abs(x) + np.abs(m) + 2 * abs(low)) * r + abs(low) + np.abs(v)
    return 12 * u / (1 - 12 * u) * magnitude + 12 * fmt.smallest_normal


def inference_error_bound(layer: str, x, params: dict, fmt):
    """The bound of `inference`: 0 for the identities; RandomCrop's and AutoContrast's below.
    Equalization has none: its output is a step function of the data (each value floored into
    a bin, each level rounded to one of 256), so where the exact value sits on a step a correct
    evaluation may move an output by a whole level, (high - low) / 255, and one value moved into
    the next bin changes the cumulative counts of the others: no per-element bound in the
    format's unit roundoff; the flat tolerance judges."""
    if layer == "Equalization":
        return None
    if layer == "RandomCrop":
        return center_crop_resize_error_bound(x, fmt, **params)
    if layer == "AutoContrast":
        return auto_contrast_error_bound(x, fmt, **params)
    return np.zeros(np.shape(x))


def output_shape(layer: str, input_shape, **params) -> tuple:
    """The output's shape at inference: the input's, except RandomCrop's (batch, height, width, C)."""
    shape = tuple(int(s) for s in input_shape)
    if len(shape) != 4:
        raise ValueError(f"{layer}: images must be batched, (batch, height, width, channels). Received: shape={shape}")
    if "value_range" in params:
        value_range_argument(params["value_range"])
    if layer == "RandomCrop":
        crop_window(shape[1], shape[2], params.get("height"), params.get("width"))
        return (shape[0], params["height"], params["width"], shape[3])
    if layer == "RandomFlip" and params.get("mode", "horizontal_and_vertical") not in FLIP_MODES:
        raise ValueError(f"mode must be one of {FLIP_MODES}. Received: mode={params.get('mode')!r}")
    if layer == "RandomBrightness":
        brightness_range(params.get("factor"))
    if layer == "RandomContrast":
        contrast_range(params.get("factor"))
    if layer == "RandomInvert":
        invert_probability(params.get("factor", 1.0))
    if layer == "RandomGrayscale":
        grayscale_probability(params.get("factor", 0.5))
    if layer == "Solarization":
        solarization_ranges(params.get("addition_factor", 0.0), params.get("threshold_factor", 0.0))
    if layer == "RandomPosterization":
        posterization_bits(params.get("factor"))
    if layer in ("RandomColorDegeneration", "RandomSaturation"):
        zero_based_range(params.get("factor"))
    if layer in ("CutMix", "RandomGaussianBlur"):
        zero_based_range(params.get("factor", 1.0))
    if layer == "MixUp":
        mixup_alpha(params.get("alpha", 0.2))
    if layer == "RandomErasing":
        erasing_probability(params.get("factor", 1.0))
    if layer == "RandomTranslation":
        translation_ranges(params.get("height_factor"), params.get("width_factor"))
    if layer == "RandomRotation":
        signed_range(params.get("factor"))
    if layer == "RandomZoom":
        zoom_ranges(params.get("height_factor"), params.get("width_factor"))
    if layer == "RandomGaussianBlur":
        blur_sigma_range(params.get("sigma", 1.0))
        blur_kernel_size(params.get("kernel_size", 3))
    return shape


# --- the geometric layers in training: RandomTranslation, RandomRotation, RandomZoom ------------

GEOMETRIC = {"RandomTranslation": "translation", "RandomRotation": "rotation", "RandomZoom": "zoom"}


def signed_range(factor, name: str = "factor") -> tuple[float, float]:
    """[lower, upper] of a per-image fraction: a float a gives [-|a|, |a|] ("When represented as a
    single [positive] float, this value is used for both the upper and lower bound", with the
    docstrings' examples `0.2` -> [-20%, +20%]); a pair is its lower and upper bound (min, max)."""
    pair = _factor_pair(factor, name)
    if pair is None:
        return -abs(float(factor)), abs(float(factor))
    return min(pair), max(pair)


def translation_ranges(height_factor, width_factor) -> tuple[tuple[float, float], tuple[float, float]]:
    """([lower, upper] of the vertical shift, of the horizontal shift), fractions of the height and width."""
    return signed_range(height_factor, "height_factor"), signed_range(width_factor, "width_factor")


def rotation_range(factor) -> tuple[float, float]:
    """[lower, upper] of the per-image angle in turns (fractions of 2 pi); within [-1/2, 1/2], where
    an angle is recovered from the image without ambiguity."""
    lower, upper = signed_range(factor)
    if not -0.5 <= lower <= upper <= 0.5:
        raise ValueError(f"factor beyond half a turn is not modelled (an angle is known modulo a turn). Received: "
                         f"factor={factor!r}")
    return lower, upper


def zoom_ranges(height_factor, width_factor=None) -> tuple[tuple[float, float], tuple[float, float] | None]:
    """([lower, upper] of the vertical zoom fraction, of the horizontal one or None: the vertical
    draw for both axes, "preserving the aspect ratio"); every bound above -1 (a zoom 1 + f > 0)."""
    height = signed_range(height_factor, "height_factor")
    width = None if width_factor is None else signed_range(width_factor, "width_factor")
    for name, (lower, _) in (("height_factor", height), ("width_factor", width or height)):
        if not lower > -1:
            raise ValueError(f"{name} must be above -1 (the output spans 1 + factor times the input). "
                             f"Received: lower bound {lower}")
    return height, width


def image_centre(height: int, width: int) -> tuple[float, float]:
    """(row, column) of the centre: the middle of the pixel centres, ((height - 1) / 2, (width - 1) / 2)."""
    return (height - 1) / 2, (width - 1) / 2


def translation_sources(shape, shifts) -> tuple[np.ndarray, np.ndarray]:
    """(rows, cols), each (batch, H, W): where output pixel (r, c) of image i samples its input,
    (r - dy_i, c - dx_i); shifts (batch, 2) are (dy, dx) in pixels, positive down and right."""
    n, h, w = shape[:3]
    d = np.asarray(shifts, dtype=np.float64).reshape(n, 2)
    r, c = np.meshgrid(np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64), indexing="ij")
    return r[None] - d[:, 0, None, None], c[None] - d[:, 1, None, None]


def rotation_sources(shape, angles) -> tuple[np.ndarray, np.ndarray]:
    """(rows, cols), each (batch, H, W), for angles (batch,) in radians, counter-clockwise as the
    image is displayed (row 0 at the top): output pixel q samples the input at the centre plus the
    offset q - centre turned clockwise by the angle, so that the content turns counter-clockwise.
    With x = column and y = row offsets: x_in = cos a x - sin a y, y_in = sin a x + cos a y."""
    n, h, w = shape[:3]
    cy, cx = image_centre(h, w)
    a = np.asarray(angles, dtype=np.float64).reshape(n, 1, 1)
    r, c = np.meshgrid(np.arange(h, dtype=np.float64) - cy, np.arange(w, dtype=np.float64) - cx, indexing="ij")
    return cy + np.sin(a) * c + np.cos(a) * r, cx + np.cos(a) * c - np.sin(a) * r


def zoom_sources(shape, zooms) -> tuple[np.ndarray, np.ndarray]:
    """(rows, cols), each (batch, H, W), for zooms (batch, 2) = (1 + f_height, 1 + f_width): the output
    spans zoom times the input about the centre (above 1: zoomed out)."""
    n, h, w = shape[:3]
    cy, cx = image_centre(h, w)
    z = np.asarray(zooms, dtype=np.float64).reshape(n, 2)
    r, c = np.meshgrid(np.arange(h, dtype=np.float64) - cy, np.arange(w, dtype=np.float64) - cx, indexing="ij")
    return cy + z[:, 0, None, None] * r[None], cx + z[:, 1, None, None] * c[None]


def nearest_resample(x, rows, cols, fill_value=0.0) -> np.ndarray:
    """interpolation="nearest", fill_mode="constant": output pixel q of image i is the input pixel
    nearest its source (rows, cols)[i, q] (floor(s + 0.5); an exact tie has probability 0 and the
    check accepts either neighbour near one), fill_value where that pixel lies outside the image."""
    x = _images(x)
    n, h, w, _ = x.shape
    ri, ci = np.floor(np.asarray(rows) + 0.5).astype(np.int64), np.floor(np.asarray(cols) + 0.5).astype(np.int64)
    inside = (ri >= 0) & (ri < h) & (ci >= 0) & (ci < w)
    out = x[np.arange(n)[:, None, None], np.clip(ri, 0, h - 1), np.clip(ci, 0, w - 1)]
    return np.where(inside[..., None], out, float(fill_value))


SOURCES = {"translation": translation_sources, "rotation": rotation_sources, "zoom": zoom_sources}


def geometric(kind: str, x, parameters, fill_value=0.0) -> np.ndarray:
    """The images x moved by one per-image parameter of `kind` (SOURCES), nearest pixel, constant fill."""
    x = _images(x)
    return nearest_resample(x, *SOURCES[kind](x.shape, parameters), fill_value)
