"""Keras 3 convolution layers in NumPy float64: one N-d kernel and thin layer mappings.

Layout: inputs are channels_last `(batch, *spatial, channels)` inside this module; the layer
functions transpose channels_first inputs on entry and outputs on exit.

Convolution here is cross-correlation, as in Keras (no kernel flip):

    y[b, i, o] = sum_{j, c} x_pad[b, i * s + j * d, g(o) * C_g + c] * kernel[j, c, o]

with `i`, `j` multi-indices over the spatial dims, `s` the strides, `d` the dilation,
`C_g = in_channels // groups` and `g(o) = o // (out_channels // groups)` the feature group of
output channel `o`. `k_eff = (k - 1) * d + 1` is the dilated kernel extent. Padding rules
(per spatial dim, input length `n`):

- "valid":  no padding;                       out = floor((n - k_eff) / s) + 1
- "same":   out = ceil(n / s), total = max((out - 1) * s + k_eff - n, 0),
            total // 2 before, the rest after (the odd element goes to the end)
- "causal": k_eff - 1 before, 0 after;         out = ceil(n / s)
- explicit (before, after) pairs:             out = floor((n + before + after - k_eff) / s) + 1

The transposed convolution is the adjoint of the forward one (the gradient with respect to its
input): <conv_general(x, K), y> = <x, conv_transpose_general(y, K)>.

Layer-level argument rules quoted from the Keras 3.15 docstrings of Conv1D/2D/3D,
DepthwiseConv1D/2D, SeparableConv1D/2D and Conv1D/2D/3DTranspose:

- Conv, DepthwiseConv and ConvTranspose list under "Raises:" a "ValueError: when both
  `strides > 1` and `dilation_rate > 1`": the reference rejects that combination for them.
  SeparableConv1D/2D say "`strides > 1` is incompatible with `dilation_rate > 1`" in the
  argument list only, with no "Raises:" entry; "incompatible" or "not supported" in a
  docstring describes what may not work, it is not a promise to raise, so the reference
  computes the strided, dilated convolution the formula defines;
- padding: "valid" or "same" (case-insensitive); Conv1D alone also "causal";
- groups (Conv only): "Input channels and `filters` must both be divisible by `groups`";
- output_padding (transposed): "The amount of output padding along a given dimension must be
  lower than the stride along that same dimension."
- dilation_rate of Conv1DTranspose: "dilation rate larger than 1 is not currently supported";
  of Conv2DTranspose: "Specifying different dilation rates for different dimensions is not
  supported". Neither is listed under "Raises:", so, as above, the reference computes them:
  the adjoint of the dilated forward convolution.
"""
from __future__ import annotations

import inspect
import numbers
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from reference_impl import activations as _activations

KINDS = ("conv", "depthwise", "separable", "transpose")
DATA_FORMATS = ("channels_last", "channels_first")

# Layer kinds whose Keras docstrings promise "Raises: ValueError: when both `strides > 1` and
# `dilation_rate > 1`" (SeparableConv1D/2D call the combination incompatible but promise no error).
STRIDES_EXCLUDE_DILATION = frozenset({"conv", "depthwise", "transpose"})

# Keras arguments that do not change the computed values (initializers only matter before
# the weights are set). Anything else that is not a parameter is a TypeError.
_COMMON_IGNORED = frozenset({"name", "trainable", "activity_regularizer"})
_BIAS_OBJECTS = frozenset({"bias_initializer", "bias_regularizer", "bias_constraint"})
_KERNEL_OBJECTS = frozenset({"kernel_initializer", "kernel_regularizer", "kernel_constraint"})
_DEPTHWISE_OBJECTS = frozenset({"depthwise_initializer", "depthwise_regularizer", "depthwise_constraint"})
_POINTWISE_OBJECTS = frozenset({"pointwise_initializer", "pointwise_regularizer", "pointwise_constraint"})
IGNORED_ARGUMENTS = {
    "conv": _COMMON_IGNORED | _BIAS_OBJECTS | _KERNEL_OBJECTS,
    "transpose": _COMMON_IGNORED | _BIAS_OBJECTS | _KERNEL_OBJECTS,
    "depthwise": _COMMON_IGNORED | _BIAS_OBJECTS | _DEPTHWISE_OBJECTS,
    "separable": _COMMON_IGNORED | _BIAS_OBJECTS | _DEPTHWISE_OBJECTS | _POINTWISE_OBJECTS,
}


