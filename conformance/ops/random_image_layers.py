"""Keras 3's image augmentation layers (RandomFlip, RandomBrightness, ..., AugMix, RandAugment,
AutoContrast, Equalization): reference_impl.random_image_layers as thin mappings.

At inference (call: {training: false}) each is compared element by element with its documented
output (the identity for most; RandomCrop's centred crop and resize; AutoContrast's and
Equalization's formulas). In training, RandomFlip, RandomBrightness, RandomContrast,
RandomGrayscale, RandomInvert, RandomCrop, Solarization, RandomPosterization,
RandomColorDegeneration, RandomSaturation, MixUp, CutMix, RandomErasing, RandomGaussianBlur
(factor [1, 1]), and RandomTranslation, RandomRotation and RandomZoom (interpolation "nearest",
fill_mode "constant") get the statistical check their documentation fixes (`stochastic`:
conformance.checks.random_layers); AutoContrast and Equalization are the same formula in training
(deterministic layers); any other layer in training is refused by validation, with the reason
reference_impl.random_image_layers.training_unmodelled gives."""
from __future__ import annotations

from reference_impl import random_image_layers as ref

from conformance.ops import params as P
from conformance.ops.registry import LayerOp, register

FAMILY = "image augmentation"


def _factor_like(v) -> bool:
    return P.NUMBER.accepts(v) or (isinstance(v, list) and len(v) == 2 and all(P.NUMBER.accepts(i) for i in v))


# "Float or a list/tuple of 2 floats": the reference judges the range of each layer's factor
FACTOR = P.ParamType("a number or a list of two numbers", _factor_like,
                     {"anyOf": [{"type": "number"}, {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2}]})
VALUE_RANGE = P.ParamType("a list of two numbers [low, high]",
                          lambda v: isinstance(v, list) and len(v) == 2 and all(P.NUMBER.accepts(i) for i in v),
                          {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2})
_VR = {"value_range": VALUE_RANGE.defaults_to([0, 255])}
_COMMON = {"seed": P.optional(P.INT).defaults_to(None), "name": P.STRING}
_INTERPOLATION = P.STRING.one_of("nearest", "bilinear").defaults_to("bilinear")
_FILL_MODE = P.STRING.one_of("reflect", "wrap", "constant", "nearest").defaults_to("reflect")
_FILL = {"fill_mode": _FILL_MODE, "fill_value": P.NUMBER.defaults_to(0.0)}

