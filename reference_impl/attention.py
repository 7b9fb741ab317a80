"""Keras 3 attention layers in NumPy float64: Attention, AdditiveAttention, MultiHeadAttention, GroupQueryAttention.

Every layer is a function `f(inputs, weights, *, call, **params)`:

- inputs:  {"query": q, "value": v, optional "key": k} (the key defaults to the value);
- weights: the layer's variables by name (see `weight_shapes`), float64 arrays;
- call:    the other call arguments; Attention/AdditiveAttention: "mask" ([query_mask,
           value_mask], either None), MultiHeadAttention/GroupQueryAttention: "attention_mask";
           all: "use_causal_mask", "return_attention_scores", "training";
- params:  the constructor arguments.

It returns the output, or (output, attention_scores) when call["return_attention_scores"] is
true. `LAYERS` maps the Keras class names to these functions; `weight_shapes`, `output_shape`
and `scores_shape` are pure functions of the layer name, the input shapes and the arguments.

Formulas (softmax over the key positions s; "keep" is the combined mask, see below):

Attention (Luong et al. 2015), q (B, Tq, D), k (B, Tv, D), v (B, Tv, Dv):
    "dot":     e[b, t, s] = sum_d q[b, t, d] * k[b, s, d]
    "concat":  e[b, t, s] = concat_score_weight * sum_d tanh(q[b, t, d] + k[b, s, d])
               (Luong's v_a^T tanh(W_a [q; k]) with W_a = [I I] and v_a = concat_score_weight * 1;
               the literal tanh([q; k]) is separable, so its query part would cancel in the softmax)
    use_scale: e <- scale * e ("a scalar variable to scale the attention scores"), both modes
    a = softmax_s(e over kept s),  out[b, t] = query_mask[b, t] * sum_s a[b, t, s] * v[b, s]

AdditiveAttention (Bahdanau et al. 2015), the documented
    e[b, t, s] = sum_d tanh(q[b, t, d] + k[b, s, d]),  use_scale: e <- scale * e,
then as Attention. The docstring's `scale` is a scalar; a (D,) vector is also accepted and applied
per feature inside the sum, e = sum_d scale[d] * tanh(q + k) (Bahdanau's v_a; the documented form
when all entries are equal), because that is the variable tf.keras creates.

MultiHeadAttention (Vaswani et al. 2017), H = num_heads, key_dim k, value_dim v (default k):
    Q = query . Wq + bq   (B, *Tdims, H, k)      Wq: query/kernel (Dq, H, k)
    K = key . Wk + bk     (B, *Sdims, H, k)      Wk: key/kernel   (Dk, H, k)
    V = value . Wv + bv   (B, *Sdims, H, v)      Wv: value/kernel (Dv, H, v)
    e[.., h, t, s] = sum_k Q[.., t, h, k] K[.., s, h, k] / sqrt(key_dim)
    a = softmax over every key position s of the attention axes jointly (kept ones only)
    O[.., t, h, :] = sum_s a[.., h, t, s] V[.., s, h, :]
    use_gate: O <- O * sigmoid(query . Wg + bg), Wg: gate/kernel (Dq, H, v) (the cited Gated
              Attention paper's per-head gate on the attention output, before the projection)
    out = sum_{h, v} O[.., h, v] Wo[h, v, ...] + bo, Wo: attention_output/kernel (H, v, *E),
          E = output_shape, default (Dq,)
  attention_axes (default: every axis but batch and features) are counted in the input; the other
  middle axes behave like batch axes. Biases (when use_bias) have the kernel's shape without its
  first axis. The scale 1 / sqrt(key_dim) is the paper's 1 / sqrt(d_k).

GroupQueryAttention (Ainslie et al. 2023), G = num_key_value_heads, Hq = num_query_heads (a
multiple of G), head_dim d: projections as above with Hq query heads and G key/value heads, then
"key and value are repeated to match the number of heads of query": query head h uses key/value
head h // (Hq / G) (the paper's contiguous groups), scale 1 / sqrt(head_dim), output projection
attention_output/kernel (Hq, d, Dq), optional gate/kernel (Dq, Hq, d).

Masks (boolean, True / 1 = attend, False / 0 = do not attend; all combined with AND):
- Attention layers: value_mask (B, Tv) drops key positions ("values at positions where
  mask==False do not contribute to the result"); query_mask (B, Tq) zeroes the output rows ("the
  output will be zero at the positions where mask==False"), not the returned scores.
- MultiHeadAttention/GroupQueryAttention: attention_mask (B, T, S), or generally the scores' shape
  without the head axis, (B, *other axes, *Tattn, *Sattn); missing leading (batch) dims and
  size-1 dims broadcast, and the head axis is inserted in front of the query attention dims.
- use_causal_mask: query position i attends to key position j only if j <= i (also for Tq != Tv);
  MultiHeadAttention needs a single attention axis for it (and for sliding_window).
- sliding_window w (MHA/GQA): "key positions within sliding_window - 1 of itself": |i - j| <= w - 1.
- A masked key gets weight exactly 0; the kept keys are normalized among themselves.
- A row with every key masked: the docs are silent on the weights, and say masked values "do not
  contribute to the result"; here the row's weights are all 0, so its attention output is 0 (the
  MHA/GQA output is then the output bias).

Dropout acts only when training; training=True with dropout > 0 drops attention weights at
random, which this reference does not model: `check_modelled` (and the layer functions) raise
NotImplementedError for it, so that such a case is refused before it runs. Arguments that do
not change the values (initializers, regularizers, constraints, name, trainable, seed,
flash_attention) are accepted and ignored; any other one is a TypeError.
The call arguments query_mask / value_mask / key_mask of MHA/GQA are not documented and are a
TypeError here.
"""
from __future__ import annotations

import math
import numbers
from typing import NamedTuple

import numpy as np

from reference_impl import rounding
from reference_impl.activations import sigmoid, softmax_error_parts, softmax_layer
from reference_impl.conv import _COMMON_IGNORED, _is_int

# Keras arguments that do not change the computed values. Anything else unknown is a TypeError.
_DENSE_OBJECTS = frozenset({
    "kernel_initializer", "bias_initializer", "kernel_regularizer", "bias_regularizer",
    "kernel_constraint", "bias_constraint",
})
IGNORED_ARGUMENTS = {
    "Attention": _COMMON_IGNORED | {"seed"},
    "AdditiveAttention": _COMMON_IGNORED | {"seed"},
    "MultiHeadAttention": _COMMON_IGNORED | _DENSE_OBJECTS | {"seed", "flash_attention"},
    "GroupQueryAttention": _COMMON_IGNORED | _DENSE_OBJECTS | {"seed", "flash_attention"},
}
# Documented call arguments besides the inputs.
CALL_ARGUMENTS = {
    "Attention": ("mask", "use_causal_mask", "return_attention_scores", "training"),
    "AdditiveAttention": ("mask", "use_causal_mask", "return_attention_scores", "training"),
    "MultiHeadAttention": ("attention_mask", "use_causal_mask", "return_attention_scores", "training"),
    "GroupQueryAttention": ("attention_mask", "use_causal_mask", "return_attention_scores", "training"),
}
SCORE_MODES = ("dot", "concat")
_INPUT_NAMES = ("query", "value", "key")


