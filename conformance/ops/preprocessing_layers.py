"""The numeric preprocessing layers (Rescaling, Resizing, CenterCrop, Normalization with mean and
variance given or adapted, Discretization, CategoryEncoding, IntegerLookup): reference_impl.preprocessing
as thin mappings. Normalization's `adapt: {shape, loc, scale, seed, batches}` is data that
tf.keras's layer.adapt() gets after the layer is built, and the reference's moments come from. The integer layers take a typed integer input (`inputs: {x: {dtype: int32,
range: [...]}}`); CategoryEncoding's count_weights is an input referred to from `call`.
Each layer's error bound is reference_impl.preprocessing.ERROR_BOUNDS's (IntegerLookup: exact)."""
from __future__ import annotations

import numpy as np

from reference_impl import preprocessing as ref

from conformance.ops import bounds
from conformance.ops import params as P
from conformance.ops.registry import LayerOp, register

FAMILY = "preprocessing"
_COMMON = {"name": P.STRING, "trainable": P.BOOL}
def _numbers_up_to_rank_2(v) -> bool:
    def row(r):
        return isinstance(r, list) and bool(r) and all(P.NUMBER.accepts(i) for i in r)
    return P.NUMBER.accepts(v) or row(v) or (isinstance(v, list) and bool(v) and all(row(r) for r in v))


# a number, a list of numbers or a list of such lists: Normalization's mean and variance (the
# kept axes are at most two here), Discretization's boundaries
_NUMBERS = P.ParamType(
    "a number, a list of numbers or a list of lists of numbers", _numbers_up_to_rank_2,
    {"anyOf": [{"type": "number"}, {"type": "array", "minItems": 1, "items": {"type": "number"}},
               {"type": "array", "minItems": 1, "items": {"type": "array", "minItems": 1, "items": {"type": "number"}}}]})
_INTS = P.ParamType("a list of integers", lambda v: isinstance(v, list) and all(P.INT.accepts(i) for i in v),
                    {"type": "array", "items": {"type": "integer"}})
_SIZE = {"height": P.POSITIVE_INT, "width": P.POSITIVE_INT, "data_format": P.DATA_FORMAT.defaults_to(None)}
_ENCODING = P.STRING.one_of(*ref.ENCODINGS)
# Normalization's axis: "Integer, tuple of integers, or None"
_AXIS = P.ParamType("an integer, a list of integers or null",
                    lambda v: v is None or P.INT.accepts(v) or (isinstance(v, list) and all(P.INT.accepts(i) for i in v)),
                    {"anyOf": [{"type": ["integer", "null"]}, {"type": "array", "items": {"type": "integer"}}]})

def _literal(v) -> bool:
    return P.NUMBER.accepts(v) or (isinstance(v, list) and bool(v) and all(_literal(i) for i in v))


def _adapt_spec(v) -> bool:
    if isinstance(v, dict) and "values" in v:  # literal data (IntegerLookup's tokens)
        return set(v) <= {"values", "batch_size"} and isinstance(v["values"], list) and _literal(v["values"]) \
            and (v.get("batch_size") is None or P.POSITIVE_INT.accepts(v["batch_size"]))
    if not isinstance(v, dict) or set(v) - {"shape", "loc", "scale", "seed", "batch_size"}:
        return False
    shape = v.get("shape")
    return (isinstance(shape, list) and bool(shape) and all(P.POSITIVE_INT.accepts(n) for n in shape)
            and P.NUMBER.accepts(v.get("loc", 0.0)) and P.NUMBER.accepts(v.get("scale", 1.0)) and v.get("scale", 1.0) > 0
            and P.INT.accepts(v.get("seed", 0)) and (v.get("batch_size") is None or P.POSITIVE_INT.accepts(v["batch_size"])))


_ADAPT = P.ParamType(
    "adapt's data: {shape: [n, ...], loc, scale, seed} (normal draws) or {values: [...]} (as written), with "
    "batch_size: a tf.data.Dataset of such batches, or null: one array",
    _adapt_spec,
    {"type": "object", "additionalProperties": False,
     "oneOf": [{"required": ["shape"]}, {"required": ["values"]}],
     "properties": {"shape": {"type": "array", "items": {"type": "integer", "minimum": 1}}, "loc": {"type": "number"},
                    "scale": {"type": "number", "exclusiveMinimum": 0}, "seed": {"type": "integer"},
                    "values": {"type": "array"}, "batch_size": {"type": ["integer", "null"], "minimum": 1}}})
# adapt's draws are multiples of 2^-10 (magnitudes below 2^12 here): exact in float32, so tf.keras,
# whatever the layer's dtype, and the reference see the same numbers
_ADAPT_GRID = 2.0 ** -10


def adapt_data(spec: dict) -> np.ndarray:
    """The data of a case's `adapt:`: its `values` as written (integers stay integers), else
    normal(loc, scale) of `shape` from `seed`, on the 2^-10 grid."""
    if "values" in spec:
        return np.asarray(spec["values"])
    rng = np.random.default_rng([int(spec.get("seed", 0)), 7])
    return np.round(rng.normal(spec.get("loc", 0.0), spec.get("scale", 1.0), size=tuple(spec["shape"])) / _ADAPT_GRID) * _ADAPT_GRID


def _adapt_request(params: dict) -> dict | None:
    """What the target's layer.adapt() gets: {"data", "batch_size"}: with a batch size, the data as a
    tf.data.Dataset of such batches (documented by Keras 3 and Keras 2 alike), else the array."""
    spec = params.get("adapt")
    return {"data": adapt_data(spec), "batch_size": spec.get("batch_size")} if spec else None


