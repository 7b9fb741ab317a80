"""Keras 3 pooling layers in NumPy float64: one window reduction, one adaptive reduction, thin layer mappings.

Layout: inputs are channels_last `(batch, *spatial, channels)` inside this module; the layer
functions move a channels_first channel axis to the end on entry and back on exit.

Window pooling (MaxPooling1D/2D/3D, AveragePooling1D/2D/3D), per spatial dim with input length
`n`, window `k` and stride `s` (the padding rule of reference_impl.conv with k_eff = k):

- "valid":  no padding;                        out = floor((n - k) / s) + 1
- "same":   out = ceil(n / s), total = max((out - 1) * s + k - n, 0),
            total // 2 before, the rest after (the odd element goes to the end)

    max:     y[b, i, c] = max  { x[b, i * s + j - p, c] : j in window, 0 <= i * s + j - p < n }
    average: y[b, i, c] = mean { x[b, i * s + j - p, c] : j in window, 0 <= i * s + j - p < n }

with `p` the padding before. Max pooling treats padding as -inf; average pooling divides by the
number of real (non-padded) elements in the window, never by the full window size. Every window
holds at least one real element (total padding <= k - 1, so p < k and the last window starts
before n). The Keras 3.15 AveragePooling docstrings are silent on how 'same' counts the border;
the Keras 2 / tf.keras 2.x docstring example shows it: 3x3 input 1..9, pool 2, stride 1, 'same'
-> [[3, 4, 4.5], [6, 7, 7.5], [7.5, 8.5, 9]] (4.5 = (3 + 6) / 2, two real elements).

Adaptive pooling (AdaptiveMaxPooling1D/2D/3D, AdaptiveAveragePooling1D/2D/3D), output length `o`:
bin `i` spans [floor(i * n / o), ceil((i + 1) * n / o)); every bin is non-empty, neighbouring bins
overlap when o does not divide n, and o > n is allowed (bins repeat elements). The Keras
docstrings only say "the kernel size and stride are automatically computed"; this is the
PyTorch/MindSpore rule, and tf.keras 3.15 follows it for every size tried (n=7, o=1..8; n=10, o=3, 4, 6),
except AdaptiveMaxPooling with an output size of 1, which kills the process (SIGFPE).

Global pooling reduces every spatial dim; GlobalAveragePooling1D alone takes a `mask`
(batch, steps): "indicating whether a given step should be masked (excluded from the average)",
so y[b, c] = sum_t m[b, t] x[b, t, c] / sum_t m[b, t] (0 / 0 = nan when a row is all masked).

Argument rules quoted from the Keras 3.15 docstrings: pool_size/strides "int or tuple of
{rank} integers", strides "If None, it will default to `pool_size`"; padding "either "valid" or
"same" (case-insensitive)"; output_size "Integer or tuple of {rank} integers".
"""
from __future__ import annotations

import inspect
from typing import NamedTuple

import numpy as np

from reference_impl.conv import (
    _COMMON_IGNORED,
    _int_tuple,
    _is_int,
    _pad,
    _padding_argument,
    _pads,
    _windows,
    data_format_argument,
    from_channels_last,
    split_input_shape,
    to_channels_last,
)

KINDS = ("max", "average", "global_max", "global_average", "adaptive_max", "adaptive_average")
REDUCERS = ("max", "average")

# Keras arguments that do not change the computed values; anything else unknown is a TypeError.
IGNORED_ARGUMENTS = _COMMON_IGNORED


# --- shape rules (pure functions of one spatial dim) ------------------------------------


def _pool_length(n, k, s, padding):
    """Pooled length: floor((n - k) / s) + 1 for 'valid', ceil(n / s) for 'same' (None stays None)."""
    if n is None:
        return None
    before, after = _pads(padding, n, k, s)
    return (n + before + after - k) // s + 1


def _bins(n, o):
    """Adaptive bins of one dim: start_i = floor(i * n / o), end_i = ceil((i + 1) * n / o)."""
    i = np.arange(o)
    return (i * n) // o, -((-(i + 1) * n) // o)


# --- general kernels --------------------------------------------------------------------


def _check_input(x, name="x"):
    x = np.asarray(x, dtype=np.float64)
    if not 3 <= x.ndim <= 5:
        raise ValueError(
            f"`{name}` must have rank 3, 4 or 5 (batch, *spatial, channels). Received: {name}.shape={x.shape}"
        )
    return x


def _reducer_argument(reducer):
    if reducer not in REDUCERS:
        raise ValueError(f"`reducer` must be one of {', '.join(map(repr, REDUCERS))}. Received: reducer={reducer!r}")
    return reducer


