"""What a run loses to a crash or a hang, and what supervision and distribution cost.

    python3 benchmarks/runner_benchmark.py [--sample PATH] [--skip-dask] [--limit SECONDS]

1. Lost results. The scenario of the issue "A run that loses nothing": a file of 80 Conv2D
   cases and one AdaptiveMaxPooling1D(output_size=1), which kills its process with SIGFPE in
   TensorFlow 2.21 on CPU, run with -j 2, without `isolate`; and the same 80 cases with a user
   regularizer that never returns. Reported: the innocent cases without their real result, and
   the seconds until results.json exists (or "none" when the run had not written one after
   --limit seconds and was killed). Run this script from a checkout of an older commit to get
   the "before" numbers.
2. Throughput: cases per second over --sample (default: the eager cases of
   cases/conv2d.yaml and cases/recurrent_layers.yaml) with 1 and 2 local workers and on a local Dask cluster of 2
   worker processes, wall clock of the `conformance` command (TensorFlow's import in the
   workers included), and the sum of the cases' own recorded seconds.
3. Scheduling overhead per case: the supervisor's round trip (send the case, phase messages,
   receive the record) minus the case's own recorded time, over 200 runs of a tiny case in
   one warm worker.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def conv_cases(name: str, dtype: str) -> str:
    """40 plain Conv2D cases."""
    return textwrap.indent(textwrap.dedent(f"""
        - name: {name}
          op: Conv2D
          params: {{kernel_size: 3}}
          sweep:
            padding: [valid, same]
            strides: [1, 2]
            filters: [2, 3, 4, 5, 6]
            use_bias: [true, false]
          dtype: {dtype}
          input_shape: [2, 7, 6, 3]
          modes: [eager]
    """), "  ")


CRASHER = textwrap.indent(textwrap.dedent("""
      - name: adaptive_max_output_size_one
        op: AdaptiveMaxPooling1D
        params: {output_size: 1}
        input_shape: [2, 6, 3]
        modes: [eager]
"""), "  ")
HANG = textwrap.indent(textwrap.dedent("""
      - name: endless_regularizer
        op: custom.regularizer
        custom: endless.py:Endless
        reference: endless.py:penalty
        params: {strength: 0.1}
        input_shape: [3, 4]
"""), "  ")
ENDLESS = textwrap.dedent("""
    import keras
    import numpy as np


    class Endless(keras.regularizers.Regularizer):
        def __init__(self, strength=0.1):
            self.strength = strength

        def __call__(self, x):
            while True:
                pass

        def get_config(self):
            return {"strength": self.strength}


    def penalty(x, strength):
        return strength * np.sum(np.abs(x))
""")


def command(*args) -> list[str]:
    return [sys.executable, "-m", "conformance.cli", *map(str, args)]


def lost_results(name: str, text: str, limit: float, folder: Path) -> dict:
    """Run one scenario file with -j 2, the culprit between two sets of 40 Conv2D cases; count
    the 80 Conv2D cases without a pass."""
    path = folder / f"{name}.yaml"
    path.write_text("cases:" + conv_cases("conv_a", "float32") + text + conv_cases("conv_b", "float64"))
    (folder / "endless.py").write_text(ENDLESS)
    out = folder / f"out-{name}"
    started = time.perf_counter()
    process = subprocess.Popen(command("run", path, "-j", "2", "--out", out, "-q"), cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        process.wait(timeout=limit)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 9)
        process.wait()
        return {"scenario": name, "results_after_s": None, "innocent_lost": 80, "culprit": "no results.json"}
    elapsed = time.perf_counter() - started
    cases = json.loads((out / "results.json").read_text())["cases"]
    conv = [c for c in cases if "::conv_" in c["id"]]
    other = [c for c in cases if "::conv_" not in c["id"]]
    return {"scenario": name, "results_after_s": round(elapsed, 1),
            "innocent_lost": sum(c["status"] != "pass" for c in conv) + (80 - len(conv)),
            "culprit": "; ".join(f"{c['status']}: {c['message'][:100]}" for c in other)}


def throughput(label: str, args: list, sample: list, folder: Path) -> dict:
    out = folder / f"tp-{label.replace(' ', '-')}"
    started = time.perf_counter()
    subprocess.run(command("run", *sample, "--modes", "eager", "--out", out, "-q", *args), cwd=ROOT,
                   capture_output=True)
    wall = time.perf_counter() - started
    cases = json.loads((out / "results.json").read_text())["cases"]
    own = sum(c.get("duration_s") or 0 for c in cases)
    return {"executor": label, "cases": len(cases), "wall_s": round(wall, 1), "cases_per_s": round(len(cases) / wall, 2),
            "sum_case_s": round(own, 1)}


def overhead_per_case(runs: int = 200) -> dict:
    """The supervisor's round trip minus the case's own time, in one warm worker."""
    sys.path.insert(0, str(ROOT))
    from conformance.catalogue.model import Case
    from conformance.runner.worker import Supervisor

    case = Case(id="bench::relu", file="bench", line=1, name="relu", op="ReLU", params={}, dtype="float32",
                input_shape=(2, 3))
    supervisor = Supervisor()
    try:
        supervisor.run(case)  # start the worker, import TensorFlow
        extra = []
        for _ in range(runs):
            started = time.perf_counter()
            record = supervisor.run(case)
            extra.append(time.perf_counter() - started - record.duration_s)
    finally:
        supervisor.close()
    return {"runs": runs, "median_ms": round(1e3 * statistics.median(extra), 2),
            "p90_ms": round(1e3 * sorted(extra)[int(0.9 * runs)], 2)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sample", nargs="+", default=[str(ROOT / "cases" / f) for f in ("conv2d.yaml", "recurrent_layers.yaml")])
    parser.add_argument("--limit", type=float, default=300, help="seconds before a scenario run counts as hung")
    parser.add_argument("--skip-dask", action="store_true")
    parser.add_argument("--parts", default="lost,throughput,overhead",
                        help="which measurements, comma-separated (an older checkout has only `lost`)")
    args = parser.parse_args(argv)
    parts = set(args.parts.split(","))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if "lost" in parts:
            print("# lost results (80 Conv2D cases and one culprit, -j 2)")
            for name, text in (("crash", CRASHER), ("hang", HANG)):
                print(json.dumps(lost_results(name, text, args.limit, folder)), flush=True)
        if "throughput" in parts:
            print("# throughput (eager cases of the sample)")
            print(json.dumps(throughput("local -j 1", ["-j", "1"], args.sample, folder)), flush=True)
            print(json.dumps(throughput("local -j 2", ["-j", "2"], args.sample, folder)), flush=True)
        if "throughput" in parts and not args.skip_dask:
            from distributed import LocalCluster

            with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
                print(json.dumps(throughput("dask 2 workers", ["--executor", "dask", "--scheduler", cluster.scheduler_address],
                                            args.sample, folder)))
        if "overhead" in parts:
            print("# scheduling overhead per case (local supervisor, warm worker)")
            print(json.dumps(overhead_per_case()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
