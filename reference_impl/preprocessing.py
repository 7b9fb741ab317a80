"""Keras 3 numeric preprocessing layers in NumPy float64: Rescaling, Resizing, CenterCrop,
Normalization (mean and variance given), Discretization, CategoryEncoding, IntegerLookup.

Layer functions take (x, weights, **params) like reference_impl.core's (none has weights);
`weight_shapes` and `output_shape` are pure functions of the arguments; LAYERS maps the Keras
class names. Images are (batch, height, width, channels), or (batch, channels, height, width)
with data_format="channels_first".

Rescaling(scale, offset=0.0): y = x * scale + offset ("multiplying by `scale` and adding `offset`").

Resizing(height, width, interpolation="bilinear", crop_to_aspect_ratio=False,
pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0.0, antialias=False): the layer
docstring names the methods; what they compute is tf.image.resize's documentation, which the
layer calls (reference_impl.reshaping states and checks it for UpSampling2D; its kernels are
reused here): separable, half-pixel centers, output pixel i of an axis of n -> m pixels samples
the input at c_i = (i + 0.5) * n / m - 0.5, and

    nearest   y_i = x[min(floor((i + 0.5) * n / m), n - 1)]    (the input pixel [t, t + 1) that
              holds the output pixel's centre; a centre on a border goes to the later pixel)
    bilinear, bicubic (Keys, a = -1/2), lanczos3, lanczos5 (kernel K of radius r):
              y_i = sum_t K(s (c_i - t)) x_t / sum_t K(s (c_i - t)) over the input pixels t
              with |s (c_i - t)| < r (taps outside the image dropped, the rest renormalized),
              s = m / n when antialias and downsampling (the kernel stretched by n / m, "an
              anti-aliasing filter when downsampling"), else s = 1.

crop_to_aspect_ratio ("the largest possible window in the image ... that matches the target
aspect ratio"): the centred window of height min(H, floor(W * height / width)) and width
min(W, floor(H * width / height)), starting at floor((H - h_crop) / 2), floor((W - w_crop) / 2),
is resized. pad_to_aspect_ratio ("evenly padded on the short side"): with P_h = max(H,
floor(W * height / width)) and P_w = max(W, floor(H * width / height)), floor((P_h - H) / 2)
rows of fill_value are added above and as many below, floor((P_w - W) / 2) columns on each
side, then the image is resized. The docstrings do not say how a fractional window size or an
odd total pad is rounded: the reading taken is floor, and "evenly" as the same amount on both
sides (an odd total pad loses its last pixel; a total pad of 1 pads nothing).

CenterCrop(height, width) ("crops the central portion of the images to a target size"): when
H >= height and W >= width, y = x[(H - height) // 2 :][: height] and likewise for the width
("If the input height/width is even and the target height/width is odd (or inversely), the
input image is left-padded by 1 pixel": the offset is rounded down). When the image is smaller
than the target in either dimension, "it will be resized and cropped so as to return the
largest possible window in the image that matches the target aspect ratio": Resizing(height,
width, crop_to_aspect_ratio=True), bilinear.

Normalization(axis=-1, mean, variance, invert=False): "(input - mean) / sqrt(var)", with mean
and variance "broadcast to the shape of the kept axes" by NumPy's broadcasting rules (a value
that cannot be is an error) and placed on those axes (`axis`: the axes with a separate mean
and variance, None for one scalar); invert=True "turn[s] a normalized input back into its original form":
y = x * sqrt(var) + mean. (adapt() is not modelled.)

Discretization(bin_boundaries, output_mode="int"): the bins (-inf, b_0), [b_0, b_1), ...,
[b_{k-1}, inf), so index(x) = #{j : b_j <= x} (a value on a boundary goes to the upper bin).
output_mode "one_hot", "multi_hot", "count" encode the indices as CategoryEncoding does, with
num_tokens = len(bin_boundaries) + 1.

CategoryEncoding(num_tokens, output_mode="multi_hot") on integer inputs of rank 1 or 2:
    one_hot    each element -> a vector of num_tokens with a 1 at its value; a last dimension of
               size 1 is encoded on that dimension, otherwise a new last dimension is added;
    multi_hot  each sample (the last dimension; a rank-1 input is one sample) -> a 1 for each
               value present;
    count      as multi_hot, the number of times each value appears (with count_weights, the
               sum of the weights of its occurrences).

IntegerLookup(vocabulary, num_oov_indices=1, mask_token=None, oov_token=-1, invert=False,
output_mode="int"): indices in the order of get_vocabulary(): the mask token first (if any,
and in "int" output only: "In other output modes, the token will not appear in the vocabulary
and instances of the mask token in the input will be dropped"), then the num_oov_indices OOV
indices, then the vocabulary. A value of the vocabulary maps to its position there plus the
number of indices before it, the mask token to 0, any other value to the OOV index
first_oov + value mod num_oov_indices (oov_method="floormod", the default: "uses `token %
num_oov_indices`"); with num_oov_indices=0 such a value is an error. invert maps indices back
to values (OOV indices to oov_token). output_mode "one_hot", "multi_hot", "count" encode the
indices over the vocabulary size as CategoryEncoding does, a dropped mask token counting nothing.
"""
from __future__ import annotations

import numbers

import numpy as np

from reference_impl import rounding
from reference_impl.conv import data_format_argument
from reference_impl.reshaping import _KERNELS
from reference_impl.rounding import gamma_or_inf

