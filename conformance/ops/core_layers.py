"""Core, reshaping and merging layers: each entry of the reference modules' LAYERS as a
thin mapping. Their arguments are those of the reference's ARGUMENTS tables (the Keras
constructor arguments with their defaults, and the ones accepted and ignored), typed here by
name; the reference still judges what needs the input's shape (cropping against the input
length, a permutation of the input's axes)."""
from __future__ import annotations

import numpy as np

from reference_impl import core, merging, preprocessing, reshaping

from conformance.ops import bounds
from conformance.ops import params as P
from conformance.ops.registry import LayerOp, register

# EinsumDense's output_shape: "Int or tuple of ints ... None for a dimension inferred"
_EINSUM_OUTPUT_SHAPE = P.ParamType(
    "an integer or a list of integers or nulls",
    lambda v: P.INT.accepts(v) or (isinstance(v, list) and bool(v) and all(i is None or P.INT.accepts(i) for i in v)),
    {"anyOf": [{"type": "integer"}, {"type": "array", "minItems": 1, "items": {"type": ["integer", "null"]}}]},
).at_least(0)
# argument name -> its type (a function of the layer's spatial rank where the form depends on it)
_TYPES = {
    "units": P.POSITIVE_INT, "activation": P.ACTIVATION, "use_bias": P.BOOL,
    "lora_rank": P.optional(P.POSITIVE_INT), "lora_alpha": P.optional(P.INT),
    "equation": P.STRING, "output_shape": _EINSUM_OUTPUT_SHAPE, "bias_axes": P.OPTIONAL_STRING,
    "input_dim": P.POSITIVE_INT, "output_dim": P.POSITIVE_INT, "mask_zero": P.BOOL,
    "data_format": P.DATA_FORMAT,
    "target_shape": P.int_list().at_least(-1),  # -1 (at most once): inferred
    "dims": P.int_list().at_least(1),  # 1-based, the batch axis excluded
    "n": P.POSITIVE_INT,
    "cropping": lambda r: P.amounts(r).at_least(0),
    "padding": lambda r: P.amounts(r).at_least(0),
    "size": lambda r: (P.POSITIVE_INT if r == 1 else P.int_or_tuple(r).at_least(1)),
    "interpolation": P.STRING.one_of(*reshaping.INTERPOLATIONS),
    "axis": P.INT, "axes": P.int_or_tuple(2), "normalize": P.BOOL,
    # accepted and ignored: they do not change the values
    "name": P.STRING, "trainable": P.BOOL, "weights": P.ANY,
}


def _argument_types(module, layer: str) -> tuple[dict, tuple]:
    """(typed arguments with their defaults, required arguments) of `layer` from the
    reference's table: the Keras arguments, then those accepted and ignored."""
    defaults, ignored = module.ARGUMENTS[layer]
    rank = int(layer[-2]) if layer[-2:] in ("1D", "2D", "3D") else None

    def type_of(name):
        if name.endswith(("_initializer", "_regularizer", "_constraint")):
            return P.KERAS_OBJECT
        kind = _TYPES[name]
        return kind(rank) if callable(kind) else kind

    types = {name: type_of(name) for name in [*defaults, *sorted(ignored)]}
    required = tuple(n for n, d in defaults.items() if d is core.REQUIRED)
    return P.with_defaults(types, defaults), required


# valid starting points for `conformance new`
_EXAMPLES = {
    "Dense": ([2, 5], {"units": 3}),
    "EinsumDense": ([2, 5], {"equation": "ab,bc->ac", "output_shape": [4]}),
    "Identity": ([2, 5], {}),
    "Flatten": ([2, 4, 6, 3], {}),
    "Reshape": ([2, 4, 6, 3], {"target_shape": [-1, 3]}),
    "Permute": ([2, 4, 6, 3], {"dims": [3, 1, 2]}),
    "RepeatVector": ([2, 5], {"n": 3}),
    "Cropping1D": ([2, 6, 3], {"cropping": 1}),
    "Cropping2D": ([2, 6, 5, 3], {"cropping": 1}),
    "Cropping3D": ([2, 4, 5, 6, 3], {"cropping": 1}),
    "ZeroPadding1D": ([2, 6, 3], {"padding": 1}),
    "ZeroPadding2D": ([2, 6, 5, 3], {"padding": 1}),
    "ZeroPadding3D": ([2, 4, 5, 6, 3], {"padding": 1}),
    "UpSampling1D": ([2, 6, 3], {"size": 2}),
    "UpSampling2D": ([2, 6, 5, 3], {"size": 2}),
    "UpSampling3D": ([2, 4, 5, 6, 3], {"size": 2}),
}


