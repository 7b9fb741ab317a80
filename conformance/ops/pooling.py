"""The pooling family: every Keras pooling layer as a thin mapping onto reference_impl.pooling."""
from __future__ import annotations

import numpy as np

from reference_impl import pooling as ref

from conformance.ops import bounds
from conformance.ops import params as P
from conformance.ops.registry import LayerOp, register

FAMILY = "pooling"
_EXAMPLE_SPATIAL = (9, 8, 7)

def _window(r):
    """Max/AveragePooling: sizes at least 1; padding "valid" or "same" (case-insensitive)."""
    return {"pool_size": P.int_or_tuple(r).at_least(1), "strides": P.optional(P.int_or_tuple(r)).at_least(1),
            "padding": P.STRING.one_of("valid", "same", ignore_case=True)}


# kind -> (reference function, typed arguments for a rank, required arguments, call arguments)
_KINDS = {
    "max": (ref.max_pool, _window, (), {}),
    "average": (ref.average_pool, _window, ("pool_size",), {}),
    "global_max": (ref.global_max_pool, lambda r: {"keepdims": P.BOOL}, (), {}),
    "global_average": (ref.global_average_pool, lambda r: {"keepdims": P.BOOL}, (), {}),
    "adaptive_max": (ref.adaptive_max_pool, lambda r: {"output_size": P.int_or_tuple(r).at_least(1)}, ("output_size",), {}),
    "adaptive_average": (ref.adaptive_average_pool, lambda r: {"output_size": P.int_or_tuple(r).at_least(1)}, ("output_size",), {}),
}


def _average_length(kind, rank):
    """Roundings into one average: the window's additions and the division. A window is
    pool_size (AveragePooling), the pooled axes (global; a mask only shortens it), or at most
    ceil(in / out) + 1 per axis (adaptive: windows overlap by one where the sizes do not divide)."""
    def length(weights, params, x):
        x_shape = np.shape(x)
        spatial = x_shape[2:] if params.get("data_format") == "channels_first" else x_shape[1:-1]
        if kind == "average":
            size = params["pool_size"]
            window = bounds.product(size if isinstance(size, (list, tuple)) else (size,) * rank)
        elif kind == "global_average":
            window = bounds.product(spatial)
        else:
            out = params["output_size"]
            out = out if isinstance(out, (list, tuple)) else (out,) * rank
            window = bounds.product(-(-n // o) + 1 for n, o in zip(spatial, out))
        return window + 1
    return length


def _pooling_bound(kind, rank, compute_output):
    if kind.endswith("max"):
        return bounds.EXACT
    return bounds.sum_of_products(_average_length(kind, rank), compute_output=compute_output, activation_key=None)


def _pooling_layer(keras_class: str, kind: str, rank: int, call_params=None) -> LayerOp:
    compute, typed, required, _ = _KINDS[kind]
    types = P.with_defaults({**typed(rank), "data_format": P.DATA_FORMAT}, compute)

    def predict_weights(params, shape):
        ref.output_shape(kind, shape, rank=rank, **params)  # validates the arguments
        return {}

    example_params = {"pool_size": 2} if "pool_size" in types else {"output_size": 3} if "output_size" in types else {}
    return LayerOp(
        name=keras_class,
        family=FAMILY,
        params=types,
        required=required,
        doc=f"tf.keras.layers.{keras_class}: reference_impl.pooling.{compute.__name__} with rank={rank}",
        keras_class=keras_class,
        predict_weights=predict_weights,
        predict_output=lambda params, shape: ref.output_shape(kind, shape, rank=rank, **params),
        compute=lambda x, weights, params, call: compute(x, rank=rank, **params, **call),
        error_bound=_pooling_bound(kind, rank, lambda x, weights, params, call: compute(x, rank=rank, **params, **call)),
        call_params=call_params or {},
        example={"input_shape": [2, *_EXAMPLE_SPATIAL[:rank], 3], "params": example_params},
    )


register(
    *(
        _pooling_layer(f"{prefix}Pooling{rank}D", kind, rank)
        for prefix, kind in (("Max", "max"), ("Average", "average"), ("GlobalMax", "global_max"),
                             ("AdaptiveMax", "adaptive_max"), ("AdaptiveAverage", "adaptive_average"))
        for rank in (1, 2, 3)
    ),
    # GlobalAveragePooling1D documents a mask argument of call(): (batch, steps) booleans
    _pooling_layer("GlobalAveragePooling1D", "global_average", 1, call_params={"mask": P.MASK}),
    _pooling_layer("GlobalAveragePooling2D", "global_average", 2),
    _pooling_layer("GlobalAveragePooling3D", "global_average", 3),
)
