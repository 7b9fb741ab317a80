"""The convolution family: every Keras conv layer as a thin mapping onto reference_impl.conv."""
from __future__ import annotations

from reference_impl import conv as ref

from conformance.ops import bounds
from conformance.ops import params as P
from conformance.ops.registry import LayerOp, register

FAMILY = "convolution"

_PADDINGS = ("valid", "same")  # "valid" or "same" (case-insensitive); Conv1D also "causal"
_SPATIAL = {  # arguments shared by every conv layer, typed for its spatial rank
    "kernel_size": lambda r: P.int_or_tuple(r).at_least(1),
    "strides": lambda r: P.int_or_tuple(r).at_least(1),
    "padding": lambda r: P.STRING.one_of(*_PADDINGS, ignore_case=True),
    "data_format": lambda r: P.DATA_FORMAT,
    "dilation_rate": lambda r: P.int_or_tuple(r).at_least(1),
    "activation": lambda r: P.ACTIVATION,
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
    "conv": (ref.conv, {"filters": P.POSITIVE_INT, "groups": P.POSITIVE_INT}, _KERNEL_OBJECTS, ("filters", "kernel_size")),
    "transpose": (
        ref.conv_transpose,
        {"filters": P.POSITIVE_INT, "output_padding": None},
        _KERNEL_OBJECTS,
        ("filters", "kernel_size"),
    ),
    "depthwise": (ref.depthwise_conv, {"depth_multiplier": P.POSITIVE_INT}, _DEPTHWISE_OBJECTS, ("kernel_size",)),
    "separable": (
        ref.separable_conv,
        {"filters": P.POSITIVE_INT, "depth_multiplier": P.POSITIVE_INT},
        _DEPTHWISE_OBJECTS + _POINTWISE_OBJECTS,
        ("filters", "kernel_size"),
    ),
}


def _per_dim(value, rank: int) -> tuple:
    return tuple(value) if isinstance(value, list) else (value,) * rank


def _constraints(kind: str, rank: int) -> tuple[P.Constraint, ...]:
    """The rules between a conv layer's arguments that Keras documents under "Raises:" (and
    base_conv.py / base_conv_transpose.py enforce), which the reference enforces too."""
    rules = []
    if kind in ref.STRIDES_EXCLUDE_DILATION:  # SeparableConv only calls it "incompatible"
        rules.append(P.Constraint(
            ("strides", "dilation_rate"),
            lambda a: not (max(_per_dim(a["strides"], rank)) > 1 and max(_per_dim(a["dilation_rate"], rank)) > 1),
            "`strides > 1` not supported in conjunction with `dilation_rate > 1`",
            "Keras docstring, Raises: ValueError"))
    if kind == "conv":
        rules.append(P.Constraint(
            ("filters", "groups"), lambda a: a["filters"] % a["groups"] == 0,
            "`filters` must be divisible by `groups`",
            "Keras docstring: \"Input channels and `filters` must both be divisible by `groups`\""))
    if kind == "transpose":
        rules.append(P.Constraint(
            ("output_padding", "strides"),
            lambda a: a["output_padding"] is None or all(
                o < s for o, s in zip(_per_dim(a["output_padding"], rank), _per_dim(a["strides"], rank))),
            "`output_padding` must be lower than `strides` along each dimension",
            "Keras docstring: \"The amount of output padding along a given dimension must be lower than the stride\""))
    return tuple(rules)


_EXAMPLE_SPATIAL = (9, 8, 7)  # odd and even sizes


def _conv_layer(keras_class: str, kind: str, rank: int) -> LayerOp:
    compute, extra, objects, required = _KINDS[kind]
    types = {name: make(rank) for name, make in _SPATIAL.items()}
    if kind == "conv" and rank == 1:
        types["padding"] = types["padding"].one_of(*_PADDINGS, "causal", ignore_case=True)
    types.update({n: (t if t is not None else P.optional(P.int_or_tuple(rank)).at_least(0)) for n, t in extra.items()})
    types.update({n: P.KERAS_OBJECT for n in objects})
    types = P.with_defaults(types, compute)

    def compute_output(x, weights, params, call):
        return compute(x, **weights, rank=rank, **params)

    return LayerOp(
        name=keras_class,
        family=FAMILY,
        params=types,
        required=required,
        constraints=_constraints(kind, rank),
        doc=f"tf.keras.layers.{keras_class}: reference_impl.conv.{compute.__name__} with rank={rank}",
        keras_class=keras_class,
        predict_weights=lambda params, shape: ref.weight_shapes(kind, shape, rank=rank, **params),
        predict_output=lambda params, shape: ref.output_shape(kind, shape, rank=rank, **params),
        compute=compute_output,
        error_bound=bounds.sum_of_products(bounds.conv_length(kind), compute_output=compute_output),
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
