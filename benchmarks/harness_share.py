"""How much of a case's time is the harness's own: everything but tf.keras and the reference.

    python3 benchmarks/harness_share.py [FILE ...] [--modes eager,function,xla] [--profile N]

Runs the cases of the given catalogue files in this process (after one warm-up case, so the
TensorFlow import is not counted) and splits each case's wall time into
- tf.keras: the target's phases (build, the eager run a compiled mode compares with,
  compile, call),
- reference: the NumPy reference,
- harness: the rest (loading is not counted; inputs and weights, judging and metrics,
  the record).
With --profile N it also prints the N functions of the harness's own code (conformance/)
with the largest own time, to show where the harness's share goes.
"""
from __future__ import annotations

import argparse
import cProfile
import pstats
import time

TARGET_PHASES = ("build", "eager", "compile", "call")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("paths", nargs="*", default=["cases/conv2d.yaml"])
    parser.add_argument("--modes", default=None)
    parser.add_argument("--profile", type=int, default=0)
    args = parser.parse_args()

    from conformance.axes import parse_modes
    from conformance.catalogue.loader import load_paths
    from conformance.runner.execute import run_case
    from conformance.selection import select_modes

    cases, errors = load_paths(args.paths)
    cases = select_modes(cases, parse_modes(args.modes) if args.modes else None)
    run_case(cases[0])  # warm-up: TensorFlow's import and first kernels
    profiler = cProfile.Profile() if args.profile else None
    totals = {"tf.keras": 0.0, "reference": 0.0, "harness": 0.0}
    by_mode: dict = {}
    for case in cases:
        if profiler:
            profiler.enable()
        started = time.perf_counter()
        record = run_case(case)
        wall = time.perf_counter() - started
        if profiler:
            profiler.disable()
        target = sum(record.durations.get(p, 0.0) for p in TARGET_PHASES)
        reference = record.durations.get("reference", 0.0)
        split = {"tf.keras": target, "reference": reference, "harness": max(0.0, wall - target - reference)}
        for key, seconds in split.items():
            totals[key] += seconds
            by_mode.setdefault(case.mode, dict.fromkeys(totals, 0.0))[key] += seconds
    whole = sum(totals.values())
    print(f"{len(cases)} cases from {', '.join(args.paths)}: {whole:.1f} s in run_case")
    for key, seconds in totals.items():
        print(f"  {key:10s} {seconds:7.2f} s  {100 * seconds / whole:5.1f}%")
    for mode, split in by_mode.items():
        share = 100 * split["harness"] / sum(split.values())
        print(f"  {mode:10s} harness share {share:4.1f}% of {sum(split.values()):.1f} s")
    if profiler:
        stats = pstats.Stats(profiler)
        own = [(v[2], f"{k[0].split('/conformance/')[-1]}:{k[1]} {k[2]}") for k, v in stats.stats.items() if "/conformance/" in k[0]]
        print(f"the harness's own code, largest own time first (of {whole:.1f} s):")
        for seconds, where in sorted(own, reverse=True)[: args.profile]:
            print(f"  {seconds:6.3f} s  {where}")


if __name__ == "__main__":
    main()
