"""Constraints: `constraints.<Class>` (tf.keras.constraints.<Class>(**params) applied to a
tensor, as a layer applies it to a weight after an optimizer step) against
reference_impl.constraints."""
from __future__ import annotations

from reference_impl import constraints as ref

from conformance.ops import params as P
from conformance.ops.registry import FunctionOp, register

FAMILY = "constraints"

# Keras class -> (reference function, typed arguments); `axis` is an integer or a list of
# integers, as the docstrings document ("set `axis` to `[0, 1, 2]`"), passed on as written.
CLASSES = {
    "MaxNorm": (ref.max_norm, {"max_value": P.NUMBER, "axis": P.int_or_list()}),
    "MinMaxNorm": (ref.min_max_norm, {"min_value": P.NUMBER, "max_value": P.NUMBER, "rate": P.NUMBER, "axis": P.int_or_list()}),
    "NonNeg": (ref.non_neg, {}),
    "UnitNorm": (ref.unit_norm, {"axis": P.int_or_list()}),
}
# the documented shortcut names of the same classes ("Also available via the shortcut function
# `keras.constraints.max_norm`")
ALIASES = {"max_norm": "MaxNorm", "min_max_norm": "MinMaxNorm", "non_neg": "NonNeg", "unit_norm": "UnitNorm"}


def _error_bound(class_name: str):
    """reference_impl.constraints.error_bound of the class, in the case's format."""
    def bound(x, weights, params, call, fmt, output=None):
        return ref.error_bound(class_name, x, fmt.unit_roundoff, fmt.smallest_normal, **params)

    return bound


def _constraint(name: str) -> FunctionOp:
    function, types = CLASSES[ALIASES.get(name, name)]
    return FunctionOp(
        name=f"constraints.{name}",
        family=FAMILY,
        params=types,
        doc=f"tf.keras.constraints.{name}(**params)(x): reference_impl.constraints.{function.__name__}",
        keras_callable=lambda keras, params: getattr(keras.constraints, name)(**params),
        compute=lambda x, params: function(x, **params),
        # a norm and a rescaling: gamma_n of the sum of squares, the root, the desired norm's
        # formula and two products (NonNeg: exact); reference_impl.constraints.error_bound
        error_bound=_error_bound(ALIASES.get(name, name)),
        example={"input_shape": [6, 4], "params": {}},
        # Keras applies a constraint to a weight after the optimizer's update, outside any
        # gradient: its derivative is nothing a user relies on
        no_gradients="a constraint projects a weight after the optimizer's update, outside any gradient",
    )


register(*(_constraint(name) for name in CLASSES))
register(*(_constraint(alias) for alias in ALIASES))


def reference_constraint(identifier):
    """The reference projection for a layer's *_constraint argument: a name ('max_norm',
    'MaxNorm'), or a serialized {"class_name": ..., "config": {...}}; None for no constraint."""
    if identifier is None:
        return None
    if isinstance(identifier, str) and ALIASES.get(identifier, identifier) in CLASSES:
        function = CLASSES[ALIASES.get(identifier, identifier)][0]
        return lambda w: function(w)
    if isinstance(identifier, dict) and identifier.get("class_name") in CLASSES:
        function = CLASSES[identifier["class_name"]][0]
        config = identifier.get("config", {})
        return lambda w: function(w, **config)
    raise ValueError(f"no reference for the constraint {identifier!r}; use a name or a {{class_name, config}} of {', '.join(CLASSES)}")
