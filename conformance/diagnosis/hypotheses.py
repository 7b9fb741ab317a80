"""The library of hypotheses: each a common implementation mistake, written as one small
change to the reference's own evaluation.

A hypothesis is a name, a clause that completes "tf.keras agrees with the reference when
...", the op families where the mistake can happen, and `change(evaluation)`: the outputs
the reference gives with the mistake made, by a detail phrase ("" when there is one), or
None when the mistake cannot happen with these arguments (no bias, 'valid' padding, ...).
Every change makes at most one reference evaluation (`Evaluation.run`, counted); several
details come from that one evaluation (the bias along each other axis of the same linear
part, the output at each time step of the same sequence).

Where possible a mistake is a transformation of what the reference is given (the kernel
flipped, the input padded on the other side, an argument rounded) or of what it returns
(the output reversed in time). The few that need what the documented formula does not
expose (the variance of a normalization group) compute it here, stated beside the change.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Callable

import numpy as np

from conformance.diagnosis.evaluation import Evaluation
from conformance.ops import constraints as constraint_ops
from conformance.ops.regularizers import ALIASES, CLASSES
from reference_impl import activations as ref_activations
from reference_impl import constraints as ref_constraints
from reference_impl import normalization as ref_normalization

Candidates = dict  # detail phrase -> the output the reference gives with the mistake made


@dataclass(frozen=True)
class Hypothesis:
    name: str
    says: str  # completes "tf.keras agrees with the reference when ..."
    families: tuple[str, ...]  # conformance.ops families where the mistake can happen
    change: Callable[[Evaluation], Candidates | None]


# --- which ops have what ------------------------------------------------------------------

RECURRENT = ("SimpleRNN", "LSTM", "GRU")
SOFTMAX = ("Softmax", "activations.softmax", "activations.log_softmax")
WINDOW_POOLING = ("MaxPooling", "AveragePooling")  # name prefixes of the pooling layers with a window


def _is_transpose(ev: Evaluation) -> bool:
    return ev.op.name.endswith("Transpose")


def _has_linear_part(ev: Evaluation) -> bool:
    """Layers computed as activation(linear(x) + bias) with bias along the channels."""
    return ev.op.family == "convolution" or ev.op.name == "Dense"


def _bias_axis(ev: Evaluation, ndim: int) -> int:
    return ev.channel_axis(ndim) if ev.op.family == "convolution" else ndim - 1


def _per_axis(value, rank: int) -> tuple[int, ...]:
    return tuple(value) if isinstance(value, (list, tuple)) else (value,) * rank


def _window(ev: Evaluation):
    """(effective window, strides) per spatial axis of a windowed forward op, else None."""
    rank = np.ndim(ev.x) - 2
    if ev.op.family == "convolution" and not _is_transpose(ev):
        kernel = _per_axis(ev.params["kernel_size"], rank)
        dilation = _per_axis(ev.params.get("dilation_rate", 1), rank)
        return tuple((k - 1) * d + 1 for k, d in zip(kernel, dilation)), _per_axis(ev.params.get("strides", 1), rank)
    if ev.op.name.startswith(WINDOW_POOLING):
        pool = _per_axis(ev.params.get("pool_size", 2), rank)
        strides = ev.params.get("strides")
        return pool, pool if strides is None else _per_axis(strides, rank)
    return None


def _same_padding(n: int, k: int, s: int) -> tuple[int, int]:
    """The documented 'same' rule: out = ceil(n / s), total = max((out - 1) s + k - n, 0),
    total // 2 before and the rest (the odd element) after."""
    total = max((-(-n // s) - 1) * s + k - n, 0)
    return total // 2, total - total // 2


def _run_valid_on_padded(ev: Evaluation, pads: dict, x=None) -> np.ndarray:
    """The op run with padding='valid' on x (default: the case's input) padded by pads
    {axis: (before, after)}: zeros for a convolution and an average (which then counts
    them), -inf for a max."""
    x = np.asarray(ev.x if x is None else x)
    widths = [pads.get(axis, (0, 0)) for axis in range(x.ndim)]
    fill = -np.inf if ev.op.name.startswith("MaxPooling") else 0.0
    return ev.run(x=np.pad(x, widths, constant_values=fill), params={**ev.params, "padding": "valid"})


def _channel_permutation(channels: int, groups: int) -> np.ndarray:
    """Channel order that puts the interleaved groups (c mod groups) into contiguous blocks:
    position g * (channels / groups) + j holds channel j * groups + g."""
    per_group = channels // groups
    return np.array([j * groups + g for g in range(groups) for j in range(per_group)])


# --- convolution kernels --------------------------------------------------------------------


def kernel_flipped(ev: Evaluation):
    name = "depthwise_kernel" if "depthwise_kernel" in ev.weights else "kernel"
    kernel = ev.weights.get(name)
    if kernel is None or kernel.ndim < 3 or max(kernel.shape[:-2]) == 1:
        return None
    spatial = tuple(range(kernel.ndim - 2))
    return {"": ev.run(weights={**ev.weights, name: np.flip(kernel, axis=spatial)})}


def kernel_in_out_swapped(ev: Evaluation):
    kernel = ev.weights.get("kernel")
    if kernel is None or kernel.ndim < 2 or kernel.shape[-2] != kernel.shape[-1] or kernel.shape[-1] == 1:
        return None
    return {"": ev.run(weights={**ev.weights, "kernel": np.swapaxes(kernel, -2, -1)})}


def depthwise_multiplier_order(ev: Evaluation):
    """Output channel m * C + c instead of the documented c * M + m for input channel c and
    multiplier m (the depthwise result reshaped in the wrong order)."""
    if "Depthwise" not in ev.op.name and "Separable" not in ev.op.name:
        return None
    channels, multiplier = ev.weights["depthwise_kernel" if "Separable" in ev.op.name else "kernel"].shape[-2:]
    if channels == 1 or multiplier == 1:
        return None
    order = np.array([(j % channels) * multiplier + j // channels for j in range(channels * multiplier)])
    if "Separable" in ev.op.name:
        # the pointwise step reads channel order[j] at row j: the same as row argsort(order)[i] reading channel i
        pointwise = ev.weights["pointwise_kernel"]
        return {"": ev.run(weights={**ev.weights, "pointwise_kernel": pointwise[..., np.argsort(order), :]})}
    linear = ev.linear_part()
    axis = ev.channel_axis(linear.ndim)
    return {"": ev.finish(np.take(linear, order, axis=axis), axis if "bias" in ev.weights else None)}


def groups_interleaved(ev: Evaluation):
    groups = ev.params.get("groups", 1)
    if ev.op.family == "convolution":
        x = np.asarray(ev.x)
        axis = ev.channel_axis(x.ndim)
        if groups in (1, x.shape[axis]) or _is_transpose(ev):
            return None
        return {"": ev.run(x=np.take(x, _channel_permutation(x.shape[axis], groups), axis=axis))}
    if ev.op.name == "GroupNormalization":
        x = np.asarray(ev.x)
        axis = ev.params.get("axis", -1) % x.ndim
        channels = x.shape[axis]
        if groups in (1, -1, channels):
            return None
        # normalize the interleaved groups as contiguous blocks, each channel keeping its gamma and beta
        order = _channel_permutation(channels, groups)
        weights = {name: value[order] for name, value in ev.weights.items()}
        output = ev.run(x=np.take(x, order, axis=axis), weights=weights)
        return {"": np.take(output, np.argsort(order), axis=axis)}
    return None


# --- padding --------------------------------------------------------------------------------


def same_padding_extra_before(ev: Evaluation):
    window = _window(ev)
    if ev.params.get("padding") != "same" or window is None:
        return None
    shape = np.shape(ev.x)
    pads = {}
    for axis, k, s in zip(ev.spatial_axes(len(shape)), *window):
        before, after = _same_padding(shape[axis], k, s)
        pads[axis] = (after, before)
    if all(before == after for before, after in pads.values()):
        return None  # an even total: both sides get the same
    if ev.op.name.startswith("AveragePooling"):
        # an average of the real elements only: pool a channel of ones beside x (pooling acts
        # on each channel alone), so one evaluation gives the window sums and the counts
        x = np.asarray(ev.x)
        axis = ev.channel_axis(x.ndim)
        ones = np.ones_like(np.take(x, [0], axis=axis))
        pooled = _run_valid_on_padded(ev, pads, x=np.concatenate([x, ones], axis=axis))
        sums, counts = np.split(pooled, [x.shape[axis]], axis=axis)
        return {"": sums / counts}
    return {"": _run_valid_on_padded(ev, pads)}


def causal_padding_after(ev: Evaluation):
    window = _window(ev)
    if ev.params.get("padding") != "causal" or window is None:
        return None
    (k_eff,), _ = window
    (axis,) = ev.spatial_axes(np.ndim(ev.x))
    return {"": _run_valid_on_padded(ev, {axis: (0, k_eff - 1)})}


def average_includes_padding(ev: Evaluation):
    window = _window(ev)
    if not ev.op.name.startswith("AveragePooling") or ev.params.get("padding") != "same":
        return None
    shape = np.shape(ev.x)
    pads = {axis: _same_padding(shape[axis], k, s) for axis, k, s in zip(ev.spatial_axes(len(shape)), *window)}
    if not any(sum(p) for p in pads.values()):
        return None
    return {"": _run_valid_on_padded(ev, pads)}


# --- bias and activation --------------------------------------------------------------------


def bias_dropped(ev: Evaluation):
    biases = [name for name in ev.weights if name.rpartition("/")[2] == "bias"]
    if not biases:
        return None
    return {"": ev.run(weights={**ev.weights, **{name: np.zeros_like(ev.weights[name]) for name in biases}})}


def bias_on_another_axis(ev: Evaluation):
    """The bias broadcast along another axis of the same size (the axis a layout of the other
    data_format, or a last-axis shortcut, would use)."""
    if not _has_linear_part(ev) or "bias" not in ev.weights:
        return None
    ndim = ev.reference.ndim
    channel = _bias_axis(ev, ndim)
    axes = [a for a in range(1, ndim) if a != channel and ev.reference.shape[a] == ev.weights["bias"].size]
    if not axes:
        return None
    linear = ev.linear_part()
    return {f"(axis {a} instead of axis {channel})": ev.finish(linear, a) for a in axes}


def activation_before_bias(ev: Evaluation):
    if not _has_linear_part(ev) or "bias" not in ev.weights or not ev.has_activation:
        return None
    linear = ev.linear_part()
    channel = _bias_axis(ev, linear.ndim)
    return {"": ev.finish(linear, None) + ev.along(ev.weights["bias"], channel, linear.ndim)}


def activation_not_applied(ev: Evaluation):
    if not ev.has_activation:
        return None
    return {"": ev.run(params={**ev.params, "activation": None})}


# --- constants ------------------------------------------------------------------------------

# Layers whose numeric defaults are documented constants (slopes, epsilons): the reference
# function the op maps onto, read for its defaults.
_LAYER_FUNCTIONS = {
    "ReLU": ref_activations.relu_layer,
    "LeakyReLU": ref_activations.leaky_relu_layer,
    "ELU": ref_activations.elu_layer,
    "BatchNormalization": ref_normalization.batch_norm,
    "LayerNormalization": ref_normalization.layer_norm,
    "GroupNormalization": ref_normalization.group_norm,
    "RMSNormalization": ref_normalization.rms_norm,
}


def documented_constants(ev: Evaluation) -> dict:
    """The op's real-valued arguments: the case's, and the documented defaults of the rest."""
    kind, _, name = ev.op.name.partition(".")
    if kind == "activations":
        function = ref_activations.ACTIVATIONS.get(name)
    elif kind == "regularizers":
        function = CLASSES[ALIASES.get(name, name)][0]
    else:
        function = _LAYER_FUNCTIONS.get(ev.op.name)
    defaults = {} if function is None else {
        p.name: p.default for p in inspect.signature(function).parameters.values() if p.default is not inspect.Parameter.empty
    }
    merged = {**defaults, **ev.params}
    return {k: v for k, v in merged.items() if isinstance(v, float)}


def constants_rounded_to_float32(ev: Evaluation):
    if ev.dtype != "float64":
        return None
    rounded = {k: float(np.float32(v)) for k, v in documented_constants(ev).items() if float(np.float32(v)) != v}
    if not rounded:
        return None
    detail = "(" + ", ".join(f"{k}={documented_constants(ev)[k]!r}" for k in rounded) + ")"
    return {detail: ev.run(params={**ev.params, **rounded})}


def attention_scale_rounded_to_float32(ev: Evaluation):
    """The scores scaled by float32(1 / sqrt(d)): the query projection scaled by the ratio of
    the rounded scale to the exact one scales every score by it."""
    size = ev.params.get("key_dim", ev.params.get("head_dim"))
    if ev.dtype != "float64" or ev.op.name not in ("MultiHeadAttention", "GroupQueryAttention") or not size:
        return None
    exact = 1.0 / np.sqrt(size)
    ratio = float(np.float32(exact)) / exact
    if ratio == 1.0:
        return None
    scaled = {name: value * ratio for name, value in ev.weights.items() if name in ("query/kernel", "query/bias")}
    return {"": ev.run(weights={**ev.weights, **scaled})}


# --- normalization statistics ---------------------------------------------------------------


def _group_mean(ev: Evaluation):
    """(mean over each normalization group broadcast back to x's shape, group size) for the
    layers that normalize by statistics of the input; None for BatchNormalization at
    inference (documented moving statistics)."""
    x = np.asarray(ev.x)
    name, ndim = ev.op.name, x.ndim
    if name == "BatchNormalization":
        if not ev.call.get("training"):
            return None
        axis = ev.params.get("axis", -1) % ndim
        axes = tuple(a for a in range(ndim) if a != axis)
    elif name in ("LayerNormalization", "RMSNormalization"):
        given = ev.params.get("axis", -1)
        axes = tuple(sorted(a % ndim for a in (given if isinstance(given, (list, tuple)) else [given])))
    elif name == "GroupNormalization":
        axis = ev.params.get("axis", -1) % ndim
        channels = x.shape[axis]
        groups = ev.params.get("groups", 32)
        groups = channels if groups == -1 else groups

        def mean(values):
            # channels as (groups, channels per group) blocks: mean over every non-batch axis but the group
            moved = np.moveaxis(values, axis, -1)
            blocks = moved.reshape(moved.shape[:-1] + (groups, channels // groups))
            over = tuple(range(1, blocks.ndim - 2)) + (blocks.ndim - 1,)
            means = np.broadcast_to(blocks.mean(axis=over, keepdims=True), blocks.shape)
            return np.moveaxis(means.reshape(moved.shape), -1, axis)

        return mean, x[0].size // groups
    else:
        return None
    return (lambda values: np.broadcast_to(values.mean(axis=axes, keepdims=True), values.shape)), \
        int(np.prod([x.shape[a] for a in axes]))


def _beta(ev: Evaluation) -> np.ndarray | float:
    """The shift added after the scaling, shaped against x (0 without one)."""
    beta = ev.weights.get("beta")
    if beta is None:
        return 0.0
    ndim = np.ndim(ev.x)
    if ev.op.name == "LayerNormalization":
        given = ev.params.get("axis", -1)
        axes = sorted(a % ndim for a in (given if isinstance(given, (list, tuple)) else [given]))
        shape = [1] * ndim
        for a, n in zip(axes, beta.shape):
            shape[a] = n
        return beta.reshape(shape)
    return ev.along(beta, ev.params.get("axis", -1) % ndim, ndim)


def _epsilon(ev: Evaluation) -> float:
    return float(documented_constants(ev).get("epsilon", 0.0))


def _uses_mean_square(ev: Evaluation) -> bool:
    return ev.op.name == "RMSNormalization" or bool(ev.params.get("rms_scaling"))


def epsilon_outside_sqrt(ev: Evaluation):
    """(x - mean) / (sqrt(var) + eps) instead of / sqrt(var + eps): the documented output
    with its shift taken off, rescaled by sqrt(var + eps) / (sqrt(var) + eps)."""
    if ev.op.family != "normalization" or ev.op.name == "UnitNormalization":
        return None
    x, eps = np.asarray(ev.x), _epsilon(ev)
    grouping = _group_mean(ev)
    if grouping is None:  # BatchNormalization at inference: the moving variance
        axis = ev.params.get("axis", -1) % x.ndim
        var = ev.along(ev.weights["moving_variance"], axis, x.ndim)
    else:
        mean, _ = grouping
        var = mean(x * x) if _uses_mean_square(ev) else mean((x - mean(x)) ** 2)
    beta = _beta(ev)
    return {"": beta + (ev.reference - beta) * np.sqrt(var + eps) / (np.sqrt(var) + eps)}


def unbiased_variance(ev: Evaluation):
    """The variance divided by n - 1 instead of n: rescale by sqrt(var + eps) / sqrt(var n / (n - 1) + eps)."""
    if ev.op.family != "normalization" or _uses_mean_square(ev):
        return None
    grouping = _group_mean(ev)
    if grouping is None or grouping[1] < 2:
        return None
    mean, n = grouping
    x, eps = np.asarray(ev.x), _epsilon(ev)
    var = mean((x - mean(x)) ** 2)
    beta = _beta(ev)
    return {"": beta + (ev.reference - beta) * np.sqrt(var + eps) / np.sqrt(var * n / (n - 1) + eps)}


def mean_square_about_the_mean(ev: Evaluation):
    """RMS scaling by the variance: sqrt(mean((x - mean)^2) + eps) instead of sqrt(mean(x^2) + eps)."""
    if ev.op.family != "normalization" or not _uses_mean_square(ev):
        return None
    mean, _ = _group_mean(ev)
    x, eps = np.asarray(ev.x), _epsilon(ev)
    square, var = mean(x * x), mean((x - mean(x)) ** 2)
    return {"": ev.reference * np.sqrt(square + eps) / np.sqrt(var + eps)}


# --- masks ----------------------------------------------------------------------------------

_MASK_KEYS = ("mask", "attention_mask")


def _given_masks(ev: Evaluation) -> list[str]:
    return [k for k in _MASK_KEYS if ev.call.get(k) is not None]


def _map_mask(value, change):
    """A mask, or a list of masks (attention's [query_mask, value_mask]) with None entries kept."""
    if isinstance(value, (list, tuple)) and not isinstance(value, np.ndarray) and any(
            v is None or np.ndim(v) > 0 for v in value):
        return [None if v is None else change(v) for v in value]
    return change(value)


def mask_inverted(ev: Evaluation):
    keys = _given_masks(ev)
    if not keys:
        return None
    inverted = {k: _map_mask(ev.call[k], lambda m: ~np.asarray(m).astype(bool)) for k in keys}
    return {"": ev.run(call={**ev.call, **inverted})}


def mask_ignored(ev: Evaluation):
    keys = _given_masks(ev)
    if not keys:
        return None
    return {"": ev.run(call={k: v for k, v in ev.call.items() if k not in keys})}


# --- sequences ------------------------------------------------------------------------------


def zeroing_mask_not_reversed(ev: Evaluation):
    """go_backwards with zero_output_for_mask zeroes the outputs (in processing order) where
    the mask, unreversed, is false, instead of where the reversed mask is: the sequence run
    without zeroing, then zeroed by the unreversed mask."""
    params = ev.params
    if (ev.op.name not in RECURRENT or ev.call.get("mask") is None
            or not all(params.get(k) for k in ("go_backwards", "zero_output_for_mask", "return_sequences"))):
        return None
    carried = ev.run(params={**params, "zero_output_for_mask": False})
    return {"": np.where(np.asarray(ev.call["mask"], dtype=bool)[..., None], carried, 0.0)}



def sequence_processed_in_reverse(ev: Evaluation):
    if ev.op.name not in RECURRENT:
        return None
    return {"": ev.run(params={**ev.params, "go_backwards": not ev.params.get("go_backwards", False)})}


def output_sequence_reversed(ev: Evaluation):
    if ev.op.name not in RECURRENT or not ev.params.get("return_sequences"):
        return None
    return {"": ev.reference[:, ::-1]}


def output_of_another_time_step(ev: Evaluation):
    """The output at one time step of the sequence instead of the last (unmasked) one."""
    if ev.op.name not in RECURRENT or ev.params.get("return_sequences"):
        return None
    sequence = ev.run(params={**ev.params, "return_sequences": True})
    steps = sequence.shape[1]
    return {f"(step {t} of 0..{steps - 1})": sequence[:, t] for t in range(steps)}


# --- softmax --------------------------------------------------------------------------------


def softmax_over_another_axis(ev: Evaluation):
    """The axis a channels-first/last confusion gives: the last one when another is
    documented; when the last is documented, axis 1 (axis 0 for a matrix)."""
    ndim = np.ndim(ev.x)
    if ev.op.name not in SOFTMAX or ndim < 2 or isinstance(ev.params.get("axis"), (list, tuple)):
        return None
    documented = ev.params.get("axis", -1) % ndim
    other = ndim - 1 if documented != ndim - 1 else (1 if ndim > 2 else 0)
    return {f"(axis {other} instead of axis {documented})": ev.run(params={**ev.params, "axis": other})}


# --- weight constraints ---------------------------------------------------------------------

NORM_CONSTRAINTS = ("MaxNorm", "MinMaxNorm", "UnitNorm")  # the constraints that rescale by a norm
KERAS_EPSILON = 1e-7  # keras.config.epsilon()'s default, Keras's fuzz factor


def epsilon_added_to_norm(ev: Evaluation):
    """w * desired / (||w|| + 1e-7) instead of the documented w * desired / ||w||, for each
    slice (the desired norm the documented one of the same ||w||: min(||w||, max_value), the
    rate's mix of ||w|| and its clip, or 1): the reference's output rescaled by
    ||w|| / (||w|| + 1e-7), with ||w|| from the reference's norms() over the op's axis. A zero
    slice stays zero either way; a non-finite norm keeps the reference."""
    kind, _, name = ev.op.name.partition(".")
    if kind != "constraints" or constraint_ops.ALIASES.get(name, name) not in NORM_CONSTRAINTS:
        return None
    function = constraint_ops.CLASSES[constraint_ops.ALIASES.get(name, name)][0]
    axis = ev.params.get("axis", inspect.signature(function).parameters["axis"].default)
    norm = ref_constraints.norms(ev.x, axis)
    with np.errstate(invalid="ignore", over="ignore"):
        factor = np.where(np.isfinite(norm), norm / (norm + KERAS_EPSILON), 1.0)
    return {"": ev.reference * factor}


HYPOTHESES: tuple[Hypothesis, ...] = (
    Hypothesis("kernel_flipped", "the kernel is flipped spatially", ("convolution",), kernel_flipped),
    Hypothesis("kernel_in_out_swapped", "the kernel's last two axes (input and output channels) are swapped",
               ("convolution", "core"), kernel_in_out_swapped),
    Hypothesis("depthwise_multiplier_order", "the depthwise output channels are ordered multiplier first (m * C + c, not c * M + m)",
               ("convolution",), depthwise_multiplier_order),
    Hypothesis("groups_interleaved", "the channel groups are taken interleaved (channel c in group c mod groups), not as contiguous blocks",
               ("convolution", "normalization"), groups_interleaved),
    Hypothesis("same_padding_extra_before", "'same' padding puts its odd extra element before the input instead of after",
               ("convolution", "pooling"), same_padding_extra_before),
    Hypothesis("causal_padding_after", "causal padding is put after the sequence instead of before",
               ("convolution",), causal_padding_after),
    Hypothesis("average_includes_padding", "the average counts the padded elements",
               ("pooling",), average_includes_padding),
    Hypothesis("bias_dropped", "the bias is not added", ("convolution", "core", "attention", "recurrent"), bias_dropped),
    Hypothesis("bias_on_another_axis", "the bias is added along another axis of the same size",
               ("convolution", "core"), bias_on_another_axis),
    Hypothesis("activation_before_bias", "the activation is applied before the bias is added",
               ("convolution", "core"), activation_before_bias),
    Hypothesis("activation_not_applied", "the activation is not applied",
               ("convolution", "core", "recurrent", "activations"), activation_not_applied),
    Hypothesis("constants_rounded_to_float32", "the real-valued constants are rounded to float32",
               ("activations", "normalization", "regularizers"), constants_rounded_to_float32),
    Hypothesis("attention_scale_rounded_to_float32", "the score scale 1/sqrt(key_dim) is rounded to float32",
               ("attention",), attention_scale_rounded_to_float32),
    Hypothesis("epsilon_outside_sqrt", "epsilon is added outside the square root (x / (sqrt(var) + eps))",
               ("normalization",), epsilon_outside_sqrt),
    Hypothesis("unbiased_variance", "the variance is the unbiased one (divided by n - 1)",
               ("normalization",), unbiased_variance),
    Hypothesis("mean_square_about_the_mean", "the root mean square is taken about the mean (the variance is used)",
               ("normalization",), mean_square_about_the_mean),
    Hypothesis("mask_inverted", "the mask is inverted", ("recurrent", "attention", "pooling", "activations"), mask_inverted),
    Hypothesis("mask_ignored", "the mask is ignored", ("recurrent", "attention", "pooling", "activations"), mask_ignored),
    Hypothesis("zeroing_mask_not_reversed", "going backwards, the masked outputs are zeroed by the mask unreversed",
               ("recurrent",), zeroing_mask_not_reversed),
    Hypothesis("sequence_processed_in_reverse", "the sequence is processed in the other direction (go_backwards flipped)",
               ("recurrent",), sequence_processed_in_reverse),
    Hypothesis("output_sequence_reversed", "the output sequence is returned in reverse time order",
               ("recurrent",), output_sequence_reversed),
    Hypothesis("output_of_another_time_step", "the output is that of another time step than the last",
               ("recurrent",), output_of_another_time_step),
    Hypothesis("softmax_over_another_axis", "the softmax is taken over another axis",
               ("activations",), softmax_over_another_axis),
    Hypothesis("epsilon_added_to_norm", "a fuzz factor (Keras's epsilon, 1e-7) is added to the norm it divides by",
               ("constraints",), epsilon_added_to_norm),
)
BY_NAME = {h.name: h for h in HYPOTHESES}
