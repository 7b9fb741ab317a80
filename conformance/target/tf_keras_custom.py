"""The tf.keras side of a user-defined regularizer or initializer (part of the tf.keras
target): observed through the framework and compared with the user's own reference.

Four things are checked, each failure adding to the message: the values (a penalty
compared with the reference's; samples judged against the reference's distribution), the
get_config/from_config round trip, Keras serialization (serialize, deserialize and get
with the class as a custom object), and the object at work inside a Dense layer.
"""
from __future__ import annotations

import numpy as np

from conformance.compare import compare_arrays
from conformance.runner.inputs import make_input
from conformance.target import tf_keras as keras_side

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
    judge = _judge_regularizer if op.kind == "regularizer" else _judge_initializer
    messages, metrics = [], {}
    judge(cls, reference, case, messages, metrics)
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
    result = compare_arrays(np.asarray(value, np.float64), np.asarray(expected, np.float64), rtol=tol["rtol"], atol=tol["atol"])
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


def _judge_regularizer(cls, reference, case, messages, metrics):
    tf = keras_side.tensorflow()
    keras = tf.keras
    in_mode = _in_mode(case)
    x = make_input(case.input_shape, case.dtype, case.seed, case.input_values)
    expected = float(reference(x, **case.params))
    tensor = tf.constant(x.astype(case.dtype))
    obj = _attempt(messages, f"{cls.__name__}(**params)", lambda: cls(**case.params))
    if obj is None:
        return
    value = _attempt(messages, "calling it", lambda: float(in_mode(obj)(tensor)))
    if value is not None:
        result = _same_value(messages, "penalty", value, expected, case)
        metrics.update(result.metrics, penalty=value, reference_penalty=expected)
    for how, copy in _serialization_round_trips(keras, "regularizers", obj, cls, messages).items():
        again = _attempt(messages, f"calling the {how} copy", lambda: float(copy(tensor)))
        if again is not None and value is not None and again != value:
            messages.append(f"the {how} copy gives {again!r}, the original {value!r}")

    def in_layer():
        layer = keras.layers.Dense(DENSE_UNITS, kernel_regularizer=obj, dtype=case.dtype)
        layer(tf.constant(make_input((2, x.shape[-1]), case.dtype, case.seed + 1)))
        return float(sum(float(v) for v in layer.losses)), np.asarray(layer.kernel, np.float64)

    got = _attempt(messages, "as a Dense kernel_regularizer", in_layer)
    if got is not None:
        losses, kernel = got
        _same_value(messages, "Dense(kernel_regularizer=...).losses", losses, reference(kernel, **case.params), case)


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
        return np.stack([np.asarray(call(), np.float64) for _ in range(count)])

    samples = _attempt(messages, "calling it", lambda: draw(obj, INITIALIZER_DRAWS))
    if samples is not None:
        check = check_samples(samples, dist)
        metrics.update(check.metrics, draws=INITIALIZER_DRAWS)
        if not check.ok:
            messages.append(f"samples: {check.message}")
    for how, copy in _serialization_round_trips(keras, "initializers", obj, cls, messages).items():
        copied = _attempt(messages, f"calling the {how} copy", lambda: draw(copy, INITIALIZER_DRAWS // 4))
        if copied is not None:
            check = check_samples(copied, dist)
            if not check.ok:
                messages.append(f"samples of the {how} copy: {check.message}")

    def in_layers():
        kernels = []
        for i in range(LAYER_DRAWS):
            layer = keras.layers.Dense(shape[-1], kernel_initializer=obj, dtype=case.dtype)
            layer.build((None, shape[0]))
            kernels.append(np.asarray(layer.kernel, np.float64))
        return np.stack(kernels)

    if len(shape) == 2:  # a Dense kernel is (in, units)
        kernels = _attempt(messages, "as a Dense kernel_initializer", in_layers)
        if kernels is not None:
            check = check_samples(kernels, dist)
            if not check.ok:
                messages.append(f"Dense(kernel_initializer=...).kernel: {check.message}")
