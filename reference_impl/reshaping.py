"""Keras 3 reshaping layers in NumPy float64 (none has weights).

    Flatten        (batch, ...) -> (batch, prod(...)); channels_first flattens in channels_last order
    Reshape        (batch, ...) -> (batch, *target_shape), one -1 inferred
    Permute        (batch, d_1, .., d_k) -> (batch, d_dims[0], .., d_dims[k-1]), dims 1-based
    RepeatVector   (batch, f) -> (batch, n, f)
    Cropping1D/2D/3D, ZeroPadding1D/2D/3D   remove / add (before, after) elements per spatial dim
    UpSampling1D/2D/3D                      repeat every element `size` times per spatial dim
                                            (UpSampling2D: or bilinear, bicubic, Lanczos-3/5
                                            interpolation)

The contract (function signature, weight_shapes, output_shape, LAYERS, ignored arguments) is
the one of reference_impl.core. Layout: the spatial layers work on channels_last
`(batch, *spatial, channels)` and move a channels_first channel axis to the end on entry and
back on exit (Cropping1D, RepeatVector have no data_format).

Argument forms quoted from the Keras 3.15 docstrings (rank r = 1, 2, 3):
- cropping / padding: "Int, or tuple of {r} ints, or tuple of {r} tuples of 2 ints" (rank 1:
  "Int, or tuple of int (length 2)"), i.e. one symmetric amount, one symmetric amount per
  dim, or ((before, after), ...) per dim. All amounts are ints >= 0. Cropping1D/ZeroPadding1D
  also say "or dictionary" without describing one; the reference rejects a dict.
- Cropping: the total cropped from a dim must be smaller than the dim ("must be smaller than
  the input length"), so every cropped dim keeps at least one element.
- size (UpSampling): UpSampling1D "Integer"; UpSampling2D/3D "Int, or tuple of {r} integers";
  positive.
- n (RepeatVector): "Integer, repetition factor"; positive.
- data_format: "channels_last" (default, also for None) or "channels_first".

Wrong type or wrong value: an argument documented as one Python type, "Integer" (RepeatVector's
n, UpSampling1D's size), given a value of another type (a float, a string, a list, a bool) is
a TypeError, as Python's convention has it; the right type with a bad value (n=0) is a
ValueError. An argument documented as a set of forms (an int, a tuple of ints or a tuple of
pairs: cropping, padding, UpSampling2D/3D size, target_shape, dims) or as one of listed
values (interpolation, data_format) is a ValueError for anything that is not one of them,
whatever its type: the form is part of what the value must be (Keras's own tests assert
ValueError for cropping="1" and cropping=((1, 2), "3")).
"""
from __future__ import annotations

import math

import numpy as np

from reference_impl.conv import (
    _COMMON_IGNORED, _int_tuple, _is_int, _pad, data_format_argument, from_channels_last, to_channels_last,
)
from reference_impl.core import REQUIRED, _arguments, _check_weights, _f64, _shape_argument

INTERPOLATIONS = ("bicubic", "bilinear", "lanczos3", "lanczos5", "nearest")  # UpSampling2D docstring

_DF = {"data_format": None}
# Layer name -> (constructor argument -> default, arguments accepted and ignored).
ARGUMENTS = {
    "Flatten": (dict(_DF), _COMMON_IGNORED),
    "Reshape": ({"target_shape": REQUIRED}, _COMMON_IGNORED),
    "Permute": ({"dims": REQUIRED}, _COMMON_IGNORED),
    "RepeatVector": ({"n": REQUIRED}, _COMMON_IGNORED),
    "Cropping1D": ({"cropping": (1, 1)}, _COMMON_IGNORED),
    "Cropping2D": ({"cropping": ((0, 0), (0, 0)), **_DF}, _COMMON_IGNORED),
    "Cropping3D": ({"cropping": ((1, 1), (1, 1), (1, 1)), **_DF}, _COMMON_IGNORED),
    "ZeroPadding1D": ({"padding": 1, **_DF}, _COMMON_IGNORED),
    "ZeroPadding2D": ({"padding": (1, 1), **_DF}, _COMMON_IGNORED),
    "ZeroPadding3D": ({"padding": ((1, 1), (1, 1), (1, 1)), **_DF}, _COMMON_IGNORED),
    "UpSampling1D": ({"size": 2}, _COMMON_IGNORED),
    "UpSampling2D": ({"size": (2, 2), "interpolation": "nearest", **_DF}, _COMMON_IGNORED),
    "UpSampling3D": ({"size": (2, 2, 2), **_DF}, _COMMON_IGNORED),
}
_RANK = {"1D": 1, "2D": 2, "3D": 3}


