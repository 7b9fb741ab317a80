"""RNN with SimpleRNNCell/LSTMCell/GRUCell or StackedRNNCells, and ConvLSTM1D/2D/3D:
reference_impl.recurrent_cells as thin mappings. A cell is given as {class_name, config} (a
list of them, or {class_name: StackedRNNCells, config: {cells: [...]}}, for a stack) and built
into Keras objects in the case's dtype; with return_state the states are compared as further
outputs (output_1, ...), flattened in the cells' order. Every output, the returned states too, is
judged by its error bound (reference_impl.recurrent_cells.error_bound, carried through the time
loop, named as recurrent_layers.by_output names them)."""
from __future__ import annotations

from reference_impl import recurrent_cells as ref

from conformance.ops import params as P
from conformance.ops.recurrent_layers import ARGUMENTS as RECURRENT_ARGUMENTS, RECURRENT_CALL, by_output
from conformance.ops.registry import LayerOp, register

FAMILY = "recurrent"

# `cell`: one serialized cell, or a list of them (a stack)
_CELL = P.ParamType(
    "a cell as {class_name, config}, or a list of them",
    lambda v: P.LAYER_CONFIG.accepts(v) or (isinstance(v, list) and bool(v) and all(P.LAYER_CONFIG.accepts(c) for c in v)),
    {"anyOf": [P.LAYER_CONFIG.schema, {"type": "array", "minItems": 1, "items": P.LAYER_CONFIG.schema}]},
)
_SEQUENCE = {k: RECURRENT_ARGUMENTS["SimpleRNN"][k] for k in (
    "return_sequences", "return_state", "go_backwards", "stateful", "zero_output_for_mask", "unroll",
    "activity_regularizer", "name", "trainable")}
_RNN = {"cell": _CELL, **_SEQUENCE}


def _conv_lstm_arguments(rank: int) -> dict:
    lstm = RECURRENT_ARGUMENTS["LSTM"]
    spatial = {
        "filters": P.POSITIVE_INT, "kernel_size": P.int_or_tuple(rank).at_least(1),
        "strides": P.int_or_tuple(rank).at_least(1).defaults_to(1),
        "padding": P.STRING.one_of("valid", "same", ignore_case=True).defaults_to("valid"),
        "data_format": P.DATA_FORMAT.defaults_to(None),
        "dilation_rate": P.int_or_tuple(rank).at_least(1).defaults_to(1),
    }
    shared = {k: lstm[k] for k in (
        "activation", "recurrent_activation", "use_bias", "unit_forget_bias", "dropout", "recurrent_dropout", "seed",
        "return_sequences", "return_state", "go_backwards", "stateful", "unroll", "activity_regularizer", "name",
        "trainable", *(k for k in lstm if k.endswith(("_initializer", "_regularizer", "_constraint"))))}
    return {**spatial, **shared}


def _strides_without_dilation(rank: int) -> P.Constraint:
    def per_dim(v):
        return tuple(v) if isinstance(v, list) else (v,) * rank

    return P.Constraint(
        ("strides", "dilation_rate"),
        lambda a: not (max(per_dim(a["strides"])) > 1 and max(per_dim(a["dilation_rate"])) > 1),
        "`strides > 1` is incompatible with `dilation_rate > 1`", "ConvLSTM docstring: strides")


def _cells(keras, spec, dtype):
    """The Keras cell object(s) of a serialized `cell` argument, in the case's dtype (a cell built
    beforehand does not take the layer's dtype)."""
    if isinstance(spec, list):
        return [_cells(keras, c, dtype) for c in spec]
    config = dict(spec.get("config") or {})
    if spec["class_name"] == ref.STACK:
        config["cells"] = [_cells(keras, c, dtype) for c in config.get("cells", [])]
    return getattr(keras.layers, spec["class_name"])(**config, dtype=dtype)


def _flat(keras_output):
    """RNN's output with return_state ([output, [states of cell 1], [states of cell 2], ...]
    for a stack), flattened as the reference returns it."""
    if not isinstance(keras_output, (list, tuple)):
        return keras_output
    flat = []
    for item in keras_output:
        flat += _flat(item) if isinstance(item, (list, tuple)) else [item]
    return flat


def _layer(name: str) -> LayerOp:
    function = ref.LAYERS[name]
    is_rnn = name == "RNN"
    rank = None if is_rnn else int(name[-2])
    params = _RNN if is_rnn else _conv_lstm_arguments(rank)
    example_shape = [2, 5, 4] if is_rnn else [2, 3, *(7, 6, 5)[:rank], 2]
    return LayerOp(
        name=name, family=FAMILY, params=params,
        required=("cell",) if is_rnn else ("filters", "kernel_size"),
        constraints=() if is_rnn else (_strides_without_dilation(rank),),
        doc=f"tf.keras.layers.{name}: reference_impl.recurrent_cells.{'rnn' if is_rnn else 'conv_lstm'}",
        keras_class=name,
        predict_weights=lambda params, shape: ref.weight_shapes(name, shape, **params),
        predict_output=lambda params, shape: ref.output_shape(name, shape, **params),
        compute=lambda x, weights, params, call: function({"x": x}, weights, call=call, **params),
        call_params=RECURRENT_CALL,
        check_modelled=lambda params, call: ref.check_modelled(name, params, call),
        keras_params=(lambda keras, params, dtype: {**params, "cell": _cells(keras, params["cell"], dtype)}) if is_rnn else None,
        keras_call=lambda layer, given, call: _flat(layer(given["x"], **call)),
        error_bound=lambda x, weights, params, call, fmt, output=None: by_output(ref.error_bound(
            name, {"x": x}, weights, fmt, call=call, **params)),
        example={"input_shape": example_shape,
                 "params": {"cell": {"class_name": "LSTMCell", "config": {"units": 3}}} if is_rnn
                 else {"filters": 3, "kernel_size": 3}},
    )


register(*(_layer(name) for name in ref.LAYERS))
