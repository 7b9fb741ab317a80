"""Diagnosis of a failed value comparison: which common mistake reproduces tf.keras's
output, or, when none does, what the error d = tf.keras - reference looks like.

`diagnose` tries every hypothesis of the op's family (hypotheses.py: each one named
change to the reference's own evaluation, at most one more evaluation each) and keeps
those under which tf.keras's output agrees with the changed reference within the case's
tolerance. When none does, structure.py describes d. The result is a small dict with one
sentence for the reader at its top:

    {"subject": "output", "explained_by": [{"name", "says"}], "tried": [names],
     "structure": [clauses] or None, "sentence": "..."}

Only the main output is tried against the hypotheses (and only for a single call: a
stateful layer's later calls start from changed state); a failing state variable or
loss gets the structural description.
"""
from __future__ import annotations

import traceback

import numpy as np

from conformance.compare import compare_arrays
from conformance.diagnosis.evaluation import Evaluation
from conformance.diagnosis.hypotheses import HYPOTHESES, RECURRENT, Hypothesis
from conformance.diagnosis.structure import describe
from conformance.ops import LayerOp

__all__ = ["Evaluation", "HYPOTHESES", "Hypothesis", "diagnose", "explaining"]


def diagnose(case, reference, keras, evaluation: Evaluation | None) -> dict | None:
    """The diagnosis of a case whose values differ (reference and keras: SideOutcome), or
    None when there is nothing to compare element by element (a shape differs).
    `evaluation` is the reference's evaluation to change (None: describe the error only).
    Never raises: a failure of the diagnosis itself is reported in its sentence."""
    try:
        return _diagnose(case, reference, keras, evaluation)
    except Exception as exc:  # the diagnosis explains a verdict; it must never change one
        last = traceback.format_exception_only(type(exc), exc)[-1].strip()
        return {"subject": None, "explained_by": [], "tried": [], "structure": None,
                "sentence": f"The diagnosis failed: {last}"}


def _diagnose(case, reference, keras, evaluation):
    tol = case.effective_tolerance
    bound = reference.error_bound  # None when the flat tolerance judges
    subject = _failing_subject(reference, keras, tol, bound)
    if subject is None:
        return None
    name, actual, expected = subject
    tried, explained = [], []
    if name == "output" and evaluation is not None:
        tried, explained = explaining(evaluation, actual, tol, bound)
    structure = None
    if not explained:
        allowed = tol["atol"] + tol["rtol"] * np.abs(np.where(np.isfinite(expected), expected, 0.0))
        if name == "output" and bound is not None:
            allowed = np.broadcast_to(bound, np.shape(expected))
        op = None if evaluation is None else evaluation.op
        elementwise_input = evaluation.x if op is not None and op.family == "activations" else None
        structure = describe(actual, expected, allowed, axis_names=_axis_names(op, case.params, actual.ndim, name),
                             weights={} if evaluation is None else evaluation.weights, x=elementwise_input,
                             dtype=case.dtype)
    return {"subject": name, "explained_by": explained, "tried": tried, "structure": structure,
            "sentence": _sentence(name, explained, tried, structure)}


def explaining(evaluation: Evaluation, actual: np.ndarray, tol: dict, bound=None) -> tuple[list, list]:
    """(names of the hypotheses tried, [{"name", "says"}] of those under which `actual`
    agrees with the changed reference within tolerance)."""
    def agree(actual, output):
        return output.shape == actual.shape and compare_arrays(
            actual, output, rtol=tol["rtol"], atol=tol["atol"], bound=bound).ok

    tried, explained = [], []
    for hypothesis in HYPOTHESES:
        if evaluation.op.family not in hypothesis.families:
            continue
        try:
            candidates = hypothesis.change(evaluation)
        except (ValueError, TypeError):  # the reference rejects the changed arguments: not this mistake
            candidates = None
        if candidates is None:
            continue
        tried.append(hypothesis.name)
        for detail, output in candidates.items():
            # a change the tolerance cannot see (epsilon rounded, with these inputs) explains no difference
            if agree(actual, output) and not agree(evaluation.reference, output):
                explained.append({"name": hypothesis.name, "says": f"{hypothesis.says} {detail}".strip()})
                break
    return tried, explained


def _failing_subject(reference, keras, tol, bound):
    """(name, tf.keras's array, the reference's) of the first compared array out of
    tolerance: the output, else a state variable or loss; None if shapes differ or none fails."""
    pairs = [("output", keras.output, reference.output, bound)]
    pairs += [(name, keras.state.get(name), value, None) for name, value in (reference.state or {}).items()]
    for name, actual, expected, bound in pairs:
        if actual is None or expected is None:
            continue
        actual, expected = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
        if actual.shape != expected.shape:
            return None
        if not compare_arrays(actual, expected, rtol=tol["rtol"], atol=tol["atol"], bound=bound).ok:
            return name, actual, expected
    return None


def _axis_names(op, params: dict, ndim: int, subject: str) -> list[str]:
    """Names of the output's axes for the sentences: batch, channels, time, or axis k."""
    names = [f"axis {i}" for i in range(ndim)]
    if subject != "output" or not isinstance(op, LayerOp) or ndim == 0:
        return names
    names[0] = "batch"
    if op.family in ("convolution", "pooling") and ndim > 2:
        names[1 if params.get("data_format") == "channels_first" else ndim - 1] = "channels"
    if op.name in RECURRENT and params.get("return_sequences") and ndim == 3:
        names[1] = "time"
    return names


def _sentence(subject, explained, tried, structure) -> str:
    if explained:
        return f"tf.keras agrees with the reference when {' or when '.join(e['says'] for e in explained)}."
    if subject != "output":  # the hypotheses change the output; a state or loss is only described
        head = f"The output agrees, {subject} does not"
    elif tried:
        head = f"No known mistake reproduces it ({len(tried)} tried: {', '.join(tried)})"
    else:
        head = "No known mistake applies to this op"
    return head + "".join(f"; {fact}" for fact in structure or []) + "."