def _window_reduce(x, window, strides, padding, reducer):
    """window_reduce without argument checks; the output lengths must already be >= 1."""
    rank = x.ndim - 2
    pads = [_pads(padding, n, k, s) for n, k, s in zip(x.shape[1:-1], window, strides)]
    ones = (1,) * rank
    # 1 on real elements, 0 on padding: the same windows over it count the real elements.
    real = _windows(_pad(np.ones((1,) + x.shape[1:-1] + (1,)), pads), window, strides, ones)
    view = _windows(_pad(x, pads), window, strides, ones)  # (batch, *out, C, *window)
    taps = tuple(range(rank + 2, 2 * rank + 2))
    if reducer == "max":
        return np.max(np.where(real > 0, view, -np.inf), axis=taps)
    with np.errstate(invalid="ignore"):  # infinite inputs make inf - inf or 0 * inf here: NaN, as IEEE arithmetic (and tf.keras) give it
        return np.sum(view, axis=taps) / np.sum(real, axis=taps)


def window_reduce(x, *, window, strides, padding, reducer):
    """N-d window pooling of channels_last x (batch, *spatial, C), float64.

    y[b, i, c] = R { x[b, i * s + j - p, c] : j in window, 0 <= i * s + j - p < n },
    R = max (reducer "max": padding acts as -inf) or mean (reducer "average": the sum over the
    real elements divided by their count, padding excluded). padding "valid" | "same" with
    p the 'same' padding before: out = ceil(n / s), total = max((out - 1) * s + k - n, 0),
    p = total // 2; 'valid': p = 0, out = floor((n - k) / s) + 1.
    """
    x = _check_input(x)
    rank = x.ndim - 2
    window = _int_tuple("window", window, rank, minimum=1)
    strides = _int_tuple("strides", strides, rank, minimum=1)
    padding = _padding_argument(padding, rank, ("valid", "same"), allow_pairs=False)
    reducer = _reducer_argument(reducer)
    lengths = tuple(_pool_length(n, k, s, padding) for n, k, s in zip(x.shape[1:-1], window, strides))
    if min(lengths) < 1:
        raise ValueError(
            f"The output would have a spatial size below 1: {lengths}. Received: x.shape={x.shape}, "
            f"window={window}, strides={strides}, padding={padding!r}"
        )
    return _window_reduce(x, window, strides, padding, reducer)


def _adaptive_reduce(x, output_size, reducer):
    """adaptive_reduce without argument checks."""
    rank = x.ndim - 2
    for axis, (n, o) in enumerate(zip(x.shape[1:-1], output_size), start=1):
        # Max and mean over a box of bins are iterated 1-D maxima and means, one spatial dim at a time.
        start, end = _bins(n, o)
        width = int(np.max(end - start))
        index = start[:, None] + np.arange(width)  # (o, width): element j of bin i
        inside = index < end[:, None]
        taken = np.take(x, np.minimum(index, n - 1), axis=axis)  # axis -> (o, width)
        inside = inside.reshape((1,) * axis + inside.shape + (1,) * (rank + 1 - axis))
        if reducer == "max":
            x = np.max(np.where(inside, taken, -np.inf), axis=axis + 1)
        else:
            with np.errstate(invalid="ignore"):  # infinite inputs make inf - inf or 0 * inf here: NaN, as IEEE arithmetic (and tf.keras) give it
                x = np.sum(np.where(inside, taken, 0.0), axis=axis + 1) / (end - start).reshape(
                    (o,) + (1,) * (rank + 1 - axis)
                )
    return x


def adaptive_reduce(x, *, output_size, reducer):
    """N-d adaptive pooling of channels_last x (batch, *spatial, C) to spatial size output_size, float64.

    Per dim (input n, output o) bin i = [floor(i * n / o), ceil((i + 1) * n / o));
    y[b, i, c] = R { x[b, j, c] : j in bin i_1 x ... x bin i_r }, R = max ("max") or mean ("average").
    """
    x = _check_input(x)
    output_size = _int_tuple("output_size", output_size, x.ndim - 2, minimum=1)
    return _adaptive_reduce(x, output_size, _reducer_argument(reducer))


# --- layer specification (pure: arguments and input shape only) -------------------------


class _Layer(NamedTuple):
    kind: str
    rank: int
    data_format: str
    batch: object
    spatial: tuple  # input spatial dims (ints or None)
    channels: object
    pool_size: tuple | None
    strides: tuple | None
    padding: str | None
    output_size: tuple | None
    keepdims: bool




