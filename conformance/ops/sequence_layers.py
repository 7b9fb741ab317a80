"""Attention and recurrent layers: the reference modules' LAYERS as thin mappings. Their
inputs are named (query / value / key; x), their call arguments (masks, initial state,
return_attention_scores) are passed to both sides, and several outputs are compared one by
one (output, then output_1, ...)."""
from __future__ import annotations

from reference_impl import attention, recurrent

from conformance.ops import params as P
from conformance.ops.registry import LayerOp, register

ATTENTION_CALL = {
    "mask": P.ParamType("a list [query_mask, value_mask] or an input reference", lambda v: isinstance(v, (list, str)) or v is None),
    "attention_mask": P.ParamType("a boolean mask or an input reference", lambda v: isinstance(v, (list, str)) or v is None),
    "use_causal_mask": P.BOOL,
    "return_attention_scores": P.BOOL,
    "training": P.BOOL,
}
RECURRENT_CALL = {
    "mask": P.ParamType("a (batch, time) boolean mask or an input reference", lambda v: isinstance(v, (list, str)) or v is None),
    "initial_state": P.ParamType("a list of input references", lambda v: isinstance(v, (list, str)) or v is None),
    "training": P.BOOL,
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
        name=name, family="attention", params={}, open_params=True,
        doc=f"tf.keras.layers.{name}: reference_impl.attention.{function.__name__}",
        keras_class=name,
        input_names=("query", "value", "key"),
        required_inputs=("query", "value"),
        predict_weights=lambda params, shapes: attention.weight_shapes(name, shapes, **params),
        predict_output=lambda params, shapes: attention.output_shape(name, shapes, **params),
        compute=lambda inputs, weights, params, call: function(inputs, weights, call=call, **params),
        call_params=ATTENTION_CALL,
        keras_call=_keras_list_call if name in ("Attention", "AdditiveAttention") else _keras_keyword_call,
        example={"inputs": {"query": {"shape": [2, 4, 6]}, "value": {"shape": [2, 5, 6]}}, "params": {}},
    )


def _recurrent_layer(name: str) -> LayerOp:
    function = recurrent.LAYERS[name]
    return LayerOp(
        name=name, family="recurrent", params={}, open_params=True,
        doc=f"tf.keras.layers.{name}: reference_impl.recurrent.{function.__name__}",
        keras_class=name,
        predict_weights=lambda params, shape: recurrent.weight_shapes(name, {"x": shape}, **params),
        predict_output=lambda params, shape: recurrent.output_shape(name, {"x": shape}, **params),
        compute=lambda x, weights, params, call: function({"x": x}, weights, call=call, **params),
        call_params=RECURRENT_CALL,
        keras_params=_wrapped_layer if name in ("Bidirectional", "TimeDistributed") else None,
        example={"input_shape": [2, 7, 5], "params": {"units": 4}},
    )


def _wrapped_layer(keras, params: dict) -> dict:
    """Bidirectional/TimeDistributed take a layer object: build it from {class_name, config}."""
    spec = params["layer"]
    inner = getattr(keras.layers, spec["class_name"])(**spec.get("config", {}))
    return {**params, "layer": inner}


register(*(_attention_layer(name) for name in attention.LAYERS), *(_recurrent_layer(name) for name in recurrent.LAYERS))
