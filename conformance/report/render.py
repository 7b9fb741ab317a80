"""results.json -> one self-contained HTML page (the divergence report).

Everything the page shows comes from the results document alone. The summary, the
per-family tables, the environment and the baseline comparison are rendered here by
Jinja2 (autoescaped). The case table is built in the browser by report.js from a
compact JSON copy of the cases, so that 20,000 cases cost one JSON blob rather than
20,000 rows of HTML, and only the rows on screen exist in the DOM.

Untrusted text (catalogue names, params, divergence titles, exception messages) reaches the
page only two ways: through Jinja2 autoescaping, or inside the JSON blob, which
`script_json` makes unable to close its <script> element and which report.js shows
with textContent only. A Content-Security-Policy admits no script but our own (by hash)
and no network fetch, as a second line of defence.
"""
from __future__ import annotations

import base64
import hashlib
import json
import math
import re
from collections import Counter
from pathlib import Path

import jinja2

from conformance import results
from conformance.axes import MODES as AXES_MODES, REFERENCE_MODE
from conformance.outcome import PHASES
from conformance.report.migration import migration_view

HERE = Path(__file__).parent
# The case table's default order: what needs attention first.
STATUS_ORDER = ("fail", "error", "xpass", "xfail", "notrun", "skip", "pass")
NOT_RUN = ("skip", "notrun")  # never judged: left out of the pass rate
FAILING = ("fail", "error", "xpass")
# Execution modes, in the order they are shown, and what each means (conformance.axes). A
# record without `mode` (written before modes existed) ran eagerly.
MODE_DESCRIPTIONS = {name: mode.doc for name, mode in AXES_MODES.items()}
MODES = tuple(MODE_DESCRIPTIONS)
DEFAULT_MODE = REFERENCE_MODE
MOVE_FACTOR = 10.0  # a max_abs_error that moved more than this, either way, is listed
BASELINE_LIST_LIMIT = 500  # rows per baseline list; the rest are counted, not shown
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")  # TensorFlow colours its messages

# One case travels as a list in this order (names once, not 20,000 times).
CASE_FIELDS = (
    "id", "status", "op", "family", "dtype", "mode", "target", "check", "file", "line", "params", "input_shapes",
    "input_values", "seed", "expected", "tolerance", "known", "tags", "message", "metrics", "outcome", "duration_s",
    "durations", "snippet", "diagnosis",
)
METRIC_FIELDS = (
    "n_elements", "max_abs_error", "max_rel_error", "worst_index", "worst_keras", "worst_reference",
    "worst_tolerance_ratio", "n_out_of_tolerance", "fraction_out_of_tolerance", "n_nonfinite_mismatch",
    "error_histogram", "error_map", "vs_eager", "vs_eager_ratio", "gradients", "serialization",
)
# A case's `durations` travel as a list in this order (seconds; compile only in compiled modes;
# eager: the eager run a compiled mode is compared with). A phase not listed here follows as
# a trailing {name: seconds} object; "total" is duration_s, sent apart.
DURATION_FIELDS = PHASES  # the order a case's time is shown in
_DURATION_KEYS = frozenset(DURATION_FIELDS) | {"total"}
ID_MARK = "\0"  # in a snippet line: the case's id
# few distinct values: sent as indexes into `strings`
INTERNED = ("op", "family", "dtype", "mode", "target", "check", "file")


# ---------------------------------------------------------------- public functions

def render(document: dict, baseline_document: dict | None = None) -> str:
    """The report page for a results document (and its comparison with a baseline)."""
    cases = document.get("cases") or []
    meta = document.get("meta") or {}
    data = compact_cases(cases)
    script = _static("report.js")
    script_hash = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    return _environment().get_template("report.html.j2").render(
        verdict=verdict(cases),
        modes=modes_run(meta, cases),
        mode_descriptions=MODE_DESCRIPTIONS,
        mode_rows=mode_table(cases, meta),
        families=family_table(cases),
        bounds=bound_table(cases),
        divergences=divergence_table(document),
        migration=migration_view(cases),
        environment=environment_rows(meta),
        meta=meta,
        schema_version=document.get("schema_version"),
        statuses=STATUS_ORDER,
        baseline=compare(baseline_document, document) if baseline_document is not None else None,
        data_json=script_json(data),
        css=_static("report.css"),
        script=script,
        script_hash=script_hash,
    )


