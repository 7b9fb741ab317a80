"""Attention layers: reference_impl.attention's LAYERS as thin mappings. Their inputs are
named (query, value, key), their call arguments (masks, use_causal_mask,
return_attention_scores) go to both sides, and the attention scores, when returned, are
compared as a second output (output_1). Dropout in training is random and not modelled:
reference_impl.attention.check_modelled refuses such a case at validation. Both outputs are
judged by reference_impl.attention.error_bound (the projections', scores', softmax's and
weighted sum's roundings chained): the main output by its bound, the returned scores (the
softmax weights) by theirs, which error_bound returns as {"output", "output_1"} when the call
asks for the scores."""
from __future__ import annotations

from reference_impl import attention

from conformance.ops import params as P
from conformance.ops.registry import LayerOp, register

ATTENTION_CALL = {
    "mask": P.ParamType("a list [query_mask, value_mask] or an input reference", lambda v: isinstance(v, (list, str)) or v is None,
                         {"type": ["array", "string", "null"]}),
    "attention_mask": P.ParamType("a boolean mask or an input reference", lambda v: isinstance(v, (list, str)) or v is None,
                                   {"type": ["array", "string", "null"]}),
    "use_causal_mask": P.BOOL,
    "return_attention_scores": P.BOOL,
    "training": P.BOOL,
}


_DENSE_OBJECTS = {f"{w}_{o}": P.KERAS_OBJECT for w in ("kernel", "bias") for o in ("initializer", "regularizer", "constraint")}
_COMMON = {"dropout": P.RATE.defaults_to(0.0), "seed": P.optional(P.INT).defaults_to(None), "name": P.STRING,
           "trainable": P.BOOL, "activity_regularizer": P.KERAS_OBJECT}
_PROJECTED = {  # MultiHeadAttention and GroupQueryAttention
    "use_bias": P.BOOL.defaults_to(True), "sliding_window": P.optional(P.POSITIVE_INT).defaults_to(None),
    "use_gate": P.BOOL.defaults_to(False), "flash_attention": P.optional(P.BOOL).defaults_to(None), **_DENSE_OBJECTS,
}
# layer -> its constructor arguments, as the Keras docstrings and the reference's specs state them
ARGUMENTS = {
    "Attention": {"use_scale": P.BOOL.defaults_to(False),
                  "score_mode": P.STRING.one_of(*attention.SCORE_MODES).defaults_to("dot"), **_COMMON},
    "AdditiveAttention": {"use_scale": P.BOOL.defaults_to(True), **_COMMON},
    "MultiHeadAttention": {
        "num_heads": P.POSITIVE_INT, "key_dim": P.POSITIVE_INT, "value_dim": P.optional(P.POSITIVE_INT).defaults_to(None),
        "output_shape": P.optional(P.int_or_list()).at_least(1).defaults_to(None),
        "attention_axes": P.optional(P.int_or_list()).defaults_to(None), **_PROJECTED, **_COMMON,
    },
    "GroupQueryAttention": {
        "head_dim": P.POSITIVE_INT, "num_query_heads": P.POSITIVE_INT, "num_key_value_heads": P.POSITIVE_INT,
        **_PROJECTED, **_COMMON,
    },
}
REQUIRED = {"MultiHeadAttention": ("num_heads", "key_dim"),
            "GroupQueryAttention": ("head_dim", "num_query_heads", "num_key_value_heads")}
CONSTRAINTS = {
    "GroupQueryAttention": (P.Constraint(
        ("num_query_heads", "num_key_value_heads"), lambda a: a["num_query_heads"] % a["num_key_value_heads"] == 0,
        "`num_query_heads` must be divisible by `num_key_value_heads`",
        "Keras GroupQueryAttention.__init__ raises ValueError; the reference too"),),
}


_EXAMPLE_PARAMS = {
    "MultiHeadAttention": {"num_heads": 2, "key_dim": 3},
    "GroupQueryAttention": {"head_dim": 3, "num_query_heads": 2, "num_key_value_heads": 1},
}


def _keras_list_call(layer, given, call):
    """Attention and AdditiveAttention take [query, value(, key)]."""
    return layer([given[n] for n in ("query", "value", "key") if n in given], **call)


def _keras_keyword_call(layer, given, call):
    """MultiHeadAttention and GroupQueryAttention take query=, value=, key=."""
    return layer(**given, **call)


def _attention_layer(name: str) -> LayerOp:
    function = attention.LAYERS[name]
    return LayerOp(
        name=name, family="attention", params=ARGUMENTS[name],
        required=REQUIRED.get(name, ()),
        constraints=CONSTRAINTS.get(name, ()),
        doc=f"tf.keras.layers.{name}: reference_impl.attention.{function.__name__}",
        keras_class=name,
        input_names=("query", "value", "key"),
        required_inputs=("query", "value"),
        predict_weights=lambda params, shapes: attention.weight_shapes(name, shapes, **params),
        predict_output=lambda params, shapes: attention.output_shape(name, shapes, **params),
        compute=lambda inputs, weights, params, call: function(inputs, weights, call=call, **params),
        call_params=ATTENTION_CALL,
        check_modelled=lambda params, call: attention.check_modelled(name, params, call),
        keras_call=_keras_list_call if name in ("Attention", "AdditiveAttention") else _keras_keyword_call,
        error_bound=lambda inputs, weights, params, call, fmt, output=None: attention.error_bound(
            name, inputs, weights, fmt, call=call, **params),
        example={"inputs": {"query": {"shape": [2, 4, 6]}, "value": {"shape": [2, 5, 6]}},
                 "params": _EXAMPLE_PARAMS.get(name, {})},
    )


register(*(_attention_layer(name) for name in attention.LAYERS))