def _dense_length(weights, params, x):
    """Dense: d_in products and the bias; with LoRA the kernel's delta A @ B (rank r products,
    one scaling, one addition) first."""
    rank = params.get("lora_rank") or 0
    return np.shape(weights["kernel"])[0] + 1 + (rank + 2 if rank else 0)


def _counted_length(compute):
    """The products summed into one output, counted by the reference itself: the layer on
    all-ones inputs and weights with a zero bias (EinsumDense, Dot), plus the bias."""
    def length(weights, params, x):
        ones = {k: (np.zeros_like(v) if k == "bias" else np.ones_like(v)) for k, v in weights.items()}
        x1 = {k: np.ones_like(v) for k, v in x.items()} if isinstance(x, dict) else np.ones_like(x)
        return int(np.max(compute(x1, ones, params, {}), initial=1)) + 1
    return length


def _reshaping_bound(name):
    """Every reshaping layer moves elements; UpSampling2D's other interpolations compute new ones,
    as tf.image.resize to size times the input with antialias off: Resizing's bound
    (reference_impl.preprocessing.resize_error_bound)."""
    def bound(x, weights, params, call, fmt, output=None):
        interpolation = params.get("interpolation", "nearest")
        if interpolation == "nearest":
            return bounds.EXACT(x, weights, params, call, fmt, output)
        size = params.get("size", 2)
        rows, cols = (size, size) if isinstance(size, int) else size
        first = params.get("data_format") == "channels_first"
        image = np.moveaxis(np.asarray(x, dtype=np.float64), 1, -1) if first else np.asarray(x, dtype=np.float64)
        resized = preprocessing.resize_error_bound(image, image.shape[1] * rows, image.shape[2] * cols, interpolation, False, fmt)
        return None if resized is None else (np.moveaxis(resized, -1, 1) if first else resized)
    return bound


def _merging_bound(name):
    """Add (n - 1 roundings), Subtract (1), Average (n: the sum and the division), Multiply
    (n - 1 products), Dot (its products, without normalize); Maximum, Minimum, Concatenate select."""
    if name in ("Maximum", "Minimum", "Concatenate"):
        return bounds.EXACT
    compute = lambda inputs, weights, params, call: merging.LAYERS[name](list(inputs.values()), weights, **params)  # noqa: E731
    if name == "Dot":
        counted = bounds.sum_of_products(_counted_length(compute), compute_output=compute, activation_key=None)
        return lambda x, w, params, call, fmt, output=None: None if params.get("normalize") else counted(x, w, params, call, fmt)
    roundings = {"Add": lambda n: n - 1, "Subtract": lambda n: 1, "Average": lambda n: n, "Multiply": lambda n: n - 1}[name]
    # a - b: its magnitude is |a| + |b|, not |a| - |b|
    magnitude = (lambda inputs, weights, params, call: sum(inputs.values())) if name == "Subtract" else None
    return bounds.sum_of_products(lambda w, params, x: max(roundings(len(x)), 1), compute_output=compute, activation_key=None,
                                  magnitude_output=magnitude)


_BOUNDS = {
    "Dense": lambda: bounds.sum_of_products(_dense_length, compute_output=lambda x, w, params, call: core.dense(x, w, **params)),
    "EinsumDense": lambda: bounds.sum_of_products(
        _counted_length(lambda x, w, params, call: core.einsum_dense(x, w, **{**params, "activation": None})),
        compute_output=lambda x, w, params, call: core.einsum_dense(x, w, **params)),
    "Identity": lambda: bounds.EXACT,
}


