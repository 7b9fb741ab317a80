"""Dropout and the other noise layers: exact identity at inference, and in training a
statistical check of what the documentation fixes (conformance.checks.random_layers).
Their arguments are checked by the reference's shape rules (reference_impl.regularization_layers:
rate in [0, 1], noise_shape, stddev, data_format), so `conformance validate` refuses what the
documentation rejects unless the case expects the error."""
from __future__ import annotations

from reference_impl import regularization_layers as ref

from conformance.ops import bounds
from conformance.ops import params as P
from conformance.ops.registry import LayerOp, register

FAMILY = "regularization layers"
# the spatial variants take inputs of rank 3, 4 and 5 ("Input shape: 3D tensor", ...)
_EXAMPLE_SHAPES = {"SpatialDropout2D": [8, 16, 16, 32], "SpatialDropout3D": [4, 8, 8, 8, 16]}

# Any value: the reference's noise_shape_argument says what is accepted (a string, a number or
# a non-positive entry is the documented rejection a case may expect, as Keras's own tests do).
NOISE_SHAPE = P.ParamType("a list of positive integers or nulls (other values: the reference rejects them)", lambda v: True, {})


def _noise_layer(keras_class: str, types: dict, check: str) -> LayerOp:
    return LayerOp(
        name=keras_class,
        family=FAMILY,
        params={**P.with_defaults(types, ref.ARGUMENTS[keras_class][0]), "seed": P.optional(P.INT).defaults_to(None)},
        required=tuple(n for n in ("rate", "stddev") if n in types),
        doc=f"tf.keras.layers.{keras_class}: identity at inference; in training, the '{check}' check",
        keras_class=keras_class,
        predict_weights=lambda params, shape: ref.weight_shapes(keras_class, shape, **params),
        predict_output=lambda params, shape: ref.output_shape(keras_class, shape, **params),
        compute=lambda x, weights, params, call: ref.identity(x),
        # at inference the identity: exact (in training the statistical check judges instead)
        error_bound=bounds.EXACT,
        call_params={"training": P.BOOL},
        check_modelled=lambda params, call: ref.check_modelled(keras_class, params, call),
        stochastic=check,
        example={"input_shape": _EXAMPLE_SHAPES.get(keras_class, [8, 64, 32]), "params": {"rate": 0.3} if "rate" in types else {"stddev": 0.5},
                 "call": {"training": True}},
    )


# rate: "Float between 0 and 1" (Keras raises outside); stddev: a standard deviation, >= 0 (the
# reference's rule; tf.keras's refusal above 1 is the known divergence gaussian-noise-stddev-above-one-rejected)
register(
    _noise_layer("Dropout", {"rate": P.RATE, "noise_shape": P.optional(NOISE_SHAPE)}, "dropout"),
    _noise_layer("SpatialDropout1D", {"rate": P.RATE}, "dropout"),
    _noise_layer("SpatialDropout2D", {"rate": P.RATE, "data_format": P.DATA_FORMAT}, "dropout"),
    _noise_layer("SpatialDropout3D", {"rate": P.RATE, "data_format": P.DATA_FORMAT}, "dropout"),
    _noise_layer("GaussianNoise", {"stddev": P.NON_NEGATIVE}, "gaussian_noise"),
    _noise_layer("GaussianDropout", {"rate": P.RATE}, "gaussian_dropout"),
    _noise_layer("AlphaDropout", {"rate": P.RATE, "noise_shape": P.optional(NOISE_SHAPE)}, "alpha_dropout"),
)
