"""Activations: every keras.activations function (`activations.<name>`) and the activation
layers, as thin mappings onto reference_impl.activations."""
from __future__ import annotations

import functools
import inspect

from reference_impl import activations as ref

from conformance.ops import bounds
from conformance.ops import params as P
from conformance.ops.registry import FunctionOp, LayerOp, register

FAMILY = "activations"
_EXAMPLE = {"input_shape": [2, 8], "params": {}}


def _argument_types(function) -> tuple[dict, tuple]:
    """Typed keyword arguments of a reference function (after x), and the required ones."""
    types, required = {}, []
    for p in list(inspect.signature(function).parameters.values())[1:]:
        if p.name == "axis":
            types[p.name] = P.int_or_list()
        elif p.name == "approximate":
            types[p.name] = P.BOOL
        elif p.default is None:
            types[p.name] = P.optional(P.NUMBER)
        else:
            types[p.name] = P.NUMBER
        if p.default is inspect.Parameter.empty:
            required.append(p.name)
    return P.with_defaults(types, function), tuple(required)


def _named_activation_bound(x, weights, params, call, fmt, output=None):
    """The Activation layer: the bound of the function it names (softmax and log_softmax along
    the last axis, their default)."""
    name = params.get("activation")
    if not isinstance(name, str):
        return None
    if name in _AXIS_BOUNDS:
        return _AXIS_BOUNDS[name](x, fmt, {})
    bound = bounds.elementwise(lambda t, w, p, c: ref.activation_layer(t, name), name)
    return bound(x, weights, {}, call, fmt)


_named_activation_bound.elementwise = True  # an elementwise bound, as bounds.elementwise marks its own


# The activations along an axis: name -> bound(x, fmt, params). sparsemax's bound is for the
# sparsemax paper's algorithm (tf.keras's own is a recorded divergence, sparsemax-not-a-projection;
# tests/reference/test_activations.py checks the bound against that algorithm run in each format).
_AXIS_BOUNDS = {
    "softmax": lambda x, fmt, params: ref.softmax_error_bound(x, fmt, **_tuple_axes(params)),
    "log_softmax": lambda x, fmt, params: ref.log_softmax_error_bound(x, fmt, **_tuple_axes(params)),
    "glu": lambda x, fmt, params: ref.glu_error_bound(x, fmt, **params),
    "sparsemax": lambda x, fmt, params: ref.sparsemax_error_bound(x, fmt, **params),
}


def _function_bound(name, function):
    """An activation function's bound: its axis bound, or the elementwise one."""
    if name in _AXIS_BOUNDS:
        return lambda x, weights, params, call, fmt, output=None: _AXIS_BOUNDS[name](x, fmt, params)
    return bounds.elementwise(lambda t, w, params, call: function(t, **_tuple_axes(params)), name)


def _softmax_layer_bound(x, weights, params, call, fmt, output=None):
    """The Softmax layer: softmax's bound along its axis, masked positions excluded."""
    return ref.softmax_error_bound(x, fmt, **_tuple_axes(params), keep=call.get("mask"))


def _layer_bound(function, name):
    return bounds.elementwise(lambda t, w, params, call: function(t, **w, **params), name)


def _tuple_axes(params: dict) -> dict:
    """YAML has no tuples: a list of axes is passed as the tuple the docs ask for."""
    return {k: tuple(v) if k == "axis" and isinstance(v, list) else v for k, v in params.items()}


def _activation_function(name: str) -> FunctionOp:
    function = ref.ACTIVATIONS[name]
    types, required = _argument_types(function)
    return FunctionOp(
        name=f"activations.{name}",
        family=FAMILY,
        params=types,
        required=required,
        doc=f"tf.keras.activations.{name}: reference_impl.activations.{function.__name__}",
        keras_callable=lambda keras, params: functools.partial(getattr(keras.activations, name), **_tuple_axes(params)),
        compute=lambda x, params: function(x, **_tuple_axes(params)),
        error_bound=_function_bound(name, function),
        example={"input_shape": [2, 8], "params": {n: 0.5 for n in required}},
    )


def _activation_layer(keras_class, function, types, *, weights=None, call_params=None, example=None, error_bound=None) -> LayerOp:
    """An activation layer; `weights(params, input_shape)` gives its variables (PReLU's alpha)."""
    def predict_weights(params, shape):
        return weights(params, shape) if weights else {}

    return LayerOp(
        name=keras_class,
        family=FAMILY,
        params=P.with_defaults(types, function),
        required=tuple(n for n in ("activation",) if n in types),
        doc=f"tf.keras.layers.{keras_class}: reference_impl.activations.{function.__name__}",
        keras_class=keras_class,
        predict_weights=predict_weights,
        predict_output=lambda params, shape: tuple(shape),
        compute=lambda x, w, params, call: function(x, **w, **params, **call),
        call_params=call_params or {},
        example=example or _EXAMPLE,
        error_bound=error_bound,
    )


register(*(_activation_function(name) for name in sorted(ref.ACTIVATIONS)))
register(
    _activation_layer("Activation", ref.activation_layer, {"activation": P.STRING.one_of(*P.ACTIVATION.choices)},
                      example={"input_shape": [2, 8], "params": {"activation": "relu"}}, error_bound=_named_activation_bound),
    # ReLU: "Float >= 0" for all three; LeakyReLU: "Float >= 0.0" (both raise ValueError below 0)
    _activation_layer("ReLU", ref.relu_layer, {"max_value": P.optional(P.NON_NEGATIVE), "negative_slope": P.NON_NEGATIVE,
                                               "threshold": P.NON_NEGATIVE},
                      error_bound=_layer_bound(ref.relu_layer, "relu")),
    _activation_layer("LeakyReLU", ref.leaky_relu_layer, {"negative_slope": P.NON_NEGATIVE},
                      error_bound=_layer_bound(ref.leaky_relu_layer, "leaky_relu")),
    _activation_layer("ELU", ref.elu_layer, {"alpha": P.NUMBER}, error_bound=_layer_bound(ref.elu_layer, "elu")),
    _activation_layer(
        "PReLU", ref.prelu_layer,
        # the alpha_* objects do not change the output; alpha_regularizer's penalty of `alpha`
        # is compared through layer.losses (conformance.checks.values)
        {"shared_axes": P.optional(P.int_or_list()), "alpha_initializer": P.KERAS_OBJECT,
         "alpha_regularizer": P.KERAS_OBJECT, "alpha_constraint": P.KERAS_OBJECT},
        weights=lambda params, shape: {"alpha": ref.prelu_shape(shape, params.get("shared_axes"))},
        error_bound=_layer_bound(ref.prelu_layer, "prelu"),
    ),
    # Softmax documents a call mask: masked positions get no probability
    _activation_layer("Softmax", ref.softmax_layer, {"axis": P.int_or_list()}, call_params={"mask": P.MASK},
                      error_bound=_softmax_layer_bound),
)