# --- argument standardization -----------------------------------------------------------


def _check_ignored(layer, ignored):
    unknown = sorted(set(ignored) - IGNORED_ARGUMENTS[layer])
    if unknown:
        raise TypeError(f"Unexpected keyword argument(s) for {layer}: {', '.join(unknown)}")


def _positive_int(name, value):
    if not (_is_int(value) and value >= 1):
        raise ValueError(f"`{name}` must be a positive int. Received: {name}={value!r}")
    return int(value)


def _bool(name, value):
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"`{name}` must be a bool. Received: {name}={value!r}")
    return bool(value)


def _rate(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 <= value <= 1.0:
        raise ValueError(f"`{name}` must be a float between 0 and 1. Received: {name}={value!r}")
    return float(value)


def _optional_positive_int(name, value):
    return None if value is None else _positive_int(name, value)


def _output_shape_argument(value, default):
    """None -> default; an int -> (int,); a tuple/list of positive ints -> tuple."""
    if value is None:
        return default
    values = (value,) if _is_int(value) else (tuple(value) if isinstance(value, (tuple, list)) else None)
    if not values or not all(_is_int(n) and n >= 1 for n in values):
        raise ValueError(
            f"`output_shape` must be None, a positive int or a tuple/list of positive ints. "
            f"Received: output_shape={value!r}"
        )
    return tuple(int(n) for n in values)


def _attention_axes_argument(value, rank):
    """Attention axes of a rank-`rank` input, in the given order: each in 1 .. rank - 2 (negative: from the end)."""
    if value is None:
        return tuple(range(1, rank - 1))
    values = [value] if _is_int(value) else (list(value) if isinstance(value, (tuple, list)) else None)
    if values and all(_is_int(a) for a in values):
        axes = tuple(int(a) + rank if a < 0 else int(a) for a in values)
        if all(1 <= a <= rank - 2 for a in axes) and len(set(axes)) == len(axes):
            return axes
    raise ValueError(
        f"`attention_axes` must be None, an int or a tuple/list of distinct ints naming axes 1 .. {rank - 2} "
        f"(or {-(rank - 1)} .. -2) of the rank-{rank} inputs: not the batch or feature axis. "
        f"Received: attention_axes={value!r}"
    )


def _shape(name, shape):
    try:
        shape = tuple(shape)
    except TypeError:
        shape = None
    if shape is None or not all(n is None or (_is_int(n) and n >= 0) for n in shape):
        raise ValueError(
            f"`{name}` shape must be a tuple of non-negative ints (or None). Received: {name}.shape={shape!r}"
        )
    return tuple(None if n is None else int(n) for n in shape)


def _input_shapes(input_shapes):
    """(query, value, key) shapes from a dict with "query", "value" and optional "key" (default: value's)."""
    if not isinstance(input_shapes, dict):
        raise TypeError(
            f"The inputs must be a dict with 'query', 'value' and optional 'key'. Received: {input_shapes!r}"
        )
    unknown = sorted(set(input_shapes) - set(_INPUT_NAMES))
    if unknown:
        raise TypeError(f"Unexpected input(s): {', '.join(unknown)} (known: query, value, key)")
    missing = [n for n in ("query", "value") if input_shapes.get(n) is None]
    if missing:
        raise TypeError(f"Missing required input(s): {', '.join(missing)}")
    query = _shape("query", input_shapes["query"])
    value = _shape("value", input_shapes["value"])
    key = value if input_shapes.get("key") is None else _shape("key", input_shapes["key"])
    return query, value, key


def _same(a, b):
    return a is None or b is None or a == b


def _check_dims(what, pairs):
    """Each (name, size_a, size_b) pair must agree (None agrees with anything)."""
    for name, a, b in pairs:
        if not _same(a, b):
            raise ValueError(f"{what}: {name} must match. Received: {a} and {b}")


def _known_feature(name, shape):
    if shape[-1] is None:
        raise ValueError(f"The last (feature) dimension of `{name}` must be known. Received: {name}.shape={shape}")
    return shape[-1]


# --- layer specifications (pure: arguments and input shapes only) -------------------------


class _Spec(NamedTuple):
    layer: str
    query: tuple
    value: tuple
    key: tuple
    weights: dict  # name -> shape
    output: tuple
    scores: tuple
    args: dict  # standardized arguments


def _attention_like_spec(layer, input_shapes, use_scale, dropout, score_mode="dot"):
    query, value, key = _input_shapes(input_shapes)
    for name, shape in (("query", query), ("value", value), ("key", key)):
        if len(shape) != 3:
            raise ValueError(f"{layer} takes rank-3 inputs (batch_size, T, dim). Received: {name}.shape={shape}")
    _check_dims(f"{layer} query and key", [("batch size", query[0], key[0]), ("feature dim", query[2], key[2])])
    _check_dims(f"{layer} key and value", [("batch size", key[0], value[0]), ("length Tv", key[1], value[1])])
    _check_dims(f"{layer} query and value", [("batch size", query[0], value[0])])
    use_scale = _bool("use_scale", use_scale)
    dropout = _rate("dropout", dropout)
    if score_mode not in SCORE_MODES:
        raise ValueError(
            f"`score_mode` must be one of {', '.join(map(repr, SCORE_MODES))}. Received: score_mode={score_mode!r}"
        )
    weights = {}
    if use_scale:
        weights["scale"] = ()
    if layer == "Attention" and score_mode == "concat":
        weights["concat_score_weight"] = ()
    batch = query[0] if query[0] is not None else value[0]
    return _Spec(
        layer, query, value, key, weights,
        output=(batch, query[1], value[2]),
        scores=(batch, query[1], value[1]),
        args={"use_scale": use_scale, "dropout": dropout, "score_mode": score_mode},
    )


def _attention_spec(input_shapes, *, use_scale=False, score_mode="dot", dropout=0.0, **ignored):
    _check_ignored("Attention", ignored)
    return _attention_like_spec("Attention", input_shapes, use_scale, dropout, score_mode)


def _additive_attention_spec(input_shapes, *, use_scale=True, dropout=0.0, **ignored):
    _check_ignored("AdditiveAttention", ignored)
    return _attention_like_spec("AdditiveAttention", input_shapes, use_scale, dropout)


def _projection_weights(use_bias, use_gate, dq, dk, dv, q_heads, kv_heads, key_size, value_size, out):
    """query, key, (gate,) value, attention_output kernels and (if use_bias) biases, Keras names."""
    kernels = {
        "query": (dq, q_heads, key_size),
        "key": (dk, kv_heads, key_size),
        "gate": (dq, q_heads, value_size),
        "value": (dv, kv_heads, value_size),
        "attention_output": (q_heads, value_size) + out,
    }
    if not use_gate:
        del kernels["gate"]
    weights = {}
    for name, shape in kernels.items():
        weights[f"{name}/kernel"] = shape
        if use_bias:
            weights[f"{name}/bias"] = out if name == "attention_output" else shape[1:]
    return weights


def _multi_head_attention_spec(input_shapes, *, num_heads, key_dim, value_dim=None, dropout=0.0, use_bias=True,
                               output_shape=None, attention_axes=None, sliding_window=None, use_gate=False,
                               **ignored):
    _check_ignored("MultiHeadAttention", ignored)
    query, value, key = _input_shapes(input_shapes)
    rank = len(query)
    if rank < 3:
        raise ValueError(
            f"MultiHeadAttention inputs must have rank >= 3 (batch, ..., features). Received: query.shape={query}"
        )
    for name, shape in (("value", value), ("key", key)):
        if len(shape) != rank:
            raise ValueError(
                f"`{name}` must have the rank of `query` ({rank}). Received: {name}.shape={shape}, query.shape={query}"
            )
    heads = _positive_int("num_heads", num_heads)
    key_size = _positive_int("key_dim", key_dim)
    value_size = key_size if value_dim is None else _positive_int("value_dim", value_dim)
    dropout = _rate("dropout", dropout)
    use_bias = _bool("use_bias", use_bias)
    use_gate = _bool("use_gate", use_gate)
    window = _optional_positive_int("sliding_window", sliding_window)
    axes = _attention_axes_argument(attention_axes, rank)
    if window is not None and len(axes) != 1:
        raise ValueError(f"`sliding_window` needs a single attention axis. Received: sliding_window={window}, "
                         f"attention_axes={attention_axes!r} (axes {axes})")
    others = tuple(a for a in range(rank - 1) if a not in axes)  # batch-like axes, 0 first
    _check_dims("MultiHeadAttention key and value", [(f"axis {a}", key[a], value[a]) for a in range(rank - 1)])
    _check_dims("MultiHeadAttention query and key (the non-attention axes)",
                [(f"axis {a}", query[a], key[a]) for a in others])
    dq, dk, dv = (_known_feature(n, s) for n, s in (("query", query), ("key", key), ("value", value)))
    out = _output_shape_argument(output_shape, (dq,))
    batch_like = tuple(query[a] if query[a] is not None else key[a] for a in others)
    scores = batch_like + (heads,) + tuple(query[a] for a in axes) + tuple(key[a] for a in axes)
    return _Spec(
        "MultiHeadAttention", query, value, key,
        _projection_weights(use_bias, use_gate, dq, dk, dv, heads, heads, key_size, value_size, out),
        output=(batch_like[0],) + query[1:-1] + out,
        scores=scores,
        args={"num_heads": heads, "key_dim": key_size, "value_dim": value_size, "dropout": dropout,
              "use_bias": use_bias, "use_gate": use_gate, "output_shape": out, "attention_axes": axes,
              "other_axes": others, "sliding_window": window},
    )


def _group_query_attention_spec(input_shapes, *, head_dim, num_query_heads, num_key_value_heads, dropout=0.0,
                                use_bias=True, sliding_window=None, use_gate=False, **ignored):
    _check_ignored("GroupQueryAttention", ignored)
    query, value, key = _input_shapes(input_shapes)
    for name, shape in (("query", query), ("value", value), ("key", key)):
        if len(shape) != 3:
            raise ValueError(
                f"GroupQueryAttention takes rank-3 inputs (batch, seq_len, feature_dim). Received: {name}.shape={shape}"
            )
    size = _positive_int("head_dim", head_dim)
    q_heads = _positive_int("num_query_heads", num_query_heads)
    kv_heads = _positive_int("num_key_value_heads", num_key_value_heads)
    if q_heads % kv_heads:
        raise ValueError("`num_query_heads` must be divisible by `num_key_value_heads`. "
                         f"Received: num_query_heads={q_heads}, num_key_value_heads={kv_heads}")
    dropout = _rate("dropout", dropout)
    use_bias = _bool("use_bias", use_bias)
    use_gate = _bool("use_gate", use_gate)
    window = _optional_positive_int("sliding_window", sliding_window)
    _check_dims("GroupQueryAttention key and value",
                [("batch size", key[0], value[0]), ("source_seq_len", key[1], value[1])])
    _check_dims("GroupQueryAttention query and key", [("batch size", query[0], key[0])])
    dq, dk, dv = (_known_feature(n, s) for n, s in (("query", query), ("key", key), ("value", value)))
    batch = query[0] if query[0] is not None else key[0]
    return _Spec(
        "GroupQueryAttention", query, value, key,
        _projection_weights(use_bias, use_gate, dq, dk, dv, q_heads, kv_heads, size, size, (dq,)),
        output=(batch, query[1], dq),
        scores=(batch, q_heads, query[1], key[1]),
        args={"head_dim": size, "num_query_heads": q_heads, "num_key_value_heads": kv_heads, "dropout": dropout,
              "use_bias": use_bias, "use_gate": use_gate, "sliding_window": window},
    )


_SPECS = {
    "Attention": _attention_spec,
    "AdditiveAttention": _additive_attention_spec,
    "MultiHeadAttention": _multi_head_attention_spec,
    "GroupQueryAttention": _group_query_attention_spec,
}


def _spec(layer_name, input_shapes, params):
    if layer_name not in _SPECS:
        raise ValueError(f"`layer_name` must be one of {', '.join(_SPECS)}. Received: layer_name={layer_name!r}")
    return _SPECS[layer_name](input_shapes, **params)


def weight_shapes(layer_name, input_shapes, **params):
    """Variable name -> shape, named as Keras 3 names them (the path without the layer's own name).

    Attention: scale () if use_scale; concat_score_weight () if score_mode="concat".
    AdditiveAttention: scale () if use_scale (the docstring's "scalar variable").
    MultiHeadAttention: query/kernel (Dq, H, key_dim), key/kernel (Dk, H, key_dim),
      value/kernel (Dv, H, value_dim), attention_output/kernel (H, value_dim, *E), E = output_shape
      or (Dq,); with use_gate gate/kernel (Dq, H, value_dim); with use_bias each <name>/bias of the
      kernel's shape without its first axis (attention_output/bias: E).
    GroupQueryAttention: query/kernel (Dq, Hq, head_dim), key/kernel and value/kernel
      (Dk or Dv, G, head_dim), attention_output/kernel (Hq, head_dim, Dq), gate/kernel (Dq, Hq, head_dim)
      with use_gate; biases as for MultiHeadAttention.
    input_shapes: {"query": shape, "value": shape, optional "key": shape}, batch included.
    """
    return dict(_spec(layer_name, input_shapes, params).weights)


def additive_attention_weight_shapes_keras2(input_shapes, **params):
    """AdditiveAttention's variables as Keras 2 (tf_keras) documents them: its `use_scale` is "If
    `True`, will create a variable to scale the attention scores", with no shape (Keras 3's
    docstring says "a scalar variable"). Our reading: the shape is left to the layer, so the
    reference takes Bahdanau's per-feature form, scale (D,), D the query's feature dim, applied
    inside the sum, e = sum_d scale[d] * tanh(q[d] + k[d]) (the (D,) scale `additive_attention`
    accepts; with equal entries it is the documented scaling of the scores)."""
    shapes = weight_shapes("AdditiveAttention", input_shapes, **params)
    if "scale" in shapes:
        shapes["scale"] = (_input_shapes(input_shapes)[0][-1],)
    return shapes


def output_shape(layer_name, input_shapes, **params):
    """Shape of the layer output: (B, Tq, Dv) for Attention/AdditiveAttention; (B, *query dims, *E) for
    MultiHeadAttention, E = output_shape or (Dq,); (B, T, Dq) for GroupQueryAttention."""
    return _spec(layer_name, input_shapes, params).output


def scores_shape(layer_name, input_shapes, **params):
    """Shape of the returned attention scores: (B, Tq, Tv) for Attention/AdditiveAttention;
    MultiHeadAttention (B, *other middle axes of query, H, *query attention dims, *key attention dims),
    attention axes in the order given (default (B, H, T, S)); GroupQueryAttention (B, Hq, T, S)."""
    return _spec(layer_name, input_shapes, params).scores


# --- inputs, call arguments, weights ------------------------------------------------------


def _arrays(layer, inputs):
    if not isinstance(inputs, dict):
        raise TypeError(
            f"{layer} inputs must be a dict with 'query', 'value' and optional 'key'. Received: {type(inputs).__name__}"
        )
    arrays = {}
    for name, value in inputs.items():
        if value is None or name not in _INPUT_NAMES:
            arrays[name] = value
            continue
        array = np.asarray(value)
        if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool) or np.iscomplexobj(array):
            raise ValueError(f"`{name}` must be a real array. Received: {name}.dtype={array.dtype}")
        arrays[name] = array.astype(np.float64)
    shapes = {name: (None if a is None else getattr(a, "shape", a)) for name, a in arrays.items()}
    return arrays, shapes