def render_file(results_path, html_path, baseline_path=None) -> Path:
    """Read results.json (and a baseline), write the HTML report, return its path."""
    document = results.read(results_path)
    baseline = results.read(baseline_path) if baseline_path else None
    html_path = Path(html_path)
    html_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = html_path.with_name(html_path.name + ".tmp")
    tmp.write_text(render(document, baseline), encoding="utf-8")
    tmp.replace(html_path)  # a browser reloading the page never sees half of it
    return html_path


def main_report(results_path, baseline_path=None, output_path=None) -> Path:
    """`conformance report`: the default output is report.html beside RESULTS.json."""
    output = Path(output_path) if output_path else Path(results_path).with_name("report.html")
    return render_file(results_path, output, baseline_path)


# ---------------------------------------------------------------- the numbers at the top

def verdict(cases) -> dict:
    """Counts by status and the pass rate: pass / (total - skip - notrun), as skipped cases
    and those an interrupted run never reached were not judged. A run with notrun cases is
    incomplete, so not ok."""
    counts = Counter(c.get("status") for c in cases)
    total = len(cases)
    ran = total - sum(counts[s] for s in NOT_RUN)
    failing = sum(counts[s] for s in FAILING)
    return {
        "counts": {s: counts[s] for s in STATUS_ORDER},
        "total": total,
        "ran": ran,
        "pass_rate": counts["pass"] / ran if ran else None,
        "failing": failing,
        "notrun": counts["notrun"],
        "ok": failing == 0 and counts["notrun"] == 0,
    }


# ---------------------------------------------------------------- the known divergences

# What a registry entry's cases say about it, in the order the table lists them.
DIVERGENCE_STATES = {
    "changed": "some of its cases now fail differently from its signature",
    "reproduced": "its cases still diverge as recorded, on the versions it was recorded on",
    "still there": "its cases still diverge as recorded, on other versions than it was recorded on",
    "fixed": "every case that refers to it now passes (xpass): tf.keras changed, or the entry is stale",
    "stale": "no case of this run refers to it",
}


def divergence_table(document: dict) -> dict:
    """One row per registry entry: its category and title, how many cases refer to it and
    their statuses, the ops, dtypes and modes of those cases, and its state (DIVERGENCE_STATES);
    then the failing cases that match no recorded divergence ("new")."""
    cases = document.get("cases") or []
    meta = document.get("meta") or {}
    entries = document.get("divergences") or {}
    by_id: dict[str, list] = {}
    for case in cases:
        known = case.get("known")
        # a pass under an entry that only explains a failure (a case --dtypes moved into a dtype,
        # known "strict": False) does not bear on the entry
        if known and not (known.get("strict") is False and case.get("status") == "pass"):
            by_id.setdefault(known.get("id"), []).append(case)
    ids = list(entries) + sorted(i for i in by_id if i not in entries)
    rows = []
    for ident in ids:
        entry = entries.get(ident) or {"id": ident, "category": (by_id[ident][0]["known"] or {}).get("category"),
                                       "title": (by_id[ident][0]["known"] or {}).get("title"), "seen": {}}
        members = by_id.get(ident, [])
        counts = Counter(c.get("status") for c in members)
        seen = entry.get("seen") or {}
        same_versions = all(meta.get(k) == v for k, v in seen.items()) if seen else True
        if not members:
            state = "stale"
        elif counts["fail"]:
            state = "changed"
        elif counts["xfail"]:
            state = "reproduced" if same_versions else "still there"
        elif counts["xpass"]:
            state = "fixed"
        else:
            state = "stale"
        diverging = [c for c in members if c.get("status") in ("xfail", "fail")] or members
        rows.append({
            "id": ident, "category": entry.get("category"), "counts_against": entry.get("counts_against"),
            "title": entry.get("title"), "seen": seen, "state": state,
            "links": [u for u in entry.get("links") or [] if str(u).lower().startswith(("https://", "http://"))],
            "counts": {s: counts[s] for s in STATUS_ORDER if counts[s]}, "total": len(members),
            "ops": sorted({str(c.get("op")) for c in diverging}),
            "dtypes": sorted({str(c.get("dtype")) for c in diverging}),
            "modes": _mode_order(case_mode(c) for c in diverging),
        })
    order = list(DIVERGENCE_STATES)
    rows.sort(key=lambda r: (order.index(r["state"]), not r["counts_against"], str(r["category"]), r["id"]))
    categories = Counter(r["category"] for r in rows if r["state"] not in ("stale", "fixed"))
    new = [c.get("id") for c in cases if c.get("status") == "fail" and not c.get("known")]
    return {"rows": rows, "states": DIVERGENCE_STATES, "categories": dict(sorted(categories.items())),
            "new": len(new), "versions": {k: meta.get(k) for k in ("tensorflow", "keras")}}


