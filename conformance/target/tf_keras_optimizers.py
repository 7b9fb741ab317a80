"""The tf.keras side of an optimizer case (part of the tf.keras target): variables made from
the case's values, the optimizer built from its params (a learning-rate schedule or a wrapped
optimizer given as {class_name, config}) and built on the variables (or, with the case's
`call: {build: in_step}`, left to build its slots in its first apply_gradients, inside the
compiled step, as a custom training loop does), then one apply_gradients per step in the case's mode
(eagerly, inside tf.function, or compiled by XLA), reading the variables and the optimizer's
slot variables after each step."""
from __future__ import annotations

import numpy as np

from conformance.axes import MODES
from conformance.outcome import SideOutcome, Timings, error_info
from conformance.target.arrays import as_float64


def keras_optimizer(keras, name: str, params: dict):
    """tf.keras.optimizers.<name>(**params), with a learning-rate schedule or an inner optimizer
    given as {class_name, config} built into its object."""
    arguments = dict(params)
    rate = arguments.get("learning_rate")
    if isinstance(rate, dict):
        arguments["learning_rate"] = getattr(keras.optimizers.schedules, rate["class_name"])(**rate.get("config", {}))
    inner = arguments.get("inner_optimizer")
    if isinstance(inner, dict):
        arguments["inner_optimizer"] = keras_optimizer(keras, inner["class_name"], inner.get("config", {}))
    default = arguments.pop("default_optimizer", None)
    if isinstance(default, dict):  # MultiOptimizer: an OptimizerMap of {pattern: {class_name, config}}
        mapping = {key: keras_optimizer(keras, o["class_name"], o.get("config", {}))
                   for key, o in (arguments.pop("optimizer_map", None) or {}).items()}
        arguments["optimizer_map"] = keras.optimizers.OptimizerMap(
            keras_optimizer(keras, default["class_name"], default.get("config", {})), mapping)
    return getattr(keras.optimizers, name)(**arguments)


def _variable(tf, value, name):
    """A Keras variable where the Keras has its own class (Keras 3: optimizers read its path),
    else a TensorFlow variable (Keras 2)."""
    make = getattr(tf.keras, "Variable", None)
    if make is not None:
        return make(initializer=value, dtype=value.dtype.name, name=name)
    return tf.Variable(value, name=name)


def _slots(optimizer, names: list, suffixes: dict) -> dict:
    """{variable name: {reference slot: value}} from the optimizer's variables named
    `<variable>_<keras suffix>` (Keras 3) or `<variable>/<suffix>`-like (Keras 2)."""
    out = {n: {} for n in names}
    for v in optimizer.variables:
        label = v.name.split(":")[0].split("/")[-1]
        for n in names:
            for suffix, slot in suffixes.items():
                if label == f"{n}_{suffix}":
                    out[n][slot] = as_float64(v)
    return out


def run_optimizer(op, case, variables: dict, gradients: list, timings: Timings | None = None) -> SideOutcome:
    """SideOutcome whose `steps` hold, after each step, {"variables": {name: array},
    "slots": {name: {slot: array}}}. In a compiled mode the first step traces and compiles
    the step (timed as compile) and then runs as every other step does."""
    from conformance.runner.inputs import numpy_dtype
    from conformance.target.tf_keras import tensorflow

    tf = tensorflow()
    timings = Timings() if timings is None else timings
    phase = "construct"
    try:
        with timings("build"):
            dtype = numpy_dtype(case.dtype)
            names = list(variables)
            model = [_variable(tf, np.asarray(variables[n]).astype(dtype), n) for n in names]
            optimizer = keras_optimizer(tf.keras, op.keras_class, case.params)
            if case.call.get("build", "before") == "before":
                optimizer.build(model)

        def step(*grads):
            optimizer.apply_gradients(zip(grads, model))

        run = MODES[case.mode].wrap(tf, step)
        steps = []
        for i, grads in enumerate(gradients):
            phase = f"{case.mode} step {i + 1} of {len(gradients)}"
            tensors = [tf.constant(np.asarray(grads[n]).astype(dtype)) for n in names]
            with timings("compile" if i == 0 and MODES[case.mode].compiled else "call"):
                run(*tensors)
            steps.append({"variables": {n: as_float64(v) for n, v in zip(names, model)},
                          "slots": _slots(optimizer, names, op.slots)})
        return SideOutcome(steps=steps)
    except Exception as exc:  # a TensorFlow exception is a result, never a crash of the run
        return SideOutcome(error=error_info(exc, phase))
