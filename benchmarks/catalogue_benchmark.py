"""Time the catalogue: validation, and whole runs per job count and per mode selection.

    python3 benchmarks/catalogue_benchmark.py [--repeat N] [--jobs 1 2] [--modes eager all] [PATH ...]

`--modes eager all all-warm` times the eager-only run and the run in every mode side by side
(the issue on modes asks that all three cost at most 3x eager alone), and splits the time of
the cases by phase (build, eager, compile, call, reference, judge) from results.json. `all`
starts with an empty XLA compile cache (`--compile-cache`), `all-warm` runs again with the
cache `all` filled, as a repeated run (nightly, CI on a kept machine) would.
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


def time_run(paths, jobs: int, modes: str | None = None, cache: str | None = None) -> tuple[float, dict, dict]:
    """Wall clock of one run, its summary, and the cases' seconds summed per phase."""
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "conformance.cli", "run", *paths, "-j", str(jobs), "--out", out, "-q",
             *(["--modes", modes] if modes else []), *(["--compile-cache", cache] if cache else [])],
            capture_output=True, env={**os.environ},
        )
        wall = time.perf_counter() - started
        document = json.loads((Path(out) / "results.json").read_text())
    phases: dict = {}
    for record in document["cases"]:
        for phase, seconds in (record.get("durations") or {}).items():
            phases[phase] = phases.get(phase, 0.0) + seconds
    return wall, document["summary"], phases


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("paths", nargs="*", default=["cases"])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--jobs", type=int, nargs="*", default=[1, 2])
    parser.add_argument("--modes", nargs="*", default=["eager", "all", "all-warm"],
                        help="mode selections to time: 'all' (each case's own modes, cold compile cache), "
                             "'all-warm' (again, with the cache 'all' filled) or a --modes value")
    args = parser.parse_args()

    seconds, count = time_validation(args.paths, args.repeat)
    print(f"load + validate {count} cases in-process: {seconds * 1000:.0f} ms (best of {args.repeat})")
    print(f"`conformance validate` command, wall clock: {time_validate_command(args.paths):.2f} s")
    for jobs in args.jobs:
        walls = {}
        cache = tempfile.mkdtemp(prefix="xla-cache-")  # filled by `all`, reused by `all-warm`
        for modes in args.modes:
            every = modes in ("all", "all-warm")
            wall, summary, phases = time_run(args.paths, jobs, None if every else modes, cache if every else None)
            walls[modes] = wall
            counts = ", ".join(f"{v} {k}" for k, v in summary.items() if v and k != "total")
            split = ", ".join(f"{k} {v:.0f} s" for k, v in sorted(phases.items(), key=lambda kv: -kv[1]))
            print(f"`conformance run -j {jobs} --modes {modes}`: {wall:.1f} s wall for {summary['total']} cases ({counts})")
            print(f"    case time by phase, summed over workers: {split}")
        for every in ("all", "all-warm"):
            if "eager" in walls and every in walls:
                print(f"    {every} / eager only, -j {jobs}: {walls[every] / walls['eager']:.2f}x")


if __name__ == "__main__":
    main()
