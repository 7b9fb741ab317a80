"""Recurrent layers: reference_impl.recurrent's LAYERS as thin mappings. The call
arguments (mask, initial_state) go to both sides; with return_state the states are
compared as further outputs (output_1, ...). Every output, the returned states too, is judged
by its error bound (reference_impl.recurrent.error_bound, carried through the time loop, named
by by_output; TimeDistributed: the inner layer's own bound at every step)."""
from __future__ import annotations

from reference_impl import recurrent

from conformance.ops import params as P
from conformance.ops.registry import LayerOp, get_op, register

RECURRENT_CALL = {
    "mask": P.ParamType("a (batch, time) boolean mask or an input reference", lambda v: isinstance(v, (list, str)) or v is None,
                         {"type": ["array", "string", "null"]}),
    "initial_state": P.ParamType("a list of input references", lambda v: isinstance(v, (list, str)) or v is None,
                                  {"type": ["array", "string", "null"]}),
    "training": P.BOOL,
}


_RECURRENT_OBJECTS = {f"{w}_{o}": P.KERAS_OBJECT for w in ("kernel", "recurrent", "bias")
                      for o in ("initializer", "regularizer", "constraint")}
# `dtype` is not an argument of a case: the case's own `dtype` key gives it
_COMMON = {"name": P.STRING, "trainable": P.BOOL}
_RNN = {
    "units": P.POSITIVE_INT, "activation": P.ACTIVATION.defaults_to("tanh"), "use_bias": P.BOOL.defaults_to(True),
    "return_sequences": P.BOOL.defaults_to(False), "return_state": P.BOOL.defaults_to(False),
    "go_backwards": P.BOOL.defaults_to(False), "stateful": P.BOOL.defaults_to(False),
    "zero_output_for_mask": P.BOOL.defaults_to(False),
    "dropout": P.RATE.defaults_to(0.0), "recurrent_dropout": P.RATE.defaults_to(0.0),  # "Float between 0 and 1"
    "unroll": P.BOOL.defaults_to(False), "seed": P.optional(P.INT).defaults_to(None),
    "activity_regularizer": P.KERAS_OBJECT, **_RECURRENT_OBJECTS, **_COMMON,
}
_GATED = {  # LSTM and GRU
    "recurrent_activation": P.ACTIVATION.defaults_to("sigmoid"),
    "use_cudnn": P.ParamType("true, false or 'auto'", lambda v: isinstance(v, bool) or v == "auto",
                             {"anyOf": [{"type": "boolean"}, {"enum": ["auto"]}]}).defaults_to("auto"),
    # no longer documented by Keras 3, still taken (reference_impl.recurrent): any value
    "implementation": P.ANY,
}
_LAYER = {"layer": P.LAYER_CONFIG}
# layer -> its constructor arguments, from the Keras docstrings (as reference_impl.recurrent reads them)
ARGUMENTS = {
    "SimpleRNN": _RNN,
    "LSTM": {**_RNN, **_GATED, "unit_forget_bias": P.BOOL.defaults_to(True)},
    "GRU": {**_RNN, **_GATED, "reset_after": P.BOOL.defaults_to(True)},
    # merge_mode: "One of {"sum", "mul", "concat", "ave", None}"
    "Bidirectional": {**_LAYER, "merge_mode": P.optional(P.STRING).one_of(*(m for m in recurrent.MERGE_MODES if m)).defaults_to("concat"),
                      "backward_layer": P.optional(P.LAYER_CONFIG).defaults_to(None), "weights": P.ANY, **_COMMON},
    "TimeDistributed": {**_LAYER, **_COMMON},
}
REQUIRED = {"SimpleRNN": ("units",), "LSTM": ("units",), "GRU": ("units",), "Bidirectional": ("layer",), "TimeDistributed": ("layer",)}


_EXAMPLE_PARAMS = {
    "Bidirectional": {"layer": {"class_name": "LSTM", "config": {"units": 4}}},
    "TimeDistributed": {"layer": {"class_name": "Dense", "config": {"units": 3}}},
}


def _recurrent_layer(name: str) -> LayerOp:
    function = recurrent.LAYERS[name]
    return LayerOp(
        name=name, family="recurrent", params=ARGUMENTS[name], required=REQUIRED[name],
        doc=f"tf.keras.layers.{name}: reference_impl.recurrent.{function.__name__}",
        keras_class=name,
        predict_weights=lambda params, shape: recurrent.weight_shapes(name, {"x": shape}, **params),
        predict_output=lambda params, shape: recurrent.output_shape(name, {"x": shape}, **params),
        compute=lambda x, weights, params, call: function({"x": x}, weights, call=call, **params),
        call_params=RECURRENT_CALL,
        check_modelled=lambda params, call: recurrent.check_modelled(name, params, call),
        keras_params=_wrapped_layer if name in ("Bidirectional", "TimeDistributed") else None,
        example={"input_shape": [2, 7, 5], "params": _EXAMPLE_PARAMS.get(name, {"units": 4})},
        error_bound=_time_distributed_bound if name == "TimeDistributed" else _recurrent_bound(name),
    )


def _recurrent_bound(name: str):
    def bound(x, weights, params, call, fmt, output=None):
        return by_output(recurrent.error_bound(name, {"x": x}, weights, fmt, call=call, **params))

    return bound


def by_output(bound):
    """A reference bound in the layout of the layer's outputs (one array, or a list [output,
    *states] / [forward, backward, *states]) as the harness names the outputs
    (conformance.checks.values.split_outputs): {"output": ..., "output_1": ..., ...}; one array
    or None as it is."""
    if not isinstance(bound, list):
        return bound
    return {"output": bound[0], **{f"output_{i}": b for i, b in enumerate(bound[1:], 1)}}


def _time_distributed_bound(x, weights, params, call, fmt, output=None):
    return recurrent.time_distributed_error_bound({"x": x}, weights, fmt, inner_bound=_inner_bound, call=call, **params)


def _inner_bound(class_name, x, weights, config, fmt, output):
    """The wrapped layer's own error bound (Dense, Conv1D/2D/3D: conformance.ops), None if it has none."""
    inner = get_op(class_name).error_bound
    return None if inner is None else inner(x, weights, config, {}, fmt, output=output)


def _wrapped_layer(keras, params: dict, dtype: str) -> dict:
    """Bidirectional/TimeDistributed take a layer object: build it from {class_name, config},
    in the case's dtype (the wrapper's dtype does not reach a layer built beforehand)."""
    spec = params["layer"]
    inner = getattr(keras.layers, spec["class_name"])(**spec.get("config", {}), dtype=dtype)
    return {**params, "layer": inner}


register(*(_recurrent_layer(name) for name in recurrent.LAYERS))
