"""Regularizers: `regularizers.<Class>` penalties against reference_impl.regularizers, and
the resolution of a layer's *_regularizer argument to its reference penalty."""
from __future__ import annotations

import inspect

import numpy as np

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


def penalty_error_bound(identifier, x, fmt, moved=None):
    """Bound on the error of the penalty of a layer's *_regularizer argument on x evaluated in
    `fmt` (reference_impl.regularizers.error_bound; x the format's numbers); with `moved`, a
    per-element bound on x's own error (a computed activity), also the penalty's change over
    x +- moved, |l1| sum(moved) + |l2| sum(2 |x| moved + moved^2), and its rounding taken at the
    larger magnitudes |x| + moved (L1, L2, L1L2 depend on |x| alone). None where no bound is
    derived, or for an OrthogonalRegularizer of a computed activity."""
    if isinstance(identifier, str):
        function, config = ref.get(identifier), {}
    else:
        function, config = CLASSES[identifier["class_name"]][0], dict(identifier.get("config", {}))
    if moved is None:
        return ref.error_bound(function, x, fmt.unit_roundoff, fmt.smallest_normal, **config)
    if function not in (ref.l1, ref.l2, ref.l1_l2):
        return None
    factors = {**{n: p.default for n, p in inspect.signature(function).parameters.items() if n in ("l1", "l2")}, **config}
    moved = np.broadcast_to(np.asarray(moved, dtype=np.float64), np.shape(x))
    size = np.abs(np.asarray(x, dtype=np.float64))
    if not (np.all(np.isfinite(moved)) and np.all(np.isfinite(size))):
        return None  # an output without a finite bound, or not finite itself: nothing to bound
    e = ref.error_bound(function, size + moved, fmt.unit_roundoff, fmt.smallest_normal, **config)
    if e is None:
        return None
    l1, l2 = abs(factors.get("l1", 0.0)), abs(factors.get("l2", 0.0))
    # a zero factor's term is exactly 0, whatever the output's error
    return float(e + (l1 * np.sum(moved) if l1 else 0.0) + (l2 * np.sum(2 * size * moved + moved * moved) if l2 else 0.0))


register(*(_regularizer(name, name) for name in CLASSES))
register(*(_regularizer(alias, alias) for alias in ALIASES))
