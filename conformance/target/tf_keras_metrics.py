"""The tf.keras side of a metric (part of the tf.keras target): tf.keras.metrics.<Class> built
with the case's dtype, update_state on each batch in the case's mode (eager, inside tf.function,
or inside tf.function(jit_compile=True), as a compiled train step updates its metrics), result()
after each update in the same mode, then reset_state() and one more batch."""
from __future__ import annotations

import numpy as np

from conformance.outcome import SideOutcome, Timings, error_info
from conformance.target.arrays import as_float64


def run_metric(op, case, batches: list, timings: Timings | None = None) -> SideOutcome:
    """`batches`: one dict name -> (values, dtype) per update_state call, the last one for after
    reset_state. The output is result() after every batch but the last; the state holds the
    result after each earlier update (`after_update_<i>`) and after the reset and the last batch
    (`after_reset`). In a compiled mode, the same metric is first run eagerly over the batches
    (its final result is `eager_output`), then update_state is traced and compiled on the first
    batch, the metric reset after each."""
    from conformance.target import tf_keras as base  # imported here: tf_keras re-exports run_metric

    tf = base.tensorflow()
    timings = Timings() if timings is None else timings
    phase = "construct"
    try:
        with timings("build"):
            params = op.keras_params(tf.keras, case.params) if op.keras_params else case.params
            metric = getattr(tf.keras.metrics, op.keras_class)(**params, dtype=case.dtype)
            names = list(batches[0])
            feeds = [tuple(tf.constant(np.asarray(value).astype(dtype)) for value, dtype in batch.values())
                     for batch in batches]

        def update(*given):
            metric.update_state(**dict(zip(names, given)))

        def run_eagerly():
            for feed in feeds[:-1]:
                update(*feed)
            return metric.result()

        phase = f"{case.mode} compile"
        compiled, eager_output = base._in_case_mode(case, update, run_eagerly, feeds[0], timings,
                                                    reset=metric.reset_state)
        result = base.MODES[case.mode].wrap(tf, lambda: metric.result())
        outputs = []
        with timings("call"):
            for i, feed in enumerate(feeds):
                if i == len(feeds) - 1:
                    phase = "reset_state"
                    metric.reset_state()
                phase = f"update_state {i + 1} of {len(feeds)}"
                compiled(*feed)
                phase = f"result after update {i + 1}"
                outputs.append(as_float64(result()))
        state = {f"after_update_{i}": value for i, value in enumerate(outputs[:-2], 1)}
        state["after_reset"] = outputs[-1]
        return SideOutcome(output=outputs[-2], state=state, eager_output=eager_output)
    except Exception as exc:  # a TensorFlow exception is a result, never a crash of the run
        return SideOutcome(error=error_info(exc, phase))
