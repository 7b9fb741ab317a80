"""The HTML report in a real browser: headless Chromium (Debian's /usr/bin/chromium) driven by Playwright.

Without a browser these tests are skipped, except under CI=true, where they fail: CI must not
pass by silently skipping them (.ci/install-browser installs what they need).
"""
from __future__ import annotations

import os
import shutil
import time

import pytest

from conformance import results
from conformance.report import render_file
from conformance.report.synthetic import document as synthetic_document
from report_fixtures import COMMENT, IMG, SCRIPT, hostile_cases, make_case

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def _missing(reason: str):
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}; CI=true, so the browser tests may not be skipped (run .ci/install-browser)", pytrace=False)
    pytest.skip(f"{reason} (install with .ci/install-browser)")


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed")
    executable = (os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
                  or next((p for p in ("/usr/bin/chromium",) if os.path.exists(p)), None))
    if not executable:
        _missing("no Chromium executable (Debian package `chromium`; or set CHROMIUM=/path/to/it)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _vs_eager(ratio):
    return dict(make_case("x")["metrics"], vs_eager=ratio * 1e-5, vs_eager_ratio=ratio)


# One case in three modes; the xla one moves from eager far more than any synthetic case (ratio 40 at most)
TWIN = "cases/modes.yaml::triplet[float32]"
TWIN_FUNCTION = "cases/modes.yaml::triplet[float32-function]"
TWIN_XLA = "cases/modes.yaml::triplet[float32-xla]"


def _mode_cases():
    return [
        make_case(TWIN, mode="eager", target="tf.keras", check="values",
                  durations={"build": 0.0125, "call": 0.003, "reference": 0.002, "judge": 0.0004}),
        make_case(TWIN_FUNCTION, mode="function", target="tf.keras", check="values", metrics=_vs_eager(0.2),
                  durations={"build": 0.0125, "compile": 0.25, "call": 0.003, "reference": 0.002, "judge": 0.0004}),
        make_case(TWIN_XLA, mode="xla", target="tf.keras", check="values", metrics=_vs_eager(1e6), duration_s=1.5,
                  durations={"build": 0.0125, "eager": 0.004, "compile": 1.25, "call": 0.003, "reference": 0.002,
                             "judge": 0.0004, "warmup": 0.0002}),
    ]


def mode_of(case) -> str:
    return case.get("mode") or "eager"


def _cases():
    special = _mode_cases() + [
        make_case("cases/zoo.yaml::zebra_unique_case", "fail", max_abs_error=0.25,
                  message="40 of 50 elements out of tolerance; zebra",
                  diagnosis={"sentence": "tf.keras agrees with the reference when the kernel is flipped spatially."}),
        make_case("cases/zoo.yaml::giraffe_case", "pass", op="Conv1D", dtype="float64", max_abs_error=3e-12),
        # catalogue errors repeat their case's id, once per expansion that failed
        make_case("cases/zoo.yaml::twin", "error", max_abs_error=None, op=None, family="catalogue"),
        make_case("cases/zoo.yaml::twin", "error", max_abs_error=None, op=None, family="catalogue"),
    ]
    return hostile_cases() + special + synthetic_document(260, seed=5)["cases"]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    cases = _cases()
    now = results.write(folder / "results.json", cases, {"keras": "3.15.1", "command": f"run {SCRIPT}"})
    before = [dict(c, status="pass") for c in cases if c["id"] != "cases/zoo.yaml::giraffe_case"]
    old = results.write(folder / "old" / "results.json", before, {"keras": "3.14.0"})
    return {"path": render_file(now, folder / "report.html", baseline_path=old), "cases": cases}


def open_report(browser, path, *, bypass_csp=False):
    """A page showing the report; page.problems collects console errors, uncaught exceptions
    and any request that leaves the file."""
    context = browser.new_context(viewport={"width": 1300, "height": 900}, bypass_csp=bypass_csp)
    page = context.new_page()
    page.problems = []
    page.on("console", lambda m: m.type == "error" and page.problems.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: page.problems.append(f"pageerror: {e}"))
    page.on("request", lambda r: r.url.startswith(("file:", "data:")) or page.problems.append(f"request: {r.url}"))
    page.goto(path.as_uri())
    page.wait_for_selector("body[data-ready=true]")
    return page


@pytest.fixture
def page(browser, report):
    page = open_report(browser, report["path"])
    yield page
    page.context.close()


def wait_until(check, timeout=5.0):
    """Poll from Python: the page's CSP forbids the eval that page.wait_for_function uses."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the page")
        time.sleep(0.02)


def matching(page) -> int:
    return int(page.get_attribute("#row-count", "data-matching"))


def row_statuses(page) -> list[str]:
    return page.locator("#case-rows tr.case-row td:first-child").all_inner_texts()


def set_text(page, text: str):
    page.fill("#filter-text", text)
    # the filter waits for typing to pause: wait until the table shows that text's result
    wait_until(lambda: page.get_attribute("#row-count", "data-text") == text)


def test_loads_and_works_without_console_errors(page, report):
    assert matching(page) == len(report["cases"])
    page.locator("#case-rows tr.case-row").nth(0).click()
    page.locator("#case-table th[data-sort=max_abs_error]").click()
    page.locator("#case-rows tr.case-row").nth(0).click()
    page.click("#page-next")
    page.select_option("#page-size", "1000")
    page.click("#filter-reset")
    assert page.problems == []


def test_failing_cases_come_first(page):
    statuses = row_statuses(page)
    order = ["fail", "error", "xpass", "xfail", "skip", "pass"]
    assert statuses[0] == "fail"
    assert [order.index(s) for s in statuses] == sorted(order.index(s) for s in statuses)


def test_filter_by_status(page, report):
    expected = sum(c["status"] == "xfail" for c in report["cases"])
    for status in ("fail", "error", "xpass", "skip", "pass"):
        page.uncheck(f"#status-filter input[value={status}]")
    assert matching(page) == expected
    assert set(row_statuses(page)) == {"xfail"}
    page.click("#filter-reset")
    assert matching(page) == len(report["cases"])


def test_status_chip_at_the_top_filters(page, report):
    page.click("#status-counts [data-status=error]")
    assert matching(page) == sum(c["status"] == "error" for c in report["cases"])


def test_filter_by_free_text_op_and_dtype(page, report):
    set_text(page, "zebra_unique")
    assert matching(page) == 1
    assert "zebra_unique_case" in page.inner_text("#case-rows")
    set_text(page, "giraffe float64")  # every word must match
    assert matching(page) == 1
    set_text(page, "giraffe float32")
    assert matching(page) == 0
    page.click("#filter-reset")
    page.select_option("#filter-op", "Conv1D")
    assert matching(page) == sum(c["op"] == "Conv1D" for c in report["cases"])
    page.select_option("#filter-dtype", "float64")
    assert matching(page) == sum(c["op"] == "Conv1D" and c["dtype"] == "float64" for c in report["cases"])


def test_opening_a_case_shows_its_details(page):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    set_text(page, "zebra_unique")
    page.locator("#case-rows tr.case-row").first.click()
    details = page.locator("#case-rows tr.details-row")
    assert details.is_visible()
    text = details.inner_text()
    # the diagnosis first, before the verdict's message
    assert text.index("Diagnosis: tf.keras agrees with the reference when the kernel is flipped spatially.") < text.index("40 of 50")
    for expected in ("filters", "kernel_size", "rtol 1.00e-5, atol 1.00e-5", "max abs error", "0.25",
                     "0.5000010000000001", "worst element", "Reproduce", "Reproduces cases/zoo.yaml::zebra_unique_case"):
        assert expected in text
    assert details.locator("svg.hist rect").count() == 19  # 18 decades and the exact zeros
    assert details.locator("svg.heat rect").count() == 6
    details.locator("button.copy").click()
    wait_until(lambda: details.locator("button.copy").inner_text() != "copy")
    assert "Reproduces cases/zoo.yaml::zebra_unique_case" in page.evaluate("navigator.clipboard.readText()")
    page.locator("#case-rows tr.case-row").first.click()  # closes again
    assert page.locator("#case-rows tr.details-row").count() == 0


@pytest.mark.parametrize("bypass_csp", [False, True], ids=["with-csp", "escaping-alone"])
def test_hostile_catalogue_and_exception_strings_show_as_text_and_never_run(browser, report, bypass_csp):
    page = open_report(browser, report["path"], bypass_csp=bypass_csp)
    set_text(page, "evil.yaml")
    assert matching(page) == 2
    for i in range(2):
        page.locator("#case-rows tr.case-row").nth(i).click()
    page.wait_for_timeout(200)
    assert page.evaluate("window.__pwned") is None
    assert page.locator("img").count() == 0
    assert page.locator("a[href^=javascript], a[href^=JAVASCRIPT]").count() == 0
    shown = page.inner_text("#case-rows")
    for text in (IMG, SCRIPT, COMMENT, "javascript:window.__pwned=1"):  # name, params, messages, divergence, link
        assert text in shown
    assert page.locator("#case-rows").get_by_text(f"title {SCRIPT} {IMG}").is_visible()  # the known divergence's title
    assert page.locator("#divergences").get_by_text(f"title {SCRIPT} {IMG}").is_visible()  # and its row above
    assert page.get_by_text(SCRIPT, exact=False).first.is_visible()
    assert page.evaluate("window.__pwned") is None
    assert page.problems == []
    page.context.close()


def test_sorting_by_a_column(page, report):
    page.locator("#case-table th[data-sort=max_abs_error]").click()  # largest first
    first = page.locator("#case-rows tr.case-row").first.locator("td.col-error").inner_text()
    largest = max(float(c["metrics"]["max_abs_error"]) for c in report["cases"] if c["metrics"])
    assert float(first) == pytest.approx(largest, rel=1e-2)
    assert page.get_attribute("#case-table th[data-sort=max_abs_error]", "aria-sort") == "descending"
    page.locator("#case-table th[data-sort=id]").click()  # by id, whatever the status
    ids = page.locator("#case-rows tr.case-row td.case-id").all_inner_texts()
    ids = [i.lstrip("▸ ") for i in ids]
    assert ids == sorted(ids) and ids[0] == min(c["id"] for c in report["cases"])


def test_pages_of_rows(page, report):
    assert page.locator("#case-rows tr.case-row").count() == 100
    page.click("#page-next")
    assert page.inner_text("#page-info").startswith("page 2 of ")
    page.select_option("#page-size", "1000")
    assert page.locator("#case-rows tr.case-row").count() == len(report["cases"])


def test_baseline_link_opens_the_case(page):
    assert "Compared with the baseline" in page.inner_text("#baseline")
    page.locator("#bl-newly-failing + table a", has_text="zebra_unique_case").click()
    details = page.locator("#case-rows tr.details-row")
    details.wait_for()
    assert "Reproduces cases/zoo.yaml::zebra_unique_case" in details.inner_text()


def test_cases_with_the_same_id_open_one_at_a_time(page):
    set_text(page, "zoo.yaml::twin")
    assert matching(page) == 2
    page.locator("#case-rows tr.case-row").first.click()
    assert page.locator("#case-rows tr.details-row").count() == 1
    assert "names no op" in page.inner_text("#case-rows tr.details-row")


# ---------------------------------------------------------------- execution modes

def row_modes(page) -> list[str]:
    return page.locator("#case-rows tr.case-row td.col-mode").all_inner_texts()


def test_mode_filter_shows_only_that_mode(page, report):
    assert page.locator("#filter-mode option").all_inner_texts() == ["all", "eager", "function", "xla"]
    page.select_option("#page-size", "1000")  # every matching row on one page
    for mode in ("xla", "function", "eager"):  # eager includes the records that have no mode
        page.select_option("#filter-mode", mode)
        expected = sum(mode_of(c) == mode for c in report["cases"])
        assert 0 < expected < len(report["cases"])
        assert matching(page) == expected
        assert row_modes(page) == [mode] * expected
    page.click("#filter-reset")
    assert matching(page) == len(report["cases"]) and page.input_value("#filter-mode") == ""


def test_mode_in_the_mode_table_filters_the_cases(page, report):
    page.click("#modes [data-mode=function]")
    assert matching(page) == sum(mode_of(c) == "function" for c in report["cases"])
    assert page.input_value("#filter-mode") == "function"
    assert set(row_modes(page)) == {"function"}
    page.click("#modes .departs-count [data-mode=xla]")  # xla's "departs from eager" count: sorted by vs eager
    assert page.input_value("#filter-mode") == "xla"
    assert page.get_attribute("#case-table th[data-sort=vs_eager_ratio]", "aria-sort") == "descending"
    assert page.locator("#case-rows tr.case-row td.case-id").first.inner_text().lstrip("▸ ") == TWIN_XLA


def test_sorting_by_vs_eager_puts_the_largest_ratio_first(page, report):
    page.locator("#case-table th[data-sort=vs_eager_ratio]").click()
    assert page.get_attribute("#case-table th[data-sort=vs_eager_ratio]", "aria-sort") == "descending"
    rows = page.locator("#case-rows tr.case-row")
    assert rows.first.locator("td.case-id").inner_text().lstrip("▸ ") == TWIN_XLA
    assert rows.first.locator("td.col-vs-eager").inner_text() == "1.00e+6"  # its "≠" mark is CSS ::before
    ratios = [float(t) for t in page.locator("#case-rows td.col-vs-eager").all_inner_texts() if t]
    assert ratios == sorted(ratios, reverse=True) and ratios[0] == 1e6
    # above 1 is marked, 1 and below are not
    cells = page.locator("#case-rows td.col-vs-eager")
    for i in range(cells.count()):
        text, marked = cells.nth(i).inner_text(), "departs" in (cells.nth(i).get_attribute("class") or "")
        if text:
            assert marked == (float(text) > 1), (text, marked)
    assert page.locator("#case-rows td.col-vs-eager.departs").count() >= 2  # the synthetic ones above 1 too
    page.locator("#case-table th[data-sort=vs_eager_ratio]").click()  # smallest first; cases without a ratio still sink
    first = page.locator("#case-rows tr.case-row").first.locator("td.col-vs-eager").inner_text()
    assert float(first) == min(float(c["metrics"]["vs_eager_ratio"]) for c in report["cases"]
                               if c["metrics"] and c["metrics"].get("vs_eager_ratio") is not None)


def test_a_free_text_word_matches_the_mode(page, report):
    set_text(page, "eager")  # eager ids carry no mode: the word matches the mode itself
    assert matching(page) == sum(mode_of(c) == "eager" for c in report["cases"])
    set_text(page, "triplet function")
    assert matching(page) == 1


def kv_rows(details) -> dict:
    rows = {}
    for tr in details.locator("table.kv tr").all():
        rows.setdefault(tr.locator("th").inner_text().strip(), tr.locator("td").inner_text())
    return rows


def test_details_show_mode_durations_and_vs_eager(page):
    set_text(page, "triplet xla")
    page.locator("#case-rows tr.case-row").first.click()
    details = page.locator("#case-rows tr.details-row")
    facts = kv_rows(details)
    assert (facts["mode"], facts["target"], facts["check"]) == ("xla", "tf.keras", "values")
    assert (facts["total"], facts["build"], facts["compile"], facts["call"], facts["reference"], facts["judge"]) == \
        ("1.5 s", "12.5 ms", "1.25 s", "3 ms", "2 ms", "0.4 ms")
    assert facts["eager run (for vs eager)"] == "4 ms" and facts["warmup"] == "0.2 ms"  # any other phase shows too
    assert facts["max |xla − eager|"] == "10" and facts["/ tolerance"] == "1.000e+6 — departs from eager"
    text = details.inner_text()
    assert "Above 1, the mode departs from eager by more than the tolerance" in text
    details.locator("a", has_text="the same case in eager").click()  # the eager twin opens too
    wait_until(lambda: page.locator("#case-rows tr.details-row").count() == 2)
    opened = {kv_rows(d)["mode"]: d for d in page.locator("#case-rows tr.details-row").all()}
    eager = kv_rows(opened["eager"])
    assert "compile" not in eager and eager["build"] == "12.5 ms"
    # (text_content: inner_text would give the section titles upper-cased, as the CSS shows them)
    assert "Against eager" not in opened["eager"].text_content() and "Against eager" in opened["xla"].text_content()


def test_a_record_without_mode_shows_as_eager(page):
    set_text(page, "zebra_unique")
    assert row_modes(page) == ["eager"]
    page.locator("#case-rows tr.case-row").first.click()
    facts = kv_rows(page.locator("#case-rows tr.details-row"))
    assert facts["mode"] == "eager" and facts["total"] == "10 ms" and "build" not in facts


def test_a_divergence_row_lists_its_cases(page, report):
    button = page.locator("#divergences [data-known]").first
    ident = button.get_attribute("data-known")
    button.click()
    wait_until(lambda: page.get_attribute("#row-count", "data-text") == ident)
    assert matching(page) == sum(1 for c in report["cases"] if (c.get("known") or {}).get("id") == ident) > 0
    assert page.input_value("#filter-text") == ident