# layer -> (typed arguments, required); the defaults are the Keras 3.15 signatures'
ARGUMENTS = {
    "AugMix": ({**_VR, "num_chains": P.POSITIVE_INT.defaults_to(3), "chain_depth": P.POSITIVE_INT.defaults_to(3),
                "factor": FACTOR.defaults_to(0.3), "alpha": P.NUMBER.defaults_to(1.0), "all_ops": P.BOOL.defaults_to(True),
                "interpolation": _INTERPOLATION}, ()),
    "AutoContrast": (_VR, ()),
    "CutMix": ({"factor": FACTOR.defaults_to(1.0)}, ()),
    "Equalization": ({**_VR, "bins": P.POSITIVE_INT.defaults_to(256)}, ()),
    "MixUp": ({"alpha": P.NUMBER.defaults_to(0.2)}, ()),
    "RandAugment": ({**_VR, "num_ops": P.POSITIVE_INT.defaults_to(2), "factor": FACTOR.defaults_to(0.5),
                     "interpolation": _INTERPOLATION}, ()),
    "RandomBrightness": ({"factor": FACTOR, **_VR}, ("factor",)),
    "RandomColorDegeneration": ({"factor": FACTOR, **_VR}, ("factor",)),
    "RandomColorJitter": ({**_VR, "brightness_factor": P.optional(FACTOR).defaults_to(None),
                           "contrast_factor": P.optional(FACTOR).defaults_to(None),
                           "saturation_factor": P.optional(FACTOR).defaults_to(None),
                           "hue_factor": P.optional(FACTOR).defaults_to(None)}, ()),
    "RandomContrast": ({"factor": FACTOR, **_VR}, ("factor",)),
    "RandomCrop": ({"height": P.POSITIVE_INT, "width": P.POSITIVE_INT}, ("height", "width")),
    "RandomElasticTransform": ({"factor": FACTOR.defaults_to(1.0), "scale": FACTOR.defaults_to(1.0),
                                "interpolation": _INTERPOLATION, **_FILL, **_VR}, ()),
    "RandomErasing": ({"factor": FACTOR.defaults_to(1.0), "scale": FACTOR.defaults_to([0.02, 0.33]),
                       "fill_value": P.optional(P.NUMBER).defaults_to(None), **_VR}, ()),
    "RandomFlip": ({"mode": P.STRING.one_of(*ref.FLIP_MODES).defaults_to("horizontal_and_vertical")}, ()),
    "RandomGaussianBlur": ({"factor": FACTOR.defaults_to(1.0), "kernel_size": P.POSITIVE_INT.defaults_to(3),
                            "sigma": FACTOR.defaults_to(1.0), **_VR}, ()),
    "RandomGrayscale": ({"factor": P.RATE.defaults_to(0.5)}, ()),
    "RandomHeight": ({"factor": FACTOR, "interpolation": _INTERPOLATION}, ("factor",)),
    "RandomHue": ({"factor": FACTOR, **_VR}, ("factor",)),
    "RandomInvert": ({"factor": FACTOR.defaults_to(1.0), **_VR}, ()),
    "RandomPerspective": ({"factor": FACTOR.defaults_to(1.0), "scale": FACTOR.defaults_to(1.0),
                           "interpolation": _INTERPOLATION, "fill_value": P.NUMBER.defaults_to(0.0)}, ()),
    "RandomPosterization": ({"factor": FACTOR, **_VR}, ("factor",)),
    "RandomRotation": ({"factor": FACTOR, "interpolation": _INTERPOLATION, **_FILL}, ("factor",)),
    "RandomSaturation": ({"factor": FACTOR, **_VR}, ("factor",)),
    "RandomSharpness": ({"factor": FACTOR, **_VR}, ("factor",)),
    "RandomShear": ({"x_factor": FACTOR.defaults_to(0.0), "y_factor": FACTOR.defaults_to(0.0),
                     "interpolation": _INTERPOLATION, **_FILL}, ()),
    "RandomTranslation": ({"height_factor": FACTOR, "width_factor": FACTOR, "interpolation": _INTERPOLATION, **_FILL},
                          ("height_factor", "width_factor")),
    "RandomWidth": ({"factor": FACTOR, "interpolation": _INTERPOLATION}, ("factor",)),
    "RandomZoom": ({"height_factor": FACTOR, "width_factor": P.optional(FACTOR).defaults_to(None),
                    "interpolation": _INTERPOLATION, **_FILL}, ("height_factor",)),
    "Solarization": ({"addition_factor": FACTOR.defaults_to(0.0), "threshold_factor": FACTOR.defaults_to(0.0), **_VR}, ()),
}
# deterministic in training too: the same documented formula (a values case)
_SAME_IN_TRAINING = frozenset({"AutoContrast", "Equalization"})
_EXAMPLE_PARAMS = {"RandomBrightness": {"factor": 0.2}, "RandomCrop": {"height": 4, "width": 5},
                   "RandomTranslation": {"height_factor": 0.2, "width_factor": 0.2}, "RandomZoom": {"height_factor": 0.2},
                   "RandomPosterization": {"factor": [1, 8]}}


def _modelled(name: str):
    def check(params, call):
        reason = ref.training_unmodelled(name, params or {}) if name not in _SAME_IN_TRAINING else None
        if (call or {}).get("training") and reason:
            raise NotImplementedError(f"{name} in training: {reason}")
    return check


def _inference_params(params: dict) -> dict:
    """The arguments the documented inference depends on."""
    return {k: v for k, v in params.items() if k in ("height", "width", "value_range", "bins")}


def _layer(name: str) -> LayerOp:
    types, required = ARGUMENTS[name]
    example_params = _EXAMPLE_PARAMS.get(name, {"factor": 0.5} if "factor" in required else {})
    return LayerOp(
        name=name, family=FAMILY, params={**types, **_COMMON}, required=required,
        doc=f"tf.keras.layers.{name}: at inference reference_impl.random_image_layers."
            f"{ref.INFERENCE.get(name, ref.identity).__name__}"
            + (f"; in training, the '{ref.STOCHASTIC[name]}' check" if name in ref.STOCHASTIC else ""),
        keras_class=name,
        predict_weights=lambda params, shape: (ref.output_shape(name, shape, **params), {})[1],
        predict_output=lambda params, shape: ref.output_shape(name, shape, **params),
        compute=lambda x, weights, params, call: ref.inference(name, x, _inference_params(params)),
        # at inference, and for AutoContrast in training too (the same formula); the other
        # layers in training are judged statistically, not by this bound
        error_bound=lambda x, weights, params, call, fmt, output=None: ref.inference_error_bound(name, x, _inference_params(params), fmt),
        call_params={"training": P.BOOL},
        check_modelled=_modelled(name),
        stochastic=ref.STOCHASTIC.get(name),
        no_gradients="an image augmentation layer: its inference is compared by value, its training statistically",
        example={"input_shape": [2, 7, 8, 3], "params": example_params, "call": {"training": False},
                 "input_distribution": {"mean": 127.5, "std": 30.0}},
    )


register(*(_layer(name) for name in ref.LAYERS))
