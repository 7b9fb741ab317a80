"""The loss check: a loss class's reduced value (or a function form's per-sample losses) against
the reference's, in the case's mode, within the loss's error bound (LossOp.error_bound:
reference_impl.losses.class_error_bound, times BOUND_FACTOR of the compute dtype) where it has
one, else the case's tolerance (a case's own `tolerance:` always judges instead).

Inputs are named (y_true, y_pred, sample_weight; circle's ref_labels and ref_embeddings): a case
gives them as `inputs:` or gives `input_shape` (y_pred's shape) and the op derives the others
(LossOp.specs). Each generated input has its own stream of the case seed and is mapped into the
loss's domain by the op (LossOp.prepare: probabilities, labels, ...), then rounded to its dtype,
so both sides get the same numbers; literal `values:` are taken as written.

When the values agree, the gradient with respect to y_pred (what training differentiates) is
checked as a layer's is (gradients.py): tf.keras's vector-Jacobian product of a random cotangent
against the reference's directional derivative, with the same sample in compiled modes.
"""
from __future__ import annotations

import numpy as np

from conformance.catalogue.model import compute_dtype
from conformance.checks import gradients
from conformance.checks.values import compare_outputs
from conformance.ops.bounds import BOUND_FACTOR
from reference_impl import rounding
from conformance.checks.verdict import Verdict, decide
from conformance.diagnosis import diagnose
from conformance.outcome import SideOutcome, Timings, error_info
from conformance.runner.inputs import make_named_input, numpy_dtype, round_to
from conformance.catalogue.model import Case


def loss_inputs(op, case: Case, call_index: int = 0) -> dict:
    """name -> (values, the dtype tf.keras gets them in), drawn from stream `call_index` (a
    metric's batches); integer labels as their spec says (int32 by default), floats in their
    spec's dtype or the case's."""
    specs = case.inputs or op.specs(tuple(case.input_shape), case.params)
    drawn = {name: make_named_input(name, spec, case.dtype, case.seed, call_index) for name, spec in specs.items()}
    literal = {name for name, spec in specs.items() if "values" in spec}
    prepared = op.prepare(drawn, case.params, literal)
    out = {}
    for name, value in prepared.items():
        declared = specs[name].get("dtype")
        if np.issubdtype(np.asarray(value).dtype, np.integer) or value.dtype == bool:
            out[name] = (value, np.dtype(declared or "int32") if value.dtype != bool else np.bool_)
        else:  # a float, or labels the op made float (one-hot): the spec's float dtype or the case's
            dtype = declared if declared and declared.startswith(("float", "bfloat")) else case.dtype
            out[name] = (round_to(value, dtype), numpy_dtype(dtype))
    return out


def unnamed_inputs(op, case: Case) -> Verdict | None:
    """The error verdict of a loss or metric case giving `input_values`: one literal array cannot
    say which named input (y_true, y_pred, ...) it is."""
    if case.input_values is None:
        return None
    return Verdict("error", f"{op.name} takes named inputs: give literal values as `inputs: {{y_true: {{values: ...}}, "
                            "y_pred: {values: ...}}`, not `input_values`")


def run_loss_reference(op, case: Case, inputs: dict) -> SideOutcome:
    try:
        values = {name: value for name, (value, _) in inputs.items()}
        output = np.asarray(op.compute(values, case.params), dtype=np.float64)
    except (ValueError, TypeError) as exc:  # the documented rejection of the arguments or inputs
        return SideOutcome(error=error_info(exc, "call"))
    return SideOutcome(output=output, error_bound=error_bound(op, case, values, output))


def error_bound(op, case: Case, values, output):
    """The op's per-element error bound (LossOp/MetricOp.error_bound) for these inputs in the
    case's format, times the dtype's BOUND_FACTOR, as values.error_bound is for a layer; None
    when the op has none for these arguments or the case states its own `tolerance`. Where the
    reference is not finite the comparison needs no bound (the positions must match); a bound
    that is not finite where the reference is (a logarithm whose argument's interval reaches 0)
    bounds nothing, and the case falls back to the flat tolerance."""
    if op.error_bound is None or case.tolerance or not case.dtype or output is None:
        return None
    dtype = compute_dtype(case.dtype)
    fmt = rounding.format_of(dtype)
    with np.errstate(all="ignore"):
        bound = op.error_bound(values, case.params, fmt, output=output)
    if bound is None:
        return None
    bound = np.broadcast_to(np.asarray(bound, dtype=np.float64), np.shape(output))
    finite = np.isfinite(output)
    if np.any(finite & ~np.isfinite(bound)):
        return None
    return BOUND_FACTOR[dtype] * np.where(finite, bound, 0.0)


def judge(op, case: Case, target, timings: Timings) -> Verdict:
    unnamed = unnamed_inputs(op, case)
    if unnamed:
        return unnamed
    inputs = loss_inputs(op, case)
    with timings("reference"):
        reference = run_loss_reference(op, case, inputs)
    why = gradients.not_checked(op, case, reference)
    v = None if why else gradients.cotangent(case, np.shape(reference.output))
    keras = target.run_loss(op, case, inputs, timings, **({"cotangent": v} if v is not None else {}))
    with timings("judge"):
        verdict = decide(case, reference, keras, lambda: compare_outputs(case, reference, keras))
    if v is not None and verdict.status == "pass":
        with timings("reference gradient"):
            _judge_gradients(verdict, op, case, inputs, keras, v, reference)
    elif verdict.metrics is not None:
        verdict.metrics["gradients"] = {"not_checked": why or "the forward values diverge"}
    if verdict.status == "fail" and reference.output is not None and keras.output is not None and verdict.metrics:
        # no implementation mistake is modelled for losses: the diagnosis describes the error
        with timings("diagnose"):
            verdict.diagnosis = diagnose(case, reference, keras, None)
    return verdict


def _judge_gradients(verdict: Verdict, op, case: Case, inputs: dict, keras: SideOutcome, v, reference: SideOutcome) -> None:
    """The gradient with respect to y_pred, judged as values.py judges a layer's."""
    values = {name: value for name, (value, _) in inputs.items()}

    def forward(moved, weights):
        return np.asarray(op.compute({**values, **moved}, case.params), dtype=np.float64)

    def judged():
        differentiated = {name: values[name] for name in keras.gradients["inputs"]}
        return gradients.judge(case, forward, differentiated, {}, keras.gradients, v, reference.output,
                               tangent=op.tangent(case.params) if op.tangent else None)

    gradients.add_to_verdict(verdict, keras, judged)