# --- argument standardization -----------------------------------------------------------




def _pairs(name, value, rank):
    """((before, after), ...) for `rank` dims from an int, `rank` ints, or `rank` pairs of ints (all >= 0).

    rank 1 takes an int or one (before, after) pair, as Cropping1D/ZeroPadding1D document.
    """
    def ok(v):
        return _is_int(v) and v >= 0

    pairs = None
    if ok(value):
        pairs = ((int(value), int(value)),) * rank
    elif isinstance(value, (tuple, list)):
        items = tuple(value)
        if rank == 1 and len(items) == 2 and all(map(ok, items)):
            pairs = ((int(items[0]), int(items[1])),)
        elif rank > 1 and len(items) == rank and all(map(ok, items)):
            pairs = tuple((int(v), int(v)) for v in items)
        elif rank > 1 and len(items) == rank and all(
            isinstance(p, (tuple, list)) and len(p) == 2 and all(map(ok, p)) for p in items
        ):
            pairs = tuple((int(p[0]), int(p[1])) for p in items)
    if pairs is None:
        forms = "an int or a tuple of 2 ints (before, after)" if rank == 1 else (
            f"an int, a tuple of {rank} ints or a tuple of {rank} tuples of 2 ints"
        )
        raise ValueError(f"`{name}` must be {forms}, every value an int >= 0. Received: {name}={value!r}")
    return pairs


def _positive_integer(name, value):
    """An argument documented as "Integer": TypeError for a value of another type (bools
    included), ValueError for an int < 1; both name the argument and the value received."""
    if not _is_int(value):
        raise TypeError(f"`{name}` must be an int. Received: {name}={value!r} of type {type(value).__name__}")
    if value < 1:
        raise ValueError(f"`{name}` must be a positive int. Received: {name}={value!r}")
    return int(value)


def _split(shape, rank, data_format):
    """(batch, spatial dims, channels) of an input shape of rank `rank` + 2."""
    if len(shape) != rank + 2:
        raise ValueError(
            f"The input must have rank {rank + 2} (batch, {rank} spatial dims, channels). Received: input_shape={shape}"
        )
    if data_format == "channels_first":
        return shape[0], shape[2:], shape[1]
    return shape[0], shape[1:-1], shape[-1]


def _join(batch, spatial, channels, data_format):
    if data_format == "channels_first":
        return (batch, channels) + tuple(spatial)
    return (batch,) + tuple(spatial) + (channels,)






# --- shape rules (pure) -------------------------------------------------------------------


def _flatten_shape(shape, args):
    data_format_argument(args["data_format"])
    shape = _shape_argument("input_shape", shape, min_rank=1)
    rest = shape[1:]
    if not rest:
        return (shape[0], 1)
    return (shape[0], None if None in rest else math.prod(rest))


def _target_shape(target_shape):
    values = tuple(target_shape) if isinstance(target_shape, (tuple, list)) else None
    if values is None or not all(_is_int(v) and v >= -1 for v in values) or sum(v == -1 for v in values) > 1:
        raise ValueError(
            "`target_shape` must be a tuple of non-negative ints with at most one -1 (inferred). "
            f"Received: target_shape={target_shape!r}"
        )
    return tuple(int(v) for v in values)


