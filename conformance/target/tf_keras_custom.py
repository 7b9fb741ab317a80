"""The tf.keras side of a user-defined regularizer, constraint or initializer (part of the
tf.keras target): observed through the framework and compared with the user's own reference.

Four things are checked, each failure adding to the message: the values (a penalty or a
projected tensor compared with the reference's; samples judged against the reference's
distribution), the get_config/from_config round trip, Keras serialization (serialize,
deserialize and get with the class as a custom object), and the object at work inside a Dense
layer. A regularizer and a constraint are both applied to one tensor and share one judge
(`_judge_applied`); `APPLIED` maps each kind onto it (its Keras module, what it gives, the
Dense argument that carries it and what the layer shows of it).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from conformance.compare import compare_arrays
from conformance.runner.inputs import make_input
from conformance.target import tf_keras as keras_side
from conformance.target.arrays import as_float64

DENSE_UNITS = 16  # the Dense layer that carries the object in the layer check
INITIALIZER_DRAWS = 256  # calls pooled for an initializer's distribution check
LAYER_DRAWS = 32  # Dense layers built for the initializer's layer check


def _in_mode(case):
    """Wraps the calls that produce the judged values (the penalty, the samples) in the
    case's mode; the serialization and layer checks run as Keras runs them."""
    from conformance.axes import MODES

    tf = keras_side.tensorflow()
    return lambda fn: MODES[case.mode].wrap(tf, fn)


def check_custom_object(op, case, cls, reference) -> tuple[list[str], dict]:
    """The user's Keras class `cls` against the user's `reference`: the messages of every
    check that failed (none: it conforms) and the metrics."""
    messages, metrics = [], {}
    if op.kind == "initializer":
        _judge_initializer(cls, reference, case, messages, metrics)
    else:
        _judge_applied(APPLIED[op.kind], cls, reference, case, messages, metrics)
    return messages, metrics


def _attempt(messages, what, step):
    """Run one tf.keras step; an exception is a finding about the user's object, named."""
    try:
        return step()
    except Exception as exc:
        messages.append(f"{what}: {type(exc).__name__}: {str(exc)[:300]}")
        return None


def _same_value(messages, what, value, expected, case):
    tol = case.effective_tolerance
    result = compare_arrays(as_float64(value), as_float64(expected), rtol=tol["rtol"], atol=tol["atol"])
    if not result.ok:
        messages.append(f"{what}: {result.message}")
    return result


def _serialization_round_trips(keras, module, obj, cls, messages):
    """Objects rebuilt from obj by from_config, deserialize and get (custom objects)."""
    rebuilt = {}
    config = _attempt(messages, "get_config", obj.get_config)
    if config is None:
        return rebuilt
    copy = _attempt(messages, "from_config", lambda: cls.from_config(config))
    if copy is not None:
        again = _attempt(messages, "get_config of the from_config copy", copy.get_config)
        if again is not None and again != config:
            messages.append(f"get_config/from_config does not round-trip: {config!r} became {again!r}")
        rebuilt["from_config"] = copy
    serialized = _attempt(messages, f"keras.{module}.serialize", lambda: getattr(keras, module).serialize(obj))
    if serialized is not None:
        custom = {cls.__name__: cls}
        restored = _attempt(messages, f"keras.{module}.deserialize with custom_objects",
                            lambda: getattr(keras, module).deserialize(serialized, custom_objects=custom))
        if restored is not None:
            rebuilt["deserialize"] = restored

        def get_in_scope():
            with keras.utils.custom_object_scope(custom):
                return getattr(keras, module).get(serialized)

        got = _attempt(messages, f"keras.{module}.get in a custom_object_scope", get_in_scope)
        if got is not None:
            rebuilt["get"] = got
    return rebuilt


@dataclass(frozen=True)
class Applied:
    """A kind of object that is applied to one tensor (a regularizer, a constraint): what
    differs between the kinds. Everything else is `_judge_applied`."""

    module: str  # keras.<module>: serialize, deserialize, get
    value: str  # what a call gives, in messages (and a metric's name when it is a number)
    argument: str  # the Dense argument that carries the object
    output: Callable  # a call's output -> a float64 number or array
    # (built and called Dense layer) -> (what the layer shows of the object, the kernel as
    # float64: the reference's input)
    observe: Callable
    observed: str  # what observe gives, in messages


def _layer_losses(layer):
    """The weight penalties Dense reports after the call (Layer.losses computes them)."""
    return float(sum(float(v) for v in layer.losses)), as_float64(layer.kernel)


def _kernel_projection(layer):
    """What an optimizer step applies to the kernel: the kernel variable's constraint
    ("Constraint object to call on the variable after any optimizer update", Layer.add_weight;
    the optimizer assigns variable.constraint(variable) after applying the gradients), applied
    to the kernel as it is. Observable without a training step."""
    constraint = layer.kernel.constraint
    if constraint is None:
        raise ValueError("the kernel variable carries no constraint: an optimizer step would not apply it")
    return as_float64(constraint(layer.kernel)), as_float64(layer.kernel)


APPLIED = {
    "regularizer": Applied("regularizers", "penalty", "kernel_regularizer", float, _layer_losses,
                           "Dense(kernel_regularizer=...).losses"),
    "constraint": Applied("constraints", "projected weights", "kernel_constraint",
                          lambda out: as_float64(out), _kernel_projection,
                          "Dense(kernel_constraint=...).kernel.constraint(kernel)"),
}


