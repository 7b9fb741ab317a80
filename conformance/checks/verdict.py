"""The verdict ladder, written once for every check.

Given what the reference and the target produced, in this order:
1. the case expects an error: the reference must raise it (else the harness cannot judge:
   error), and the target must raise it or a subclass, matching `match` (pass; else fail);
2. the reference rejects the arguments the case calls valid: error;
3. the reference's shape is not the case's expected `output_shape`: error;
4. the target raises where the reference accepts: fail;
5. otherwise the check's own comparison decides: pass, or fail with its messages.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

from conformance.outcome import SideOutcome


@dataclass
class Verdict:
    status: str
    message: str = ""
    metrics: dict | None = None
    outcome: dict = field(default_factory=dict)
    diagnosis: dict | None = None  # what explains a failed value comparison (conformance.diagnosis)


def raised(side: SideOutcome, expected: str, pattern: str | None) -> bool:
    """Did this side raise `expected` (or a subclass; "Exception" is any), matching `pattern`?"""
    if side.error is None:
        return False
    names = [side.error["type"], *side.error["bases"]]
    if expected != "Exception" and expected not in names:
        return False
    return pattern is None or re.search(pattern, side.error["message"]) is not None


def decide(case, reference: SideOutcome, target: SideOutcome, compare: Callable[[], tuple[list[str], dict]]) -> Verdict:
    """The ladder above; `compare()` -> (messages, metrics) runs only when both sides produced
    something to compare."""
    outcome = {"reference": reference.summary(), "keras": target.summary()}
    expected_error = case.expect.get("error")
    if expected_error:
        pattern = case.expect.get("match")
        if not raised(reference, expected_error, None):
            return Verdict("error", f"the reference does not raise {expected_error} as the case expects: it {reference.describe()}", outcome=outcome)
        if raised(target, expected_error, pattern):
            return Verdict("pass", outcome=outcome)
        wanted = expected_error + (f" matching {pattern!r}" if pattern else "")
        return Verdict("fail", f"expected {wanted} (the reference rejects: {reference.error['message']}); tf.keras {target.describe()}", outcome=outcome)
    if reference.error:
        return Verdict("error", f"the reference rejects the arguments: {reference.error['message']}", outcome=outcome)
    expected_shape = case.expect.get("output_shape")
    if expected_shape is not None and reference.shape != expected_shape:
        return Verdict("error", f"the reference gives shape {reference.shape} but the case expects {expected_shape}", outcome=outcome)
    if target.error:
        return Verdict("fail", f"tf.keras {target.describe()}; the reference accepts these arguments", outcome=outcome)
    messages, metrics = compare()
    return Verdict("fail" if messages else "pass", "; ".join(messages), metrics, outcome)
