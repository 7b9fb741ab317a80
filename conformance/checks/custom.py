"""The custom check: a user's own Keras object (`custom: file.py:Class`) against the
user's own NumPy reference (`reference: file.py:function`). The target observes the object
(values, config round trip, serialization, use inside a layer) and says what differs."""
from __future__ import annotations

from pathlib import Path

from conformance.catalogue import user_code
from conformance.checks.verdict import Verdict


def _load(spec: str):
    file, name = spec.rsplit(":", 1)
    return user_code.load(Path(file), name)


def judge(op, case, target, timings) -> Verdict:
    try:
        cls, reference = _load(case.custom), _load(case.reference)
    except Exception as exc:  # the user's file failed to import: the harness cannot judge
        return Verdict("error", f"loading {case.custom} or {case.reference} failed: {type(exc).__name__}: {exc}")
    with timings("call"):
        messages, metrics = target.check_custom_object(op, case, cls, reference)
    return Verdict("fail" if messages else "pass", "; ".join(messages), metrics)
