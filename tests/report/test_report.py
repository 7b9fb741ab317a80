"""The HTML report without a browser: escaping, size, numbers, order and the baseline diff."""
from __future__ import annotations

import base64
import hashlib
import json
import math
import re
import sys

import pytest

from conformance import results
from conformance.report import main_report, render, render_file
from conformance.report.render import (
    INTERNED, MODE_DESCRIPTIONS, compact_cases, compare, default_order, divergence_table, mode_table, modes_run,
    move_factor,
    script_json, verdict,
)
from conformance.report.synthetic import document as synthetic_document
from report_fixtures import COMMENT, HOSTILE, IMG, SCRIPT, hostile_cases, make_case, make_document


def data_blob(html: str) -> dict:
    match = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', html, re.S)
    assert match, "no data blob"
    return json.loads(match.group(1))


def decoded_cases(html: str) -> list[dict]:
    """The blob's cases as {field: value} dicts, interned strings resolved."""
    data = data_blob(html)
    rows = []
    for row in data["cases"]:
        case = dict(zip(data["fields"], row))
        for key in INTERNED:
            if case.get(key) is not None:
                case[key] = data["strings"][case[key]]
        case["status"] = data["statuses"][case["status"]]
        rows.append(case)
    return rows


# ---------------------------------------------------------------- escaping

def hostile_document():
    cases = hostile_cases() + [
        make_case(f"cases/evil.yaml::op_{SCRIPT}", "error", max_abs_error=None, op=IMG, family=SCRIPT),
        make_case("cases/ok.yaml::fine", "pass"),
        # the new fields are text from results.json too
        make_case(f"cases/evil.yaml::mode[{IMG}]", "fail", mode=IMG, target=SCRIPT, check=COMMENT,
                  durations={IMG: 1.0}),
    ]
    document = make_document(cases, command=f"conformance run {SCRIPT}", flags={IMG: SCRIPT},
                             modes=[SCRIPT, IMG], target=COMMENT)
    # registry text reaches the divergence table, rendered on the server
    document["divergences"] = {f"evil-{IMG}": {
        "id": f"evil-{IMG}", "category": SCRIPT, "counts_against": True, "title": f"title {SCRIPT} {IMG}",
        "links": ["javascript:window.__pwned=1"], "seen": {"tensorflow": SCRIPT, "keras": IMG}}}
    return document


def test_hostile_strings_never_appear_raw_in_the_html():
    html = render(hostile_document(), baseline_document=make_document([make_case("cases/gone.yaml::" + IMG)]))
    for text in HOSTILE:
        assert text not in html
    assert "<img" not in html
    assert "javascript:" not in html.split('id="report-data"')[0]  # no such href anywhere in the markup
    # exactly our two script elements: the data and the code
    assert len(re.findall(r"<script\b", html)) == 2
    # server-rendered places show the text escaped: op and family names, the command, flags, baseline ids
    assert "&lt;img src=x onerror=window.__pwned=1&gt;" in html
    assert "conformance run &lt;/script&gt;&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html


def test_hostile_strings_survive_in_the_data_blob_verbatim():
    html = render(hostile_document())
    cases = {c["id"]: c for c in decoded_cases(html)}
    evil = cases[f"cases/evil.yaml::name_{IMG}"]
    assert evil["params"]["padding"] == SCRIPT and evil["params"][IMG] == 1
    assert SCRIPT in evil["message"] and IMG in evil["message"]
    assert IMG in evil["outcome"][3]["message"]  # [ref shape, keras shape, ref error, keras error]
    mode = cases[f"cases/evil.yaml::mode[{IMG}]"]
    assert (mode["mode"], mode["target"], mode["check"], mode["durations"][-1]) == (IMG, SCRIPT, COMMENT, {IMG: 1.0})
    known = cases["cases/evil.yaml::xfail_reason"]["known"]
    assert known == {"id": f"evil-{IMG}", "category": SCRIPT, "title": f"title {SCRIPT} {IMG}",
                     "links": ["javascript:window.__pwned=1"]}  # the signature stays in results.json
    # the op that does not exist has no snippet: a note saying why, not a broken page
    assert "No reproduction snippet" in cases[f"cases/evil.yaml::op_{SCRIPT}"]["snippet"]


