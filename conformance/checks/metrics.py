"""The metric check: a stateful metric's result() after `calls` update_state calls (each on a
fresh batch), after each earlier update, and after reset_state() and one more batch, against the
reference's result on the batches seen (reference_impl.metrics), in the case's mode.

Inputs are named (y_true, y_pred, sample_weight; Mean and Sum: values, sample_weight) as a
loss's are (conformance.checks.losses.loss_inputs): `inputs:` or `input_shape` (y_pred's shape,
the op derives the others), mapped into the metric's domain (labels, probabilities, ...) and
rounded to their dtype, so both sides get the same numbers. Batch i draws generated inputs from
stream i of the case seed (a fresh batch per call); literal `values:` are the same in every batch.
"""
from __future__ import annotations

import numpy as np

from conformance.catalogue.model import Case
from conformance.checks.losses import loss_inputs, unnamed_inputs
from conformance.checks.values import compare_outputs
from conformance.checks.verdict import Verdict, decide
from conformance.outcome import SideOutcome, Timings, error_info


def metric_batches(op, case: Case) -> list[dict]:
    """calls + 1 batches (the last one for after reset_state), each name -> (values, dtype)."""
    return [loss_inputs(op, case, i) for i in range(case.calls + 1)]


def run_metric_reference(op, case: Case, batches: list[dict]) -> SideOutcome:
    """The reference's results: after all batches but the last (the output), after each earlier
    update, and on the last batch alone (after the reset)."""
    try:
        values = [{name: value for name, (value, _) in batch.items()} for batch in batches]
        calls = len(values) - 1
        state = {f"after_update_{i}": np.asarray(op.compute(values[:i], case.params), dtype=np.float64)
                 for i in range(1, calls)}
        state["after_reset"] = np.asarray(op.compute(values[calls:], case.params), dtype=np.float64)
        output = np.asarray(op.compute(values[:calls], case.params), dtype=np.float64)
        return SideOutcome(output=output, state=state)
    except (ValueError, TypeError) as exc:  # the documented rejection of the arguments or inputs
        return SideOutcome(error=error_info(exc, "call"))


def judge(op, case: Case, target, timings: Timings) -> Verdict:
    unnamed = unnamed_inputs(op, case)
    if unnamed:
        return unnamed
    batches = metric_batches(op, case)
    with timings("reference"):
        reference = run_metric_reference(op, case, batches)
    keras = target.run_metric(op, case, batches, timings)
    with timings("judge"):
        return decide(case, reference, keras, lambda: compare_outputs(case, reference, keras))