def _layer(kind, input_shape, args, ignored):
    """Validate the Keras arguments of one pooling kind against an input shape (batch included)."""
    if kind not in KINDS:
        raise ValueError(f"`kind` must be one of {', '.join(map(repr, KINDS))}. Received: kind={kind!r}")
    unknown = sorted(set(ignored) - IGNORED_ARGUMENTS)
    if unknown:
        raise TypeError(f"Unexpected keyword argument(s) for a {kind!r} pooling layer: {', '.join(unknown)}")
    shape, rank, data_format, channels, spatial = split_input_shape(
        input_shape, args.get("rank"), args["data_format"], f"{kind!r} pooling layer")
    if not (channels is None or (_is_int(channels) and channels >= 1)):
        raise ValueError(f"The channel dimension of the input must be a positive int or None. Received: input_shape={shape}")
    pool_size = strides = padding = output_size = None
    keepdims = False
    if kind in ("max", "average"):
        pool_size = _int_tuple("pool_size", args["pool_size"], rank, minimum=1)
        strides = pool_size if args["strides"] is None else _int_tuple("strides", args["strides"], rank, minimum=1)
        padding = _padding_argument(args["padding"], rank, ("valid", "same"), allow_pairs=False)
    elif kind in ("adaptive_max", "adaptive_average"):
        output_size = _int_tuple("output_size", args["output_size"], rank, minimum=1)
    else:
        keepdims = args["keepdims"]
        if not isinstance(keepdims, (bool, np.bool_)):
            raise ValueError(f"`keepdims` must be a bool. Received: keepdims={keepdims!r}")
        keepdims = bool(keepdims)
    layer = _Layer(kind, rank, data_format, shape[0], tuple(spatial), channels, pool_size, strides, padding,
                   output_size, keepdims)
    lengths = _output_spatial(layer)
    if any(n is not None and n < 1 for n in lengths):
        raise ValueError(
            f"The output would have a spatial size below 1: {lengths}. Received: input_shape={shape}, "
            f"pool_size={pool_size}, strides={strides}, padding={padding!r}"
        )
    return layer


def _output_spatial(layer):
    """Output spatial dims; () for global pooling without keepdims."""
    if layer.kind in ("max", "average"):
        return tuple(
            _pool_length(n, k, s, layer.padding) for n, k, s in zip(layer.spatial, layer.pool_size, layer.strides)
        )
    if layer.output_size is not None:
        return layer.output_size
    return (1,) * layer.rank if layer.keepdims else ()


def _layer_from_kwargs(kind, input_shape, layer_kwargs):
    """Bind keyword arguments to the layer function of `kind` (its defaults, its required names)."""
    if kind not in _LAYER_FUNCTIONS:
        raise ValueError(f"`kind` must be one of {', '.join(map(repr, KINDS))}. Received: kind={kind!r}")
    params = {
        p.name: p.default
        for p in inspect.signature(_LAYER_FUNCTIONS[kind]).parameters.values()
        if p.kind is inspect.Parameter.KEYWORD_ONLY and p.name != "mask"
    }
    params["rank"] = None  # inferred from input_shape unless given
    args = {name: layer_kwargs.get(name, default) for name, default in params.items()}
    missing = [name for name, value in args.items() if value is inspect.Parameter.empty]
    if missing:
        raise TypeError(f"Missing required argument(s) for a {kind!r} pooling layer: {', '.join(missing)}")
    ignored = {name: v for name, v in layer_kwargs.items() if name not in params}
    return _layer(kind, input_shape, args, ignored)


def output_shape(kind, input_shape, **layer_kwargs):
    """Output shape (batch included, in the layer's data_format) of a Keras pooling layer.

    kind: "max" | "average" (spatial lengths floor((n - k) / s) + 1 'valid', ceil(n / s) 'same'),
    "adaptive_max" | "adaptive_average" (output_size), "global_max" | "global_average"
    ((batch, C), or 1 for every spatial dim with keepdims=True). Unknown (None) dims stay None.
    """
    layer = _layer_from_kwargs(kind, input_shape, layer_kwargs)
    spatial = _output_spatial(layer)
    if not spatial:
        return (layer.batch, layer.channels)
    if layer.data_format == "channels_first":
        return (layer.batch, layer.channels) + spatial
    return (layer.batch,) + spatial + (layer.channels,)


# --- layer functions --------------------------------------------------------------------






def max_pool(x, *, rank, pool_size=2, strides=None, padding="valid", data_format="channels_last", **ignored):
    """MaxPooling1D/2D/3D: window_reduce(x, reducer="max"); strides None -> pool_size.

    y[b, i, c] = max over the window at i * s - p of the real elements (padding is -inf).
    """
    args = dict(rank=rank, pool_size=pool_size, strides=strides, padding=padding, data_format=data_format)
    layer = _layer("max", np.shape(x), args, ignored)
    y = _window_reduce(to_channels_last(x, layer.data_format), layer.pool_size, layer.strides, layer.padding, "max")
    return from_channels_last(y, layer.data_format)


