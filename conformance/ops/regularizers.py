"""Regularizers: `regularizers.<Class>` penalties against reference_impl.regularizers, and
the resolution of a layer's *_regularizer argument to its reference penalty."""
from __future__ import annotations

from reference_impl import regularizers as ref

from conformance.ops import params as P
from conformance.ops.registry import FunctionOp, register

FAMILY = "regularizers"

# Keras class (and its documented alias) -> (reference function, typed arguments)
CLASSES = {
    "L1": (ref.l1, {"l1": P.NUMBER}),
    "L2": (ref.l2, {"l2": P.NUMBER}),
    "L1L2": (ref.l1_l2, {"l1": P.NUMBER, "l2": P.NUMBER}),
    "OrthogonalRegularizer": (ref.orthogonal_regularizer, {"factor": P.NUMBER, "mode": P.STRING.one_of(*ref.MODES)}),
}
ALIASES = {"l1": "L1", "l2": "L2", "l1_l2": "L1L2", "orthogonal_regularizer": "OrthogonalRegularizer"}


def _regularizer(name: str, keras_name: str) -> FunctionOp:
    function, types = CLASSES[ALIASES.get(name, name)]
    return FunctionOp(
        name=f"regularizers.{name}",
        family=FAMILY,
        params=P.with_defaults(types, function),
        doc=f"tf.keras.regularizers.{keras_name}(**params)(x): reference_impl.regularizers.{function.__name__}",
        keras_callable=lambda keras, params: getattr(keras.regularizers, keras_name)(**params),
        compute=lambda x, params: function(x, **params),
        # a reduction of n terms >= 0, its factor and (L1L2) a sum: gamma_{n+3} of the penalty;
        # OrthogonalRegularizer's normalized rows, Gram matrix and off-diagonal sum
        # (reference_impl.regularizers.error_bound)
        error_bound=lambda x, weights, params, call, fmt, output=None: ref.error_bound(
            function, x, fmt.unit_roundoff, fmt.smallest_normal, **params),
        example={"input_shape": [4, 3], "params": {}},
    )


def reference_penalty(identifier):
    """The reference penalty function for a layer's *_regularizer argument: a name ('l2'),
    or a serialized {"class_name": ..., "config": {...}}; None for no regularizer."""
    if identifier is None:
        return None
    if isinstance(identifier, str):
        return ref.get(identifier)
    if isinstance(identifier, dict) and identifier.get("class_name") in CLASSES:
        function = CLASSES[identifier["class_name"]][0]
        config = identifier.get("config", {})
        return lambda x: function(x, **config)
    raise ValueError(f"no reference for the regularizer {identifier!r}; use a name or a {{class_name, config}} of {', '.join(CLASSES)}")


register(*(_regularizer(name, name) for name in CLASSES))
register(*(_regularizer(alias, alias) for alias in ALIASES))