INTERPOLATIONS = ("bilinear", "nearest", "bicubic", "lanczos3", "lanczos5")  # Resizing docstring
ENCODINGS = ("one_hot", "multi_hot", "count")
_IGNORED = frozenset({"name", "trainable", "dtype"})


def _f64(x):
    return np.asarray(x, dtype=np.float64)


def _check(layer, ignored, extra=()):
    unknown = sorted(set(ignored) - _IGNORED - set(extra))
    if unknown:
        raise TypeError(f"Unexpected keyword argument(s) for {layer}: {', '.join(unknown)}")


def _positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value!r}")
    return int(value)


def _number(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"`{name}` must be a number. Received: {name}={value!r}")
    return float(value)


# --- Rescaling -----------------------------------------------------------------------------------


def rescaling(x, weights=None, *, scale, offset=0.0, **ignored):
    """y = x * scale + offset."""
    _check("Rescaling", ignored)
    return _f64(x) * _number("scale", scale) + _number("offset", offset)


# --- Resizing and CenterCrop --------------------------------------------------------------------


def resize_matrix(n, m, interpolation, antialias=False):
    """(m, n) matrix of the 1-D resize of n input pixels to m (module docstring)."""
    centres = (np.arange(m) + 0.5) * n / m
    if interpolation == "nearest":
        return _nearest_weights(centres, n)
    return _kernel_weights(centres - 0.5, n, interpolation, _stretch(n, m, antialias))


def _stretch(n, m, antialias):
    """s: the kernel is evaluated at s (c - t); m / n when antialiasing a downsampling, else 1."""
    return m / n if antialias and m < n else 1.0


def _nearest_weights(centres, n):
    """(len(centres), n) selection of the input pixel [t, t + 1) holding each centre (the last
    pixel for a centre at or past n)."""
    source = np.clip(np.floor(centres).astype(int), 0, n - 1)
    return (source[:, None] == np.arange(n)[None, :]).astype(float)


def _kernel_weights(positions, n, interpolation, s):
    """(len(positions), n) normalized kernel weights of input pixels t = 0 .. n - 1 at the
    sample positions c: K(s (c - t)) over the taps within the radius, divided by their sum."""
    kernel, radius = _KERNELS[interpolation]
    d = s * (np.asarray(positions, dtype=np.float64)[:, None] - np.arange(n)[None, :])
    w = np.where(np.abs(d) < radius, kernel(d), 0.0)
    return w / w.sum(axis=1, keepdims=True)


def _image(x, data_format):
    """x as (batch, H, W, C), and the function that puts a result back in the data format."""
    x = _f64(x)
    if x.ndim != 4:
        raise ValueError(f"Expected a batch of images of rank 4. Received: x.shape={x.shape}")
    if data_format_argument(data_format) == "channels_first":
        return np.moveaxis(x, 1, -1), lambda y: np.moveaxis(y, -1, 1)
    return x, lambda y: y


