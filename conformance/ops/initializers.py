"""Initializers: every keras.initializers class as `initializers.<Class>`, judged by the
distribution reference_impl.initializers documents for one entry."""
from __future__ import annotations

from reference_impl import initializers as ref

from conformance.ops import params as P
from conformance.ops.registry import InitializerOp, register

FAMILY = "initializers"
CLASSES = (
    "RandomNormal", "RandomUniform", "TruncatedNormal", "Zeros", "Ones", "Constant", "VarianceScaling",
    "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "LecunNormal", "LecunUniform",
    "Orthogonal", "Identity",
)
# the ranges and choices the reference enforces (VarianceScaling's as its docstring lists them)
_TYPES = {"mode": P.STRING.one_of(*ref.MODES), "distribution": P.STRING.one_of(*ref.DISTRIBUTIONS),
          "scale": P.NUMBER.at_least(0, exclusive=True), "stddev": P.NON_NEGATIVE,
          "input_axes": P.optional(P.int_or_list()), "output_axes": P.optional(P.int_or_list())}


def _initializer(keras_class: str) -> InitializerOp:
    # the documented constructor arguments; `seed` is the harness's (one per draw)
    defaults = {name: default for name, default in ref.arguments(keras_class).items() if name != "seed"}
    return InitializerOp(
        name=f"initializers.{keras_class}",
        family=FAMILY,
        params={name: _TYPES.get(name, P.NUMBER).defaults_to(default) for name, default in defaults.items()},
        doc=f"tf.keras.initializers.{keras_class}: reference_impl.initializers.expected_distribution",
        keras_class=keras_class,
        distribution=lambda params, shape: ref.expected_distribution(keras_class, tuple(shape), **params),
        example={"shape": [4, 4] if keras_class == "Identity" else [3, 3, 4, 8], "params": {}},
    )


register(*(_initializer(name) for name in CLASSES))