def _call_arguments(layer, call):
    call = {} if call is None else dict(call)
    for name in ("query_mask", "value_mask", "key_mask"):
        if name in call and layer in ("MultiHeadAttention", "GroupQueryAttention"):
            raise TypeError(f"`{name}` is not a documented call argument of {layer}; pass `attention_mask` instead")
    unknown = sorted(set(call) - set(CALL_ARGUMENTS[layer]))
    if unknown:
        raise TypeError(f"Unexpected call argument(s) for {layer}: {', '.join(unknown)}")
    training = call.get("training")
    return {
        "mask": call.get("mask"),
        "attention_mask": call.get("attention_mask"),
        "use_causal_mask": _bool("use_causal_mask", call.get("use_causal_mask", False)),
        "return_attention_scores": _bool("return_attention_scores", call.get("return_attention_scores", False)),
        "training": False if training is None else _bool("training", training),
    }


def _check_dropout(training, dropout):
    if training and dropout > 0:
        raise NotImplementedError(
            "training=True with dropout > 0 drops attention weights at random; the reference computes "
            f"inference only. Received: training=True, dropout={dropout}"
        )


def check_modelled(layer_name, params, call):
    """NotImplementedError for documented arguments this reference does not compute: dropout of
    the attention weights in training (call training=True with dropout > 0), which is random.
    ValueError for a dropout or training value it rejects; the shape rules check the rest."""
    if layer_name not in _SPECS:
        raise ValueError(f"`layer_name` must be one of {', '.join(_SPECS)}. Received: layer_name={layer_name!r}")
    dropout = _rate("dropout", params.get("dropout", 0.0))
    training = (call or {}).get("training")
    _check_dropout(False if training is None else _bool("training", training), dropout)


