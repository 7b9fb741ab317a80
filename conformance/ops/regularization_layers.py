"""Dropout and the other noise layers: exact identity at inference, and in training a
statistical check of what the documentation fixes (conformance.checks.random_layers)."""
from __future__ import annotations

from reference_impl import regularization_layers as ref

from conformance.ops import params as P
from conformance.ops.registry import LayerOp, register

FAMILY = "regularization layers"


def _noise_layer(keras_class: str, types: dict, check: str) -> LayerOp:
    return LayerOp(
        name=keras_class,
        family=FAMILY,
        params={**types, "seed": P.optional(P.INT)},
        required=tuple(n for n in ("rate", "stddev") if n in types),
        doc=f"tf.keras.layers.{keras_class}: identity at inference; in training, the '{check}' check",
        keras_class=keras_class,
        predict_weights=lambda params, shape: {},
        predict_output=lambda params, shape: tuple(shape),
        compute=lambda x, weights, params, call: ref.identity(x),
        call_params={"training": P.BOOL},
        stochastic=check,
        example={"input_shape": [8, 64, 32], "params": {"rate": 0.3} if "rate" in types else {"stddev": 0.5},
                 "call": {"training": True}},
    )


register(
    _noise_layer("Dropout", {"rate": P.NUMBER, "noise_shape": P.optional(P.ParamType("a list of integers or nulls", lambda v: isinstance(v, list)))}, "dropout"),
    _noise_layer("SpatialDropout1D", {"rate": P.NUMBER}, "dropout"),
    _noise_layer("SpatialDropout2D", {"rate": P.NUMBER, "data_format": P.OPTIONAL_STRING}, "dropout"),
    _noise_layer("SpatialDropout3D", {"rate": P.NUMBER, "data_format": P.OPTIONAL_STRING}, "dropout"),
    _noise_layer("GaussianNoise", {"stddev": P.NUMBER}, "gaussian_noise"),
    _noise_layer("GaussianDropout", {"rate": P.NUMBER}, "gaussian_dropout"),
    _noise_layer("AlphaDropout", {"rate": P.NUMBER, "noise_shape": P.optional(P.ParamType("a list of integers or nulls", lambda v: isinstance(v, list)))}, "alpha_dropout"),
)
