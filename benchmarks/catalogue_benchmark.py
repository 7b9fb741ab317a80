"""Time the catalogue: validation, and whole runs with -j 1 and -j 2.

    python3 benchmarks/catalogue_benchmark.py [--repeat N] [--jobs 1 2] [PATH ...]

Validation is timed in-process (best of N, after one warm-up import); runs are timed as
subprocesses of the `conformance` command (wall clock, TensorFlow import included), and
their results.json is read back for the case counts. Numbers quoted in the README and in
issue notes come from here.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def time_validation(paths, repeat: int) -> tuple[float, int]:
    from conformance.catalogue.loader import load_paths

    load_paths(paths)  # warm-up: imports and the op registry
    best, count = float("inf"), 0
    for _ in range(repeat):
        started = time.perf_counter()
        cases, _ = load_paths(paths)
        best = min(best, time.perf_counter() - started)
        count = len(cases)
    return best, count


def time_validate_command(paths) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "conformance.cli", "validate", *paths], check=True, capture_output=True)
    return time.perf_counter() - started


def time_run(paths, jobs: int) -> tuple[float, dict]:
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "conformance.cli", "run", *paths, "-j", str(jobs), "--out", out, "-q"],
            capture_output=True, env={**os.environ},
        )
        wall = time.perf_counter() - started
        summary = json.loads((Path(out) / "results.json").read_text())["summary"]
    return wall, summary


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("paths", nargs="*", default=["cases"])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--jobs", type=int, nargs="*", default=[1, 2])
    args = parser.parse_args()

    seconds, count = time_validation(args.paths, args.repeat)
    print(f"load + validate {count} cases in-process: {seconds * 1000:.0f} ms (best of {args.repeat})")
    print(f"`conformance validate` command, wall clock: {time_validate_command(args.paths):.2f} s")
    for jobs in args.jobs:
        wall, summary = time_run(args.paths, jobs)
        counts = ", ".join(f"{v} {k}" for k, v in summary.items() if v and k != "total")
        print(f"`conformance run -j {jobs}`: {wall:.1f} s wall for {summary['total']} cases ({counts})")


if __name__ == "__main__":
    main()