def _weights(spec, weights, accept=None):
    """Check the given weights against the spec's name -> shape; `accept` maps a name to extra allowed shapes."""
    weights = {} if weights is None else dict(weights)
    given = {name for name, value in weights.items() if value is not None}
    extra = sorted(given - set(spec.weights))
    if extra:
        raise ValueError(f"{spec.layer} has no weight(s) {', '.join(extra)} with these arguments "
                         f"(its weights: {', '.join(spec.weights) or 'none'}). Received: {', '.join(extra)}")
    out = {}
    for name, shape in spec.weights.items():
        if name not in given:
            raise ValueError(f"`{name}` of shape {shape} is required by {spec.layer}. Received: {name}=None")
        value = np.asarray(weights[name], dtype=np.float64)
        allowed = (shape,) + tuple((accept or {}).get(name, ()))
        if value.shape not in allowed:
            raise ValueError(
                f"`{name}` must have shape {' or '.join(map(str, allowed))}. Received: {name}.shape={value.shape}"
            )
        out[name] = value
    return out


def _boolean(name, mask):
    """A mask as a bool array: bool, or numbers that are all 0 or 1 (True / 1 = attend)."""
    mask = np.asarray(mask)
    if mask.dtype == bool:
        return mask
    if np.issubdtype(mask.dtype, np.number) and np.all((mask == 0) | (mask == 1)):
        return mask != 0
    raise ValueError(f"`{name}` must be boolean (or 0/1). Received: {name} of dtype {mask.dtype} with other values")


def _order_keep(length_q, length_k, causal, window):
    """(Tq, Tk) keep-matrix of the position rules: causal j <= i; sliding window |i - j| <= window - 1."""
    i = np.arange(length_q)[:, None]
    j = np.arange(length_k)[None, :]
    keep = np.ones((length_q, length_k), dtype=bool)
    if causal:
        keep &= j <= i
    if window is not None:
        keep &= np.abs(i - j) <= window - 1
    return keep


def _attend(scores, keep, values):
    """weights = softmax over the last axis of `scores` restricted to `keep` (a row with nothing kept: all 0);
    returns (weights @ values over the last axis, weights)."""
    weights = softmax_layer(scores, axis=-1, mask=keep)
    return np.einsum("...ts,...sv->...tv", weights, values), weights


def _result(output, weights, call):
    return (output, weights) if call["return_attention_scores"] else output


# --- Attention and AdditiveAttention -------------------------------------------------------


