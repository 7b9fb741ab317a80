"""Core, reshaping and merging layers: each entry of the reference modules' LAYERS as a
thin mapping. Their arguments are checked by the reference itself (an unknown argument is a
TypeError there, reported as a catalogue error naming it)."""
from __future__ import annotations

from reference_impl import core, merging, reshaping

from conformance.ops.registry import LayerOp, register


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


def _single_input(module, name: str, family: str, **extra) -> LayerOp:
    function = module.LAYERS[name]
    return LayerOp(
        name=name,
        family=family,
        params={},
        open_params=True,
        doc=f"tf.keras.layers.{name}: reference_impl.{module.__name__.split('.')[-1]}.{function.__name__}",
        keras_class=name,
        predict_weights=lambda params, shape: module.weight_shapes(name, shape, **params),
        predict_output=lambda params, shape: module.output_shape(name, shape, **params),
        compute=lambda x, weights, params, call: function(x, weights, **params),
        **extra,
    )


def _merging(name: str) -> LayerOp:
    """Several inputs, in the case's order, passed to tf.keras as a list."""
    function = merging.LAYERS[name]
    return LayerOp(
        name=name,
        family="merging",
        params={},
        open_params=True,
        doc=f"tf.keras.layers.{name}: reference_impl.merging.{function.__name__}",
        keras_class=name,
        input_names=None,
        required_inputs=(),
        predict_weights=lambda params, shapes: merging.weight_shapes(name, list(shapes.values()), **params),
        predict_output=lambda params, shapes: merging.output_shape(name, list(shapes.values()), **params),
        compute=lambda inputs, weights, params, call: function(list(inputs.values()), weights, **params),
        keras_call=lambda layer, given, call: layer(list(given.values()), **call),
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
        name="Embedding", family="core", params={}, open_params=True,
        doc="tf.keras.layers.Embedding: reference_impl.core.embedding, and the mask of mask_zero",
        keras_class="Embedding",
        predict_weights=lambda params, shape: core.weight_shapes("Embedding", shape, **params),
        predict_output=lambda params, shape: core.output_shape("Embedding", shape, **params),
        compute=_embedding_with_mask,
        keras_call=_keras_embedding,
        example={"inputs": {"x": {"shape": [2, 6], "dtype": "int32", "range": [0, 10]}}, "params": {"input_dim": 10, "output_dim": 4}},
    ),
    *(_single_input(reshaping, name, "reshaping", example={"input_shape": _EXAMPLES[name][0], "params": _EXAMPLES[name][1]})
      for name in reshaping.LAYERS),
    *(_merging(name) for name in merging.LAYERS),
)
