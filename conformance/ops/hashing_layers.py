"""Hashing and HashedCrossing: reference_impl.hashing as thin mappings.

Their inputs are integers (`inputs: {x: {dtype: int64, values: [...]}}`; HashedCrossing takes
two features, `feat1` and `feat2`, called as the tuple (feat1, feat2)). The catalogue's inputs
are numbers only, so string inputs come through the call argument `strings`, which is the
harness's and not the layer's: `call: {strings: {x: [A, B, ...]}}` calls the layer on the
strings the integer input indexes (tf.gather of the list by x, the same table the reference
reads), for each input it names."""
from __future__ import annotations

import sys

from reference_impl import hashing as ref

from conformance.ops import bounds
from conformance.ops import params as P
from conformance.ops.registry import LayerOp, register

FAMILY = "preprocessing"
_COMMON = {"name": P.STRING, "trainable": P.BOOL}
_UINT64 = P.INT.between(0, 2 ** 64 - 1)
# "A single unsigned integer or None ... It also supports tuple/list of 2 unsigned integer numbers"
_SALT = P.ParamType(
    "an unsigned 64-bit integer, a list of two, or null",
    lambda v: v is None or _UINT64.structure(v) or (isinstance(v, list) and len(v) == 2 and all(_UINT64.structure(i) for i in v)),
    {"anyOf": [{"type": ["integer", "null"]}, {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 2}]},
    minimum=0, maximum=2 ** 64 - 1)
# "A value that represents masked inputs": an integer for integer inputs, a string for strings
_MASK_VALUE = P.ParamType("an integer, a string or null", lambda v: v is None or P.INT.structure(v) or isinstance(v, str),
                          {"type": ["integer", "string", "null"]})


def _string_table(v) -> bool:
    return (isinstance(v, dict) and bool(v) and all(isinstance(k, str) for k in v)
            and all(isinstance(s, list) and bool(s) and all(isinstance(t, str) and "\x00" not in t for t in s)
                    for s in v.values()))


# The harness's own call argument (module docstring): input name -> the strings it indexes
_STRINGS = P.ParamType(
    "{input name: [strings]}: that integer input indexes the strings, the layer gets the strings (no NUL)",
    lambda v: v is None or _string_table(v),
    {"anyOf": [{"type": "null"},
               {"type": "object", "minProperties": 1,
                "additionalProperties": {"type": "array", "minItems": 1,
                                         "items": {"type": "string", "pattern": "^[^\\u0000]*$"}}}]})
_CALL = {"strings": _STRINGS}

ARGUMENTS = {
    "Hashing": ({"num_bins": P.POSITIVE_INT, "mask_value": _MASK_VALUE.defaults_to(None), "salt": _SALT.defaults_to(None),
                 "output_mode": P.STRING.one_of(*ref.OUTPUT_MODES).defaults_to("int"), "sparse": P.BOOL.defaults_to(False)},
                ("num_bins",), ("x",),
                {"inputs": {"x": {"shape": [4, 3], "dtype": "int64", "range": [-50, 50]}},
                 "params": {"num_bins": 7, "output_mode": "count"}}),
    "HashedCrossing": ({"num_bins": P.POSITIVE_INT, "output_mode": P.STRING.one_of(*ref.CROSSING_OUTPUT_MODES).defaults_to("int"),
                        "sparse": P.BOOL.defaults_to(False)},
                       ("num_bins",), ("feat1", "feat2"),
                       {"inputs": {"feat1": {"shape": [5], "dtype": "int32", "range": [0, 4]},
                                   "feat2": {"shape": [5], "dtype": "int32", "range": [100, 104]}},
                        "params": {"num_bins": 1, "output_mode": "one_hot"}}),
}
_DOC = {
    "Hashing": "integer inputs (their decimal text hashed) or, with `call: {strings: {x: [...]}}`, strings",
    "HashedCrossing": "two features feat1, feat2, called as the tuple (feat1, feat2); the hash is undocumented, so "
                      "num_bins is 1 or the docstring's example (5, with `call: {strings: {feat1: [A, B]}}`)",
}


def _strings(call) -> dict:
    return (call or {}).get("strings") or {}


def _keras_call(names):
    def call_layer(layer, given, call):
        """The layer on its inputs (each named in `strings` as the strings it indexes), as a
        tensor for one input, as a tuple for several."""
        # the TensorFlow the target has loaded, borrowed: an ops module never imports a framework
        tf = sys.modules["tensorflow"]
        table = _strings(call)
        rest = {k: v for k, v in call.items() if k != "strings"}
        inputs = [tf.gather(tf.constant(table[n]), given[n]) if n in table else given[n] for n in names]
        return layer(inputs[0] if len(names) == 1 else tuple(inputs), **rest)

    return call_layer


def _compute(name):
    function = ref.LAYERS[name]

    def compute(x, weights, params, call):
        strings = _strings(call)
        if name == "Hashing":
            return function(x, **params, strings=strings.get("x"))
        return function(x, **params, strings=strings)

    return compute


def _output_shape(name, params, shapes):
    if name == "HashedCrossing":
        return ref.output_shape(name, [shapes[n] for n in ("feat1", "feat2")], **params)
    return ref.output_shape(name, shapes, **params)


def _layer(name: str) -> LayerOp:
    types, required, inputs, example = ARGUMENTS[name]
    return LayerOp(
        name=name, family=FAMILY, params={**types, **_COMMON}, required=required,
        doc=f"tf.keras.layers.{name}: reference_impl.hashing.{ref.LAYERS[name].__name__}; {_DOC[name]}",
        keras_class=name,
        input_names=inputs, required_inputs=inputs,
        predict_weights=lambda params, shapes: {},  # no weights
        predict_output=lambda params, shapes: _output_shape(name, params, shapes),
        compute=_compute(name),
        call_params=_CALL,
        keras_call=_keras_call(inputs),
        check_modelled=lambda params, call: ref.check_modelled(name, params, call),
        no_gradients="integer (or string) inputs and no weights: nothing to differentiate",
        # bins, counts and indicators of integer hashes: exact
        error_bound=bounds.EXACT,
        example=example,
    )


register(*(_layer(name) for name in ref.LAYERS))