def _differs(messages, what, again, original):
    """A copy must give exactly what the original gives (the same code on the same tensor)."""
    if np.array_equal(np.asarray(again), np.asarray(original), equal_nan=True):
        return
    if np.ndim(original) == 0:
        messages.append(f"{what} gives {again!r}, the original {original!r}")
    else:
        gap = np.nanmax(np.abs(np.asarray(again) - np.asarray(original))) if np.shape(again) == np.shape(original) else None
        messages.append(f"{what} differs from the original: " + (f"max |difference| {gap:.3g}" if gap is not None
                                                                  else f"shape {np.shape(again)}, the original {np.shape(original)}"))


def _judge_applied(kind: Applied, cls, reference, case, messages, metrics):
    tf = keras_side.tensorflow()
    keras = tf.keras
    in_mode = _in_mode(case)
    x = make_input(case.input_shape, case.dtype, case.seed, case.input_values)
    expected = kind.output(reference(x, **case.params))
    tensor = tf.constant(x.astype(case.dtype))
    obj = _attempt(messages, f"{cls.__name__}(**params)", lambda: cls(**case.params))
    if obj is None:
        return
    value = _attempt(messages, "calling it", lambda: kind.output(in_mode(obj)(tensor)))
    if value is not None:
        result = _same_value(messages, kind.value, value, expected, case)
        metrics.update(result.metrics)
        if np.ndim(value) == 0:
            metrics.update({kind.value: value, f"reference_{kind.value}": expected})
    for how, copy in _serialization_round_trips(keras, kind.module, obj, cls, messages).items():
        again = _attempt(messages, f"calling the {how} copy", lambda: kind.output(copy(tensor)))
        if again is not None and value is not None:
            _differs(messages, f"the {how} copy", again, value)

    # at work in a layer: what Dense shows of it, then the same after the layer's own
    # get_config/from_config round trip (the class as a custom object, the weights copied)
    layer_input = tf.constant(make_input((2, x.shape[-1]), case.dtype, case.seed + 1))

    def in_layer():
        layer = keras.layers.Dense(DENSE_UNITS, dtype=case.dtype, **{kind.argument: obj})
        layer(layer_input)
        return layer

    layer = _attempt(messages, f"as a Dense {kind.argument}", in_layer)
    if layer is None:
        return
    seen = _attempt(messages, kind.observed, lambda: kind.observe(layer))
    if seen is not None:
        _same_value(messages, kind.observed, seen[0], kind.output(reference(seen[1], **case.params)), case)

    def rebuilt():
        with keras.utils.custom_object_scope({cls.__name__: cls}):
            copy = keras.layers.Dense.from_config(layer.get_config())
        copy(layer_input)
        copy.set_weights(layer.get_weights())
        return copy

    copy = _attempt(messages, f"Dense.from_config(get_config()) with {kind.argument}", rebuilt)
    if copy is None:
        return
    carried = getattr(copy, kind.argument, None)
    if not isinstance(carried, cls):
        messages.append(f"Dense.from_config(get_config()).{kind.argument} is {carried!r}, not a {cls.__name__}")
        return
    again = _attempt(messages, f"{kind.observed} of the Dense.from_config copy", lambda: kind.observe(copy))
    if again is not None and seen is not None:
        _differs(messages, f"{kind.observed} of the Dense.from_config copy", again[0], seen[0])


def _judge_initializer(cls, reference, case, messages, metrics):
    from conformance.checks.distribution import check_samples

    tf = keras_side.tensorflow()
    keras = tf.keras
    in_mode = _in_mode(case)
    shape = tuple(case.input_shape)
    dist = reference(shape, **case.params)
    obj = _attempt(messages, f"{cls.__name__}(**params)", lambda: cls(**case.params))
    if obj is None:
        return

    def draw(initializer, count):
        call = in_mode(lambda: initializer(shape, dtype=case.dtype))
        return np.stack([as_float64(call()) for _ in range(count)])

    samples = _attempt(messages, "calling it", lambda: draw(obj, INITIALIZER_DRAWS))
    if samples is not None:
        check = check_samples(samples, dist, drawn_in=case.dtype)  # a 16-bit draw against the law after rounding
        metrics.update(check.metrics, draws=INITIALIZER_DRAWS)
        if not check.ok:
            messages.append(f"samples: {check.message}")
    for how, copy in _serialization_round_trips(keras, "initializers", obj, cls, messages).items():
        copied = _attempt(messages, f"calling the {how} copy", lambda: draw(copy, INITIALIZER_DRAWS // 4))
        if copied is not None:
            check = check_samples(copied, dist, drawn_in=case.dtype)
            if not check.ok:
                messages.append(f"samples of the {how} copy: {check.message}")

    def in_layers():
        kernels = []
        for i in range(LAYER_DRAWS):
            layer = keras.layers.Dense(shape[-1], kernel_initializer=obj, dtype=case.dtype)
            layer.build((None, shape[0]))
            kernels.append(as_float64(layer.kernel))
        return np.stack(kernels)

    if len(shape) == 2:  # a Dense kernel is (in, units)
        kernels = _attempt(messages, "as a Dense kernel_initializer", in_layers)
        if kernels is not None:
            check = check_samples(kernels, dist, drawn_in=case.dtype)  # the kernel is built in the case's dtype
            if not check.ok:
                messages.append(f"Dense(kernel_initializer=...).kernel: {check.message}")
