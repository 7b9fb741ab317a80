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
              "RandomGrayscale": "grayscale", "RandomInvert": "invert"}
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


INFERENCE = {"RandomCrop": center_crop_resize, "AutoContrast": auto_contrast, "Equalization": equalization}


def inference(layer: str, x, params: dict) -> np.ndarray:
    """The documented output at inference (training=False) of `layer` on images x."""
    return INFERENCE.get(layer, identity)(x, **params)


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
    return shape
