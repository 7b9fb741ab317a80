"""The metric check: a stateful metric's result() after `calls` update_state calls (each on a
fresh batch), after each earlier update, and after reset_state() and one more batch, against the
reference's result on the batches seen (reference_impl.metrics), in the case's mode. Each result
is judged by the metric's error bound on the batches it covers (MetricOp.error_bound:
reference_impl.metrics.error_bound, times BOUND_FACTOR), where it has one, else the tolerance.

Inputs are named (y_true, y_pred, sample_weight; Mean and Sum: values, sample_weight) as a
loss's are (conformance.checks.losses.loss_inputs): `inputs:` or `input_shape` (y_pred's shape,
the op derives the others), mapped into the metric's domain (labels, probabilities, ...) and
rounded to their dtype, so both sides get the same numbers. Batch i draws generated inputs from
stream i of the case seed (a fresh batch per call); literal `values:` are the same in every batch.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from conformance.catalogue.model import Case
from conformance.checks.losses import error_bound, loss_inputs, unnamed_inputs
from conformance.checks.values import compare_outputs, representable
from conformance.compare import compare_arrays
from conformance.checks.verdict import Verdict, decide
from conformance.outcome import SideOutcome, Timings, error_info


def metric_batches(op, case: Case) -> list[dict]:
    """calls + 1 batches (the last one for after reset_state), each name -> (values, dtype)."""
    return [loss_inputs(op, case, i) for i in range(case.calls + 1)]


def run_metric_reference(op, case: Case, batches: list[dict]) -> tuple[SideOutcome, dict]:
    """The reference's results: after all batches but the last (the output), after each earlier
    update, and on the last batch alone (after the reset); each with its error bound
    (MetricOp.error_bound on the batches it covers; None: the flat tolerance judges it): the
    output's as the outcome's error_bound, the states' as the second value, by state name."""
    try:
        values = [{name: value for name, (value, _) in batch.items()} for batch in batches]
        calls = len(values) - 1
        covered = {f"after_update_{i}": values[:i] for i in range(1, calls)}
        covered["after_reset"] = values[calls:]
        state = {name: np.asarray(op.compute(seen, case.params), dtype=np.float64) for name, seen in covered.items()}
        output = np.asarray(op.compute(values[:calls], case.params), dtype=np.float64)
    except (ValueError, TypeError) as exc:  # the documented rejection of the arguments or inputs
        return SideOutcome(error=error_info(exc, "call")), {}
    reference = SideOutcome(output=output, state=state, error_bound=error_bound(op, case, values[:calls], output))
    return reference, {name: error_bound(op, case, covered[name], state[name]) for name in state}


def compare_metric(case: Case, reference: SideOutcome, keras: SideOutcome, state_bounds: dict) -> tuple[list[str], dict]:
    """The output as compare_outputs judges it (by the bound where there is one); each earlier
    result (state) likewise by its own bound (state_bounds, by name), else the flat tolerance."""
    messages, metrics = compare_outputs(case, replace(reference, state={}), keras)
    tol = case.effective_tolerance
    if reference.state:
        metrics["state"] = {}
    for name, expected in (reference.state or {}).items():
        if name not in keras.state:
            messages.append(f"{name}: tf.keras has no such variable")
            continue
        r = compare_arrays(keras.state[name], representable(expected, case.dtype), rtol=tol["rtol"], atol=tol["atol"],
                           bound=state_bounds.get(name))
        metrics["state"][name] = {k: v for k, v in r.metrics.items() if k != "error_histogram"}
        if not r.ok:
            messages.append(f"{name} after {case.calls} call(s): {r.message}")
    return messages, metrics


def judge(op, case: Case, target, timings: Timings) -> Verdict:
    unnamed = unnamed_inputs(op, case)
    if unnamed:
        return unnamed
    batches = metric_batches(op, case)
    with timings("reference"):
        reference, state_bounds = run_metric_reference(op, case, batches)
    keras = target.run_metric(op, case, batches, timings)
    with timings("judge"):
        return decide(case, reference, keras, lambda: compare_metric(case, reference, keras, state_bounds))