def _compact_known(known) -> dict | None:
    """What the case view shows of the case's recorded divergence (not its signature)."""
    if not known:
        return None
    return {k: known.get(k) for k in ("id", "category", "title", "links") if known.get(k)}


def case_mode(case: dict) -> str:
    """The case's execution mode; records from before modes existed ran eagerly."""
    return str(case.get("mode") or DEFAULT_MODE)


def _mode_order(modes) -> list[str]:
    """Distinct modes, the known ones in MODES order, then any others alphabetically."""
    distinct = set(modes)
    return [m for m in MODES if m in distinct] + sorted(distinct - set(MODES))


def modes_run(meta: dict, cases) -> list[str]:
    """The modes selected for the run: meta.modes, else the distinct modes of the cases."""
    selected = meta.get("modes")
    if isinstance(selected, (list, tuple)) and selected:
        return [str(m) for m in selected]
    return _mode_order(case_mode(c) for c in cases)


def mode_table(cases, meta: dict | None = None) -> list[dict]:
    """Per mode, counts by status, and how many cases depart from eager by more than their
    tolerance (vs_eager_ratio above 1, or not a number). A mode selected in meta.modes that has
    no case still gets its (empty) row."""
    counts: dict[str, Counter] = {}
    departs: Counter = Counter()
    compared: Counter = Counter()
    for c in cases:
        mode = case_mode(c)
        counts.setdefault(mode, Counter())[c.get("status")] += 1
        ratio = _number((c.get("metrics") or {}).get("vs_eager_ratio"))
        if ratio is not None:
            compared[mode] += 1
            if not ratio <= 1:  # NaN departs too
                departs[mode] += 1
    selected = (meta or {}).get("modes")
    if not isinstance(selected, (list, tuple)):
        selected = []
    names = _mode_order([*counts, *(str(m) for m in selected if m)])
    return [
        _count_row(mode, counts.get(mode, Counter())) | {
            "filter": mode, "description": MODE_DESCRIPTIONS.get(mode, ""),
            "departs": departs[mode], "compared": compared[mode],
        }
        for mode in names
    ]


def _number(value) -> float | None:
    """A metric as a float ("nan", "inf" strings included), or None when absent or unreadable."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def family_table(cases) -> list[dict]:
    """Per family, its ops with counts by status, and the family's own totals."""
    by_family: dict[str, dict[str, Counter]] = {}
    for c in cases:
        family = c.get("family") or "(none)"
        op = c.get("op") or ""
        by_family.setdefault(family, {}).setdefault(op, Counter())[c.get("status")] += 1
    table = []
    for family in sorted(by_family):
        # `filter`: the op name the case table filters on (none for cases without an op)
        ops = [_count_row(op or "(no op)", counts) | {"filter": op} for op, counts in sorted(by_family[family].items())]
        table.append(_count_row(family, sum(by_family[family].values(), Counter())) | {"ops": ops})
    return table


# Decades of error / bound that the report's bound table counts: exact, then [0, 1e-3), ...,
# [0.1, 1) within the bound, and above 1 (beyond it).
BOUND_BINS = (("exact", 0.0), ("< 0.001", 1e-3), ("< 0.01", 1e-2), ("< 0.1", 0.1), ("< 1", 1.0), ("> 1", float("inf")))