def _dense_setup(layer, spec_function, inputs, weights, call, params):
    """The checked arguments of Attention or AdditiveAttention: (spec, call, weights, q, k, v,
    keep (B, Tq, Tv): the causal and value masks, query_mask (B, Tq) or None)."""
    arrays, shapes = _arrays(layer, inputs)
    spec = spec_function(shapes, **params)
    call = _call_arguments(layer, call)
    _check_dropout(call["training"], spec.args["dropout"])
    accept = {"scale": [(spec.query[-1],)]} if layer == "AdditiveAttention" else None
    w = _weights(spec, weights, accept)
    q, v = arrays["query"], arrays["value"]
    k = v if arrays.get("key") is None else arrays["key"]
    batch, tq, tv = spec.scores

    mask = call["mask"]
    if mask is None:
        query_mask = value_mask = None
    elif isinstance(mask, (list, tuple)) and len(mask) == 2:
        query_mask, value_mask = mask
    else:
        raise ValueError(
            f"`mask` must be None or a list [query_mask, value_mask] (either may be None). Received: mask={mask!r}"
        )
    keep = np.broadcast_to(_order_keep(tq, tv, call["use_causal_mask"], None), (batch, tq, tv))
    if value_mask is not None:
        value_mask = _boolean("value_mask", value_mask)
        if value_mask.shape != (batch, tv):
            raise ValueError(f"`value_mask` must have shape (batch_size, Tv) = {(batch, tv)}. "
                             f"Received: value_mask.shape={value_mask.shape}")
        keep = keep & value_mask[:, None, :]
    if query_mask is not None:
        query_mask = _boolean("query_mask", query_mask)
        if query_mask.shape != (batch, tq):
            raise ValueError(f"`query_mask` must have shape (batch_size, Tq) = {(batch, tq)}. "
                             f"Received: query_mask.shape={query_mask.shape}")
    return spec, call, w, q, k, v, keep, query_mask


def _dense_score_terms(layer, spec, w, q, k):
    """Attention "concat" and AdditiveAttention: (t, coefficient) with t = q + k (B, Tq, Tv, D)
    and the scores e = sum_d coefficient_d tanh(t_d); "dot": None."""
    if layer == "Attention" and spec.args["score_mode"] == "dot":
        return None
    with np.errstate(invalid="ignore"):  # infinite inputs make inf - inf or 0 * inf here: NaN, as IEEE arithmetic (and tf.keras) give it
        t = q[:, :, None, :] + k[:, None, :, :]  # (B, Tq, Tv, D)
    scale = w.get("scale")
    if layer == "Attention":
        coefficient = w["concat_score_weight"] * (1.0 if scale is None else scale)
    else:  # AdditiveAttention: a scalar or a per-feature scale
        coefficient = 1.0 if scale is None else scale
    return t, np.broadcast_to(coefficient, (q.shape[-1],))


def _dense_attention(layer, spec_function, inputs, weights, call, params):
    spec, call, w, q, k, v, keep, query_mask = _dense_setup(layer, spec_function, inputs, weights, call, params)
    scale = w.get("scale")
    terms = _dense_score_terms(layer, spec, w, q, k)
    if terms is None:
        scores = np.einsum("btd,bsd->bts", q, k)
        if scale is not None:
            scores = scale * scores
    else:
        t, coefficient = terms
        with np.errstate(invalid="ignore"):
            tanh = np.tanh(t)
        if layer == "Attention":
            scores = w["concat_score_weight"] * np.sum(tanh, axis=-1)
            if scale is not None:
                scores = scale * scores
        elif scale is not None and scale.ndim == 1:  # AdditiveAttention's per-feature scale
            scores = np.einsum("btsd,d->bts", tanh, scale)
        else:
            scores = np.sum(tanh, axis=-1)
            if scale is not None:
                scores = scale * scores
    output, attention = _attend(scores, keep, v)
    if query_mask is not None:
        output = output * query_mask[:, :, None]
    return _result(output, attention, call)


def attention(inputs, weights=None, *, call=None, **params):
    """Attention (Luong-style): softmax over kept keys of e, then the weighted sum of `value`.

    "dot": e = q . k; "concat": e = concat_score_weight * sum_d tanh(q_d + k_d); use_scale: e <- scale * e.
    Weights: scale () (use_scale), concat_score_weight () (score_mode="concat"). Masks and the
    fully masked row as in the module docstring. Returns (B, Tq, Dv) (and scores (B, Tq, Tv)).
    """
    return _dense_attention("Attention", _attention_spec, inputs, weights, call, params)


def additive_attention(inputs, weights=None, *, call=None, **params):
    """AdditiveAttention (Bahdanau-style): e = sum_d tanh(q_d + k_d), use_scale: e <- scale * e.

    scale: () as documented, or (D,) applied per feature inside the sum (sum_d scale_d tanh(q_d + k_d)).
    Then as `attention`. Returns (B, Tq, Dv) (and scores (B, Tq, Tv)).
    """
    return _dense_attention("AdditiveAttention", _additive_attention_spec, inputs, weights, call, params)


# --- MultiHeadAttention and GroupQueryAttention --------------------------------------------


def _project(x, w, name):
    """x . kernel + bias over the last axis of x: (..., D) with kernel (D, *rest) -> (..., *rest)."""
    kernel = w[f"{name}/kernel"]
    with np.errstate(invalid="ignore"):  # infinite inputs make inf - inf or 0 * inf here: NaN, as IEEE arithmetic (and tf.keras) give it
        y = np.tensordot(x, kernel, axes=([-1], [0]))
    bias = w.get(f"{name}/bias")
    return y if bias is None else y + bias


def _heads_first(x, others, axes):
    """(B, *dims, H, c) -> (B, *other dims, H, prod(attention dims), c), and the attention dims."""
    heads_axis = x.ndim - 2
    y = np.transpose(x, others + (heads_axis,) + axes + (x.ndim - 1,))
    lead, attn = y.shape[: len(others) + 1], y.shape[len(others) + 1 : -1]
    return y.reshape(lead + (math.prod(attn), y.shape[-1])), attn


def _mask_keep(attention_mask, core, n_axes):
    """attention_mask broadcast to `core` = (B, *others, *Tattn, *Sattn), the scores' shape without the
    head axis (numpy rules: missing leading dims and size-1 dims broadcast)."""
    mask = _boolean("attention_mask", attention_mask)
    ok = 2 * n_axes <= mask.ndim <= len(core) and all(m in (1, n) for m, n in zip(mask.shape[::-1], core[::-1]))
    if not ok:
        raise ValueError(
            f"`attention_mask` must broadcast to {core} (batch, other axes, query then key attention dims; the "
            f"head axis is added): it needs the last {2 * n_axes} dims, each dim 1 or equal. "
            f"Received: attention_mask.shape={mask.shape}"
        )
    return np.broadcast_to(mask, core)


