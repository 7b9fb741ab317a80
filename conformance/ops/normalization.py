"""The normalization family: each Keras normalization layer mapped onto reference_impl.normalization."""
from __future__ import annotations

from reference_impl import normalization as ref

from conformance.ops import bounds
from conformance.ops import params as P
from conformance.ops.registry import LayerOp, register

FAMILY = "normalization"
_GAMMA_BETA = {
    "center": P.BOOL, "scale": P.BOOL,
    **{f"{w}_{o}": P.KERAS_OBJECT for w in ("beta", "gamma") for o in ("initializer", "regularizer", "constraint")},
}


def _error_bound(keras_class):
    """reference_impl.normalization.error_bound in the case's format; marked for the gradient
    check to widen by where the layer's statistics' conditioning enters the gradient
    (ref.WIDENS_GRADIENT says which and why). BatchNormalization's also bounds its moving
    statistics after the case's calls (ref.moving_statistics_error_bound), from the history of
    the calls (bounds.with_history)."""
    def bound(x, weights, params, call, fmt, output=None, history=None):
        out = ref.error_bound(keras_class, x, weights, fmt.unit_roundoff, call=call,
                              smallest_normal=fmt.smallest_normal, **params)
        if keras_class != "BatchNormalization" or history is None:
            return out
        initial, calls = history
        state = ref.moving_statistics_error_bound(calls, initial, fmt.unit_roundoff, **params)
        return {"output": out, **state}

    if keras_class == "BatchNormalization":
        bounds.with_history(bound)
    return bounds.standardization(bound) if keras_class in ref.WIDENS_GRADIENT else bound


def _normalization_layer(keras_class, function, types, *, call_params=None, state=(), positive=(), example=None):
    def compute(x, weights, params, call):
        out = function(x, **weights, **params, **call)
        return out[0] if state else out

    def update_state(x, weights, params, call):
        _, *new = function(x, **weights, **params, **call)
        return dict(zip(state, new))

    return LayerOp(
        name=keras_class,
        family=FAMILY,
        params=P.with_defaults({**types, "epsilon": P.NON_NEGATIVE} if keras_class != "UnitNormalization" else types, function),
        doc=f"tf.keras.layers.{keras_class}: reference_impl.normalization.{function.__name__}",
        keras_class=keras_class,
        predict_weights=lambda params, shape: ref.weight_shapes(keras_class, shape, **params),
        predict_output=lambda params, shape: (ref.weight_shapes(keras_class, shape, **params), tuple(shape))[1],
        compute=compute,
        call_params=call_params or {},
        state=state,
        update_state=update_state if state else None,
        positive_weights=frozenset(positive),
        error_bound=_error_bound(keras_class),
        example={"input_shape": [4, 6, 5], "params": example or {}},
    )


register(
    _normalization_layer(
        "BatchNormalization", ref.batch_norm,
        {"axis": P.INT, "momentum": P.NUMBER, "synchronized": P.BOOL,
         "moving_mean_initializer": P.KERAS_OBJECT, "moving_variance_initializer": P.KERAS_OBJECT, **_GAMMA_BETA},
        call_params={"training": P.BOOL},
        state=("moving_mean", "moving_variance"),
        positive=("moving_variance",),
    ),
    _normalization_layer("LayerNormalization", ref.layer_norm, {"axis": P.int_or_list(), "rms_scaling": P.BOOL, **_GAMMA_BETA}),
    _normalization_layer("GroupNormalization", ref.group_norm, {"groups": P.INT, "axis": P.INT, **_GAMMA_BETA}, example={"groups": 5}),
    _normalization_layer("RMSNormalization", ref.rms_norm, {"axis": P.INT}),
    _normalization_layer("UnitNormalization", ref.unit_norm, {"axis": P.int_or_list()}),
)