def bound_table(cases) -> list[dict]:
    """Per op and dtype, the cases judged by the op's error bound: how many, and the
    distribution of their error / bound (max_bound_ratio: 0 exact, 1 at the bound), so a reader
    sees how close each op comes to what its dtype allows."""
    ratios: dict[tuple[str, str], list[float]] = {}
    for c in cases:
        metrics = c.get("metrics") or {}
        ratio = _number(metrics.get("max_bound_ratio"))
        if metrics.get("judged_by") != "bound" or ratio is None:
            continue
        ratios.setdefault((c.get("op") or "", c.get("dtype") or ""), []).append(ratio)
    rows = []
    for (op, dtype), values in sorted(ratios.items()):
        values = sorted(values)
        bins, start = [], 0
        for label, upper in BOUND_BINS:
            end = sum(1 for v in values if (v == 0 if upper == 0 else v < upper or (upper == float("inf"))))
            bins.append({"label": label, "count": end - start})
            start = end
        rows.append({"op": op, "dtype": dtype, "n": len(values), "median": values[len(values) // 2],
                     "p90": values[min(len(values) - 1, int(0.9 * len(values)))], "max": values[-1], "bins": bins})
    return rows


def _count_row(name, counts: Counter) -> dict:
    total = sum(counts.values())
    ran = total - sum(counts[s] for s in NOT_RUN)
    return {
        "name": name,
        "counts": {s: counts[s] for s in STATUS_ORDER},
        "total": total,
        "pass_rate": counts["pass"] / ran if ran else None,
    }


def environment_rows(meta: dict) -> list[tuple[str, str]]:
    """(label, value) pairs for the environment table, known keys first, then any others."""
    known = [
        ("tensorflow", "TensorFlow"), ("keras", "Keras"), ("numpy", "NumPy"), ("python", "Python"),
        ("platform", "Platform"), ("cpu", "CPU"), ("started", "Started"), ("duration_s", "Run time"),
        ("jobs", "Worker processes"), ("target", "Target"), ("modes", "Modes"), ("selection", "Selection (-k)"),
        ("runner", "Runner"), ("command", "Command"),
    ]
    rows = []
    for key, label in known:
        value = meta.get(key)
        if value is None:
            continue
        if key == "cpu" and meta.get("cpu_count"):
            value = f"{value} ({meta['cpu_count']} logical CPUs)"
        if key == "duration_s" and isinstance(value, (int, float)):
            value = _duration(value)
        if key == "modes" and isinstance(value, (list, tuple)):
            value = ", ".join(str(m) for m in value)
        rows.append((label, _text(value)))
    flags = meta.get("flags") or {}
    set_flags = " ".join(f"{k}={v}" for k, v in flags.items() if v is not None)
    unset = ", ".join(k for k, v in flags.items() if v is None)
    if flags:
        rows.append(("Flags set", set_flags or "none"))
        if unset:
            rows.append(("Flags unset", unset))
    shown = {k for k, _ in known} | {"flags", "cpu_count"}
    rows += [(key, _text(meta[key])) for key in meta if key not in shown and meta[key] is not None]
    return rows


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, seconds = divmod(seconds, 60)
    return f"{int(minutes)} min {seconds:.0f} s"


def _text(value) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


# ---------------------------------------------------------------- baseline comparison

def compare(baseline: dict, current: dict) -> dict:
    """What changed since the baseline run.

    newly_failing: pass/xfail -> fail/error/xpass; fixed: fail/error -> pass; other_changes:
    any other change of status; moved: max_abs_error grew or shrank more than MOVE_FACTOR
    times (0 -> non-zero counts, with an infinite factor); added / removed: case ids.
    """
    old, new = _by_id(baseline), _by_id(current)
    newly_failing, fixed, other_changes, moved = [], [], [], []
    for key in sorted(old.keys() & new.keys()):
        a, b = old[key], new[key]
        change = {"id": key[0], "before": a.get("status"), "after": b.get("status"), "message": _first_line(b)}
        if change["before"] in ("pass", "xfail") and change["after"] in FAILING:
            newly_failing.append(change)
        elif change["before"] in ("fail", "error") and change["after"] == "pass":
            fixed.append(change)
        elif change["before"] != change["after"]:
            other_changes.append(change)
        before, after = _max_abs_error(a), _max_abs_error(b)
        if before is not None and after is not None:
            factor = move_factor(before, after)
            # on a log scale, with slack for rounding: 1e-6 -> 1e-5 is exactly 10x, not a move
            if _magnitude(factor) > math.log10(MOVE_FACTOR) + 1e-9:
                moved.append(change | {"error_before": before, "error_after": after, "factor": factor,
                                       "factor_text": _factor_text(factor)})
    # the biggest moves first, whichever the direction; a NaN appearing counts as biggest
    moved.sort(key=lambda m: (-_magnitude(m["factor"]), m["id"]))
    return {
        "meta_changes": _meta_changes(baseline.get("meta") or {}, current.get("meta") or {}),
        "newly_failing": newly_failing,
        "fixed": fixed,
        "other_changes": other_changes,
        "moved": moved,
        "added": [{"id": k[0], "after": new[k].get("status")} for k in sorted(new.keys() - old.keys())],
        "removed": [{"id": k[0], "before": old[k].get("status")} for k in sorted(old.keys() - new.keys())],
        "limit": BASELINE_LIST_LIMIT,
    }


def _by_id(document) -> dict[tuple[str, int], dict]:
    """Cases keyed by (id, n): an id can repeat (one catalogue error per failed expansion),
    and its n-th occurrence is compared with the n-th occurrence in the other run."""
    seen: Counter = Counter()
    keyed = {}
    for case in document.get("cases") or []:
        case_id = str(case.get("id"))
        keyed[(case_id, seen[case_id])] = case
        seen[case_id] += 1
    return keyed


def move_factor(before: float, after: float) -> float:
    """after / before; inf when the error appears from exactly 0, nan when only one side is NaN."""
    if math.isnan(before) or math.isnan(after):
        return 1.0 if math.isnan(before) and math.isnan(after) else math.nan
    if before == after:
        return 1.0
    if before == 0:
        return math.inf
    if math.isinf(before):  # inf -> finite: an infinite improvement
        return 0.0
    return after / before


def _factor_text(factor: float) -> str:
    if math.isnan(factor):
        return "NaN on one side"
    if factor >= 1:
        return "▲ ∞×" if math.isinf(factor) else f"▲ {factor:.3g}×"
    return "▼ ∞×" if factor == 0 else f"▼ {1 / factor:.3g}×"


def _magnitude(factor: float) -> float:
    if math.isnan(factor):
        return math.inf
    if factor == 0 or math.isinf(factor):
        return math.inf
    return abs(math.log10(factor))


def _max_abs_error(case) -> float | None:
    value = (case.get("metrics") or {}).get("max_abs_error")
    if value is None:
        return None
    return float(value)  # also takes the strings "nan", "inf", "-inf"


def _first_line(case) -> str:
    message = ANSI.sub("", case.get("message") or "")
    return message.splitlines()[0] if message else ""


def _meta_changes(before: dict, after: dict) -> list[tuple[str, str, str]]:
    """What differs between the two runs' environments and settings that can change the
    numbers: versions, CPU and its flags, TensorFlow's environment variables and the facts
    the workers read (oneDNN, threads, XLA flags), target and modes."""
    changes = [(k, a, b) for k, a, b in results.environment_differences(before, after)]
    changes += [(k, before.get(k), after.get(k)) for k in ("target", "modes") if before.get(k) != after.get(k)]
    return [(k, _meta_value(a), _meta_value(b)) for k, a, b in changes]


def _meta_value(value) -> str:
    if value is None:
        return "(not recorded)"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return _text(value)


# ---------------------------------------------------------------- the data for report.js

def compact_cases(cases) -> dict:
    """The cases as report.js reads them: field names once, repeated strings interned,
    snippets split into lines shared across cases (most lines of every snippet are the
    same template text)."""
    strings: dict[str, int] = {}
    lines: dict[str, int] = {}
    rows = [_compact_case(c, strings, lines) for c in default_order(cases)]
    return {
        "statuses": list(results.STATUSES),
        "order": list(STATUS_ORDER),
        "fields": list(CASE_FIELDS),
        "metric_fields": list(METRIC_FIELDS),
        "duration_fields": list(DURATION_FIELDS),
        "modes": list(MODES),
        "strings": list(strings),
        "lines": list(lines),
        "cases": rows,
    }


def default_order(cases) -> list[dict]:
    """Failing first (fail, error, xpass, then xfail, skip, pass), by id within a status."""
    rank = {s: i for i, s in enumerate(STATUS_ORDER)}
    return sorted(cases, key=lambda c: (rank.get(c.get("status"), len(rank)), str(c.get("id"))))


def _compact_case(case: dict, strings: dict, lines: dict) -> list:
    def intern(value):
        return None if value is None else strings.setdefault(str(value), len(strings))

    status = case.get("status")
    values = {
        "id": case.get("id"),
        "status": results.STATUSES.index(status) if status in results.STATUSES else status,
        **{key: intern(case.get(key)) for key in INTERNED if key != "mode"},
        "mode": intern(case_mode(case)),  # always sent: a missing mode is eager, said once, here
        "line": case.get("line"),
        "params": case.get("params") or None,
        "input_shapes": case.get("input_shapes") or None,
        "input_values": case.get("input_values"),
        "seed": case.get("seed"),
        "expected": case.get("expected") or None,
        "tolerance": case.get("tolerance"),
        "known": _compact_known(case.get("known")),
        "tags": case.get("tags") or None,
        "message": ANSI.sub("", case.get("message") or "") or None,
        "metrics": _compact_metrics(case.get("metrics")),
        "outcome": _compact_outcome(case.get("outcome")),
        "duration_s": _round(case.get("duration_s"), 4),
        "durations": _compact_durations(case.get("durations")),
        "snippet": _snippet_lines(case, lines),
        "diagnosis": (case.get("diagnosis") or {}).get("sentence"),  # the one sentence the case view opens with
    }
    row = [values[f] for f in CASE_FIELDS]
    while row and row[-1] is None:  # trailing nulls cost bytes and say nothing
        row.pop()
    return row


def _compact_metrics(metrics):
    if not metrics:
        return None
    row = [metrics.get(f) for f in METRIC_FIELDS]
    histogram = metrics.get("error_histogram")
    if histogram:  # the decade edges are the same for every case: report.js knows them
        row[METRIC_FIELDS.index("error_histogram")] = [histogram.get("counts"), histogram.get("zeros"), histogram.get("decades")]
    if metrics.get("gradients") is not None:
        row[METRIC_FIELDS.index("gradients")] = _compact_gradients(metrics["gradients"])
    if metrics.get("serialization") is not None:
        row[METRIC_FIELDS.index("serialization")] = _compact_serialization(metrics["serialization"])
    while row and row[-1] is None:
        row.pop()
    return row


def _compact_gradients(gradients: dict):
    """The gradient check (conformance.checks.gradients) as the report shows it: the reason it
    was not checked (a string), or one row per variable, [group/name, error / allowed, tf.keras's
    <g, u>, the reference's <v, J u>, allowed, one-sided interval or null, unresolved]."""
    if "not_checked" in gradients:
        return gradients["not_checked"]
    if "error" in gradients:
        error = gradients["error"]
        return f"tf.keras raised {error.get('type')} computing the gradient: {error.get('message', '')[:300]}"

    def short(x):  # results.json keeps non-finite numbers as strings ("inf", "nan")
        return float(f"{x:.6g}") if isinstance(x, (int, float)) else x

    return [[f"{group}/{name}", short(e.get("ratio")), short(e.get("keras")), short(e.get("reference")),
             short(e.get("allowed")), e.get("one_sided"), bool(e.get("unresolved"))]
            for group in ("inputs", "weights") for name, e in sorted((gradients.get(group) or {}).items())]


def _compact_serialization(serialization: dict):
    """The serialization check (conformance.checks.serialization) as the report shows it: the
    reason it was not checked (a string), or one row per round trip, [name, null when the copy
    is the same or what changed, or the reason it was not checked]."""
    from conformance.checks.serialization import problem

    not_checked = serialization.get("not_checked")
    if isinstance(not_checked, str):
        return not_checked
    rows = [[name, problem(name, entry)] for name, entry in (serialization.get("round_trips") or {}).items()]
    return rows + [[name, f"not checked: {why}"] for name, why in (not_checked or {}).items()]


def _compact_durations(durations):
    """Seconds per phase in DURATION_FIELDS order (null where missing), then any other phase
    as one {name: seconds} object; None when there is nothing."""
    if not durations or not isinstance(durations, dict):
        return None
    row = [durations.get(f) for f in DURATION_FIELDS]
    row = [round(v, 4) if isinstance(v, float) else v for v in row]
    while row and row[-1] is None:
        row.pop()
    if not _DURATION_KEYS.issuperset(durations):  # rare: a phase this report does not know
        others = {str(k): _round(v, 4) for k, v in durations.items() if k not in _DURATION_KEYS and v is not None}
        if others:
            row += [None] * (len(DURATION_FIELDS) - len(row)) + [others]
    return row or None


def _compact_outcome(outcome):
    """[reference shape, keras shape, reference error, keras error]; errors lose their ANSI colours."""
    if not outcome:
        return None
    row = []
    for side in ("reference", "keras"):
        row.append((outcome.get(side) or {}).get("output_shape"))
    for side in ("reference", "keras"):
        error = (outcome.get(side) or {}).get("error")
        if error:
            error = dict(error, message=ANSI.sub("", error.get("message") or ""))
        row.append(error)
    while row and row[-1] is None:
        row.pop()
    return row or None


def _snippet_lines(case: dict, lines: dict):
    """The reproduction script as indexes into the shared `lines` table, or a string
    saying why there is none: a missing or failing snippet() must never break the page."""
    if not case.get("op"):
        return "# No reproduction snippet: this case names no op (it is a catalogue error)."
    try:
        from conformance.reproduce import snippet
    except ImportError:
        return "# No reproduction snippet: conformance.reproduce is not available in this installation."
    try:
        text = snippet(case)
    except Exception as exc:  # noqa: BLE001 - any failure becomes a note on that case
        return f"# No reproduction snippet for this case ({type(exc).__name__}: {exc})"
    if not isinstance(text, str):
        return "# No reproduction snippet for this case."
    if case.get("id"):  # the id is in the data already: NUL stands for it, report.js puts it back
        text = text.replace(case["id"], ID_MARK)
    return [lines.setdefault(line, len(lines)) for line in text.split("\n")]


def _round(value, digits):
    return round(value, digits) if isinstance(value, float) else value


def script_json(value) -> str:
    """JSON that is safe inside <script type="application/json">: <, > and & (which JSON
    only has inside strings) become \\u escapes, so no text can close the element or open a
    comment, and U+2028/2029 too, for old JavaScript parsers."""
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except ValueError:  # a hand-made document with a bare NaN: spell it as results.json does
        text = json.dumps(results.jsonable(value), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escape)
    return text


# ---------------------------------------------------------------- templates

def _fmt_number(value, digits=3) -> str:
    if isinstance(value, str):
        return value  # "nan", "inf", "-inf" as results.json spells them
    if value is None:
        return "–"
    if isinstance(value, float) and (math.isinf(value) or math.isnan(value)):
        return str(value)
    if value == 0:
        return "0"
    return f"{value:.{digits}g}"


def _fmt_rate(value) -> str:
    if value is None:
        return "–"
    percent = 100 * value
    # 99.96% shown as 100.0% would hide a failure
    return f"{math.floor(percent * 10) / 10:.1f}%" if percent < 100 else "100%"


_ENV = None


def _environment() -> jinja2.Environment:
    global _ENV
    if _ENV is None:
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"),
            autoescape=True,  # every {{ }} is escaped, whatever the template file is called
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.filters.update(number=_fmt_number, rate=_fmt_rate)
        _ENV = env
    return _ENV


def _static(name: str) -> str:
    return (HERE / "static" / name).read_text(encoding="utf-8")
