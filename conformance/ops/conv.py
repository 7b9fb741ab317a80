"""The convolution family: every Keras conv layer as a thin mapping onto reference_impl.conv."""
from __future__ import annotations

from reference_impl import conv as ref

from conformance.ops import params as P
from conformance.ops.registry import LayerOp, register

FAMILY = "convolution"

_SPATIAL = {  # arguments shared by every conv layer, typed for its spatial rank
    "kernel_size": lambda r: P.int_or_tuple(r),
    "strides": lambda r: P.int_or_tuple(r),
    "padding": lambda r: P.padding(r),
    "data_format": lambda r: P.OPTIONAL_STRING,
    "dilation_rate": lambda r: P.int_or_tuple(r),
    "activation": lambda r: P.OPTIONAL_STRING,
    "use_bias": lambda r: P.BOOL,
    "bias_initializer": lambda r: P.KERAS_OBJECT,
    "bias_regularizer": lambda r: P.KERAS_OBJECT,
    "activity_regularizer": lambda r: P.KERAS_OBJECT,
    "bias_constraint": lambda r: P.KERAS_OBJECT,
}
_KERNEL_OBJECTS = ("kernel_initializer", "kernel_regularizer", "kernel_constraint")
_DEPTHWISE_OBJECTS = ("depthwise_initializer", "depthwise_regularizer", "depthwise_constraint")
_POINTWISE_OBJECTS = ("pointwise_initializer", "pointwise_regularizer", "pointwise_constraint")

# kind -> (reference function, extra typed arguments, Keras weight-object arguments, required)
_KINDS = {
    "conv": (ref.conv, {"filters": P.INT, "groups": P.INT}, _KERNEL_OBJECTS, ("filters", "kernel_size")),
    "transpose": (
        ref.conv_transpose,
        {"filters": P.INT, "output_padding": None},
        _KERNEL_OBJECTS,
        ("filters", "kernel_size"),
    ),
    "depthwise": (ref.depthwise_conv, {"depth_multiplier": P.INT}, _DEPTHWISE_OBJECTS, ("kernel_size",)),
    "separable": (
        ref.separable_conv,
        {"filters": P.INT, "depth_multiplier": P.INT},
        _DEPTHWISE_OBJECTS + _POINTWISE_OBJECTS,
        ("filters", "kernel_size"),
    ),
}


_EXAMPLE_SPATIAL = (9, 8, 7)  # odd and even sizes


def _conv_layer(keras_class: str, kind: str, rank: int) -> LayerOp:
    compute, extra, objects, required = _KINDS[kind]
    types = {name: make(rank) for name, make in _SPATIAL.items()}
    types.update({n: (t if t is not None else P.optional(P.int_or_tuple(rank))) for n, t in extra.items()})
    types.update({n: P.KERAS_OBJECT for n in objects})

    def compute_output(x, weights, params, call):
        return compute(x, **weights, rank=rank, **params)

    return LayerOp(
        name=keras_class,
        family=FAMILY,
        params=types,
        required=required,
        doc=f"tf.keras.layers.{keras_class}: reference_impl.conv.{compute.__name__} with rank={rank}",
        keras_class=keras_class,
        predict_weights=lambda params, shape: ref.weight_shapes(kind, shape, rank=rank, **params),
        predict_output=lambda params, shape: ref.output_shape(kind, shape, rank=rank, **params),
        compute=compute_output,
        example={
            "input_shape": [2, *_EXAMPLE_SPATIAL[:rank], 4],
            "params": {k: v for k, v in {"filters": 3, "kernel_size": 3}.items() if k in types},
        },
    )


register(
    _conv_layer("Conv1D", "conv", 1),
    _conv_layer("Conv2D", "conv", 2),
    _conv_layer("Conv3D", "conv", 3),
    _conv_layer("Conv1DTranspose", "transpose", 1),
    _conv_layer("Conv2DTranspose", "transpose", 2),
    _conv_layer("Conv3DTranspose", "transpose", 3),
    _conv_layer("DepthwiseConv1D", "depthwise", 1),
    _conv_layer("DepthwiseConv2D", "depthwise", 2),
    _conv_layer("SeparableConv1D", "separable", 1),
    _conv_layer("SeparableConv2D", "separable", 2),
)
