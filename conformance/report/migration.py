"""The migration view: for a run of both targets, the cases whose result differs between
Keras 2 (tf_keras) and Keras 3 (tf.keras), grouped by cause, per op.

A case of one catalogue entry runs once per target; the two records share an id but for the
target element (`[...-tf_keras]`). Causes, in the order a reader wants them:
- "default changed" / "formula changed": Keras 2 documents another default or formula for
  this case (conformance.ops.keras2; the Keras 2 record's `outcome.migration` says which);
  both may conform to their own docs and still give different numbers;
- "Keras 2 diverges" / "Keras 3 diverges" / "both diverge": one target departs from its own
  documentation (fail or xfail) where the other does not;
- "not in Keras 2": the op or an argument does not exist there (the Keras 2 case is skipped);
- "documented limitation": Keras 2 documents the case as not supported and raised (skipped);
- "rejection not in Keras 2": the case expects an error that only Keras 3's documentation
  states (the Keras 2 case is skipped).
"""
from __future__ import annotations

from collections import Counter, defaultdict

from conformance.ops.keras2 import REJECTION_PREFIX

KERAS2, KERAS3 = "tf_keras", "tf.keras"
DIVERGING = ("fail", "xfail", "error")
CAUSES = ("default changed", "formula changed", "Keras 2 diverges", "Keras 3 diverges", "both diverge", "not in Keras 2",
          "documented limitation", "rejection not in Keras 2")
ROWS_PER_OP = 12


def base_id(case_id: str, target: str) -> str:
    """The id without its target element (conformance.catalogue.model.mode_id writes it last)."""
    for suffix, keep in ((f"[{target}]", ""), (f"-{target}]", "]")):
        if case_id.endswith(suffix):
            return case_id[: -len(suffix)] + keep
    return case_id


def causes_of(keras3: dict, keras2: dict) -> list[tuple[str, str]]:
    """(cause, detail) for each reason the pair's results differ (none: they agree)."""
    if keras2.get("status") == "skip" and (keras2.get("message") or "").startswith("not in Keras 2"):
        return [("not in Keras 2", keras2["message"].removeprefix("not in Keras 2: "))]
    if keras2.get("status") == "skip" and (keras2.get("message") or "").startswith("documented as not supported"):
        return [("documented limitation", keras2["message"])]
    if keras2.get("status") == "skip" and (keras2.get("message") or "").startswith(REJECTION_PREFIX):
        return [("rejection not in Keras 2", keras2["message"].removeprefix(REJECTION_PREFIX + ": "))]
    out = []
    for note in (keras2.get("outcome") or {}).get("migration") or []:
        if note["cause"] == "default changed":
            detail = f"{note['argument']} defaults to {note['keras2']!r} in Keras 2 ({note['documentation']})"
        else:
            detail = (f"{note['argument']}: " if note.get("argument") else "") + note["documentation"]
        out.append((note["cause"], detail))
    a, b = keras3.get("status") in DIVERGING, keras2.get("status") in DIVERGING
    if a and b:
        out.append(("both diverge", f"Keras 3: {_first_line(keras3)}; Keras 2: {_first_line(keras2)}"))
    elif b and keras3.get("status") == "pass":
        out.append(("Keras 2 diverges", _first_line(keras2)))
    elif a and keras2.get("status") == "pass":
        out.append(("Keras 3 diverges", _first_line(keras3)))
    return out


def migration_view(cases) -> dict | None:
    """{pairs, counts: cause -> cases, ops: [{op, counts, rows}]} for a results document's cases,
    or None when the run did not have both targets."""
    by_target = {KERAS3: {}, KERAS2: {}}
    for case in cases:
        target = case.get("target") or KERAS3
        if target in by_target:
            by_target[target][base_id(case["id"], target)] = case
    if not by_target[KERAS2] or not by_target[KERAS3]:
        return None
    counts, per_op = Counter(), defaultdict(lambda: {"counts": Counter(), "rows": []})
    pairs = 0
    for ident, keras3 in by_target[KERAS3].items():
        keras2 = by_target[KERAS2].get(ident)
        if keras2 is None:
            continue
        pairs += 1
        causes = causes_of(keras3, keras2)
        if not causes:
            continue
        entry = per_op[keras3["op"]]
        for cause, _ in causes:
            counts[cause] += 1
            entry["counts"][cause] += 1
        entry["rows"].append({"id": ident, "arguments": _arguments(keras3), "keras3": keras3.get("status"),
                              "keras2": keras2.get("status"), "causes": causes})
    ops = [{"op": op, "counts": [(c, entry["counts"][c]) for c in CAUSES if entry["counts"][c]],
            "total": len(entry["rows"]), "rows": entry["rows"][:ROWS_PER_OP]}
           for op, entry in sorted(per_op.items(), key=lambda item: (-len(item[1]["rows"]), item[0]))]
    return {"pairs": pairs, "counts": [(c, counts[c]) for c in CAUSES if counts[c]], "ops": ops, "limit": ROWS_PER_OP}


def _arguments(case: dict) -> str:
    """The arguments that make the case: its swept values, else its fixed params."""
    shown = case.get("swept") or case.get("params") or {}
    return ", ".join(f"{k}={v}" for k, v in shown.items() if k != "op") or "(defaults)"


def _first_line(case: dict) -> str:
    return (case.get("message") or case.get("status") or "").splitlines()[0][:200] if case.get("message") else case.get("status", "")
