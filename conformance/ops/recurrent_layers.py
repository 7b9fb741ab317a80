"""Recurrent layers: reference_impl.recurrent's LAYERS as thin mappings. The call
arguments (mask, initial_state) go to both sides; with return_state the states are
compared as further outputs (output_1, ...)."""
from __future__ import annotations

from reference_impl import recurrent

from conformance.ops import params as P
from conformance.ops.registry import LayerOp, register

RECURRENT_CALL = {
    "mask": P.ParamType("a (batch, time) boolean mask or an input reference", lambda v: isinstance(v, (list, str)) or v is None,
                         {"type": ["array", "string", "null"]}),
    "initial_state": P.ParamType("a list of input references", lambda v: isinstance(v, (list, str)) or v is None,
                                  {"type": ["array", "string", "null"]}),
    "training": P.BOOL,
}


_EXAMPLE_PARAMS = {
    "Bidirectional": {"layer": {"class_name": "LSTM", "config": {"units": 4}}},
    "TimeDistributed": {"layer": {"class_name": "Dense", "config": {"units": 3}}},
}


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
        check_modelled=lambda params, call: recurrent.check_modelled(name, params, call),
        keras_params=_wrapped_layer if name in ("Bidirectional", "TimeDistributed") else None,
        example={"input_shape": [2, 7, 5], "params": _EXAMPLE_PARAMS.get(name, {"units": 4})},
    )


def _wrapped_layer(keras, params: dict, dtype: str) -> dict:
    """Bidirectional/TimeDistributed take a layer object: build it from {class_name, config},
    in the case's dtype (the wrapper's dtype does not reach a layer built beforehand)."""
    spec = params["layer"]
    inner = getattr(keras.layers, spec["class_name"])(**spec.get("config", {}), dtype=dtype)
    return {**params, "layer": inner}


register(*(_recurrent_layer(name) for name in recurrent.LAYERS))
