"""The tf.keras side of a loss (part of the tf.keras target): the loss class built with the case's
dtype (a loss computes in `dtype`, floatx by default, whatever its inputs), or the function form,
called on the named inputs in the case's mode."""
from __future__ import annotations

import numpy as np

from conformance.outcome import SideOutcome, Timings, error_info


def run_loss(op, case, inputs: dict, timings: Timings | None = None) -> SideOutcome:
    """op.keras_callable applied to `inputs` (name -> (values, dtype)) in the case's mode; in a
    compiled mode the eager result is kept as `eager_output` and the first compiled call
    (trace and compile) is timed apart."""
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
        return SideOutcome(output=np.asarray(output).astype(np.float64), eager_output=eager_output)
    except Exception as exc:  # a TensorFlow exception is a result, never a crash of the run
        return SideOutcome(error=error_info(exc, phase))