# --- data formats (shared by every layer family with a data_format argument) -------------


def data_format_argument(data_format):
    """'channels_last' (also for None, the Keras default) or 'channels_first'; else ValueError."""
    data_format = "channels_last" if data_format is None else data_format
    if data_format not in DATA_FORMATS:
        raise ValueError(
            f"`data_format` must be 'channels_last' or 'channels_first'. Received: data_format={data_format!r}"
        )
    return data_format


def to_channels_last(x, data_format):
    """x as float64 (batch, *spatial, channels): channels_first moves axis 1 to the end."""
    x = np.asarray(x, dtype=np.float64)
    return np.moveaxis(x, 1, -1) if data_format == "channels_first" else x


def from_channels_last(y, data_format):
    """The inverse of to_channels_last for an output."""
    return np.moveaxis(y, -1, 1) if data_format == "channels_first" else y


def split_input_shape(input_shape, rank, data_format, what, ranks=(1, 2, 3)):
    """(shape, rank, data_format, channels, spatial) of a layer input (batch included): rank
    (one of `ranks`) defaults to len(shape) - 2; the shape must have rank + 2 dims; spatial
    dims are positive ints or None. `what` names the layer in the errors. The caller checks
    the channels."""
    shape = tuple(input_shape)
    rank = len(shape) - 2 if rank is None else rank
    if rank not in ranks:
        raise ValueError(f"`rank` must be {' or '.join(map(str, ranks))} for a {what}. Received: rank={rank!r}")
    if len(shape) != rank + 2:
        raise ValueError(
            f"Input of a rank-{rank} {what} must have {rank + 2} dims (batch, *spatial, channels). "
            f"Received: input_shape={shape}"
        )
    data_format = data_format_argument(data_format)
    channels, spatial = (shape[1], shape[2:]) if data_format == "channels_first" else (shape[-1], shape[1:-1])
    if not all(n is None or (_is_int(n) and n >= 1) for n in spatial):
        raise ValueError(
            f"Spatial dimensions of the input must be positive ints or None. Received: input_shape={shape}"
        )
    return shape, rank, data_format, channels, tuple(spatial)


# --- argument standardization -----------------------------------------------------------


def _is_int(v):
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _int_tuple(name, value, rank, *, minimum):
    """An int or a sequence of `rank` ints, each >= minimum, as a tuple of `rank` ints."""
    values = (value,) * rank if _is_int(value) else value
    try:
        values = tuple(values)
    except TypeError:
        values = None
    if values is None or len(values) != rank or not all(_is_int(v) and v >= minimum for v in values):
        bound = "positive" if minimum == 1 else f">= {minimum}"
        raise ValueError(
            f"`{name}` must be an int or a tuple/list of {rank} ints, each {bound}. Received: {name}={value!r}"
        )
    return tuple(int(v) for v in values)


def _positive_int(name, value):
    if not (_is_int(value) and value >= 1):
        raise ValueError(f"`{name}` must be a positive int. Received: {name}={value!r}")
    return int(value)


def _padding_argument(padding, rank, allowed, *, allow_pairs):
    """A lower-cased mode name from `allowed`, or (if allow_pairs) a tuple of (before, after) int pairs."""
    if isinstance(padding, str):
        mode = padding.lower()
        if mode in allowed:
            return mode
    elif allow_pairs:
        try:
            pairs = tuple(tuple(p) for p in padding)
        except TypeError:
            pairs = None
        if (
            pairs is not None
            and len(pairs) == rank
            and all(len(p) == 2 and all(_is_int(v) and v >= 0 for v in p) for p in pairs)
        ):
            return tuple((int(b), int(a)) for b, a in pairs)
    pairs_text = f", or {rank} (before, after) pairs of non-negative ints" if allow_pairs else ""
    raise ValueError(
        f"`padding` must be one of {', '.join(map(repr, allowed))}{pairs_text}. Received: padding={padding!r}"
    )


