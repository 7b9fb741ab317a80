"""`conformance fuzz`: the command's body (conformance.cli holds its parser and calls `run`)."""
from __future__ import annotations

import sys
from pathlib import Path

from conformance.axes import parse_modes
from conformance.catalogue.model import DTYPES

EXIT_OK, EXIT_FOUND, EXIT_USAGE = 0, 1, 2
# the engine's defaults (conformance.fuzz.engine), repeated so that building the parser does
# not import Hypothesis
DEFAULT_MODES = ("eager",)
DEFAULT_DTYPES = ("float32", "float64")


def add_arguments(parser) -> None:
    parser.add_argument("ops", nargs="+", metavar="OP",
                        help="op names (`conformance ops`), family names (convolution, pooling, ...) or `all`")
    parser.add_argument("--budget", default="10m", help="total time: 30s, 10m, 1h (default 10m), shared equally by the ops")
    parser.add_argument("--modes", default=",".join(DEFAULT_MODES), help="modes to draw from, comma-separated (default eager)")
    parser.add_argument("--dtypes", default=",".join(DEFAULT_DTYPES), help="dtypes to draw from (default float32,float64)")
    parser.add_argument("--seed", type=int, default=0, help="the run's seed: the same seed draws the same examples")
    parser.add_argument("--out", default="reports/fuzz", help="where the found cases, fuzz.json and .hypothesis go (default reports/fuzz)")
    parser.add_argument("--cases", nargs="+", default=["cases"], metavar="PATH",
                        help="catalogue whose recorded divergences a failure is matched against (default cases/)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds one example may take (default 60)")
    parser.add_argument("--in-process", action="store_true",
                        help="run tf.keras in this process (for a debugger) instead of a supervised worker")


def run(args) -> int:
    from conformance.fuzz.engine import Fuzzer, parse_budget, resolve_ops
    from conformance.fuzz.execute import InProcess, Supervised
    from conformance.fuzz.signature import KnownDivergences
    from conformance.ops import UnknownOp

    try:
        budget = parse_budget(args.budget)
        ops = resolve_ops(args.ops)
        modes = parse_modes(args.modes)
        dtypes = tuple(d.strip() for d in args.dtypes.split(",") if d.strip())
        bad = [d for d in dtypes if d not in DTYPES]
        if bad or not dtypes:
            raise ValueError(f"--dtypes: expected some of {', '.join(DTYPES)}, got {args.dtypes!r}")
    except (ValueError, UnknownOp) as exc:
        print(f"conformance fuzz: {exc}", file=sys.stderr)
        return EXIT_USAGE
    out = Path(args.out)
    known = KnownDivergences([p for p in args.cases if Path(p).exists()])
    out.mkdir(parents=True, exist_ok=True)
    execute = InProcess() if args.in_process else Supervised(args.timeout, out / "tensorflow.log")
    print(f"conformance fuzz: {len(ops)} ops, {budget:g} s, modes {', '.join(modes)}, dtypes {', '.join(dtypes)}, "
          f"seed {args.seed}; {len(known)} recorded divergences to match -> {out}", flush=True)
    fuzzer = Fuzzer(out, execute, known, seed=args.seed, modes=modes, dtypes=dtypes,
                    progress=lambda line: print(line, flush=True))
    try:
        summary = fuzzer.run(ops, budget)
    except KeyboardInterrupt:
        summary = fuzzer.write_summary(budget)
        print("conformance fuzz: interrupted; what was found so far is written", file=sys.stderr)
    finally:
        execute.close()
    totals = summary["totals"]
    print(f"{totals['examples']} examples in {summary['elapsed_s']:.0f} s: {totals['divergences']} diverged, "
          f"{totals['known']} as recorded divergences ({', '.join(totals['known_ids']) or 'none'}), "
          f"{totals['new']} new -> {out / 'fuzz.json'}")
    for finding in summary["new"]:
        print(f"  NEW {finding['op']}: {finding['name']} in {finding['file']}: {finding['message'][:200]}")
    return EXIT_FOUND if totals["new"] else EXIT_OK
