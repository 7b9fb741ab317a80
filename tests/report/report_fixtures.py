"""Hand-made results documents for the report tests (imported by both test files)."""
from __future__ import annotations

import copy

IMG = "<img src=x onerror=window.__pwned=1>"
SCRIPT = "</script><script>window.__pwned=1</script>"
COMMENT = "<!-- <script>window.__pwned=1</script>"
HOSTILE = (IMG, SCRIPT, COMMENT)

_METRICS = {
    "n_elements": 24, "max_abs_error": 1e-6, "max_rel_error": 2e-6, "worst_index": [0, 1, 2],
    "worst_keras": 0.5000010000000001, "worst_reference": 0.5, "worst_tolerance_ratio": 0.0999,
    "n_out_of_tolerance": 0, "fraction_out_of_tolerance": 0.0, "n_nonfinite_mismatch": 0,
    "error_histogram": {"decades": list(range(-16, 3)), "counts": [0] * 9 + [3, 6, 4] + [0] * 6, "zeros": 11},
    "error_map": {"axes": [1, 2], "values": [[0.01, 0.02, "inf"], [0.0, 0.0999, "nan"]]},
}


def make_case(case_id: str, status: str = "pass", *, max_abs_error=1e-6, op: str = "Conv2D", **fields) -> dict:
    """One results.json record; metrics only when max_abs_error is not None."""
    metrics = None
    if max_abs_error is not None:
        metrics = copy.deepcopy(_METRICS)
        metrics["max_abs_error"] = max_abs_error
    record = {
        "id": case_id, "op": op, "family": "convolution", "file": case_id.split("::")[0], "line": 3,
        "name": case_id.split("::")[-1], "params": {"filters": 2, "kernel_size": 3}, "swept": {},
        "dtype": "float32", "input_shapes": {"x": [1, 5, 5, 1]}, "input_values": None, "seed": 0,
        "expected": {}, "tolerance": {"rtol": 1e-5, "atol": 1e-5}, "known": None, "tags": [],
        "status": status, "message": "" if status == "pass" else f"{status}: something differs",
        "metrics": metrics,
        "outcome": {"reference": {"output_shape": [1, 3, 3, 2], "error": None},
                    "keras": {"output_shape": [1, 3, 3, 2], "error": None}},
        "duration_s": 0.01,
    }
    record.update(fields)
    return record


def make_document(cases, **meta) -> dict:
    counts = {s: sum(c["status"] == s for c in cases) for s in ("pass", "fail", "error", "xfail", "xpass", "skip")}
    return {
        "schema_version": 1,
        "meta": {"tensorflow": "2.21.0", "keras": "3.15.1", "numpy": "2.4.6", "python": "3.11.7",
                 "platform": "Linux", "cpu": "test CPU", "cpu_count": 2, "flags": {"TF_CPP_MIN_LOG_LEVEL": "2"},
                 "started": "2026-01-01T00:00:00+0000", "duration_s": 12.5, "command": "conformance run", **meta},
        "summary": counts | {"total": len(cases)},
        "cases": list(cases),
    }


def hostile_cases() -> list[dict]:
    """Cases whose catalogue and exception strings hold HTML and script."""
    return [
        make_case(
            f"cases/evil.yaml::name_{IMG}", "fail", max_abs_error=None,
            name=f"name_{IMG}",
            params={"filters": 2, "padding": SCRIPT, IMG: 1},
            tags=[IMG],
            message=f"tf.keras raised ValueError: {SCRIPT}\nsecond line {IMG}",
            outcome={"reference": {"output_shape": [1, 3, 3, 2], "error": None},
                     "keras": {"output_shape": None, "error": {
                         "type": "ValueError", "bases": ["Exception"], "phase": "call",
                         "message": f"exception text {COMMENT} {IMG}"}}},
        ),
        make_case(
            "cases/evil.yaml::xfail_reason", "xfail", max_abs_error=None,
            known={"id": f"evil-{IMG}", "category": SCRIPT, "title": f"title {SCRIPT} {IMG}",
                   "links": ["javascript:window.__pwned=1"], "signature": [{"values": {}}]},
            message=f"expected failure {IMG}",
        ),
    ]
