"""The tf.keras side of a loss (part of the tf.keras target): the loss class built with the case's
dtype (a loss computes in `dtype`, floatx by default, whatever its inputs), or the function form,
called on the named inputs in the case's mode; with a cotangent, also its vector-Jacobian product
with respect to y_pred (what training differentiates), in a program of its own."""
from __future__ import annotations

import numpy as np

from conformance.axes import MODES
from conformance.outcome import SideOutcome, Timings, error_info
from conformance.target.arrays import as_float64


# The inputs a loss is differentiated by: its prediction (labels and weights are data).
DIFFERENTIATED = ("y_pred",)


def run_loss(op, case, inputs: dict, timings: Timings | None = None, cotangent: np.ndarray | None = None) -> SideOutcome:
    """op.keras_callable applied to `inputs` (name -> (values, dtype)) in the case's mode; in a
    compiled mode the eager result is kept as `eager_output` and the first compiled call
    (trace and compile) is timed apart. With a `cotangent` of the output's shape, the
    vector-Jacobian product with respect to each floating input of DIFFERENTIATED is taken in
    the case's mode, in a program of its own (`gradients`, or `gradient_error` when it raises),
    as tf_keras.run_layer does for a layer."""
    from conformance.target import tf_keras as base  # imported here: tf_keras re-exports run_loss

    tf = base.tensorflow()
    timings = Timings() if timings is None else timings
    phase = "construct"
    try:
        with timings("build"):
            loss = op.keras_callable(tf.keras, case.params, case.dtype)
            names = list(inputs)
            tensors = tuple(tf.constant(np.asarray(value).astype(dtype)) for value, dtype in inputs.values())

        def call(*given):
            return loss(dict(zip(names, given)))

        phase = f"{case.mode} compile"
        compiled, eager_output = base._in_case_mode(case, call, lambda: call(*tensors), tensors, timings)
        phase = "call"
        with timings("call"):
            output = compiled(*tensors)
        outcome = SideOutcome(output=as_float64(output), eager_output=eager_output)
    except Exception as exc:  # a TensorFlow exception is a result, never a crash of the run
        return SideOutcome(error=error_info(exc, phase))
    if cotangent is not None:
        watched = [i for i, (name, t) in enumerate(zip(names, tensors)) if name in DIFFERENTIATED and t.dtype.is_floating]

        def vjp(*given_and_cotangent):
            *given, v = given_and_cotangent
            with tf.GradientTape() as tape:
                for i in watched:
                    tape.watch(given[i])
                out = call(*given)
                projected = tf.reduce_sum(out * tf.cast(v, out.dtype))
            grads = tape.gradient(projected, [given[i] for i in watched])
            return [tf.zeros_like(given[i]) if g is None else tf.convert_to_tensor(g) for i, g in zip(watched, grads)]

        try:
            with timings("gradient"):
                grads = MODES[case.mode].wrap(tf, vjp)(*tensors, tf.constant(cotangent))
            outcome.gradients = {"inputs": {names[i]: as_float64(g) for i, g in zip(watched, grads)},
                                 "weights": {}}
        except Exception as exc:  # a TensorFlow exception is a result, never a crash of the run
            outcome.gradient_error = error_info(exc, "gradient")
    return outcome
