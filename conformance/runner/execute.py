"""Run one case: pick its check's judge, give it the case's target, and turn the verdict
into a record.

Statuses: pass; fail (a divergence: shape, values, or one side raising where the other
does not); error (the harness could not judge: the reference crashed, or disagrees with
the catalogue's own expectation); xfail / xpass (a recorded divergence that still
diverges as its signature says / now agrees; a failure that does not match the signature
stays a fail); skip.
"""
from __future__ import annotations

import traceback

from conformance.checks import JUDGES
from conformance.checks.known import judge_known
from conformance.checks.verdict import Verdict
from conformance.ops import check_of, get_op
from conformance.ops.keras2 import TARGET as KERAS2_TARGET, documented_by, documented_limitation, migration, undocumented_rejection
from conformance.outcome import Timings, harness_error
from conformance.record import Record
from conformance.target import get_target


def run_case(case) -> Record:
    timings = Timings()
    try:
        op = get_op(case.op)
    except KeyError as exc:
        return Record(case=case, family="unknown", status="error", message=f"harness error: {exc}")
    check = check_of(op, case.call, case.train)
    record = Record(case=case, family=op.family, check=check, durations=timings)
    if case.skip:
        record.status, record.message = "skip", case.skip
        return record
    try:
        target = get_target(case.target)
        missing = target.unsupported(op, case) or undocumented_rejection(op, case)
        if missing:
            record.status, record.message = "skip", missing
            return record
        target.reset_random_state(case.seed)
        # the op as the case's target documents it (Keras 2's defaults and formulas where they differ)
        verdict = JUDGES[check](documented_by(op, case.target), case, target, timings)
    except NotImplementedError as exc:  # validation refuses these; a case built in code may still get here
        verdict = Verdict("error", f"the reference does not model these arguments yet: {exc}")
    except Exception:  # a bug in the reference or the harness is reported, never fatal
        verdict = Verdict("error", "harness error:\n" + traceback.format_exc(limit=6))
    allowed = documented_limitation(op, case, ((verdict.outcome or {}).get("keras") or {}).get("error")) \
        if verdict.status == "fail" else None
    if allowed:  # Keras 2 documents this as not supported, and it raised
        verdict = Verdict("skip", f"documented as not supported by Keras 2 ({allowed}); it raised", outcome=verdict.outcome)
    if case.known:
        verdict = judge_known(case.known, verdict)
    status, message = verdict.status, verdict.message
    record.status, record.message, record.metrics, record.outcome = status, message, verdict.metrics, verdict.outcome
    notes = migration(op, case) if case.target == KERAS2_TARGET else []
    if notes:  # what Keras 2 documents differently for this case (the report's migration view)
        record.outcome = {**(record.outcome or {}), "migration": notes}
    record.diagnosis = verdict.diagnosis
    record.durations = dict(timings)
    return record


def stopped_record(case, stop) -> Record:
    """The record of a case whose worker was stopped (conformance.runner.worker.Stop). A
    process killed by a signal while tf.keras ran is tf.keras's crash: a fail, which a
    recorded `crash:` divergence turns into an xfail, as for a case run with `isolate`. A
    timeout, a memory overrun, or a death in the reference's or the harness's code cannot be
    judged: an error. An interrupted case is notrun."""
    message = stop.describe()
    if stop.reason == "signal" and stop.side == "tf.keras":
        error = harness_error("ProcessCrash", message, stop.phase)
        verdict = Verdict("fail", message, outcome={"keras": {"output_shape": None, "error": error}})
        if case.known:
            verdict = judge_known(case.known, verdict)
    else:
        verdict = Verdict("notrun" if stop.reason == "interrupted" else "error", message)
    record = _bare_record(case, verdict.status, verdict.message)
    record.outcome = {**verdict.outcome, "stopped": stop.to_json()}
    return record


def not_run_record(case, why: str) -> Record:
    """A case the run never reached (it was interrupted first, or no worker could start)."""
    return _bare_record(case, "notrun", why)


def error_record(case, message: str) -> Record:
    """A case the harness could not run (a distributed task lost for good, say)."""
    return _bare_record(case, "error", message)


def _bare_record(case, status: str, message: str) -> Record:
    try:
        op = get_op(case.op)
        family, check = op.family, check_of(op, case.call, case.train)
    except KeyError:
        family, check = "unknown", None
    return Record(case=case, family=family, check=check, status=status, message=message)
