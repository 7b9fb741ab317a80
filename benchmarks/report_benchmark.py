"""How big and how fast is the HTML report? Render time, page size, and load and interaction
times in headless Chromium, for a synthetic results.json (20,000 cases by default) or a real one.

    python3 benchmarks/report_benchmark.py                        # synthetic, 20,000 cases
    python3 benchmarks/report_benchmark.py --results reports/results.json
    python3 benchmarks/report_benchmark.py --cases 5000 --no-browser

The budget: under 2 MB of HTML per 1,000 cases (40 MB at 20,000), and a page that stays
responsive. Browser numbers need playwright and Debian's chromium (.ci/install-browser).
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from conformance import results  # noqa: E402
from conformance.report import render_file  # noqa: E402
from conformance.report.synthetic import document  # noqa: E402

BUDGET_PER_1000 = 2_000_000
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=20_000, help="synthetic cases (default 20,000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--results", help="benchmark this results.json instead of a synthetic one")
    parser.add_argument("--out", help="keep results.json and report.html in this folder")
    parser.add_argument("--no-browser", action="store_true", help="only render time and size")
    args = parser.parse_args(argv)

    folder = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="report-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    if args.results:
        results_path = Path(args.results)
        label = str(results_path)
    else:
        start = time.perf_counter()
        doc = document(args.cases, seed=args.seed)
        results_path = results.write(folder / "results.json", doc["cases"], doc["meta"])
        label = f"synthetic, seed {args.seed} (generated in {time.perf_counter() - start:.1f} s)"
    n = len(results.read(results_path)["cases"])
    html_path = folder / "report.html"

    timings = []
    for _ in range(3):  # the best of three: the machine's noise is not the report's
        start = time.perf_counter()
        render_file(results_path, html_path)
        timings.append(time.perf_counter() - start)
    size = html_path.stat().st_size
    per_1000 = size / n * 1000 if n else 0
    print(f"report benchmark: {n} cases, {label}")
    print(f"  results.json       {results_path.stat().st_size / 1e6:8.2f} MB")
    print(f"  render (read+write) {min(timings):7.2f} s   (best of 3)")
    print(f"  report.html        {size / 1e6:8.2f} MB   = {per_1000 / 1e6:.2f} MB per 1,000 cases "
          f"(budget {BUDGET_PER_1000 / 1e6:.0f} MB: {'OK' if per_1000 < BUDGET_PER_1000 else 'OVER'})")
    if not args.no_browser:
        browser_numbers(html_path)
    if not args.out:
        shutil.rmtree(folder)
    return 0 if per_1000 < BUDGET_PER_1000 else 1


def browser_numbers(html_path: Path) -> None:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("  browser: skipped (pip install playwright)")
        return
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if not executable:
        print("  browser: skipped (apt-get install chromium)")
        return
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1300, "height": 900})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))

        start = time.perf_counter()
        page.goto(html_path.as_uri(), timeout=120_000)
        page.wait_for_selector("body[data-ready=true]", timeout=120_000)
        load = time.perf_counter() - start

        def timed(action, done):
            start = time.perf_counter()
            action()
            while not done():
                time.sleep(0.005)
            return time.perf_counter() - start

        words = "conv2d same"
        text = timed(lambda: page.fill("#filter-text", words),
                     lambda: page.get_attribute("#row-count", "data-text") == words)
        matching = page.get_attribute("#row-count", "data-matching")
        page.click("#filter-reset")
        everything = page.get_attribute("#row-count", "data-matching")
        status = timed(lambda: page.uncheck("#status-filter input[value=pass]"),
                       lambda: page.get_attribute("#row-count", "data-matching") != everything)
        sort = timed(lambda: page.click("#case-table th[data-sort=max_abs_error]"),
                     lambda: page.get_attribute("#case-table th[data-sort=max_abs_error]", "aria-sort") != "none")
        page.click("#filter-reset")
        mode = timed(lambda: page.select_option("#filter-mode", "xla"),
                     lambda: page.get_attribute("#row-count", "data-matching") != everything)
        mode_matching = page.get_attribute("#row-count", "data-matching")
        page.click("#filter-reset")
        sort_vs = timed(lambda: page.click("#case-table th[data-sort=vs_eager_ratio]"),
                        lambda: page.get_attribute("#case-table th[data-sort=vs_eager_ratio]", "aria-sort") != "none")
        open_case = timed(lambda: page.locator("#case-rows tr.case-row").first.click(),
                          lambda: page.locator("#case-rows tr.details-row").count() == 1)
        heap = page.evaluate("performance.memory ? performance.memory.usedJSHeapSize : 0")
        nodes = page.evaluate("document.getElementsByTagName('*').length")
        browser.close()
    print(f"  browser load       {load:8.2f} s   (navigation until the table is drawn; Chromium {executable})")
    print(f"  text filter        {text * 1000:8.0f} ms  ({words!r}: {matching} rows; includes the 150 ms typing pause)")
    print(f"  status filter      {status * 1000:8.0f} ms")
    print(f"  sort by max error  {sort * 1000:8.0f} ms")
    print(f"  mode filter (xla)  {mode * 1000:8.0f} ms  ({mode_matching} rows)")
    print(f"  sort by vs eager   {sort_vs * 1000:8.0f} ms")
    print(f"  open a case        {open_case * 1000:8.0f} ms")
    print(f"  DOM elements       {nodes:8d}     JS heap {heap / 1e6:.0f} MB")
    if errors:
        print("  page errors:", *errors, sep="\n    ")


if __name__ == "__main__":
    sys.exit(main())