def _heads_keep(spec, call, lead, t_dims, s_dims):
    """The kept (query, key) pairs, broadcastable to the scores (*lead, H, T, S): attention_mask
    (the same for every head), the causal rule and the sliding window."""
    axes = spec.args.get("attention_axes", (1,))
    keep = np.ones((1,) * (len(lead) + 3), dtype=bool)
    if call["attention_mask"] is not None:
        keep = _mask_keep(call["attention_mask"], lead + t_dims + s_dims, len(axes))
        keep = keep.reshape(lead + (1, math.prod(t_dims), math.prod(s_dims)))  # 1: every head
    window = spec.args["sliding_window"]
    if call["use_causal_mask"] or window is not None:
        if len(axes) != 1:
            raise ValueError(f"use_causal_mask needs a single attention axis (the order of positions). "
                             f"Received: use_causal_mask=True, attention_axes={axes}")
        keep = keep & _order_keep(t_dims[0], s_dims[0], call["use_causal_mask"], window)
    return keep


def _heads_back(x, spec, t_dims, projected_ndim):
    """(B, *others, H, T, c) -> (B, *others, H, *Tattn, c) -> (B, *query dims, H, c)."""
    axes, others = spec.args.get("attention_axes", (1,)), spec.args.get("other_axes", (0,))
    lead = x.shape[: len(others) + 1]
    x = x.reshape(lead + t_dims + (x.shape[-1],))
    order = others + (projected_ndim - 2,) + axes + (projected_ndim - 1,)
    return np.transpose(x, np.argsort(order))


def _heads_attention(spec, q_proj, k_proj, v_proj, call, scale):
    """Attention of projected (B, *dims, H, c) tensors over the spec's attention axes.

    Returns O (B, *query dims, H, v) and the scores (B, *others, H, *Tattn, *Sattn)."""
    axes, others = spec.args.get("attention_axes", (1,)), spec.args.get("other_axes", (0,))
    q, t_dims = _heads_first(q_proj, others, axes)
    k, s_dims = _heads_first(k_proj, others, axes)
    v, _ = _heads_first(v_proj, others, axes)
    scores = np.einsum("...tc,...sc->...ts", q, k) * scale  # (B, *others, H, T, S)
    lead = q.shape[: len(others)]
    keep = _heads_keep(spec, call, lead, t_dims, s_dims)
    output, weights = _attend(scores, np.broadcast_to(keep, scores.shape), v)
    return _heads_back(output, spec, t_dims, q_proj.ndim), weights.reshape(scores.shape[:-2] + t_dims + s_dims)


def _finish(spec, w, query, heads_output):
    """Optional gate, then the output projection sum_{h, c} O[.., h, c] * attention_output/kernel[h, c, ...] + bias."""
    if spec.args["use_gate"]:
        heads_output = heads_output * sigmoid(_project(query, w, "gate"))
    y = np.tensordot(heads_output, w["attention_output/kernel"], axes=([-2, -1], [0, 1]))
    bias = w.get("attention_output/bias")
    return y if bias is None else y + bias


def _query_value_key(arrays):
    q, v = arrays["query"], arrays["value"]
    return q, v, (v if arrays.get("key") is None else arrays["key"])


def _heads_setup(layer, inputs, weights, call, params):
    """The checked arguments of MultiHeadAttention or GroupQueryAttention: (spec, call, weights,
    (query, key, value) inputs, key/value head repeats, the scores' scale 1 / sqrt(d))."""
    arrays, shapes = _arrays(layer, inputs)
    spec = (_multi_head_attention_spec if layer == "MultiHeadAttention" else _group_query_attention_spec)(shapes, **params)
    call = _call_arguments(layer, call)
    _check_dropout(call["training"], spec.args["dropout"])
    w = _weights(spec, weights)
    q, v, k = _query_value_key(arrays)
    if layer == "MultiHeadAttention":
        return spec, call, w, (q, k, v), 1, 1.0 / math.sqrt(spec.args["key_dim"])
    repeats = spec.args["num_query_heads"] // spec.args["num_key_value_heads"]
    return spec, call, w, (q, k, v), repeats, 1.0 / math.sqrt(spec.args["head_dim"])


def _projected_attention(layer, inputs, weights, call, params):
    spec, call, w, (q, k, v), repeats, scale = _heads_setup(layer, inputs, weights, call, params)
    k_heads = np.repeat(_project(k, w, "key"), repeats, axis=-2)
    v_heads = np.repeat(_project(v, w, "value"), repeats, axis=-2)
    heads_output, scores = _heads_attention(spec, _project(q, w, "query"), k_heads, v_heads, call, scale)
    return _result(_finish(spec, w, q, heads_output), scores, call)


def multi_head_attention(inputs, weights=None, *, call=None, **params):
    """MultiHeadAttention: project, scaled dot product per head (1 / sqrt(key_dim)), softmax over the
    key attention positions, weighted sum of values, optional gate, output projection.

    Formulas, weight shapes, attention_axes and mask rules are in the module docstring.
    Returns (B, *query dims, *E) (and scores (B, *other axes, H, *Tattn, *Sattn)).
    """
    return _projected_attention("MultiHeadAttention", inputs, weights, call, params)


def group_query_attention(inputs, weights=None, *, call=None, **params):
    """GroupQueryAttention: MultiHeadAttention with Hq query heads sharing G key/value heads.

    Query head h reads key/value head h // (Hq / G) (each projected K/V head repeated Hq / G times
    in a row); scale 1 / sqrt(head_dim); output projection back to the query feature dim.
    Returns (B, T, Dq) (and scores (B, Hq, T, S)).
    """
    return _projected_attention("GroupQueryAttention", inputs, weights, call, params)


LAYERS = {
    "Attention": attention,
    "AdditiveAttention": additive_attention,
    "MultiHeadAttention": multi_head_attention,
    "GroupQueryAttention": group_query_attention,
}


# --- error bounds ---------------------------------------------------------------------------


def _absolute_weights(w):
    return {name: np.abs(value) for name, value in w.items()}


def _projection_with_error(x, w, name, fmt):
    """(x . kernel + bias, its error bound): an inner product of D products and the bias,
    gamma_{D+1} (sum |x_d kernel_d| + |bias|) (rounding.sum_of_products)."""
    value = _project(x, w, name)
    with np.errstate(invalid="ignore"):
        magnitude = _project(np.abs(x), _absolute_weights(w), name)
    length = w[f"{name}/kernel"].shape[0] + (f"{name}/bias" in w)
    return value, rounding.sum_of_products(magnitude, length, fmt)


def _midrange(x, axis):
    """(max + min) / 2 along `axis` (kept): the offset c that minimizes max |x - c|."""
    return 0.5 * (np.max(x, axis=axis, keepdims=True) + np.min(x, axis=axis, keepdims=True))