def average_pool(x, *, rank, pool_size, strides=None, padding="valid", data_format="channels_last", **ignored):
    """AveragePooling1D/2D/3D: window_reduce(x, reducer="average"); strides None -> pool_size.

    y[b, i, c] = (sum of the real elements in the window at i * s - p) / (their count); with
    'same' padding the border windows divide by fewer than prod(pool_size). pool_size has no
    default: the Keras 3.15 AveragePooling signatures require it (MaxPooling defaults to 2).
    """
    args = dict(rank=rank, pool_size=pool_size, strides=strides, padding=padding, data_format=data_format)
    layer = _layer("average", np.shape(x), args, ignored)
    y = _window_reduce(to_channels_last(x, layer.data_format), layer.pool_size, layer.strides, layer.padding,
                       "average")
    return from_channels_last(y, layer.data_format)


def global_max_pool(x, *, rank, data_format="channels_last", keepdims=False, **ignored):
    """GlobalMaxPooling1D/2D/3D: y[b, c] = max over every spatial position of x[b, ., c].

    keepdims=True keeps each spatial dim with length 1 (in the layer's data_format).
    """
    args = dict(rank=rank, data_format=data_format, keepdims=keepdims)
    layer = _layer("global_max", np.shape(x), args, ignored)
    x = to_channels_last(x, layer.data_format)
    y = np.max(x, axis=tuple(range(1, rank + 1)), keepdims=layer.keepdims)
    return from_channels_last(y, layer.data_format) if layer.keepdims else y


def global_average_pool(x, *, rank, data_format="channels_last", keepdims=False, mask=None, **ignored):
    """GlobalAveragePooling1D/2D/3D: y[b, c] = mean over every spatial position of x[b, ., c].

    mask (rank 1 only, as documented for GlobalAveragePooling1D): (batch, steps), true = keep;
    y[b, c] = sum_t m[b, t] x[b, t, c] / sum_t m[b, t] (nan for a row with no kept step).
    keepdims=True keeps each spatial dim with length 1 (in the layer's data_format).
    """
    args = dict(rank=rank, data_format=data_format, keepdims=keepdims)
    layer = _layer("global_average", np.shape(x), args, ignored)
    x = to_channels_last(x, layer.data_format)
    axes = tuple(range(1, rank + 1))
    if mask is None:
        with np.errstate(invalid="ignore"):  # infinite inputs make inf - inf or 0 * inf here: NaN, as IEEE arithmetic (and tf.keras) give it
            y = np.mean(x, axis=axes, keepdims=layer.keepdims)
    else:
        if rank != 1:
            raise ValueError(
                f"`mask` is only documented for GlobalAveragePooling1D (rank 1). Received: mask with rank={rank}"
            )
        m = np.asarray(mask)
        if m.shape != x.shape[:2]:
            raise ValueError(f"`mask` must have shape (batch, steps) = {x.shape[:2]}. Received: mask.shape={m.shape}")
        m = m.astype(bool).astype(np.float64)[..., None]
        with np.errstate(invalid="ignore", divide="ignore"):
            y = np.sum(x * m, axis=1, keepdims=layer.keepdims) / np.sum(m, axis=1, keepdims=layer.keepdims)
    return from_channels_last(y, layer.data_format) if layer.keepdims else y


def adaptive_max_pool(x, *, rank, output_size, data_format="channels_last", **ignored):
    """AdaptiveMaxPooling1D/2D/3D: max over bin [floor(i n / o), ceil((i + 1) n / o)) per spatial dim."""
    args = dict(rank=rank, output_size=output_size, data_format=data_format)
    layer = _layer("adaptive_max", np.shape(x), args, ignored)
    y = _adaptive_reduce(to_channels_last(x, layer.data_format), layer.output_size, "max")
    return from_channels_last(y, layer.data_format)


def adaptive_average_pool(x, *, rank, output_size, data_format="channels_last", **ignored):
    """AdaptiveAveragePooling1D/2D/3D: mean over bin [floor(i n / o), ceil((i + 1) n / o)) per spatial dim."""
    args = dict(rank=rank, output_size=output_size, data_format=data_format)
    layer = _layer("adaptive_average", np.shape(x), args, ignored)
    y = _adaptive_reduce(to_channels_last(x, layer.data_format), layer.output_size, "average")
    return from_channels_last(y, layer.data_format)


_LAYER_FUNCTIONS = {
    "max": max_pool,
    "average": average_pool,
    "global_max": global_max_pool,
    "global_average": global_average_pool,
    "adaptive_max": adaptive_max_pool,
    "adaptive_average": adaptive_average_pool,
}