def _embedding_bound(x, weights, params, call, fmt, output=None):
    """A lookup selects rows: exact; with LoRA the table is W + (alpha / r) A @ B first (r
    products, a scaling and an addition per entry)."""
    rank = params.get("lora_rank")
    if not rank:
        return bounds.EXACT(x, weights, params, call, fmt, output)
    table = bounds.sum_of_products(lambda w, p, x: rank + 2,
                                   compute_output=lambda x, w, p, c: core.LAYERS["Embedding"](x, w, **p), activation_key=None)
    return table(x, weights, params, call, fmt)


def _single_input(module, name: str, family: str, **extra) -> LayerOp:
    function = module.LAYERS[name]
    types, required = _argument_types(module, name)
    bound = _BOUNDS[name]() if name in _BOUNDS else _reshaping_bound(name) if module is reshaping else None
    return LayerOp(
        name=name,
        family=family,
        params=types,
        required=required,
        doc=f"tf.keras.layers.{name}: reference_impl.{module.__name__.split('.')[-1]}.{function.__name__}",
        keras_class=name,
        predict_weights=lambda params, shape: module.weight_shapes(name, shape, **params),
        predict_output=lambda params, shape: module.output_shape(name, shape, **params),
        compute=lambda x, weights, params, call: function(x, weights, **params),
        error_bound=bound,
        **extra,
    )


def _merging(name: str) -> LayerOp:
    """Several inputs, in the case's order, passed to tf.keras as a list."""
    function = merging.LAYERS[name]
    types, required = _argument_types(merging, name)
    return LayerOp(
        name=name,
        family="merging",
        params=types,
        required=required,
        doc=f"tf.keras.layers.{name}: reference_impl.merging.{function.__name__}",
        keras_class=name,
        input_names=None,
        required_inputs=(),
        predict_weights=lambda params, shapes: merging.weight_shapes(name, list(shapes.values()), **params),
        predict_output=lambda params, shapes: merging.output_shape(name, list(shapes.values()), **params),
        compute=lambda inputs, weights, params, call: function(list(inputs.values()), weights, **params),
        keras_call=lambda layer, given, call: layer(list(given.values()), **call),
        error_bound=_merging_bound(name),
        example={"inputs": {"a": {"shape": [2, 5]}, "b": {"shape": [2, 5]}}, "params": {"axes": 1} if name == "Dot" else {}},
    )


def _embedding_with_mask(x, weights, params, call):
    """Embedding's output and, when mask_zero, the mask it produces (compared too)."""
    output = core.LAYERS["Embedding"](x, weights, **params)
    mask = core.embedding_mask(x, params.get("mask_zero", False))
    return output if mask is None else (output, mask.astype(float))


def _keras_embedding(layer, given, call):
    output = layer(given["x"], **call)
    mask = layer.compute_mask(given["x"])
    return output if mask is None else (output, mask)


register(
    *(_single_input(core, name, "core", example={"input_shape": _EXAMPLES[name][0], "params": _EXAMPLES[name][1]})
      for name in core.LAYERS if name != "Embedding"),
    LayerOp(
        name="Embedding", family="core", params=_argument_types(core, "Embedding")[0],
        required=_argument_types(core, "Embedding")[1],
        doc="tf.keras.layers.Embedding: reference_impl.core.embedding, and the mask of mask_zero",
        keras_class="Embedding",
        predict_weights=lambda params, shape: core.weight_shapes("Embedding", shape, **params),
        predict_output=lambda params, shape: core.output_shape("Embedding", shape, **params),
        compute=_embedding_with_mask,
        error_bound=_embedding_bound,
        keras_call=_keras_embedding,
        example={"inputs": {"x": {"shape": [2, 6], "dtype": "int32", "range": [0, 10]}}, "params": {"input_dim": 10, "output_dim": 4}},
    ),
    *(_single_input(reshaping, name, "reshaping", example={"input_shape": _EXAMPLES[name][0], "params": _EXAMPLES[name][1]})
      for name in reshaping.LAYERS),
    *(_merging(name) for name in merging.LAYERS),
)