def _weighted_values_with_error(a, weights_error, v, dv, fmt):
    """out[.., t, :] = sum_s a[.., t, s] v[.., s, :] and its bound when the weights arrive with
    the error (move, own) of activations.softmax_error_parts and v with the error dv:

        sum_s move_s |v_s - c| + own_s |v_s| + (a_s + da_s) dv_s + gamma_S sum_s (a_s + da_s)(|v_s| + dv_s)

    (da = move + own; rounding.perturbed_sum_of_products over the S key positions). The move is
    the change of exact probabilities, which sums to 0 over s, so it weighs v relative to any
    offset c common to the key positions: c = the midrange of v over s (values with a common
    offset, a value bias, do not count)."""
    move, own = weights_error
    da = move + own
    centred = np.abs(v - _midrange(v, -2))
    magnitude = np.einsum("...ts,...sv->...tv", a + da, np.abs(v) + dv)
    perturbation = (np.einsum("...ts,...sv->...tv", move, centred) + np.einsum("...ts,...sv->...tv", own, np.abs(v))
                    + np.einsum("...ts,...sv->...tv", a + da, dv))
    return np.einsum("...ts,...sv->...tv", a, v), rounding.perturbed_sum_of_products(magnitude, perturbation, v.shape[-2], fmt)


def _attention_weights_with_error(scores, d_scores, keep, fmt):
    """softmax over the kept keys (the last axis) and its error (move, own) with the scores'
    error d_scores (activations.softmax_error_parts), or None for the error."""
    return softmax_layer(scores, axis=-1, mask=keep), softmax_error_parts(scores, fmt, axis=-1, keep=keep, dz=d_scores)


def _weights_bound(weights_error, keep):
    """The bound of the returned attention scores (the softmax weights a):

        da = move + own at a kept (query, key) pair,   0 at a masked one

    (move, own: activations.softmax_error_parts with the scores' error, the exact extremes of
    softmax over the box |e'_s - e_s| <= de_s plus its own evaluation in the format). A masked
    key takes no part and its weight is exactly 0 in the documented formula, so in a correct
    evaluation too (a mask applied as 0 after the softmax, or as a shift of -1e9 that exp
    underflows to exactly 0): bound 0, also in a row with every key masked."""
    move, own = weights_error
    return np.where(keep, move + own, 0.0)


def _lengths_fit(fmt, *lengths):
    """Whether gamma_K is defined (K u < 1) for every chain of K roundings of the bound."""
    return all(k * fmt.unit_roundoff < 1 for k in lengths)


def _dense_error_bound(layer, spec_function, inputs, weights, fmt, call, params):
    """(bound of the output, bound of the returned scores) of Attention and AdditiveAttention
    (q, k, v exact inputs), either None where its chain is too long for gamma_K:
      "dot":    e = scale * sum_d q_d k_d: de = gamma_{D+1} |scale| sum_d |q_d k_d| (D products,
                the scale's product; any order);
      "concat" and AdditiveAttention: e = sum_d c_d tanh(q_d + k_d) (c_d = concat_score_weight,
                times scale; AdditiveAttention's scale, scalar or per feature, or 1):
                t_d = q_d + k_d rounds once (|dt| <= u |t|), tanh carries that and its own
                bound: dtanh = rounding.through(tanh, t, u |t|); then D terms and a scalar
                product: sum_d |c_d| dtanh_d + gamma_{D+1} sum_d |c_d| (|tanh t_d| + dtanh_d);
      a = softmax over the kept keys (causal, value_mask), (move, own) its bound with de;
      the returned scores a (B, Tq, Tv): move + own, 0 at masked keys (_weights_bound; the
          query_mask does not touch them);
      out = sum_s a_s v_s: sum_s (move_s |v_s - mid_s v| + own_s |v_s|) + gamma_Tv sum_s (a_s + da_s) |v_s|
          (_weighted_values_with_error);
      query_mask multiplies rows by 0 or 1 (exact)."""
    spec, call, w, q, k, v, keep, query_mask = _dense_setup(layer, spec_function, inputs, weights, call, params)
    d_features, tv = q.shape[-1], v.shape[-2]
    if not _lengths_fit(fmt, d_features + 1):
        return None, None
    terms = _dense_score_terms(layer, spec, w, q, k)
    u = fmt.unit_roundoff
    with np.errstate(invalid="ignore", over="ignore"):
        if terms is None:
            scale = abs(float(w["scale"])) if "scale" in w else 1.0
            scores = np.einsum("btd,bsd->bts", q, k) * (float(w["scale"]) if "scale" in w else 1.0)
            magnitude = scale * np.einsum("btd,bsd->bts", np.abs(q), np.abs(k))
            d_scores = rounding.sum_of_products(magnitude, d_features + (1 if "scale" in w else 0), fmt)
        else:
            t, coefficient = terms
            tanh = np.tanh(t)
            d_tanh = rounding.through(np.tanh, t, u * np.abs(t), fmt, lambda z: np.ones_like(z))
            scores = np.einsum("btsd,d->bts", tanh, coefficient)
            magnitude = np.einsum("btsd,d->bts", np.abs(tanh) + d_tanh, np.abs(coefficient))
            d_scores = rounding.perturbed_sum_of_products(magnitude, np.einsum("btsd,d->bts", d_tanh, np.abs(coefficient)),
                                                          d_features + 1, fmt)
    a, da = _attention_weights_with_error(scores, d_scores, keep, fmt)
    if da is None:
        return None, None
    d_weights = _weights_bound(da, keep)
    if not _lengths_fit(fmt, tv):
        return None, d_weights
    _, d_out = _weighted_values_with_error(a, da, v, np.zeros_like(v), fmt)
    if query_mask is not None:
        d_out = d_out * query_mask[:, :, None]
    return d_out, d_weights