def test_script_json_cannot_close_its_element():
    text = script_json({"a": "</script><!-- & \u2028\u2029 >"})
    assert not set("<>&\u2028\u2029") & set(text)
    assert json.loads(text) == {"a": "</script><!-- & \u2028\u2029 >"}


def test_content_security_policy_admits_only_our_script():
    html = render(make_document([make_case("cases/a.yaml::a")]))
    script = re.search(r"<script>(.*?)</script>", html, re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in html
    assert "default-src 'none'" in html
    assert re.search(r"\s(src|href)=\"(https?:)?//", html) is None  # nothing fetched from the network


def test_autoescape_is_on_for_every_template():
    from conformance.report.render import _environment

    assert _environment().autoescape is True


# ---------------------------------------------------------------- size

def test_size_budget_for_1000_cases():
    html = render(synthetic_document(1000, seed=1))
    size = len(html.encode("utf-8"))
    assert size < 2_000_000, f"{size} bytes for 1,000 cases (budget 2 MB)"


def test_no_per_case_html():
    """Cases live in the JSON blob once; the markup does not grow with them."""
    small = render(synthetic_document(10, seed=2))
    large = render(synthetic_document(500, seed=2))
    markup = lambda html: len(html.split('id="report-data"')[0])  # noqa: E731
    assert markup(large) - markup(small) < 5_000  # only the family counts change


# ---------------------------------------------------------------- numbers and order

def test_counts_and_pass_rate():
    statuses = ["pass"] * 7 + ["fail"] * 2 + ["error", "xfail", "xpass", "skip", "skip"]
    cases = [make_case(f"cases/a.yaml::c{i}", s) for i, s in enumerate(statuses)]
    v = verdict(cases)
    assert v["counts"] == {"fail": 2, "error": 1, "xpass": 1, "xfail": 1, "notrun": 0, "skip": 2, "pass": 7}
    assert v["total"] == 14 and v["ran"] == 12 and v["failing"] == 4 and not v["ok"]
    assert v["pass_rate"] == pytest.approx(7 / 12)
    html = render(make_document(cases))
    assert "58.3%" in html  # 7/12, rounded down
    assert "4 cases need attention" in html


def test_an_interrupted_run_says_it_is_incomplete_and_leaves_notrun_out_of_the_rate():
    statuses = ["pass"] * 3 + ["notrun"] * 2
    cases = [make_case(f"cases/a.yaml::c{i}", s) for i, s in enumerate(statuses)]
    v = verdict(cases)
    assert v["ran"] == 3 and v["pass_rate"] == 1.0 and v["notrun"] == 2 and not v["ok"]
    html = render(make_document(cases))
    assert "Incomplete run" in html and "2 cases did not run" in html


def test_pass_rate_is_never_rounded_up_to_100_percent():
    cases = [make_case(f"cases/a.yaml::c{i}") for i in range(1999)] + [make_case("cases/a.yaml::bad", "fail")]
    html = render(make_document(cases))
    top = re.search(r'<section id="verdict".*?</section>', html, re.S).group(0)
    assert "99.9%" in top and "100%" not in top


def test_all_passing_reads_as_no_divergence():
    html = render(make_document([make_case("cases/a.yaml::a"), make_case("cases/a.yaml::b", "xfail")]))
    assert "No divergence" in html


def test_family_table_counts():
    cases = [make_case("cases/a.yaml::a", "fail", op="Conv1D"), make_case("cases/a.yaml::b", op="Conv1D"),
             make_case("cases/a.yaml::c", op="Conv2D"), make_case("cases/x.yaml::d", "error", op=None, family="catalogue")]
    from conformance.report.render import family_table

    table = {f["name"]: f for f in family_table(cases)}
    assert table["convolution"]["counts"]["fail"] == 1 and table["convolution"]["total"] == 3
    assert [op["name"] for op in table["convolution"]["ops"]] == ["Conv1D", "Conv2D"]
    assert table["catalogue"]["ops"][0] == table["catalogue"]["ops"][0] | {"name": "(no op)", "filter": ""}


def test_bound_table_distribution_per_op_and_dtype():
    from conformance.report.render import bound_table

    def judged(i, ratio, op="Conv2D", dtype="float32", by="bound"):
        case = make_case(f"cases/a.yaml::c{i}", "pass" if ratio <= 1 else "fail", op=op, dtype=dtype)
        case["metrics"].update(judged_by=by, max_bound_ratio=ratio)
        return case

    ratios = [0.0, 0.0005, 0.02, 0.02, 0.3, 0.5, 0.9, 1.5]
    cases = [judged(i, r) for i, r in enumerate(ratios)]
    cases += [judged(20, 0.1, dtype="float16"), judged(21, 7.0, by="tolerance"), make_case("cases/a.yaml::x")]
    rows = {(r["op"], r["dtype"]): r for r in bound_table(cases)}
    assert set(rows) == {("Conv2D", "float32"), ("Conv2D", "float16")}  # the flat-tolerance case is left out
    row = rows["Conv2D", "float32"]
    assert row["n"] == 8 and row["max"] == 1.5 and row["median"] == 0.3 and row["p90"] == 1.5
    assert [b["count"] for b in row["bins"]] == [1, 1, 0, 2, 3, 1]  # exact, <0.001, <0.01, <0.1, <1, >1
    assert "Error bound: how close each op comes to it" in render(make_document(cases))


def test_failing_cases_come_first():
    statuses = ["pass", "skip", "xfail", "xpass", "error", "fail", "pass", "fail"]
    cases = [make_case(f"cases/a.yaml::c{i}", s) for i, s in enumerate(statuses)]
    ordered = [c["status"] for c in default_order(cases)]
    assert ordered == ["fail", "fail", "error", "xpass", "xfail", "skip", "pass", "pass"]
    blob = decoded_cases(render(make_document(cases)))
    assert [c["status"] for c in blob] == ordered
    assert [c["id"] for c in blob][:2] == ["cases/a.yaml::c5", "cases/a.yaml::c7"]  # by id within a status


# ---------------------------------------------------------------- baseline

def test_baseline_diff():
    before = make_document([
        make_case("t::pass_to_fail", "pass"),
        make_case("t::xfail_to_xpass", "xfail"),
        make_case("t::pass_to_error", "pass"),
        make_case("t::fail_to_pass", "fail"),
        make_case("t::error_to_pass", "error", max_abs_error=None),
        make_case("t::fail_to_error", "fail"),
        make_case("t::grew_100x", "pass", max_abs_error=1e-8),
        make_case("t::shrank_1000x", "fail", max_abs_error=1e-3),
        make_case("t::moved_only_5x", "pass", max_abs_error=1e-7),
        make_case("t::from_zero", "pass", max_abs_error=0.0),
        make_case("t::became_nan", "pass", max_abs_error=1e-7),
        make_case("t::stays_inf", "fail", max_abs_error="inf"),
        make_case("t::removed", "pass"),
    ])
    after = make_document([
        make_case("t::pass_to_fail", "fail"),
        make_case("t::xfail_to_xpass", "xpass"),
        make_case("t::pass_to_error", "error", max_abs_error=None),
        make_case("t::fail_to_pass", "pass"),
        make_case("t::error_to_pass", "pass"),
        make_case("t::fail_to_error", "error", max_abs_error=None),
        make_case("t::grew_100x", "pass", max_abs_error=1e-6),
        make_case("t::shrank_1000x", "pass", max_abs_error=1e-6),
        make_case("t::moved_only_5x", "pass", max_abs_error=5e-7),
        make_case("t::from_zero", "pass", max_abs_error=1e-9),
        make_case("t::became_nan", "fail", max_abs_error="nan"),
        make_case("t::stays_inf", "fail", max_abs_error="inf"),
        make_case("t::added", "fail"),
    ])
    diff = compare(before, after)
    ids = lambda key: [r["id"] for r in diff[key]]  # noqa: E731
    assert ids("newly_failing") == ["t::became_nan", "t::pass_to_error", "t::pass_to_fail", "t::xfail_to_xpass"]
    assert ids("fixed") == ["t::error_to_pass", "t::fail_to_pass", "t::shrank_1000x"]
    assert ids("other_changes") == ["t::fail_to_error"]
    assert set(ids("moved")) == {"t::grew_100x", "t::shrank_1000x", "t::from_zero", "t::became_nan"}
    moved = {r["id"]: r for r in diff["moved"]}
    assert moved["t::grew_100x"]["factor"] == pytest.approx(100)
    assert moved["t::shrank_1000x"]["factor"] == pytest.approx(1e-3)
    assert math.isinf(moved["t::from_zero"]["factor"]) and math.isnan(moved["t::became_nan"]["factor"])
    # biggest moves first: NaN and 0 -> x (unbounded), then 1000x, then 100x
    assert ids("moved")[2:] == ["t::shrank_1000x", "t::grew_100x"]
    assert ids("added") == ["t::added"] and ids("removed") == ["t::removed"]

    html = render(after, baseline_document=before)
    assert 'id="baseline"' in html and "4 newly failing" in html and "3 fixed" in html
    assert 'href="#case=t%3A%3Apass_to_fail"' in html
    assert "▲ 100×" in html and "▼ 1e+03×" in html
    assert 'id="baseline"' not in render(after)


def test_exactly_10x_is_not_a_move():
    assert move_factor(1e-6, 1e-5) == pytest.approx(10)
    diff = compare(make_document([make_case("t::a", max_abs_error=1e-6)]),
                   make_document([make_case("t::a", max_abs_error=1e-5)]))
    assert diff["moved"] == []


def test_baseline_environment_changes_are_named():
    html = render(make_document([make_case("t::a")], keras="3.15.1"),
                  baseline_document=make_document([make_case("t::a")], keras="3.14.0"))
    assert "keras 3.14.0 → 3.15.1" in html


# ---------------------------------------------------------------- files and snippets

def test_render_file_and_main_report_default_path(tmp_path):
    path = results.write(tmp_path / "results.json", [make_case("cases/a.yaml::a", "fail")], {"keras": "3.15.1"})
    out = main_report(path)
    assert out == tmp_path / "report.html" and out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    baseline = results.write(tmp_path / "old" / "results.json", [make_case("cases/a.yaml::a")], {})
    other = render_file(path, tmp_path / "sub" / "r.html", baseline_path=baseline)
    assert "1 newly failing" in other.read_text(encoding="utf-8")
    assert main_report(path, output_path=tmp_path / "x.html") == tmp_path / "x.html"


def test_main_report_rejects_a_file_that_is_not_results(tmp_path):
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(ValueError):
        main_report(tmp_path / "bad.json")


def test_a_real_snippet_is_embedded_once_per_line():
    html = render(make_document([make_case("cases/a.yaml::a", "fail"), make_case("cases/a.yaml::b", "fail")]))
    data = data_blob(html)
    snippets = [dict(zip(data["fields"], row))["snippet"] for row in data["cases"]]
    assert all(isinstance(s, list) for s in snippets), snippets
    text = "\n".join(data["lines"][i] for i in snippets[0]).replace("\0", "cases/a.yaml::a")
    assert "cases/a.yaml::a" in text and "tf.keras" in text
    assert len(data["lines"]) < 1.3 * len(text.splitlines())  # the second case shares the template lines


def test_a_failing_snippet_never_breaks_the_page(monkeypatch):
    import conformance.reproduce

    def broken(record):
        raise RuntimeError(f"boom {IMG}")

    monkeypatch.setattr(conformance.reproduce, "snippet", broken)
    case = decoded_cases(render(make_document([make_case("cases/a.yaml::a", "fail")])))[0]
    assert case["snippet"] == f"# No reproduction snippet for this case (RuntimeError: boom {IMG})"


def test_a_missing_reproduce_module_never_breaks_the_page(monkeypatch):
    monkeypatch.setitem(sys.modules, "conformance.reproduce", None)  # import raises ImportError
    case = decoded_cases(render(make_document([make_case("cases/a.yaml::a", "fail")])))[0]
    assert case["snippet"].startswith("# No reproduction snippet")


def test_compact_cases_round_trip_the_fields_the_page_shows():
    case = make_case("cases/a.yaml::a", "fail", message="\x1b[1mcoloured\x1b[0m text", tags=["slow"])
    data = compact_cases([case])
    row = dict(zip(data["fields"], data["cases"][0]))
    assert row["message"] == "coloured text"  # ANSI colours stripped
    assert row["params"] == case["params"] and row["tolerance"] == case["tolerance"] and row["tags"] == ["slow"]
    metrics = dict(zip(data["metric_fields"], row["metrics"]))
    assert metrics["worst_keras"] == case["metrics"]["worst_keras"]
    assert metrics["error_map"] == case["metrics"]["error_map"]
    assert metrics["error_histogram"][0] == case["metrics"]["error_histogram"]["counts"]


def test_repeated_ids_are_compared_occurrence_by_occurrence():
    """A catalogue error repeats its case's id once per failed expansion."""
    twin = lambda status: make_case("t::twin", status, max_abs_error=None, op=None)  # noqa: E731
    diff = compare(make_document([twin("error"), twin("error")]), make_document([twin("error"), twin("pass"), twin("pass")]))
    assert [r["id"] for r in diff["fixed"]] == ["t::twin"]
    assert [r["id"] for r in diff["added"]] == ["t::twin"] and diff["removed"] == []


def test_a_case_without_op_gets_a_note_instead_of_a_snippet():
    case = decoded_cases(render(make_document([make_case("c::x", "error", op=None, family="catalogue")])))[0]
    assert case["snippet"] == "# No reproduction snippet: this case names no op (it is a catalogue error)."


# ---------------------------------------------------------------- execution modes

def three_mode_cases():
    """eager: 2 pass, 1 fail, and 1 pass recorded without a mode; function: 1 pass, 1 xfail;
    xla: 3 pass (one departing from eager), 1 error."""
    def vs(ratio):
        return dict(make_case("x")["metrics"], vs_eager=float(ratio) * 1e-5, vs_eager_ratio=ratio)

    return [
        make_case("cases/m.yaml::a[float32]", mode="eager"),
        make_case("cases/m.yaml::b[float32]", mode="eager"),
        make_case("cases/m.yaml::c[float32]", "fail", mode="eager"),
        make_case("cases/m.yaml::old_record"),  # no `mode`: written before modes existed
        make_case("cases/m.yaml::a[float32-function]", mode="function", metrics=vs(0.5)),
        make_case("cases/m.yaml::b[float32-function]", "xfail", mode="function", metrics=vs(0.0)),
        make_case("cases/m.yaml::a[float32-xla]", mode="xla", metrics=vs(3.5)),
        make_case("cases/m.yaml::b[float32-xla]", mode="xla", metrics=vs("nan")),
        make_case("cases/m.yaml::c[float32-xla]", mode="xla", metrics=vs(0.9)),
        make_case("cases/m.yaml::d[xla]", "error", max_abs_error=None, mode="xla"),
    ]


def mode_row_cells(html: str, mode: str) -> dict:
    """The cells of one row of the rendered By mode table, by column title."""
    section = re.search(r'<section id="modes">.*?</section>', html, re.S).group(0)
    titles = re.findall(r"<th[^>]*>(.*?)</th>", re.search(r"<thead>.*?</thead>", section, re.S).group(0))
    row = re.search(rf'<tr data-mode-row="{mode}">(.*?)</tr>', section, re.S).group(1)
    cells = [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
    return dict(zip(titles, cells))


def test_mode_table_counts_each_mode_by_status():
    html = render(make_document(three_mode_cases(), modes=["eager", "function", "xla"], target="tf.keras"))
    eager, function, xla = (mode_row_cells(html, m) for m in ("eager", "function", "xla"))
    pick = lambda row, *keys: {k: row[k] for k in keys}  # noqa: E731
    assert pick(eager, "pass", "fail", "total") == {"pass": "3", "fail": "1", "total": "4"}
    assert pick(function, "pass", "xfail", "fail", "total") == {"pass": "1", "xfail": "1", "fail": "0", "total": "2"}
    assert pick(xla, "pass", "error", "total", "pass rate") == {"pass": "3", "error": "1", "total": "4", "pass rate": "75.0%"}
    # departing from eager: ratio 3.5 and NaN in xla, none in function; eager is not compared with itself
    assert (xla["departs from eager"], function["departs from eager"], eager["departs from eager"]) == ("2", "0", "–")
    # the rows come in mode order, each a button that filters the case table
    section = re.search(r'<section id="modes">.*?</section>', html, re.S).group(0)
    assert re.findall(r'data-mode-row="(\w+)"', section) == ["eager", "function", "xla"]
    assert 'data-mode="xla"' in section and 'data-mode="function"' in section


def test_a_record_without_mode_counts_as_eager():
    cases = [make_case("cases/m.yaml::old_a"), make_case("cases/m.yaml::old_b", "fail"),
             make_case("cases/m.yaml::a[xla]", mode="xla")]
    assert "mode" not in cases[0]
    table = {row["name"]: row for row in mode_table(cases)}
    assert set(table) == {"eager", "xla"}
    assert table["eager"]["total"] == 2 and table["eager"]["counts"]["fail"] == 1
    html = render(make_document(cases))  # no meta.modes either: the modes come from the cases
    assert mode_row_cells(html, "eager")["total"] == "2"
    modes_line = re.search(r'<p class="modes-line" id="modes-run">(.*?)</p>', html, re.S).group(1)
    assert re.findall(r"<strong[^>]*>(\w+)</strong>", modes_line) == ["eager", "xla"]
    blob = {c["id"]: c for c in decoded_cases(html)}
    assert blob["cases/m.yaml::old_a"]["mode"] == "eager" and blob["cases/m.yaml::a[xla]"]["mode"] == "xla"


def test_the_verdict_names_the_modes_of_the_run():
    cases = three_mode_cases()[:4]  # only eager cases, but the run selected three modes
    html = render(make_document(cases, modes=["eager", "function", "xla"], target="tf.keras"))
    line = re.search(r'<p class="modes-line" id="modes-run">(.*?)</p>', html, re.S).group(1)
    line = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", line))
    assert line.strip() == "Modes run: eager, function, xla (target tf.keras)"
    # what each mode means: under the mode table
    legend = re.search(r'<p class="muted mode-legend">(.*?)</p>', html, re.S).group(1)
    for mode in ("eager", "function", "xla"):
        assert f"<strong>{mode}</strong>: {MODE_DESCRIPTIONS[mode]}." in legend
    assert "tf.function" in MODE_DESCRIPTIONS["function"] and "jit_compile=True" in MODE_DESCRIPTIONS["xla"]
    assert modes_run({"modes": ["xla"]}, cases) == ["xla"]  # meta wins over the cases
    assert modes_run({}, three_mode_cases()) == ["eager", "function", "xla"]
    assert mode_row_cells(html, "xla")["total"] == "0"  # selected, but no case: an empty row, not a link
    assert 'data-mode="xla"' not in html
    assert "Modes run" not in render(make_document([]))


def test_mode_fields_travel_in_the_compact_data():
    case = make_case("cases/m.yaml::a[float32-xla]", mode="xla", target="tf.keras", check="values",
                     durations={"build": 0.0125, "compile": 0.50000001, "call": 0.003, "judge": None, "total": 0.52},
                     metrics=dict(make_case("x")["metrics"], vs_eager=2.5e-5, vs_eager_ratio="inf"))
    data = compact_cases([case])
    row = dict(zip(data["fields"], data["cases"][0]))
    assert [data["strings"][row[k]] for k in ("mode", "target", "check")] == ["xla", "tf.keras", "values"]
    # build, eager, compile, call: missing ones null, trailing ones dropped; total is duration_s, sent apart
    assert dict(zip(data["duration_fields"], row["durations"])) == {
        "build": 0.0125, "eager": None, "compile": 0.5, "call": 0.003}
    # a phase the report does not know travels too, after the known ones
    other = compact_cases([dict(case, durations={"call": 0.25, "warmup": 0.125})])
    durations = dict(zip(other["fields"], other["cases"][0]))["durations"]
    assert durations == [None, None, None, 0.25] + [None] * (len(other["duration_fields"]) - 4) + [{"warmup": 0.125}]
    metrics = dict(zip(data["metric_fields"], row["metrics"]))
    assert metrics["vs_eager"] == 2.5e-5 and metrics["vs_eager_ratio"] == "inf"
    # a mode shared by many cases is one string, not one per case
    many = compact_cases([make_case(f"cases/m.yaml::c{i}[xla]", mode="xla") for i in range(50)])
    assert many["strings"].count("xla") == 1


def test_environment_and_baseline_show_modes_and_target():
    doc = make_document([make_case("t::a")], modes=["eager", "xla"], target="tf.keras")
    html = render(doc, baseline_document=make_document([make_case("t::a")]))
    env = re.search(r'<section id="environment">.*?</section>', html, re.S).group(0)
    assert "<th>Modes</th><td>eager, xla</td>" in env and "<th>Target</th><td>tf.keras</td>" in env
    assert "modes (not recorded) → eager, xla" in html


def test_synthetic_documents_have_modes():
    doc = synthetic_document(300, seed=3)
    assert doc["meta"]["modes"] == ["eager", "function", "xla"] and doc["meta"]["target"] == "tf.keras"
    by_mode = {m: [c for c in doc["cases"] if c["mode"] == m] for m in ("eager", "function", "xla")}
    assert all(len(cases) == 100 for cases in by_mode.values())
    assert all(c["id"].split("]")[0].endswith("-xla") for c in by_mode["xla"])
    assert all("compile" in c["durations"] for c in by_mode["function"])
    assert not any("compile" in c["durations"] for c in by_mode["eager"])
    ratios = [c["metrics"]["vs_eager_ratio"] for c in by_mode["xla"] + by_mode["function"] if c["metrics"]]
    assert any(r > 1 for r in ratios) and any(r <= 1 for r in ratios)
    assert not any("vs_eager" in (c["metrics"] or {}) for c in by_mode["eager"])


# ---------------------------------------------------------------- known divergences

def test_divergence_table_states_counts_and_new_failures():
    def known(ident):
        return {"id": ident, "category": "wrong-result", "title": ident + " title", "signature": [{"values": {}}]}

    entry = lambda ident, seen="2.21.0": {"id": ident, "category": "wrong-result", "counts_against": True,
                                          "title": ident + " title", "links": ["https://x/1"],
                                          "seen": {"tensorflow": seen, "keras": "3.15.1"}}
    cases = [
        make_case("t::a1[float32]", "xfail", known=known("recorded")),
        make_case("t::a2[float64-xla]", "xfail", known=known("recorded"), dtype="float64", mode="xla", op="Dense"),
        make_case("t::b", "xfail", known=known("older")),
        make_case("t::c", "xpass", known=known("gone")),
        make_case("t::d1", "xfail", known=known("drifted")),
        make_case("t::d2", "fail", known=known("drifted")),
        make_case("t::e", "fail"),
        make_case("t::f", "pass"),
        # a case --dtypes moved into a dtype, which the entry only explains: its pass is not counted
        make_case("t::g[float64]", "pass", known={**known("recorded"), "strict": False}, dtype="float64"),
    ]
    document = make_document(cases)
    document["divergences"] = {i: entry(i) for i in ("recorded", "gone", "drifted", "unused")}
    document["divergences"]["older"] = entry("older", seen="2.20.0")
    table = divergence_table(document)
    rows = {r["id"]: r for r in table["rows"]}
    assert {i: r["state"] for i, r in rows.items()} == {
        "recorded": "reproduced", "older": "still there", "gone": "fixed", "drifted": "changed", "unused": "stale"}
    assert [r["id"] for r in table["rows"]][0] == "drifted"  # what needs attention first
    assert rows["recorded"]["total"] == 2 and rows["recorded"]["counts"] == {"xfail": 2}
    assert rows["recorded"]["ops"] == ["Conv2D", "Dense"] and rows["recorded"]["dtypes"] == ["float32", "float64"]
    assert rows["recorded"]["modes"] == ["eager", "xla"]
    assert rows["drifted"]["counts"] == {"fail": 1, "xfail": 1}
    assert table["new"] == 1  # t::e fails and refers to no divergence
    assert table["categories"] == {"wrong-result": 3}  # stale and fixed entries are not counted
    html = render(document)
    assert 'data-known="drifted"' in html and "still there" in html
