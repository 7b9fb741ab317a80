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
from conformance.outcome import Timings
from conformance.record import Record
from conformance.target import get_target


def run_case(case) -> Record:
    timings = Timings()
    try:
        op = get_op(case.op)
    except KeyError as exc:
        return Record(case=case, family="unknown", status="error", message=f"harness error: {exc}")
    check = check_of(op, case.call)
    record = Record(case=case, family=op.family, check=check, durations=timings)
    if case.skip:
        record.status, record.message = "skip", case.skip
        return record
    try:
        verdict = JUDGES[check](op, case, get_target(case.target), timings)
    except NotImplementedError as exc:  # validation refuses these; a case built in code may still get here
        verdict = Verdict("error", f"the reference does not model these arguments yet: {exc}")
    except Exception:  # a bug in the reference or the harness is reported, never fatal
        verdict = Verdict("error", "harness error:\n" + traceback.format_exc(limit=6))
    if case.known:
        verdict = judge_known(case.known, verdict)
    status, message = verdict.status, verdict.message
    record.status, record.message, record.metrics, record.outcome = status, message, verdict.metrics, verdict.outcome
    record.durations = dict(timings)
    return record