def _projected_error_bound(layer, inputs, weights, fmt, call, params):
    """(bound of the output, bound of the returned scores) of MultiHeadAttention and
    GroupQueryAttention, either None where its chain is too long for gamma_K; each step's bound
    carried into the next:
      Q, K, V = x . W + b:  gamma_{D+1} (|x| . |W| + |b|) each (dQ, dK, dV);
      e = s sum_c Q_c K_c, s = 1 / sqrt(d): sum_c s (dQ_c |K_c - mid_s K_c| + (|Q_c| + dQ_c) dK_c)
          + gamma_{d+3} s sum_c (|Q_c| + dQ_c)(|K_c| + dK_c): d products, the product with s
          (on Q, on K or on the scores), and s itself formed in the format (a constant
          rounded once, or a square root and a division: two roundings). Q's error moves
          all the scores of a query by sum_c dQ_c K_sc, of which sum_c dQ_c mid_c (mid = the
          midrange of K over the key positions s) is common to every s and leaves the softmax
          unchanged: only |K - mid| counts;
      a = softmax over the kept keys, (move, own) its bound with de (activations.softmax_error_parts);
      the returned scores a, (B, *other axes, H, *Tattn, *Sattn) as the reference returns them
          ((B, H, T, S) with one attention axis): move + own, 0 at masked pairs (_weights_bound);
      O = sum_s a_s V_s: sum_s (move_s |V_s - mid_s V| + own_s |V_s| + (a_s + da_s) dV_s)
          + gamma_S sum_s (a_s + da_s)(|V_s| + dV_s), da = move + own (_weighted_values_with_error);
      use_gate: O g, g = sigmoid(query . Wg + bg), dg = rounding.through(sigmoid, z, dz):
          dO (g + dg) + |O| dg + u (|O| + dO)(g + dg) (the product's rounding);
      y = sum_{h,c} O_hc Wo_hc + bo: sum |Wo| dO + gamma_{H v + 1} (sum (|O| + dO) |Wo| + |bo|).
    The repeated key/value heads of GroupQueryAttention carry their projection's bound."""
    spec, call, w, (q, k, v), repeats, scale = _heads_setup(layer, inputs, weights, call, params)
    axes, others = spec.args.get("attention_axes", (1,)), spec.args.get("other_axes", (0,))
    key_size = w["query/kernel"].shape[-1]
    heads, value_size = w["attention_output/kernel"].shape[:2]
    source = math.prod(k.shape[a] for a in axes)
    if not _lengths_fit(fmt, q.shape[-1] + 1, k.shape[-1] + 1, key_size + 3):
        return None, None
    (q_proj, dq), (k_proj, dk) = (_projection_with_error(x, w, name, fmt) for x, name in ((q, "query"), (k, "key")))
    k_proj, dk = (np.repeat(t, repeats, axis=-2) for t in (k_proj, dk))
    (qh, t_dims), (kh, s_dims) = _heads_first(q_proj, others, axes), _heads_first(k_proj, others, axes)
    dqh, dkh = _heads_first(dq, others, axes)[0], _heads_first(dk, others, axes)[0]
    scores = np.einsum("...tc,...sc->...ts", qh, kh) * scale
    magnitude = scale * np.einsum("...tc,...sc->...ts", np.abs(qh) + dqh, np.abs(kh) + dkh)
    # Q's error moves every score of a query t by sum_c dQ_tc K_sc; the part sum_c dQ_tc c_c
    # common to all key positions s leaves the softmax unchanged, so K counts from its midrange
    # over s (a key bias, a common offset, does not count)
    perturbation = scale * (np.einsum("...tc,...sc->...ts", dqh, np.abs(kh - _midrange(kh, -2)))
                            + np.einsum("...tc,...sc->...ts", np.abs(qh) + dqh, dkh))
    d_scores = rounding.perturbed_sum_of_products(magnitude, perturbation, key_size + 3, fmt)
    keep = np.broadcast_to(_heads_keep(spec, call, qh.shape[: len(others)], t_dims, s_dims), scores.shape)
    a, da = _attention_weights_with_error(scores, d_scores, keep, fmt)
    if da is None:
        return None, None
    d_weights = _weights_bound(da, keep).reshape(scores.shape[:-2] + t_dims + s_dims)
    if not _lengths_fit(fmt, v.shape[-1] + 1, source, heads * value_size + 1):
        return None, d_weights
    v_proj, dv = _projection_with_error(v, w, "value", fmt)
    v_proj, dv = np.repeat(v_proj, repeats, axis=-2), np.repeat(dv, repeats, axis=-2)
    vh, dvh = _heads_first(v_proj, others, axes)[0], _heads_first(dv, others, axes)[0]
    heads_output, d_heads = _weighted_values_with_error(a, da, vh, dvh, fmt)
    heads_output = _heads_back(heads_output, spec, t_dims, q_proj.ndim)
    d_heads = _heads_back(d_heads, spec, t_dims, q_proj.ndim)
    if spec.args["use_gate"]:
        z, dz = _projection_with_error(q, w, "gate", fmt)
        gate, d_gate = sigmoid(z), rounding.through(sigmoid, z, dz, fmt)
        d_heads = (d_heads * (gate + d_gate) + np.abs(heads_output) * d_gate
                   + fmt.unit_roundoff * (np.abs(heads_output) + d_heads) * (gate + d_gate) + fmt.smallest_normal)
        heads_output = heads_output * gate
    kernel = np.abs(w["attention_output/kernel"])
    magnitude = np.tensordot(np.abs(heads_output) + d_heads, kernel, axes=([-2, -1], [0, 1]))
    if "attention_output/bias" in w:
        magnitude = magnitude + np.abs(w["attention_output/bias"])
    perturbation = np.tensordot(d_heads, kernel, axes=([-2, -1], [0, 1]))
    d_out = rounding.perturbed_sum_of_products(magnitude, perturbation, heads * value_size + ("attention_output/bias" in w), fmt)
    return d_out, d_weights


def _unbounded_where_nan(bound):
    return None if bound is None else np.where(np.isnan(bound), np.inf, bound)


def error_bound(layer_name, inputs, weights, fmt, *, call=None, **params):
    """Per-element bound on the error of the layer's outputs for its documented formula
    evaluated in the format `fmt` (a rounding.Format), in any order of its sums, each step's
    error carried through the next (_dense_error_bound, _projected_error_bound state the chain).

    Returns the main output's bound; with call["return_attention_scores"] the dict
    {"output": that bound, "output_1": the returned scores' bound}, the scores' bound being
    the softmax weights' da = move + own (_weights_bound; 0 at masked pairs), in the scores'
    layout ((B, Tq, Tv); MultiHeadAttention (B, *other axes, H, *Tattn, *Sattn);
    GroupQueryAttention (B, Hq, T, S)). None (or a None entry) where a chain is too long for
    gamma_K (K u >= 1). Inference only: dropout is the identity there."""
    if layer_name in ("Attention", "AdditiveAttention"):
        spec_function = _attention_spec if layer_name == "Attention" else _additive_attention_spec
        output, scores = _dense_error_bound(layer_name, spec_function, inputs, weights, fmt, call, params)
    elif layer_name in ("MultiHeadAttention", "GroupQueryAttention"):
        output, scores = _projected_error_bound(layer_name, inputs, weights, fmt, call, params)
    else:
        raise ValueError(f"`layer_name` must be one of {', '.join(_SPECS)}. Received: layer_name={layer_name!r}")
    if not _call_arguments(layer_name, call)["return_attention_scores"]:
        return _unbounded_where_nan(output)
    return {"output": _unbounded_where_nan(output), "output_1": _unbounded_where_nan(scores)}