# layer -> (typed arguments, required, example)
ARGUMENTS = {
    "Rescaling": ({"scale": P.NUMBER, "offset": P.NUMBER.defaults_to(0.0)}, ("scale",),
                  {"input_shape": [2, 4, 5, 3], "params": {"scale": 0.5, "offset": -1.0}}),
    "Resizing": ({**_SIZE, "interpolation": P.STRING.one_of(*ref.INTERPOLATIONS).defaults_to("bilinear"),
                  "crop_to_aspect_ratio": P.BOOL.defaults_to(False), "pad_to_aspect_ratio": P.BOOL.defaults_to(False),
                  "fill_mode": P.STRING.one_of("constant").defaults_to("constant"),
                  "fill_value": P.NUMBER.defaults_to(0.0), "antialias": P.BOOL.defaults_to(False)},
                 ("height", "width"), {"input_shape": [2, 5, 7, 3], "params": {"height": 3, "width": 4}}),
    "CenterCrop": (_SIZE, ("height", "width"), {"input_shape": [2, 6, 7, 3], "params": {"height": 3, "width": 4}}),
    "Normalization": ({"axis": _AXIS.defaults_to(-1), "mean": _NUMBERS,
                       "variance": _NUMBERS.at_least(0, exclusive=True), "invert": P.BOOL.defaults_to(False),
                       "adapt": _ADAPT},
                      (), {"input_shape": [4, 3], "params": {"mean": [0.5, 1.0, -1.0], "variance": [1.0, 2.0, 0.5]}}),
    "Discretization": ({"bin_boundaries": _NUMBERS, "output_mode": P.STRING.one_of("int", *ref.ENCODINGS).defaults_to("int")},
                       ("bin_boundaries",), {"input_shape": [3, 5], "params": {"bin_boundaries": [0.0, 1.0, 2.0]}}),
    "CategoryEncoding": ({"num_tokens": P.POSITIVE_INT, "output_mode": _ENCODING.defaults_to("multi_hot")}, ("num_tokens",),
                         {"inputs": {"x": {"shape": [4, 3], "dtype": "int32", "range": [0, 6]}},
                          "params": {"num_tokens": 6, "output_mode": "count"}}),
    "IntegerLookup": ({"vocabulary": _INTS, "oov_method": P.STRING.one_of("floormod", "farmhash").defaults_to("floormod"), "num_oov_indices": P.INT.at_least(0).defaults_to(1),
                       "mask_token": P.optional(P.INT).defaults_to(None), "oov_token": P.INT.defaults_to(-1),
                       "invert": P.BOOL.defaults_to(False),
                       "output_mode": P.STRING.one_of("int", *ref.ENCODINGS).defaults_to("int"), "adapt": _ADAPT},
                      (), {"inputs": {"x": {"shape": [3, 4], "dtype": "int32", "range": [0, 8]}},
                                        "params": {"vocabulary": [3, 5, 7, 1]}}),
}
_CALL = {
    "CategoryEncoding": {"count_weights": P.ParamType("an input reference ($name)", lambda v: isinstance(v, str) or v is None,
                                                      {"type": ["string", "null"]})},
}


def _with_adapt_data(params: dict) -> dict:
    """`adapt:` as the data adapt() gets: the array, or the list of its batches where the case gives
    a batch size. The reference concatenates them (the same moments, the same vocabulary); the
    error bound counts the batches (each one's combination with the moments so far rounds too)."""
    spec = params.get("adapt")
    if not spec:
        return params
    data, size = adapt_data(spec), spec.get("batch_size")
    return {**params, "adapt": [data[i:i + size] for i in range(0, len(data), size)] if size else data}


def _error_bound(name: str):
    """The layer's bound (reference_impl.preprocessing.ERROR_BOUNDS) on the arguments the
    reference takes; IntegerLookup maps integers to integers: exact."""
    if name not in ref.ERROR_BOUNDS:
        return bounds.EXACT
    function = ref.ERROR_BOUNDS[name]

    def bound(x, weights, params, call, fmt, output=None):
        return function(x, fmt, **_with_adapt_data(params), **{k: v for k, v in (call or {}).items() if k in _CALL.get(name, {})})

    return bound


def _layer(name: str) -> LayerOp:
    function = ref.LAYERS[name]
    types, required, example = ARGUMENTS[name]
    adapts = "adapt" in types
    return LayerOp(
        name=name, family=FAMILY, params={**types, **_COMMON}, required=required,
        doc=f"tf.keras.layers.{name}: reference_impl.preprocessing.{function.__name__}",
        keras_class=name,
        predict_weights=lambda params, shape: ref.weight_shapes(name, shape, **_with_adapt_data(params)),
        predict_output=lambda params, shape: ref.output_shape(name, shape, **_with_adapt_data(params)),
        compute=lambda x, weights, params, call: function(x, **_with_adapt_data(params),
                                                           **{k: v for k, v in (call or {}).items() if k in _CALL.get(name, {})}),
        call_params=_CALL.get(name, {}),
        keras_params=(lambda keras, params, dtype: {k: v for k, v in params.items() if k != "adapt"}) if adapts else None,
        adapt=_adapt_request if adapts else None,
        error_bound=_error_bound(name),
        example=example,
    )


register(*(_layer(name) for name in ref.LAYERS))
