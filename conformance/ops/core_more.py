"""Masking, ActivityRegularization, Lambda and ReversibleEmbedding (reference_impl.core_more), and
SpectralNormalization (reference_impl.spectral_normalization), as thin mappings. Masking's mask,
ReversibleEmbedding's mask (mask_zero) and ActivityRegularization's loss are compared as a
further output (output_1), read inside the same call as the output, as a user's train step
reads them."""
from __future__ import annotations

import numpy as np

from reference_impl import core_more as ref
from reference_impl import spectral_normalization as spectral

from conformance.ops import bounds
from conformance.ops import params as P
from conformance.ops.registry import LayerOp, register

FAMILY = "core"
_COMMON = {"name": P.STRING, "trainable": P.BOOL}


def _masking(x, weights, params, call):
    return ref.masking(x, **params), ref.masking_mask(x, params.get("mask_value", 0.0)).astype(float)


def _keras_masking(layer, given, call):
    return layer(given["x"], **call), layer.compute_mask(given["x"])


def _activity_regularization(x, weights, params, call):
    return ref.activity_regularization(x, **params), ref.activity_penalty(x, params.get("l1", 0.0), params.get("l2", 0.0))


def _keras_activity_regularization(layer, given, call):
    output = layer(given["x"], **call)
    return output, sum(layer.losses)


def _keras_lambda(keras, params: dict, dtype: str) -> dict:
    """The named function of reference_impl.core_more.FUNCTIONS (Python operators, so the same
    expression runs on tensors)."""
    return {**params, "function": ref.FUNCTIONS[params["function"]]}


def _reversible_embedding(x, weights, params, call):
    reverse = (call or {}).get("reverse", False)
    output = ref.reversible_embedding(x, weights, reverse=reverse, **params)
    if reverse or not params.get("mask_zero", False):
        return output
    return output, (np.asarray(x) != 0).astype(float)  # Embedding's mask: ids != 0


def _keras_reversible_embedding(layer, given, call):
    """The output, and with mask_zero its mask: ReversibleEmbedding masks "directly in call" (the
    mask rides on the output; its compute_mask returns None)."""
    output = layer(given["x"], **call)
    if call.get("reverse") or not layer.mask_zero:
        return output
    return output, getattr(output, "_keras_mask", None)


def _keras_spectral_normalization(keras, params: dict, dtype: str) -> dict:
    """The wrapped layer as an object, built from {class_name, config} in the case's dtype."""
    spec = params["layer"]
    return {**params, "layer": getattr(keras.layers, spec["class_name"])(**spec.get("config", {}), dtype=dtype)}


def _reversible_embedding_bound(x, weights, params, call, fmt, output=None):
    return ref.reversible_embedding_error_bound(x, weights, fmt, reverse=(call or {}).get("reverse", False), **params)


@bounds.with_history
def _spectral_normalization_bound(x, weights, params, call, fmt, output=None, history=None):
    """The output's bound, and with the calls' history the stored weight's and vector_u's after
    them (a weight under a name of the wrapped layer's own is not among the compared state)."""
    bound = spectral.error_bound(x, weights, fmt, call=call, history=history, **params)
    if not isinstance(bound, dict):
        return bound
    compared = {"output", *spectral.state_names()}
    return {name: b for name, b in bound.items() if name in compared}


def _layer(name, params, compute, keras_call=None, keras_params=None, required=(), example_params=None, error_bound=None):
    return LayerOp(
        name=name, family=FAMILY, params={**params, **_COMMON}, required=required,
        doc=f"tf.keras.layers.{name}: reference_impl.core_more.{ref.LAYERS[name].__name__}",
        keras_class=name,
        predict_weights=lambda p, shape: ref.weight_shapes(name, shape, **p),
        predict_output=lambda p, shape: ref.output_shape(name, shape, **p),
        compute=compute, keras_call=keras_call, keras_params=keras_params, error_bound=error_bound,
        example={"input_shape": [2, 5, 3], "params": example_params or {}},
    )


register(
    # Masking keeps or zeroes each step: exact
    _layer("Masking", {"mask_value": P.NUMBER.defaults_to(0.0)}, _masking, _keras_masking, error_bound=bounds.EXACT),
    # "l1: L1 regularization factor (positive float)"
    _layer("ActivityRegularization", {"l1": P.NUMBER.at_least(0).defaults_to(0.0), "l2": P.NUMBER.at_least(0).defaults_to(0.0)},
           _activity_regularization, _keras_activity_regularization, example_params={"l1": 0.01},
           error_bound=bounds.EXACT),  # the output is the input (its loss, output_1, is judged by the tolerance)
    # Lambda has no bound: its function is the user's code, whose formula and rounding the
    # layer documents nothing of (the catalogue's FUNCTIONS stand in for it); the flat tolerance judges
    _layer("Lambda", {"function": P.STRING.one_of(*ref.FUNCTIONS),
                      "arguments": P.ParamType("a mapping of keyword arguments or null",
                                               lambda v: v is None or isinstance(v, dict),
                                               {"type": ["object", "null"]}).defaults_to(None)},
           lambda x, weights, params, call: ref.lambda_layer(x, **params), keras_params=_keras_lambda,
           required=("function",), example_params={"function": "square"}),
    LayerOp(
        name="ReversibleEmbedding", family=FAMILY,
        params={"input_dim": P.POSITIVE_INT, "output_dim": P.POSITIVE_INT, "tie_weights": P.BOOL.defaults_to(True),
                "mask_zero": P.BOOL.defaults_to(False), "logit_soft_cap": P.optional(P.NUMBER.at_least(0, exclusive=True)).defaults_to(None),
                "embeddings_initializer": P.KERAS_OBJECT, "embeddings_regularizer": P.KERAS_OBJECT,
                "embeddings_constraint": P.KERAS_OBJECT, **_COMMON},
        required=("input_dim", "output_dim"),
        doc="tf.keras.layers.ReversibleEmbedding: reference_impl.core_more.reversible_embedding",
        keras_class="ReversibleEmbedding",
        predict_weights=lambda p, shape: ref.weight_shapes("ReversibleEmbedding", shape, **p),
        predict_output=lambda p, shape: ref.output_shape("ReversibleEmbedding", shape, **p),
        compute=_reversible_embedding, keras_call=_keras_reversible_embedding,
        error_bound=_reversible_embedding_bound,
        call_params={"reverse": P.BOOL},
        example={"inputs": {"x": {"shape": [2, 6], "dtype": "int32", "range": [0, 10]}}, "params": {"input_dim": 10, "output_dim": 4}},
    ),
    LayerOp(
        name="SpectralNormalization", family=FAMILY,
        params={"layer": P.LAYER_CONFIG, "power_iterations": P.POSITIVE_INT.defaults_to(1), **_COMMON},
        required=("layer",),
        doc="tf.keras.layers.SpectralNormalization: reference_impl.spectral_normalization",
        keras_class="SpectralNormalization",
        predict_weights=lambda p, shape: spectral.weight_shapes(shape, **p),
        predict_output=lambda p, shape: spectral.output_shape(shape, **p),
        compute=lambda x, weights, p, call: spectral.spectral_normalization(x, weights, call=call, **p),
        update_state=spectral.update_state, state=spectral.state_names(),
        keras_params=_keras_spectral_normalization,
        error_bound=_spectral_normalization_bound,
        call_params={"training": P.BOOL},
        example={"input_shape": [2, 5], "params": {"layer": {"class_name": "Dense", "config": {"units": 3}}}},
    ),
)