def _reshape_shape(shape, args):
    target = _target_shape(args["target_shape"])
    shape = _shape_argument("input_shape", shape, min_rank=1)
    rest = shape[1:]
    if None in rest:
        return (shape[0],) + tuple(None if v == -1 else v for v in target)
    size = math.prod(rest)
    known = math.prod(v for v in target if v != -1)
    if -1 in target:
        if known == 0 or size % known:
            raise ValueError(
                f"The input size {size} cannot be divided by the known dims of `target_shape` (product {known}). "
                f"Received: target_shape={args['target_shape']!r}, input_shape={shape}"
            )
        target = tuple(size // known if v == -1 else v for v in target)
    elif known != size:
        raise ValueError(
            f"`target_shape` must keep the size of each sample ({size}). Received: target_shape="
            f"{args['target_shape']!r} (size {known}), input_shape={shape}"
        )
    return (shape[0],) + target


def _permute_dims(dims, rank):
    values = tuple(dims) if isinstance(dims, (tuple, list)) else None
    if values is None or not all(_is_int(v) for v in values) or sorted(values) != list(range(1, rank)):
        raise ValueError(
            f"`dims` must be a permutation of 1 .. {rank - 1} (indexing starts at 1, the batch dim excluded) for "
            f"an input of rank {rank}. Received: dims={dims!r}"
        )
    return tuple(int(v) for v in values)


def _permute_shape(shape, args):
    shape = _shape_argument("input_shape", shape, min_rank=2)
    dims = _permute_dims(args["dims"], len(shape))
    return (shape[0],) + tuple(shape[d] for d in dims)


def _repeat_shape(shape, args):
    shape = _shape_argument("input_shape", shape, rank=2)
    n = _positive_integer("n", args["n"])
    return (shape[0], n, shape[1])


def _crop_shape(rank):
    def rule(shape, args):
        pairs = _pairs("cropping", args["cropping"], rank)
        data_format = data_format_argument(args.get("data_format"))
        batch, spatial, channels = _split(_shape_argument("input_shape", shape), rank, data_format)
        out = []
        for n, (b, a) in zip(spatial, pairs):
            if n is not None and b + a >= n:
                raise ValueError(
                    f"`cropping` must remove fewer elements than each cropped dim has. Received: cropping="
                    f"{args['cropping']!r} ({b} + {a} from a dim of {n}), input_shape={tuple(shape)}"
                )
            out.append(None if n is None else n - b - a)
        return _join(batch, out, channels, data_format)
    return rule


def _pad_shape(rank):
    def rule(shape, args):
        pairs = _pairs("padding", args["padding"], rank)
        data_format = data_format_argument(args["data_format"])
        batch, spatial, channels = _split(_shape_argument("input_shape", shape), rank, data_format)
        out = [None if n is None else n + b + a for n, (b, a) in zip(spatial, pairs)]
        return _join(batch, out, channels, data_format)
    return rule


def _interpolation(interpolation):
    if interpolation not in INTERPOLATIONS:
        raise ValueError(
            f"`interpolation` must be one of {', '.join(map(repr, INTERPOLATIONS))}. "
            f"Received: interpolation={interpolation!r}"
        )
    return interpolation


def _size(size, rank):
    if rank == 1:
        return (_positive_integer("size", size),)
    return _int_tuple("size", size, rank, minimum=1)


def _upsample_shape(rank):
    def rule(shape, args):
        size = _size(args["size"], rank)
        data_format = data_format_argument(args.get("data_format"))
        if "interpolation" in args:
            _interpolation(args["interpolation"])
        batch, spatial, channels = _split(_shape_argument("input_shape", shape), rank, data_format)
        out = [None if n is None else n * s for n, s in zip(spatial, size)]
        return _join(batch, out, channels, data_format)
    return rule


_SHAPES = {
    "Flatten": _flatten_shape,
    "Reshape": _reshape_shape,
    "Permute": _permute_shape,
    "RepeatVector": _repeat_shape,
    **{f"Cropping{r}": _crop_shape(_RANK[r]) for r in _RANK},
    **{f"ZeroPadding{r}": _pad_shape(_RANK[r]) for r in _RANK},
    **{f"UpSampling{r}": _upsample_shape(_RANK[r]) for r in _RANK},
}


def weight_shapes(layer_name, input_shapes, **params):
    """{} for every reshaping layer (none has variables); ValueError for rejected arguments."""
    output_shape(layer_name, input_shapes, **params)
    return {}


def output_shape(layer_name, input_shapes, **params):
    """Output shape (batch dim included, in the layer's data_format) of a Keras reshaping layer.

    Flatten (b, prod(rest)) ((b,) -> (b, 1)); Reshape (b, *target_shape); Permute the dims in
    `dims` order; RepeatVector (b, n, f); Cropping n - before - after; ZeroPadding
    n + before + after; UpSampling n * size. Unknown (None) dims stay None.
    """
    args = _arguments(layer_name, params, ARGUMENTS)
    return _SHAPES[layer_name](input_shapes, args)


def _prepare(layer_name, inputs, weights, params):
    args = _arguments(layer_name, params, ARGUMENTS)
    _check_weights(layer_name, {}, weights)
    x = _f64(inputs)
    return x, args, _SHAPES[layer_name](x.shape, args)


# --- layer functions --------------------------------------------------------------------


def flatten(inputs, weights, /, **params):
    """Flatten: y[b, :] = ravel(x[b]) in C order; an input (batch,) becomes (batch, 1).

    channels_first: the channel axis 1 is moved to the end first, so that the output is the
    same as flattening the channels_last version of the input: y[b, :] = ravel(moveaxis(x[b], 0, -1)).
    The Keras 3 docstring only says the argument is "the ordering of the dimensions in the
    inputs"; the Keras 2 docstring of the same argument states its purpose, "to preserve
    weight ordering when switching a model from one data format to another", which is this.
    """
    x, args, shape = _prepare("Flatten", inputs, weights, params)
    if x.ndim > 2 and data_format_argument(args["data_format"]) == "channels_first":
        x = np.moveaxis(x, 1, -1)
    return x.reshape(shape)


def reshape(inputs, weights, /, **params):
    """Reshape: y[b] = reshape(x[b], target_shape) in C (row-major) order; one -1 is inferred.

    The size of each sample must be unchanged (ValueError otherwise), and with a -1 the known
    dims of target_shape must divide it.
    """
    x, _, shape = _prepare("Reshape", inputs, weights, params)
    return x.reshape(shape)


def permute(inputs, weights, /, **params):
    """Permute: y = transpose(x, (0,) + dims), i.e. output dim i + 1 is input dim dims[i] (dims 1-based)."""
    x, args, _ = _prepare("Permute", inputs, weights, params)
    return np.transpose(x, (0,) + _permute_dims(args["dims"], x.ndim))


def repeat_vector(inputs, weights, /, **params):
    """RepeatVector: y[b, i, f] = x[b, f] for i = 0 .. n - 1; input (batch, features)."""
    x, _, shape = _prepare("RepeatVector", inputs, weights, params)
    return np.broadcast_to(x[:, None, :], shape).copy()


def _crop(layer_name, rank):
    def crop(inputs, weights, /, **params):
        x, args, _ = _prepare(layer_name, inputs, weights, params)
        data_format = data_format_argument(args.get("data_format"))
        pairs = _pairs("cropping", args["cropping"], rank)
        y = _pad(to_channels_last(x, data_format), [(-b, -a) for b, a in pairs])
        return from_channels_last(y, data_format)

    crop.__name__ = crop.__qualname__ = f"cropping{rank}d"
    crop.__doc__ = (
        f"{layer_name}: y = x[:, b_1 : n_1 - a_1, ..., b_{rank} : n_{rank} - a_{rank}, :] (channels_last), "
        "(b_i, a_i) the (before, after) amounts of spatial dim i; b_i + a_i < n_i."
    )
    return crop


def _zero_pad(layer_name, rank):
    def zero_pad(inputs, weights, /, **params):
        x, args, _ = _prepare(layer_name, inputs, weights, params)
        data_format = data_format_argument(args["data_format"])
        pairs = _pairs("padding", args["padding"], rank)
        return from_channels_last(_pad(to_channels_last(x, data_format), pairs), data_format)

    zero_pad.__name__ = zero_pad.__qualname__ = f"zero_padding{rank}d"
    zero_pad.__doc__ = (
        f"{layer_name}: y[:, b_1 + i_1, ..., b_{rank} + i_{rank}, :] = x[:, i_1, ..., i_{rank}, :] (channels_last), "
        "zeros elsewhere; spatial dim i grows from n_i to b_i + n_i + a_i."
    )
    return zero_pad


def _repeat(x, size):
    """Nearest-neighbour upsampling of channels_last x: y[b, i, c] = x[b, i // s, c] per spatial dim."""
    for axis, s in enumerate(size, start=1):
        x = np.repeat(x, s, axis=axis)
    return x


def _triangle(x):
    """Linear interpolation kernel (radius 1): K(x) = max(1 - |x|, 0)."""
    return np.maximum(1.0 - np.abs(x), 0.0)


def _keys_cubic(x):
    """Keys cubic convolution kernel with a = -1/2 (the Catmull-Rom spline), radius 2:

        K(x) = (a + 2)|x|^3 - (a + 3)|x|^2 + 1           for |x| <= 1
             = a|x|^3 - 5a|x|^2 + 8a|x| - 4a             for 1 < |x| < 2
             = 0                                          otherwise
    i.e. 3/2 |x|^3 - 5/2 |x|^2 + 1 and -1/2 |x|^3 + 5/2 |x|^2 - 4|x| + 2. K(0) = 1, K(+-1) =
    K(+-2) = 0, so it interpolates; its integer translates sum to 1 and it reproduces
    polynomials of degree <= 2 (Keys 1981): constants, linear ramps, parabolas.
    """
    a = -0.5
    x = np.abs(x)
    inner = ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0
    outer = ((a * x - 5.0 * a) * x + 8.0 * a) * x - 4.0 * a
    return np.where(x <= 1.0, inner, np.where(x < 2.0, outer, 0.0))


def _lanczos(radius, x):
    """Lanczos kernel of radius a: L_a(x) = sinc(x) sinc(x / a) for |x| < a, 0 otherwise,
    sinc(x) = sin(pi x) / (pi x), sinc(0) = 1 (numpy.sinc)."""
    return np.where(np.abs(x) < radius, np.sinc(x) * np.sinc(x / radius), 0.0)


def _lanczos3(x):
    """Lanczos kernel of radius 3: sinc(x) sinc(x / 3) for |x| < 3, 0 otherwise."""
    return _lanczos(3, x)


def _lanczos5(x):
    """Lanczos kernel of radius 5: sinc(x) sinc(x / 5) for |x| < 5, 0 otherwise."""
    return _lanczos(5, x)


# interpolation -> (kernel, radius): the kernel is zero for |x| >= radius
_KERNELS = {
    "bilinear": (_triangle, 1),
    "bicubic": (_keys_cubic, 2),
    "lanczos3": (_lanczos3, 3),
    "lanczos5": (_lanczos5, 5),
}


def _kernel_weights(n, s, kernel, radius):
    """(n * s, n) matrix M of 1-D interpolation by `kernel` with half-pixel centers, normalized.

    Output i samples the input at c_i = (i + 0.5) / s - 0.5; the taps are the input indices
    t = 0 .. n - 1 with |c_i - t| < radius (taps outside the input are dropped), and

        M[i, t] = K(c_i - t) / sum_{u = 0 .. n - 1, |c_i - u| < radius} K(c_i - u),

    so every row sums to 1. The denominator is positive: for s >= 1 the nearest tap lies
    inside the input within 1/2, where each kernel here is >= 1/2, and the negative lobes
    of the others do not cancel it (its smallest value over n <= 24, s <= 11 is 0.496,
    Lanczos-5). For the triangle kernel (radius 1) M is linear interpolation with c_i
    clamped to [0, n - 1].
    """
    c = (np.arange(n * s) + 0.5) / s - 0.5
    d = c[:, None] - np.arange(n)[None, :]
    w = np.where(np.abs(d) < radius, kernel(d), 0.0)
    return w / w.sum(axis=1, keepdims=True)


def _resize(x, size, kernel, radius):
    """Separable upsampling of channels_last (batch, H, W, C) x by `kernel`, see _kernel_weights:
    y[b, i, j, c] = sum_{h, w} M_0[i, h] M_1[j, w] x[b, h, w, c]."""
    mh = _kernel_weights(x.shape[1], size[0], kernel, radius)
    mw = _kernel_weights(x.shape[2], size[1], kernel, radius)
    return np.einsum("ph,bhwc,qw->bpqc", mh, x, mw, optimize=True)


def up_sampling1d(inputs, weights, /, **params):
    """UpSampling1D: y[b, t, f] = x[b, t // size, f] ("Repeats each temporal step `size` times")."""
    x, args, _ = _prepare("UpSampling1D", inputs, weights, params)
    return _repeat(x, _size(args["size"], 1))


def up_sampling2d(inputs, weights, /, **params):
    """UpSampling2D: output (H * s_0, W * s_1), by `interpolation`:

    nearest: y[b, i, j, c] = x[b, i // s_0, j // s_1, c] ("repeat the rows and columns");
    otherwise separable interpolation by a kernel K of radius r (_resize, _kernel_weights):
        y[b, i, j, c] = sum_{h, w} M_0[i, h] M_1[j, w] x[b, h, w, c],
        M_k[i, t] = K(c_i - t) / sum_u K(c_i - u),   c_i = (i + 0.5) / s_k - 0.5,
    t and u running over the input indices in [0, n_k - 1] within r of c_i (|c_i - u| < r):
        bilinear  K(x) = max(1 - |x|, 0), r = 1 (_triangle)
        bicubic   Keys cubic convolution kernel, a = -1/2 (Catmull-Rom), r = 2 (_keys_cubic)
        lanczos3  sinc(x) sinc(x / 3), r = 3 (_lanczos3)
        lanczos5  sinc(x) sinc(x / 5), r = 5 (_lanczos5)

    The layer docstring says only "interpolative resizing" with these method names; the rest
    is tf.image.resize's documentation, which the layer calls with antialias off (antialias has
    no effect when upsampling, as that docstring says):
    - the kernels: "bicubic: Cubic interpolant of Keys. Equivalent to Catmull-Rom kernel",
      "lanczos3/lanczos5: Lanczos kernel with radius 3/5";
    - half-pixel centers: its example resizes a 5x5 identity to 3x5 with first row
      [2/3, 1/3, 0, 0, 0], the sample at (0 + 0.5) * 5/3 - 0.5 = 1/3 (not align_corners);
    - the edges: "Near image edges the filtering kernel may be partially outside the image
      boundaries. For these pixels, only input pixels inside the image will be included in the
      filter sum, and the output value will be appropriately normalized": taps outside the
      input are dropped and the remaining weights divided by their sum (not edge replication).
      tf.keras does exactly this: its 1-D weight matrices (the layer applied to unit impulses,
      n = 1 to 12, s = 2 to 7) match dropped-and-renormalized weights to float32 rounding, and
      differ from edge-replicated taps by up to 0.03 (bicubic), 0.11 (lanczos3) and 0.16
      (lanczos5). (Bicubic only for s = 2 and 4: at other factors tf.keras's weights are off
      by up to 5e-4 everywhere, edges or not, as if K were evaluated at the offset rounded to
      a multiple of 1/1024; a departure from the Keys kernel, not another edge rule.)
    - normalization everywhere, not only at the edges: Keys' translates sum to 1, but
      Lanczos' do not (sum_k L_3(1/4 + k) = 0.99697...), so without normalization a constant
      image would not stay constant. tf.keras normalizes interior rows too (unnormalized
      Lanczos-3 weights differ from it by 2.7e-3).
    For bilinear, dropping the outside tap and renormalizing is the same as clamping c_i to
    [0, n - 1]: the first and last s // 2 outputs repeat the edge.
    Any other `interpolation` is a ValueError.
    """
    x, args, _ = _prepare("UpSampling2D", inputs, weights, params)
    data_format = data_format_argument(args["data_format"])
    size = _size(args["size"], 2)
    interpolation = _interpolation(args["interpolation"])
    x = to_channels_last(x, data_format)
    y = _repeat(x, size) if interpolation == "nearest" else _resize(x, size, *_KERNELS[interpolation])
    return from_channels_last(y, data_format)


def up_sampling3d(inputs, weights, /, **params):
    """UpSampling3D: y[b, i, j, k, c] = x[b, i // s_0, j // s_1, k // s_2, c].

    ("Repeats the 1st, 2nd and 3rd dimensions of the data by size[0], size[1] and size[2]".)
    """
    x, args, _ = _prepare("UpSampling3D", inputs, weights, params)
    data_format = data_format_argument(args["data_format"])
    return from_channels_last(_repeat(to_channels_last(x, data_format), _size(args["size"], 3)), data_format)


cropping1d, cropping2d, cropping3d = (_crop(f"Cropping{r}D", r) for r in (1, 2, 3))
zero_padding1d, zero_padding2d, zero_padding3d = (_zero_pad(f"ZeroPadding{r}D", r) for r in (1, 2, 3))

LAYERS = {
    "Flatten": flatten,
    "Reshape": reshape,
    "Permute": permute,
    "RepeatVector": repeat_vector,
    "Cropping1D": cropping1d,
    "Cropping2D": cropping2d,
    "Cropping3D": cropping3d,
    "ZeroPadding1D": zero_padding1d,
    "ZeroPadding2D": zero_padding2d,
    "ZeroPadding3D": zero_padding3d,
    "UpSampling1D": up_sampling1d,
    "UpSampling2D": up_sampling2d,
    "UpSampling3D": up_sampling3d,
}