def _crop_window(h_in, w_in, height, width):
    """(top, left, crop height, crop width) of the largest centred window of the target ratio."""
    crop_h = min(h_in, (w_in * height) // width)
    crop_w = min(w_in, (h_in * width) // height)
    return (h_in - crop_h) // 2, (w_in - crop_w) // 2, crop_h, crop_w


def _resize_image(x, height, width, interpolation, antialias):
    mh = resize_matrix(x.shape[1], height, interpolation, antialias)
    mw = resize_matrix(x.shape[2], width, interpolation, antialias)
    return np.einsum("ph,bhwc,qw->bpqc", mh, x, mw, optimize=True)


def _resizing_arguments(height, width, interpolation, crop_to_aspect_ratio, pad_to_aspect_ratio, fill_mode):
    height, width = _positive_int("height", height), _positive_int("width", width)
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"`interpolation` must be one of {', '.join(INTERPOLATIONS)}. Received: {interpolation!r}")
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError("Only one of `crop_to_aspect_ratio` and `pad_to_aspect_ratio` can be True.")
    if fill_mode != "constant":
        raise ValueError(f"Only fill_mode='constant' is supported. Received: fill_mode={fill_mode!r}")
    return height, width


def _resizing_source(x, height, width, crop_to_aspect_ratio, pad_to_aspect_ratio, fill_value, data_format):
    """(the channels_last image that is resized, after the crop or pad to the aspect ratio;
    the function that puts a result back in the data format)."""
    x, back = _image(x, data_format)
    h_in, w_in = x.shape[1:3]
    if crop_to_aspect_ratio:
        top, left, crop_h, crop_w = _crop_window(h_in, w_in, height, width)
        x = x[:, top:top + crop_h, left:left + crop_w]
    if pad_to_aspect_ratio:
        pad_h, pad_w = max(h_in, (w_in * height) // width), max(w_in, (h_in * width) // height)
        top, left = (pad_h - h_in) // 2, (pad_w - w_in) // 2
        padded = np.full((x.shape[0], h_in + 2 * top, w_in + 2 * left, x.shape[3]), _number("fill_value", fill_value))
        padded[:, top:top + h_in, left:left + w_in] = x
        x = padded
    return x, back


def resizing(x, weights=None, *, height, width, interpolation="bilinear", crop_to_aspect_ratio=False,
             pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0.0, antialias=False, data_format=None,
             **ignored):
    """Resize to (height, width), after cropping or padding to the aspect ratio if asked."""
    _check("Resizing", ignored)
    height, width = _resizing_arguments(height, width, interpolation, crop_to_aspect_ratio, pad_to_aspect_ratio, fill_mode)
    x, back = _resizing_source(x, height, width, crop_to_aspect_ratio, pad_to_aspect_ratio, fill_value, data_format)
    return back(_resize_image(x, height, width, interpolation, antialias))


def center_crop(x, weights=None, *, height, width, data_format=None, **ignored):
    """The central height x width window (offsets rounded down); a smaller image is resized
    (bilinear) from the largest centred window of the target aspect ratio."""
    _check("CenterCrop", ignored)
    height, width = _positive_int("height", height), _positive_int("width", width)
    image, back = _image(x, data_format)
    h_in, w_in = image.shape[1:3]
    if h_in < height or w_in < width:
        return resizing(x, height=height, width=width, crop_to_aspect_ratio=True, data_format=data_format)
    top, left = (h_in - height) // 2, (w_in - width) // 2
    return back(image[:, top:top + height, left:left + width])


# --- Normalization ----------------------------------------------------------------------------


def _kept_mask(ndim, axis):
    """Which axes keep a separate mean and variance."""
    if axis is None:
        return (False,) * ndim
    axes = (axis,) if isinstance(axis, numbers.Integral) else tuple(axis)
    kept = {a % ndim for a in axes}
    if 0 in kept and ndim > 1:
        raise ValueError(f"`axis` may not contain the batch axis 0. Received: axis={axis!r}")
    return tuple(i in kept for i in range(ndim))


def _kept_shape(shape, axis):
    """The input's size on the kept axes, 1 elsewhere: the shape mean and variance take."""
    return tuple(n if k else 1 for n, k in zip(shape, _kept_mask(len(shape), axis)))


def normalization(x, weights=None, *, mean=None, variance=None, axis=-1, invert=False, adapt=None, **ignored):
    """(x - mean) / sqrt(variance), or with invert x * sqrt(variance) + mean, mean and variance
    broadcast to the kept axes. With `adapt`, the data adapt() is given (an array, or a list of
    batches: their concatenation along the batch axis), mean and variance are those of the data
    "separately for each position in each axis specified by the `axis` argument" (adapt's
    docstring): over every other axis, the variance the population one, mean((d - mean)^2)."""
    _check("Normalization", ignored)
    if adapt is not None:
        if mean is not None or variance is not None:
            raise NotImplementedError("Normalization given both mean/variance and adapt data is not modelled")
        mean, variance = adapted_moments(adapt, axis)
    if mean is None or variance is None:
        raise NotImplementedError("Normalization without mean and variance needs adapt data (`adapt:`)")
    x = _f64(x)
    shape = _kept_shape(x.shape, axis)
    kept = tuple(n for n, k in zip(shape, _kept_mask(x.ndim, axis)) if k)
    mean, variance = (np.broadcast_to(v, kept).reshape(shape) for v in (_f64(mean), _f64(variance)))
    return x * np.sqrt(variance) + mean if invert else (x - mean) / np.sqrt(variance)


def adapted_moments(data, axis=-1):
    """(mean, variance) of adapt's data on the kept axes (their sizes, as the layer's `mean`
    argument takes them): batches are concatenated along axis 0, the batch axis, first."""
    data, reduced = _adapt_samples(data, axis)
    mean = data.mean(axis=reduced)
    return mean, np.mean((data - data.mean(axis=reduced, keepdims=True)) ** 2, axis=reduced)


def _adapt_samples(data, axis):
    """(adapt's data as one array, the axes its moments reduce): batches concatenated along the
    batch axis, every axis but the kept ones reduced."""
    data = np.concatenate([_f64(b) for b in data], axis=0) if isinstance(data, (list, tuple)) else _f64(data)
    return data, tuple(i for i, k in enumerate(_kept_mask(data.ndim, axis)) if not k)


# --- Discretization, CategoryEncoding, IntegerLookup -----------------------------------------


def adapted_vocabulary(data) -> list:
    """IntegerLookup.adapt's vocabulary: "determine the frequency of individual integer tokens, and
    create a vocabulary from them", the most frequent first. The order of tokens of equal
    frequency is not documented: data with a tie is refused (NotImplementedError), not guessed."""
    data = np.concatenate([np.ravel(b) for b in data]) if isinstance(data, (list, tuple)) else np.ravel(data)
    tokens, counts = np.unique(data.astype(np.int64), return_counts=True)
    if len(set(counts.tolist())) != len(counts):
        raise NotImplementedError("adapt data with tokens of equal frequency: their order in the vocabulary is not documented")
    return tokens[np.argsort(-counts, kind="stable")].tolist()


def encode(indices, num_tokens, output_mode, count_weights=None):
    """one_hot / multi_hot / count of integer indices in [0, num_tokens) (module docstring)."""
    indices = np.asarray(indices)
    if indices.size and (indices.min() < 0 or indices.max() >= num_tokens):
        raise ValueError(f"Input values must be in the range 0 <= value < num_tokens={num_tokens}. "
                         f"Received: min={indices.min()}, max={indices.max()}")
    one_hot = (indices[..., None] == np.arange(num_tokens)).astype(float)
    if output_mode == "one_hot":
        return one_hot[..., 0, :] if indices.ndim >= 1 and indices.shape[-1] == 1 else one_hot
    weighted = one_hot if count_weights is None else one_hot * _f64(count_weights)[..., None]
    counts = weighted.sum(axis=-2) if indices.ndim >= 1 else weighted
    if output_mode == "multi_hot":
        return (one_hot.sum(axis=-2) > 0).astype(float)
    if output_mode == "count":
        return counts
    raise ValueError(f"`output_mode` must be one of {', '.join(ENCODINGS)}. Received: {output_mode!r}")


def discretization(x, weights=None, *, bin_boundaries, output_mode="int", **ignored):
    """index = #{j : b_j <= x}; encoded with len(bin_boundaries) + 1 tokens unless "int"."""
    _check("Discretization", ignored)
    if bin_boundaries is None:
        raise NotImplementedError("Discretization without bin_boundaries needs adapt(), which is not modelled")
    boundaries = _f64(bin_boundaries)
    if boundaries.ndim != 1 or np.any(np.diff(boundaries) < 0):
        raise ValueError(f"`bin_boundaries` must be a sorted list of numbers. Received: {bin_boundaries!r}")
    index = np.searchsorted(boundaries, _f64(x), side="right")
    return index if output_mode == "int" else encode(index, boundaries.size + 1, output_mode)


def category_encoding(x, weights=None, *, num_tokens, output_mode="multi_hot", count_weights=None, **ignored):
    """The encoding of integer inputs of rank 1 or 2 (module docstring)."""
    _check("CategoryEncoding", ignored)
    x = np.asarray(x)
    if x.ndim not in (1, 2):
        raise ValueError(f"CategoryEncoding takes inputs of rank 1 or 2. Received: x.shape={x.shape}")
    if output_mode not in ENCODINGS:
        raise ValueError(f"`output_mode` must be one of {', '.join(ENCODINGS)}. Received: {output_mode!r}")
    return encode(x, _positive_int("num_tokens", num_tokens), output_mode, count_weights if output_mode == "count" else None)


def _lookup_table(vocabulary, num_oov_indices, mask_token):
    """({value: index}, size) with `mask_token` (None: no mask index) first, then the OOV indices."""
    vocabulary = [int(v) for v in vocabulary]
    if len(set(vocabulary)) != len(vocabulary):
        raise ValueError(f"The vocabulary must not repeat a value. Received: vocabulary={vocabulary}")
    if mask_token is not None and mask_token in vocabulary:
        raise ValueError(f"The vocabulary must not contain the mask token. Received: mask_token={mask_token}")
    offset = (mask_token is not None) + num_oov_indices
    return {v: offset + i for i, v in enumerate(vocabulary)}, offset + len(vocabulary)


def integer_lookup(x, weights=None, *, vocabulary=None, num_oov_indices=1, mask_token=None, oov_token=-1, invert=False,
                   output_mode="int", oov_method="floormod", adapt=None, **ignored):
    """Value -> index in [mask token, OOV indices, vocabulary], or index -> value with invert.
    With `adapt` (the data adapt() is given), the vocabulary is adapted_vocabulary's."""
    _check("IntegerLookup", ignored, ("vocabulary_dtype",))
    if adapt is not None:
        if vocabulary is not None:
            raise NotImplementedError("IntegerLookup given both a vocabulary and adapt data is not modelled")
        vocabulary = adapted_vocabulary(adapt)
    if vocabulary is None:
        raise NotImplementedError("IntegerLookup without a vocabulary needs adapt data (`adapt:`)")
    if oov_method != "floormod":
        raise NotImplementedError(f"oov_method={oov_method!r} (a hash) is not modelled")
    if isinstance(num_oov_indices, bool) or not isinstance(num_oov_indices, numbers.Integral) or num_oov_indices < 0:
        raise ValueError(f"`num_oov_indices` must be a non-negative integer. Received: {num_oov_indices!r}")
    encoded = output_mode != "int"
    if encoded and invert:
        raise ValueError("`output_mode` must be 'int' when `invert` is True.")
    table, size = _lookup_table(vocabulary, int(num_oov_indices), None if encoded else mask_token)
    x = np.asarray(x).astype(np.int64)
    if invert:
        values = np.full(size, oov_token, dtype=np.int64)
        for value, index in table.items():
            values[index] = value
        if mask_token is not None:
            values[0] = mask_token
        if x.size and (x.min() < 0 or x.max() >= size):
            raise ValueError(f"Indices must be in [0, {size}). Received: min={x.min()}, max={x.max()}")
        return values[x]
    vocab = np.array(list(table), dtype=np.int64)
    found = x[..., None] == vocab
    masked = (x == mask_token) if mask_token is not None else np.zeros(x.shape, bool)
    oov = ~found.any(axis=-1) & ~masked
    if num_oov_indices == 0 and oov.any():
        raise ValueError(f"num_oov_indices=0 and the input holds values outside the vocabulary: {sorted(set(x[oov].tolist()))}")
    first_oov = 0 if encoded or mask_token is None else 1
    index = np.where(found.any(axis=-1), (found * np.array(list(table.values()))).sum(axis=-1),
                     first_oov + np.mod(x, max(int(num_oov_indices), 1)))
    if not encoded:
        return np.where(masked, 0, index)
    one_hot = (index[..., None] == np.arange(size)) & ~masked[..., None]
    if output_mode == "one_hot":
        return one_hot[..., 0, :].astype(np.int64) if x.ndim >= 1 and x.shape[-1] == 1 else one_hot.astype(np.int64)
    if output_mode == "multi_hot":
        return one_hot.any(axis=-2).astype(np.int64)
    if output_mode == "count":
        return one_hot.sum(axis=-2).astype(np.int64)
    raise ValueError(f"`output_mode` must be 'int' or one of {', '.join(ENCODINGS)}. Received: {output_mode!r}")


LAYERS = {
    "Rescaling": rescaling, "Resizing": resizing, "CenterCrop": center_crop, "Normalization": normalization,
    "Discretization": discretization, "CategoryEncoding": category_encoding, "IntegerLookup": integer_lookup,
}


def weight_shapes(layer_name, input_shape, **params):
    """None of these layers has weights (Normalization with mean and variance given keeps them
    as constants)."""
    if layer_name not in LAYERS:
        raise ValueError(f"`layer_name` must be one of {', '.join(LAYERS)}. Received: {layer_name!r}")
    output_shape(layer_name, input_shape, **params)
    return {}


def output_shape(layer_name, input_shape, **params):
    """The output's shape, from the layer applied to zeros of the input's shape (every rule above
    is shape-only)."""
    zeros = np.zeros(tuple(input_shape), dtype=np.int64 if layer_name in ("CategoryEncoding", "IntegerLookup") else float)
    if layer_name == "IntegerLookup" and params.get("vocabulary"):
        zeros = zeros + int(params["vocabulary"][0]) if not params.get("invert") else zeros
    return tuple(np.shape(LAYERS[layer_name](zeros, **params)))


# --- rounding error bounds -------------------------------------------------------------------------
# Per output element, how far a correct evaluation of the documented formula in a floating-point
# format (reference_impl.rounding.Format: unit roundoff u, smallest normal) may land from the
# exact result, for inputs already in the format (Higham, Accuracy and Stability of Numerical
# Algorithms, ch. 2-3: fl(a op b) = (a op b)(1 + d), |d| <= u; gamma_k = k u / (1 - k u)).
# None where no bound is derived (the flat tolerance then judges).


# How each kernel's weights may be formed, beyond their value: bilinear is commonly evaluated as
# nested interpolations a + t (b - a) (a weight error of gamma_2 t <= gamma_2 on each tap, the
# difference's and the product's roundings); bicubic as a polynomial in the fractional offset t
# (Catmull-Rom: x1 + t/2 (x2 - x0 + t (...))), whose roundings fall on differences of taps: a
# weight error of at most gamma_8 times the sum of that weight's coefficient magnitudes in t,
# at most 5 (of 1 - 5/2 t^2 + 3/2 t^3). Lanczos has no such form: 0.
_FORM_ALLOWANCE = {"bilinear": lambda u: gamma_or_inf(2, u), "bicubic": lambda u: 5.0 * gamma_or_inf(8, u),
                   "lanczos3": lambda u: 0.0, "lanczos5": lambda u: 0.0}


def _kernel_value_error(interpolation, d, u):
    """|error| of one kernel value K(d) evaluated in the format from an exact d:
    bilinear  1 - |d|: one rounding, u K(d);
    bicubic   Keys' cubic with a = -1/2 in monomial or Horner form, at most 7 roundings on each
              term: gamma_7 times the sum of the terms' magnitudes, 3/2 |d|^3 + 5/2 d^2 + 1 for
              |d| <= 1, 1/2 |d|^3 + 5/2 d^2 + 4 |d| + 2 beyond (the outer lobe cancels: about 24 u
              at |d| -> 2, where K -> 0);
    lanczos   A B with A = sin(pi d) / (pi d), B = sin(pi d / r) / (pi d / r): the sines'
              arguments are rounded (pi d: 2 roundings, pi d / r: 3), which moves sin(z) by
              |z cos z| gamma and so A by at most gamma_2 and B by gamma_3 (absolutely: large
              where the sine crosses zero); the sines (a library's, 2 roundings each), the
              divisions and the product, 12 roundings relative to |A B|:
              gamma_3 (|A| + |B|) + gamma_12 |A B| (any arrangement, r sin sin / (pi^2 d^2) too)."""
    a = np.abs(d)
    if interpolation == "bilinear":
        return u * np.maximum(1.0 - a, 0.0)
    if interpolation == "bicubic":
        magnitude = np.where(a <= 1.0, 1.5 * a ** 3 + 2.5 * a ** 2 + 1.0, 0.5 * a ** 3 + 2.5 * a ** 2 + 4.0 * a + 2.0)
        return gamma_or_inf(7, u) * magnitude
    radius = _KERNELS[interpolation][1]
    first, second = np.abs(np.sinc(d)), np.abs(np.sinc(d / radius))
    return gamma_or_inf(3, u) * (first + second) + gamma_or_inf(12, u) * first * second


def _axis_weights_bound(n, m, interpolation, antialias, fmt):
    """(M, D, T) of the 1-D resize of n pixels to m: its (m, n) weights M, a bound D on the
    error of each computed weight, and the number of taps T of each row.

    A weight is K(s (c_i - t)) / sum_t K(s (c_i - t)) (module docstring). Its errors:
    - the sample position c_i = (i + 1/2) n / m - 1/2, computed with the scale n / m (or m / n)
      rounded, a product and a subtraction of magnitudes up to q_i + 1/2, q_i = (i + 1/2) n / m:
      |dc_i| <= gamma_3 (q_i + 1/2), the same for the whole row; what it moves the weights by is
      taken exactly, max |M(c_i +- dc_i) - M(c_i)| (new taps entering included);
    - each tap's own offset s (c_i - t): its subtraction, the stretch s rounded and its product,
      |dd| <= gamma_3 |d|, moving K(d) by at most the secant of K over d +- gamma_3 |d|; and K's
      own evaluation, _kernel_value_error: dk per tap;
    - the normalization by the row's sum S = sum_t k_t (T taps, so gamma_T sum |k| and the
      taps' dk: E = sum dk + gamma_T sum |k|), then a division (u |w|):
      |dw_t| <= (dk_t + |w_t| E) / (S - E) + u |w_t|;
    - the form the weights are applied in (_FORM_ALLOWANCE).
    D sums them; it is 0 off the row's support. Where S - E <= 0 it is infinite."""
    u = fmt.unit_roundoff
    kernel, radius = _KERNELS[interpolation]
    s = _stretch(n, m, antialias)
    centres = (np.arange(m) + 0.5) * n / m
    positions = centres - 0.5
    weights = _kernel_weights(positions, n, interpolation, s)
    shift = gamma_or_inf(3, u) * (centres + 0.5)
    with np.errstate(all="ignore"):
        moved = np.maximum(np.abs(_kernel_weights(positions + shift, n, interpolation, s) - weights),
                           np.abs(_kernel_weights(positions - shift, n, interpolation, s) - weights))
    d = s * (positions[:, None] - np.arange(n)[None, :])
    support = np.abs(d) < radius
    k = np.where(support, kernel(d), 0.0)
    dk = np.where(support, _kernel_value_error(interpolation, d, u) + rounding.secant(kernel, d, gamma_or_inf(3, u) * np.abs(d)), 0.0)
    taps = support.sum(axis=1)
    total = k.sum(axis=1, keepdims=True)
    spread = dk.sum(axis=1, keepdims=True) + gamma_or_inf(taps, u)[:, None] * np.abs(k).sum(axis=1, keepdims=True)
    with np.errstate(all="ignore"):
        normalized = np.where(total - spread > 0, (dk + np.abs(weights) * spread) / (total - spread), np.inf) + u * np.abs(weights)
    allowance = moved + np.where(support, normalized + _FORM_ALLOWANCE[interpolation](u), 0.0)
    return weights, allowance, taps


def _nearest_choices(n, m, fmt):
    """The selection matrices a nearest resize of n pixels to m may compute: the centre
    q_i = (i + 1/2) n / m computed with a rounded scale and a product (|dq| <= gamma_2 q_i) may
    fall in the neighbouring pixel where q_i is that close to a pixel border."""
    centres = (np.arange(m) + 0.5) * n / m
    shift = gamma_or_inf(2, fmt.unit_roundoff) * centres
    choices = [_nearest_weights(centres, n)]
    for moved in (centres - shift, centres + shift):
        selection = _nearest_weights(moved, n)
        if not any(np.array_equal(selection, c) for c in choices):
            choices.append(selection)
    return choices


def resize_error_bound(x, height, width, interpolation, antialias, fmt):
    """Bound on the error of resizing channels_last images x (batch, H, W, C) to (height, width),
    x the image after any crop or pad (exact: they move or fill pixels).

    nearest: every output is one input pixel; 0, except where the computed centre may cross a
    pixel border (_nearest_choices): there the distance to the other pixel's value.

    The other methods: y[i, j] = sum_{h, w} A[i, h] B[j, w] x[h, w] with the weights of each
    axis (_axis_weights_bound: A, B and their error bounds DA, DB, T_A, T_B taps per row).
    A correct evaluation computes weights A + EA, B + EB (|EA| <= DA, |EB| <= DB) and sums the
    K = T_A T_B + 1 roundings into one output (the coefficient's product and the sum, in any
    order; rows then columns, T_A + T_B, is fewer; nested interpolations too) with the rounded
    coefficients: sum |c^ - c| |x| + gamma_K sum |c^| |x|, and with P = |A| + DA, Q = |B| + DB,
    |c^ - c| <= P Q - |A| |B|, |c^| <= P Q:

        bound = (1 + gamma_K) (P |x| Q^T) - |A| |x| |B|^T + 2 K tiny

    (the last term a flush to zero of the K products and sums). None where K u >= 1 or a
    row's weights have no finite bound (_axis_weights_bound).

    The allowance is what an evaluation entirely in the format may do: in float16 the sample
    positions alone move by up to gamma_3 (q + 1/2), about 1e-2 pixels for q near 7, and the
    bicubic kernel's outer lobe cancels terms of up to 24: such a bound is wide, and it is an
    implementation that computes its weights in float32 that lands far inside it."""
    x = np.asarray(x, dtype=np.float64)
    if interpolation == "nearest":
        y = _resize_image(x, height, width, "nearest", False)
        bound = np.zeros(y.shape)
        rows, cols = _nearest_choices(x.shape[1], height, fmt), _nearest_choices(x.shape[2], width, fmt)
        for a in rows:
            for b in cols:
                bound = np.maximum(bound, np.abs(np.einsum("ph,bhwc,qw->bpqc", a, x, b, optimize=True) - y))
        return bound
    u = fmt.unit_roundoff
    a, da, taps_a = _axis_weights_bound(x.shape[1], height, interpolation, antialias, fmt)
    b, db, taps_b = _axis_weights_bound(x.shape[2], width, interpolation, antialias, fmt)
    k = taps_a[:, None] * taps_b[None, :] + 1
    if np.any(k * u >= 1) or not (np.all(np.isfinite(da)) and np.all(np.isfinite(db))):
        # gamma_K, or the weights' normalization (bicubic in bfloat16: the kernel's own
        # rounding may exceed the row's sum), bounds nothing: the flat tolerance judges
        return None
    magnitude = np.abs(x)
    with np.errstate(all="ignore"):
        computed = np.einsum("ph,bhwc,qw->bpqc", np.abs(a) + da, magnitude, np.abs(b) + db, optimize=True)
        exact = np.einsum("ph,bhwc,qw->bpqc", np.abs(a), magnitude, np.abs(b), optimize=True)
        bound = (1.0 + gamma_or_inf(k, u)[None, :, :, None]) * computed - exact + rounding.underflow_floor(2 * k, fmt)[None, :, :, None]
    return np.where(np.isfinite(bound), bound, np.inf)


def resizing_error_bound(x, fmt, *, height, width, interpolation="bilinear", crop_to_aspect_ratio=False,
                         pad_to_aspect_ratio=False, fill_value=0.0, antialias=False, data_format=None, **ignored):
    """Resizing's bound: resize_error_bound of the image after its (exact) crop or pad."""
    height, width = _positive_int("height", height), _positive_int("width", width)
    source, back = _resizing_source(x, height, width, crop_to_aspect_ratio, pad_to_aspect_ratio, fill_value, data_format)
    bound = resize_error_bound(source, height, width, interpolation, antialias, fmt)
    return None if bound is None else back(bound)


def center_crop_error_bound(x, fmt, *, height, width, data_format=None, **ignored):
    """0 for a crop; a smaller image is resized as Resizing(crop_to_aspect_ratio=True) is."""
    image, _ = _image(x, data_format)
    if image.shape[1] < height or image.shape[2] < width:
        return resizing_error_bound(x, fmt, height=height, width=width, crop_to_aspect_ratio=True, data_format=data_format)
    return np.zeros(np.shape(center_crop(x, height=height, width=width, data_format=data_format)))


def rescaling_error_bound(x, fmt, *, scale, offset=0.0, **ignored):
    """y = x * scale + offset, with scale and offset rounded to the format (u each), a product
    and a sum (or one fused multiply-add): the product's term passes 3 roundings, the offset's 2:

        |dy| <= gamma_3 (|x scale| + |offset|) + 3 tiny."""
    u = fmt.unit_roundoff
    magnitude = np.abs(_f64(x) * _number("scale", scale)) + abs(_number("offset", offset))
    return gamma_or_inf(3, u) * magnitude + rounding.underflow_floor(3, fmt)


def normalization_error_bound(x, fmt, *, mean=None, variance=None, axis=-1, invert=False, adapt=None, **ignored):
    """Normalization with its mean m and variance v given (sigma = sqrt(v)), both rounded to the
    format first (u each; sqrt of the rounded v, then its rounding: sigma^ = sigma (1 + e),
    |e| <= gamma_2; its reciprocal, or an rsqrt of up to 2 ulps: gamma_3).

    (x - m) / sigma, in either order of evaluation:
      direct       fl(fl(x - m^) / sigma^): the mean's rounding u |m|, then the difference,
                   the scale and the division relative to |y|: gamma_4 |y| + (1 + gamma_4) u |m| / sigma;
      distributed  x * (1 / sigma^) - m^ * (1 / sigma^): the products round before x and m
                   cancel: gamma_4 |y| + (1 + gamma_4) (u |x| + gamma_2 |m|) / sigma;
    both within
        |dy| <= (gamma_4 |x - m| + gamma_3 (|x| + |m|)) / sigma + tiny (2 / sigma + 1)
    The cancellation is the second term: x near a large mean keeps u (|x| + |m|) / sigma.

    invert, x * sigma + m: the scale's gamma_2, the product's and the sum's roundings and the
    mean's: |dy| <= gamma_4 (|x| sigma + |m|) + 2 tiny.

    With `adapt` the moments are the implementation's own from the data (`_adapted_moment_errors`:
    within dm and dv of the exact ones), and the bounds above are taken at the worst moments
    within them: invert |x| (sigma+ - sigma) + dm + gamma_4 (|x| sigma+ + |m| + dm), with
    sigma+ = sqrt(v + dv); the normalization (dm + |x - m| (sigma / sigma- - 1)) / sigma- plus the
    first bound with |x - m| + dm and |m| + dm over sigma- = sqrt(v - dv) (none where v - dv <= 0:
    the variance may be lost to rounding)."""
    if adapt is not None:
        if mean is not None or variance is not None:
            return None  # the reference refuses both (normalization)
        mean, variance = adapted_moments(adapt, axis)
        dm, dv = _adapted_moment_errors(adapt, axis, fmt)
    elif mean is None or variance is None:
        return None
    else:
        dm = dv = 0.0
    u = fmt.unit_roundoff
    x = _f64(x)
    shape = _kept_shape(x.shape, axis)
    kept = tuple(n for n, k in zip(shape, _kept_mask(x.ndim, axis)) if k)
    mean, variance, dm, dv = (np.broadcast_to(v, kept).reshape(shape) for v in (_f64(mean), _f64(variance), _f64(dm), _f64(dv)))
    sigma = np.sqrt(variance)
    tiny = fmt.smallest_normal
    high = np.sqrt(variance + dv)
    if invert:
        return np.abs(x) * (high - sigma) + dm + gamma_or_inf(4, u) * (np.abs(x) * high + np.abs(mean) + dm) + 2 * tiny
    low = np.sqrt(np.maximum(variance - dv, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        moved = (dm + np.abs(x - mean) * (sigma / low - 1)) / low
        bound = moved + (gamma_or_inf(4, u) * (np.abs(x - mean) + dm) + gamma_or_inf(3, u) * (np.abs(x) + np.abs(mean) + dm)
                         + 2 * tiny) / low + tiny
    return np.where(np.isfinite(bound) & (low > 0), bound, np.inf)


def _adapted_moment_errors(data, axis, fmt):
    """How far an implementation's mean and variance of adapt's data (each stored in the format)
    may be from the exact ones (`adapted_moments`). The documentation leaves open how they are
    computed: the order of the sums, the combination of batches (a running update per batch,
    a convex combination of the batch's moments and the ones so far), and the variance as
    mean((d - m)^2) or as mean(d^2) - m^2. Over N values per kept position in B batches, every
    value passes through at most N + 4 B + 4 roundings, each a relative perturbation of a term
    with a nonnegative weight, so with g = gamma_{N+4B+4} (Higham (3.5) for each form):
      dm = g mean|d|
      dv = g (mean(d^2) + m^2) + 2 |m| dm + dm^2   (mean(d^2) - m^2 loses both to rounding; the
                                                   two-pass form is within g (v + dm^2) + dm^2)
    and storing each in the format adds u of itself (dm, dv times 1 + u, plus u |m| and u v are
    the rounding the given-moments bound already counts)."""
    batches = len(data) if isinstance(data, (list, tuple)) else 1
    d, reduced = _adapt_samples(data, axis)
    n = int(np.prod([d.shape[i] for i in reduced])) if reduced else 1
    g = gamma_or_inf(n + 4 * batches + 4, fmt.unit_roundoff)
    mean = d.mean(axis=reduced)
    dm = g * np.mean(np.abs(d), axis=reduced)
    dv = g * (np.mean(d * d, axis=reduced) + mean * mean) + 2 * np.abs(mean) * dm + dm * dm
    return dm * (1 + fmt.unit_roundoff), dv * (1 + fmt.unit_roundoff)


def round_to_format(values, fmt):
    """values (float64) rounded to the nearest number of the format, ties to even (normal
    range; below it, to the subnormal spacing)."""
    values = _f64(values)
    mantissa, exponent = np.frexp(values)
    exponent = np.maximum(exponent, fmt.min_exponent + 1)  # below the normal range: the subnormal spacing
    step = np.ldexp(1.0, exponent - fmt.precision)
    return np.round(values / step) * step


def discretization_error_bound(x, fmt, *, bin_boundaries, output_mode="int", **ignored):
    """The index #{j : b_j <= x} is exact for the boundaries the format holds. A boundary
    b_j given as a number the format does not hold is rounded to b^_j first, and an x between
    b_j and b^_j (either included) may fall on either side: each such boundary may move the
    index by one ("int": the bound counts them), or move the element's count from one bin to
    the next (encoded: both bins may be off by one per such element)."""
    boundaries = _f64(bin_boundaries)
    x = _f64(x)
    rounded = round_to_format(boundaries, fmt)
    low, high = np.minimum(boundaries, rounded), np.maximum(boundaries, rounded)
    ambiguous = (boundaries != rounded) & (x[..., None] >= low) & (x[..., None] <= high)
    if output_mode == "int":
        return ambiguous.sum(axis=-1).astype(float)
    index = np.searchsorted(boundaries, x, side="right")
    moved = ambiguous.any(axis=-1)
    # the bins an ambiguous element may land in: from its lowest to its highest possible index
    lowest = index - (ambiguous & (x[..., None] >= boundaries)).sum(axis=-1)
    highest = index + (ambiguous & (x[..., None] < boundaries)).sum(axis=-1)
    tokens = np.arange(boundaries.size + 1)
    reach = moved[..., None] & (tokens >= lowest[..., None]) & (tokens <= highest[..., None])
    if output_mode == "one_hot":
        return (reach[..., 0, :] if x.ndim >= 1 and x.shape[-1] == 1 else reach).astype(float)
    return reach.sum(axis=-2).astype(float) if x.ndim >= 1 else reach.astype(float)


def category_encoding_error_bound(x, fmt, *, num_tokens, output_mode="multi_hot", count_weights=None, **ignored):
    """Exact (integer counts and indicators), except counts with count_weights: per bin a sum of
    at most L weights (L the sample's length, the last axis): gamma_L sum |w| + 2 L tiny."""
    if output_mode != "count" or count_weights is None:
        return np.zeros(np.shape(category_encoding(x, num_tokens=num_tokens, output_mode=output_mode)))
    x = np.asarray(x)
    length = x.shape[-1] if x.ndim >= 1 else 1
    magnitude = encode(x, _positive_int("num_tokens", num_tokens), "count", np.abs(_f64(count_weights)))
    return rounding.sum_of_products(magnitude, length, fmt)


ERROR_BOUNDS = {
    "Rescaling": rescaling_error_bound, "Resizing": resizing_error_bound, "CenterCrop": center_crop_error_bound,
    "Normalization": normalization_error_bound, "Discretization": discretization_error_bound,
    "CategoryEncoding": category_encoding_error_bound,
}