def _output_padding_argument(output_padding, rank, strides):
    if output_padding is None:
        return None
    op = _int_tuple("output_padding", output_padding, rank, minimum=0)
    if any(p >= s for p, s in zip(op, strides)):
        raise ValueError(
            "`output_padding` must be lower than `strides` in every dimension. "
            f"Received: output_padding={op}, strides={strides}"
        )
    return op


# --- output lengths (pure functions of one spatial dim) --------------------------------


def _effective_size(k, d):
    """Dilated kernel extent k_eff = (k - 1) * d + 1."""
    return (k - 1) * d + 1


def _same_pads(n, k_eff, s):
    """'same' padding: out = ceil(n / s), total = max((out - 1) * s + k_eff - n, 0); total // 2 before."""
    out = -(-n // s)
    total = max((out - 1) * s + k_eff - n, 0)
    return total // 2, total - total // 2


def _pads(padding, n, k_eff, s):
    """(before, after) padding of one spatial dim for a padding mode name or an explicit pair."""
    if padding == "valid":
        return 0, 0
    if padding == "same":
        return _same_pads(n, k_eff, s)
    if padding == "causal":
        return k_eff - 1, 0
    return padding


def _conv_length(n, k_eff, s, padding):
    """Forward output length: floor((n + before + after - k_eff) / s) + 1 (None stays None)."""
    if n is None:
        return None
    before, after = _pads(padding, n, k_eff, s)
    return (n + before + after - k_eff) // s + 1


def _transpose_length(n, k_eff, s, padding, op):
    """Transposed output length L for input length n, op = output_padding (None: inferred).

    valid/None: (n-1)*s + max(k_eff, s)     valid/op: (n-1)*s + k_eff + op
    same/None:  n*s                         same/op:  (n-1)*s + k_eff % 2 + op
    pair (before, after): (n-1)*s + k_eff - before - after + (op or 0)
    Each is a length whose forward convolution has n outputs (see conv_transpose_general).
    """
    if n is None:
        return None
    if padding == "valid":
        return (n - 1) * s + (max(k_eff, s) if op is None else k_eff + op)
    if padding == "same":
        return n * s if op is None else (n - 1) * s + k_eff % 2 + op
    before, after = padding
    return (n - 1) * s + k_eff - before - after + (op or 0)


def _transpose_pad_before(n, length, k_eff, s, padding):
    """Leading padding of the forward convolution that conv_transpose_general is the adjoint of.

    'same': max((n - 1) * s + k_eff - length, 0) // 2, which is the forward 'same' rule on the
    output length whenever ceil(length / s) == n; 'valid': 0; a pair: its `before`.
    """
    if padding == "valid":
        return 0
    if padding == "same":
        return max((n - 1) * s + k_eff - length, 0) // 2
    return padding[0]


# --- array helpers ----------------------------------------------------------------------


def _pad(x, pads):
    """Zero-pad spatial axes 1..r of x by (before, after) pairs; a negative amount crops instead."""
    crop = tuple(slice(max(-b, 0), n - max(-a, 0)) for (b, a), n in zip(pads, x.shape[1:-1]))
    x = x[(slice(None),) + crop + (slice(None),)]
    widths = [(0, 0)] + [(max(b, 0), max(a, 0)) for b, a in pads] + [(0, 0)]
    return np.pad(x, widths)


def _dilate(x, factors):
    """Insert factor - 1 zeros between neighbours along spatial axes 1..r: length n -> (n - 1) * f + 1."""
    spatial = x.shape[1:-1]
    out = np.zeros((x.shape[0],) + tuple((n - 1) * f + 1 for n, f in zip(spatial, factors)) + (x.shape[-1],))
    out[(slice(None),) + tuple(slice(None, None, f) for f in factors) + (slice(None),)] = x
    return out


def _windows(x, window, strides, dilation):
    """View (batch, *out, channels, *window) of x with [b, i, c, j] = x[b, i * s + j * d, c] (no copy)."""
    rank = len(window)
    extent = tuple(_effective_size(k, d) for k, d in zip(window, dilation))
    view = sliding_window_view(x, extent, axis=tuple(range(1, rank + 1)))
    every = tuple(slice(None, None, s) for s in strides)
    taps = tuple(slice(None, None, d) for d in dilation)
    return view[(slice(None),) + every + (slice(None),) + taps]


def _correlate(x, kernel, strides, dilation, pads, groups):
    """The N-d grouped cross-correlation, without argument checks; pads may be negative (crop).

    x (batch, *spatial, C), kernel (*k, C // groups, O) -> (batch, *out, O).
    Groups become an einsum axis: x channels (g, c) and kernel outputs (g, o).
    """
    rank = x.ndim - 2
    window = kernel.shape[:rank]
    cg, out_channels = kernel.shape[-2:]
    view = _windows(_pad(x, pads), window, strides, dilation)
    out_shape = view.shape[: rank + 1]
    view = view.reshape(out_shape + (groups, cg) + window)
    kern = kernel.reshape(window + (cg, groups, out_channels // groups))
    pos, taps = "pqr"[:rank], "uvw"[:rank]
    with np.errstate(invalid="ignore"):  # infinite inputs make inf - inf or 0 * inf here: NaN, as IEEE arithmetic (and tf.keras) give it
        y = np.einsum(f"n{pos}gc{taps},{taps}cgo->n{pos}go", view, kern, optimize=True)
    return y.reshape(out_shape + (out_channels,))


# --- general kernels --------------------------------------------------------------------


def _check_operands(x, kernel, name="x"):
    x = np.asarray(x, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    if not 3 <= x.ndim <= 5:
        raise ValueError(
            f"`{name}` must have rank 3, 4 or 5 (batch, *spatial, channels). Received: {name}.shape={x.shape}"
        )
    if kernel.ndim != x.ndim:
        raise ValueError(
            f"`kernel` must have rank {x.ndim} (*kernel_size, in, out) for {name} of rank {x.ndim}. "
            f"Received: kernel.shape={kernel.shape}"
        )
    return x, kernel


def conv_general(x, kernel, *, strides, dilation, padding, groups=1):
    """N-d grouped cross-correlation, channels_last, float64.

    y[b, i, o] = sum_{j, c} x_pad[b, i * s + j * d, g(o) * C_g + c] * kernel[j, c, o],
    C_g = C // groups, g(o) = o // (O // groups); x (batch, *spatial, C), kernel (*k, C_g, O).
    padding: "valid" | "same" | "causal" | one (before, after) pair per spatial dim; the rules and
    output lengths are in the module docstring (k_eff = (k - 1) * d + 1).
    """
    x, kernel = _check_operands(x, kernel)
    rank = x.ndim - 2
    strides = _int_tuple("strides", strides, rank, minimum=1)
    dilation = _int_tuple("dilation", dilation, rank, minimum=1)
    groups = _positive_int("groups", groups)
    padding = _padding_argument(padding, rank, ("valid", "same", "causal"), allow_pairs=True)
    channels, (cg, out_channels) = x.shape[-1], kernel.shape[-2:]
    if channels % groups or cg * groups != channels:
        raise ValueError(
            f"`kernel` must have in_channels // groups = {channels} // {groups} input channels and the input "
            f"channels must be divisible by `groups`. Received: kernel.shape={kernel.shape}, groups={groups}, "
            f"x.shape={x.shape}"
        )
    if out_channels % groups:
        raise ValueError(
            f"The kernel's output channels must be divisible by `groups`. "
            f"Received: kernel.shape={kernel.shape}, groups={groups}"
        )
    extent = [_effective_size(k, d) for k, d in zip(kernel.shape[:rank], dilation)]
    dim_padding = padding if isinstance(padding, tuple) else (padding,) * rank
    pads = [_pads(p, n, e, s) for p, n, e, s in zip(dim_padding, x.shape[1:-1], extent, strides)]
    lengths = [_conv_length(n, e, s, p) for n, e, s, p in zip(x.shape[1:-1], extent, strides, pads)]
    if min(lengths) < 1:
        raise ValueError(
            f"The output would have a spatial size below 1: {tuple(lengths)}. Received: x.shape={x.shape}, "
            f"kernel.shape={kernel.shape}, strides={strides}, dilation={dilation}, padding={padding!r}"
        )
    return _correlate(x, kernel, strides, dilation, pads, groups)


def conv_transpose_general(x, kernel, *, strides, dilation, padding, output_padding=None):
    """N-d transposed convolution, channels_last, float64: the adjoint of conv_general.

    kernel (*k, O, C) for x (batch, *spatial, C) -> (batch, *L, O); the same kernel maps O -> C
    channels in conv_general. Per spatial dim, with n the input length, L from the table

        valid/None: (n-1)*s + max(k_eff, s)     valid/op: (n-1)*s + k_eff + op
        same/None:  n*s                         same/op:  (n-1)*s + k_eff % 2 + op
        pair (before, after): (n-1)*s + k_eff - before - after + (op or 0)

    and p = 0 (valid), max((n-1)*s + k_eff - L, 0) // 2 (same) or `before` (pair):

        y[b, l, o] = sum_{i, j, c : i * s + j * d = l + p} x[b, i, c] * kernel[j, o, c]

    i.e. the full scatter of every input element through the kernel, read from offset p for L
    elements (zeros past its end). Computed as: dilate x by the strides (zero insertion), pad by
    (k_eff - 1 - p, L + p - (n - 1) * s - 1), forward conv_general with stride 1 and the kernel
    flipped spatially with its channel axes swapped. This is exactly the adjoint of
    conv_general(., kernel, padding=[(p, (n-1)*s + k_eff - L - p)]), which equals padding='same'
    whenever ceil(L / s) == n (every case but same with output_padding=0 and an even k_eff).
    """
    x, kernel = _check_operands(x, kernel)
    rank = x.ndim - 2
    strides = _int_tuple("strides", strides, rank, minimum=1)
    dilation = _int_tuple("dilation", dilation, rank, minimum=1)
    padding = _padding_argument(padding, rank, ("valid", "same"), allow_pairs=True)
    output_padding = _output_padding_argument(output_padding, rank, strides)
    if kernel.shape[-1] != x.shape[-1]:
        raise ValueError(
            f"`kernel` must have shape (*kernel_size, out_channels, {x.shape[-1]}) for x with {x.shape[-1]} "
            f"channels. Received: kernel.shape={kernel.shape}, x.shape={x.shape}"
        )
    spatial = x.shape[1:-1]
    extent = [_effective_size(k, d) for k, d in zip(kernel.shape[:rank], dilation)]
    dim_padding = padding if isinstance(padding, tuple) else (padding,) * rank
    ops = output_padding or (None,) * rank
    lengths = [_transpose_length(*a) for a in zip(spatial, extent, strides, dim_padding, ops)]
    if min(lengths) < 1:
        raise ValueError(
            f"The output would have a spatial size below 1: {tuple(lengths)}. Received: x.shape={x.shape}, "
            f"kernel.shape={kernel.shape}, strides={strides}, padding={padding!r}, output_padding={output_padding}"
        )
    before = [_transpose_pad_before(*a) for a in zip(spatial, lengths, extent, strides, dim_padding)]
    pads = [
        (e - 1 - p, length + p - (n - 1) * s - 1)
        for e, p, length, n, s in zip(extent, before, lengths, spatial, strides)
    ]
    flipped = np.swapaxes(kernel[(slice(None, None, -1),) * rank], -1, -2)
    return _correlate(_dilate(x, strides), flipped, (1,) * rank, dilation, pads, 1)


# --- layer specification (pure: arguments and input shape only) -------------------------


class _Layer(NamedTuple):
    kind: str
    rank: int
    data_format: str
    channels: int  # input channels
    spatial: tuple  # input spatial dims (ints or None)
    batch: object
    kernel_size: tuple
    strides: tuple
    dilation: tuple
    padding: str
    filters: int | None
    groups: int
    depth_multiplier: int
    output_padding: tuple | None
    activation: object
    use_bias: bool


def _layer(kind, input_shape, args, ignored):
    """Validate the Keras arguments of one layer kind against an input shape (batch included)."""
    if kind not in KINDS:
        raise ValueError(f"`kind` must be one of {', '.join(map(repr, KINDS))}. Received: kind={kind!r}")
    unknown = sorted(set(ignored) - IGNORED_ARGUMENTS[kind])
    if unknown:
        raise TypeError(f"Unexpected keyword argument(s) for a {kind!r} layer: {', '.join(unknown)}")
    shape, rank, data_format, channels, spatial = split_input_shape(
        input_shape, args.get("rank"), args["data_format"], f"{kind!r} layer",
        ranks=(1, 2) if kind in ("depthwise", "separable") else (1, 2, 3))
    if not (_is_int(channels) and channels >= 1):
        raise ValueError(
            f"The channel dimension of the input must be a known positive int. Received: input_shape={shape}"
        )

    kernel_size = _int_tuple("kernel_size", args["kernel_size"], rank, minimum=1)
    strides = _int_tuple("strides", args["strides"], rank, minimum=1)
    dilation = _int_tuple("dilation_rate", args["dilation_rate"], rank, minimum=1)
    if kind in STRIDES_EXCLUDE_DILATION and max(strides) > 1 and max(dilation) > 1:
        raise ValueError(
            "`strides > 1` not supported in conjunction with `dilation_rate > 1`. "
            f"Received: strides={strides} and dilation_rate={dilation}"
        )
    allowed = ("valid", "same", "causal") if (kind == "conv" and rank == 1) else ("valid", "same")
    padding = _padding_argument(args["padding"], rank, allowed, allow_pairs=False)
    filters = _positive_int("filters", args["filters"]) if "filters" in args else None
    groups = _positive_int("groups", args.get("groups", 1))
    if channels % groups or (filters is not None and filters % groups):
        raise ValueError(
            "Input channels and `filters` must both be divisible by `groups`. "
            f"Received: groups={groups}, input channels={channels}, filters={filters}"
        )
    depth_multiplier = _positive_int("depth_multiplier", args.get("depth_multiplier", 1))
    output_padding = _output_padding_argument(args.get("output_padding"), rank, strides)
    activation = args["activation"]
    activation = activation if callable(activation) else _activations.get(activation)
    if not isinstance(args["use_bias"], (bool, np.bool_)):
        raise ValueError(f"`use_bias` must be a bool. Received: use_bias={args['use_bias']!r}")
    layer = _Layer(
        kind, rank, data_format, int(channels), tuple(spatial), shape[0], kernel_size, strides, dilation,
        padding, filters, groups, depth_multiplier, output_padding, activation, bool(args["use_bias"]),
    )
    lengths = _output_spatial(layer)
    if any(n is not None and n < 1 for n in lengths):
        raise ValueError(
            f"The output would have a spatial size below 1: {lengths}. Received: input_shape={shape}, "
            f"kernel_size={kernel_size}, strides={strides}, dilation_rate={dilation}, padding={padding!r}"
        )
    return layer


def _output_spatial(layer):
    extent = [_effective_size(k, d) for k, d in zip(layer.kernel_size, layer.dilation)]
    if layer.kind == "transpose":
        ops = layer.output_padding or (None,) * layer.rank
        return tuple(
            _transpose_length(n, e, s, layer.padding, op)
            for n, e, s, op in zip(layer.spatial, extent, layer.strides, ops)
        )
    return tuple(_conv_length(n, e, s, layer.padding) for n, e, s in zip(layer.spatial, extent, layer.strides))


def _weight_shapes(layer):
    k, c = layer.kernel_size, layer.channels
    if layer.kind == "conv":
        shapes = {"kernel": k + (c // layer.groups, layer.filters)}
    elif layer.kind == "transpose":
        shapes = {"kernel": k + (layer.filters, c)}
    elif layer.kind == "depthwise":
        shapes = {"kernel": k + (c, layer.depth_multiplier)}
    else:
        shapes = {
            "depthwise_kernel": k + (c, layer.depth_multiplier),
            "pointwise_kernel": (1,) * layer.rank + (c * layer.depth_multiplier, layer.filters),
        }
    if layer.use_bias:
        shapes["bias"] = (c * layer.depth_multiplier if layer.kind == "depthwise" else layer.filters,)
    return shapes


def _output_channels(layer):
    return layer.channels * layer.depth_multiplier if layer.kind == "depthwise" else layer.filters


def _layer_from_kwargs(kind, input_shape, layer_kwargs):
    """Bind keyword arguments to the layer function of `kind` (its defaults, its required names)."""
    if kind not in _LAYER_FUNCTIONS:
        raise ValueError(f"`kind` must be one of {', '.join(map(repr, KINDS))}. Received: kind={kind!r}")
    params = {
        p.name: p.default
        for p in inspect.signature(_LAYER_FUNCTIONS[kind]).parameters.values()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    }
    params["rank"] = None  # inferred from input_shape unless given
    args = {name: layer_kwargs.get(name, default) for name, default in params.items()}
    missing = [name for name, value in args.items() if value is inspect.Parameter.empty]
    if missing:
        raise TypeError(f"Missing required argument(s) for a {kind!r} layer: {', '.join(missing)}")
    ignored = {name: v for name, v in layer_kwargs.items() if name not in params}
    return _layer(kind, input_shape, args, ignored)


def weight_shapes(kind, input_shape, **layer_kwargs):
    """Variable name -> shape of a Keras conv layer, named as Keras 3 names them.

    conv: kernel (*k, C // groups, filters); transpose: kernel (*k, filters, C);
    depthwise: kernel (*k, C, depth_multiplier); separable: depthwise_kernel (*k, C, dm),
    pointwise_kernel (1, .., 1, C * dm, filters); bias (output channels,) when use_bias.
    input_shape includes the batch dim. Raises ValueError for arguments the docs reject.
    """
    return _weight_shapes(_layer_from_kwargs(kind, input_shape, layer_kwargs))


def output_shape(kind, input_shape, **layer_kwargs):
    """Output shape (batch included, in the layer's data_format) of a Keras conv layer.

    Spatial lengths: the forward rules of the module docstring, or the transposed table of
    conv_transpose_general; channels: filters, or C * depth_multiplier for depthwise.
    """
    layer = _layer_from_kwargs(kind, input_shape, layer_kwargs)
    spatial, channels = _output_spatial(layer), _output_channels(layer)
    if layer.data_format == "channels_first":
        return (layer.batch, channels) + spatial
    return (layer.batch,) + spatial + (channels,)


# --- layer functions --------------------------------------------------------------------


def _channels_last(x, layer):
    return to_channels_last(x, layer.data_format)


def _weights(layer, **given):
    """Check given weights against the layer's shapes; return them as float64 arrays."""
    expected = _weight_shapes(layer)
    if given.get("bias") is not None and not layer.use_bias:
        raise ValueError("`bias` was given but use_bias=False. Received: bias is not None, use_bias=False")
    out = {}
    for name, shape in expected.items():
        value = given.get(name)
        if value is None:
            raise ValueError(
                f"`{name}` of shape {shape} is required (use_bias={layer.use_bias}). Received: {name}=None"
            )
        value = np.asarray(value, dtype=np.float64)
        if value.shape != shape:
            raise ValueError(f"`{name}` must have shape {shape}. Received: {name}.shape={value.shape}")
        out[name] = value
    return out


def _finish(y, layer, bias):
    """activation(y + bias) of the output in the layer's data_format: the activation is a
    function applied to the layer's output tensor as the layer returns it, so one that works
    along an axis (softmax, log_softmax, glu, sparsemax: axis=-1) works along the output's last
    axis, which with channels_first is the last spatial axis, not the channels."""
    if bias is not None:
        y = y + bias
    return np.asarray(layer.activation(from_channels_last(y, layer.data_format)), dtype=np.float64)


def _depthwise(x, kernel, layer):
    """Depthwise step via feature groups: kernel (*k, C, M) -> (*k, 1, C * M), output channel c * M + m."""
    k, (channels, multiplier) = kernel.shape[:-2], kernel.shape[-2:]
    return conv_general(
        x, kernel.reshape(k + (1, channels * multiplier)),
        strides=layer.strides, dilation=layer.dilation, padding=layer.padding, groups=channels,
    )


def conv(x, kernel, bias=None, *, rank, filters, kernel_size, strides=1, padding="valid",
         data_format="channels_last", dilation_rate=1, groups=1, activation=None, use_bias=True, **ignored):
    """Conv1D/2D/3D: activation(conv_general(x, kernel, groups=groups) + bias).

    kernel (*kernel_size, C // groups, filters); padding "valid" | "same" (| "causal" for rank 1).
    """
    args = dict(rank=rank, filters=filters, kernel_size=kernel_size, strides=strides, padding=padding,
                data_format=data_format, dilation_rate=dilation_rate, groups=groups,
                activation=activation, use_bias=use_bias)
    layer = _layer("conv", np.shape(x), args, ignored)
    w = _weights(layer, kernel=kernel, bias=bias)
    y = conv_general(_channels_last(x, layer), w["kernel"], strides=layer.strides, dilation=layer.dilation,
                     padding=layer.padding, groups=layer.groups)
    return _finish(y, layer, w.get("bias"))


def depthwise_conv(x, kernel, bias=None, *, rank, kernel_size, strides=1, padding="valid", depth_multiplier=1,
                   data_format="channels_last", dilation_rate=1, activation=None, use_bias=True, **ignored):
    """DepthwiseConv1D/2D: activation(y + bias), y[..., c * M + m] = conv(x[..., c], kernel[..., c, m]).

    kernel (*kernel_size, C, M = depth_multiplier); conv_general with groups = C.
    """
    args = dict(rank=rank, kernel_size=kernel_size, strides=strides, padding=padding,
                depth_multiplier=depth_multiplier, data_format=data_format, dilation_rate=dilation_rate,
                activation=activation, use_bias=use_bias)
    layer = _layer("depthwise", np.shape(x), args, ignored)
    w = _weights(layer, kernel=kernel, bias=bias)
    y = _depthwise(_channels_last(x, layer), w["kernel"], layer)
    return _finish(y, layer, w.get("bias"))


def separable_conv(x, depthwise_kernel, pointwise_kernel, bias=None, *, rank, filters, kernel_size, strides=1,
                   padding="valid", data_format="channels_last", dilation_rate=1, depth_multiplier=1,
                   activation=None, use_bias=True, **ignored):
    """SeparableConv1D/2D: activation(pointwise(depthwise(x)) + bias); one bias, after the pointwise step.

    depthwise_kernel (*kernel_size, C, M) as in depthwise_conv (strides, dilation, padding apply
    here); pointwise_kernel (1, .., 1, C * M, filters), a stride-1 'valid' conv_general.
    """
    args = dict(rank=rank, filters=filters, kernel_size=kernel_size, strides=strides, padding=padding,
                data_format=data_format, dilation_rate=dilation_rate, depth_multiplier=depth_multiplier,
                activation=activation, use_bias=use_bias)
    layer = _layer("separable", np.shape(x), args, ignored)
    w = _weights(layer, depthwise_kernel=depthwise_kernel, pointwise_kernel=pointwise_kernel, bias=bias)
    y = _depthwise(_channels_last(x, layer), w["depthwise_kernel"], layer)
    y = conv_general(y, w["pointwise_kernel"], strides=1, dilation=1, padding="valid")
    return _finish(y, layer, w.get("bias"))


def conv_transpose(x, kernel, bias=None, *, rank, filters, kernel_size, strides=1, padding="valid",
                   output_padding=None, data_format="channels_last", dilation_rate=1, activation=None,
                   use_bias=True, **ignored):
    """Conv1D/2D/3DTranspose: activation(conv_transpose_general(x, kernel) + bias).

    kernel (*kernel_size, filters, C); output lengths from the table of conv_transpose_general.
    """
    args = dict(rank=rank, filters=filters, kernel_size=kernel_size, strides=strides, padding=padding,
                output_padding=output_padding, data_format=data_format, dilation_rate=dilation_rate,
                activation=activation, use_bias=use_bias)
    layer = _layer("transpose", np.shape(x), args, ignored)
    w = _weights(layer, kernel=kernel, bias=bias)
    y = conv_transpose_general(_channels_last(x, layer), w["kernel"], strides=layer.strides,
                               dilation=layer.dilation, padding=layer.padding,
                               output_padding=layer.output_padding)
    return _finish(y, layer, w.get("bias"))


_LAYER_FUNCTIONS = {"conv": conv, "depthwise": depthwise_conv, "separable": separable_conv, "transpose": conv_transpose}
