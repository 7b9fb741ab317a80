"""The `conformance` command: run, validate, list, new, ops (and report, once available).

Exit codes: 0 nothing failed; 1 a case is fail, error or xpass; 2 catalogue or usage error;
130 the run was interrupted (Ctrl-C or SIGTERM): results.json holds every finished case and
the rest as notrun, and `conformance run --resume DIR` runs only those.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import time
from pathlib import Path

from conformance import machine
from conformance.axes import DEFAULT_TARGET, MODES, TARGETS, parse_modes, parse_targets
from conformance.catalogue.loader import load_paths, registries
from conformance.catalogue.model import DTYPES, parse_dtypes
from conformance.runner.worker import DEFAULT_MEMORY_LIMIT_MB, DEFAULT_TIMEOUT_S
from conformance.selection import SelectionError, select, select_modes

DEFAULT_CASES = "cases"
DEFAULT_OUT = "reports"
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def main(argv=None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return args.func(args)
    except SelectionError as exc:
        print(f"conformance: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("conformance: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `conformance ops | head`: the reader has what it wanted
        sys.stderr.close()
        return EXIT_OK


def _parser():
    parser = argparse.ArgumentParser(prog="conformance", description="tf.keras conformance against a NumPy reference")
    sub = parser.add_subparsers(dest="command")

    run = sub.add_parser("run", help="run cases and write DIR/results.json")
    run.add_argument("paths", nargs="*", default=[DEFAULT_CASES], help="catalogue files or folders (default: cases/)")
    run.add_argument("-k", dest="expr", help="select cases by id substring, op, mode or tag (and/or/not)")
    run.add_argument("--modes", type=_modes, help=f"run only these execution modes, comma-separated ({','.join(MODES)}; default: each case's own)")
    run.add_argument("--target", type=_targets, default=(DEFAULT_TARGET,), metavar="TARGETS",
                     help=f"what to test, comma-separated ({','.join(TARGETS)}; default {DEFAULT_TARGET}); "
                          "tf_keras is Keras 2 (pip install -e '.[keras2]')")
    run.add_argument("--dtypes", type=_dtypes, metavar="DTYPES",
                     help=f"run every case in these dtypes instead of its own, comma-separated ({','.join(DTYPES)}; "
                          "a mixed precision policy applies to the layer cases)")
    run.add_argument("--full-sweeps", action="store_true",
                     help="run every combination of every sweep in every mode, also where a case compiles "
                          "a sample of them (`compiled_sweep: each_value`)")
    run.add_argument("-j", "--jobs", type=int, default=1, help="worker processes (default 1)")
    run.add_argument("--out", default=DEFAULT_OUT, help="output folder (default: reports/)")
    run.add_argument("--compile-cache", metavar="DIR",
                     help="keep XLA's compiled programs in DIR across runs (a subfolder per TensorFlow version)")
    run.add_argument("-q", "--quiet", action="store_true", help="no progress line")
    run.add_argument("--timeout", type=_positive, default=DEFAULT_TIMEOUT_S, metavar="SECONDS",
                     help=f"stop a case after SECONDS and record it as timed out (default {DEFAULT_TIMEOUT_S:g}; a case's `timeout:` wins)")
    run.add_argument("--memory-limit", type=_positive, default=DEFAULT_MEMORY_LIMIT_MB, metavar="MIB",
                     help=f"stop a worker whose resident memory passes MIB and record its case (default {DEFAULT_MEMORY_LIMIT_MB})")
    run.add_argument("--resume", metavar="DIR", help="continue the run in DIR: run only the selected cases without a result there "
                                                      "(or whose definition changed); writes to DIR")
    run.add_argument("--shard", metavar="I/N", help="run only shard I of N (a deterministic split by case id)")
    run.add_argument("--durations", metavar="RESULTS", help="with --shard: balance the shards by the durations in this results.json")
    run.add_argument("--executor", choices=("local", "dask"), default="local",
                     help="local worker processes (default), or a Dask cluster's workers (needs --scheduler)")
    run.add_argument("--scheduler", metavar="ADDRESS", help="with --executor dask: the scheduler, e.g. tcp://10.0.0.5:8786")
    run.set_defaults(func=cmd_run)

    merge = sub.add_parser("merge", help="merge the results.json of several shards into one results.json and report")
    merge.add_argument("results", nargs="+", help="results.json files written by `conformance run --shard`")
    merge.add_argument("-o", "--out", default=DEFAULT_OUT, help="output folder (default: reports/)")
    merge.add_argument("--allow-mixed", action="store_true", help="merge files from different versions all the same")
    merge.set_defaults(func=cmd_merge)

    validate = sub.add_parser("validate", help="check catalogue files without running anything")
    validate.add_argument("paths", nargs="*", default=[DEFAULT_CASES])
    validate.set_defaults(func=cmd_validate)

    listing = sub.add_parser("list", help="list the expanded case ids")
    listing.add_argument("paths", nargs="*", default=[DEFAULT_CASES])
    listing.add_argument("-k", dest="expr")
    listing.add_argument("--modes", type=_modes, help="list only these execution modes, comma-separated")
    listing.add_argument("--target", type=_targets, default=(DEFAULT_TARGET,), metavar="TARGETS",
                         help=f"list the cases of these targets, comma-separated ({','.join(TARGETS)})")
    listing.add_argument("--dtypes", type=_dtypes, metavar="DTYPES", help="list every case in these dtypes instead of its own")
    listing.add_argument("--full-sweeps", action="store_true", help="list every combination in every mode (see run)")
    listing.set_defaults(func=cmd_list)

    cover = sub.add_parser("coverage", help="per Keras namespace: public classes in the installed Keras, and how many the catalogue exercises")
    cover.add_argument("paths", nargs="*", default=[DEFAULT_CASES])
    cover.add_argument("--target", choices=tuple(TARGETS), default=DEFAULT_TARGET, help="the Keras to count (default tf.keras)")
    cover.add_argument("--json", action="store_true", help="the table as JSON")
    cover.set_defaults(func=cmd_coverage)

    report = sub.add_parser("report", help="render the HTML report from a results.json")
    report.add_argument("results", help="a results.json written by `conformance run` or the pytest plugin")
    report.add_argument("--baseline", help="an older results.json to compare against")
    report.add_argument("-o", "--output", help="the HTML file (default: report.html beside RESULTS)")
    report.set_defaults(func=cmd_report)

    ops = sub.add_parser("ops", help="list the ops a case may name, with their arguments")
    ops.set_defaults(func=cmd_ops)

    schema = sub.add_parser("schema", help="print the JSON Schema of catalogue files (editor completion and checking)")
    schema.add_argument("-o", "--output", help="write it to this file instead (the repository's copy: cases/catalogue.schema.json)")
    schema.set_defaults(func=cmd_schema)

    new = sub.add_parser("new", help="append a template case for OP to its catalogue file")
    new.add_argument("op")
    new.add_argument("--name", required=True, help="the case name")
    new.add_argument("--file", help="catalogue file (default: the file that already holds OP's cases, else cases/<op in snake_case>.yaml)")
    new.set_defaults(func=cmd_new)

    divergence = sub.add_parser("divergence", help="print a known divergence as an upstream-ready report (or list them)")
    divergence.add_argument("id", nargs="?", help="a divergence id from divergences.yaml (omit to list them)")
    divergence.add_argument("--cases", nargs="+", dest="paths", default=[DEFAULT_CASES], metavar="PATH",
                            help="catalogue files or folders whose registries and cases to read (default: cases/)")
    divergence.add_argument("--script", action="store_true", help="print only the standalone script")
    divergence.add_argument("--markdown", action="store_true", help="with no id: the README's list, as Markdown")
    divergence.set_defaults(func=cmd_divergence)

    fuzz = sub.add_parser("fuzz", help="search ops' arguments for divergences; write each new one as a minimal case")
    from conformance.fuzz.command import add_arguments as add_fuzz_arguments
    add_fuzz_arguments(fuzz)
    fuzz.set_defaults(func=cmd_fuzz)
    return parser


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a number above 0, got {text!r}")
    return value


def _modes(text: str):
    try:
        return parse_modes(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _targets(text: str):
    try:
        return parse_targets(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _dtypes(text: str):
    try:
        return parse_dtypes(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _load(paths, targets=(DEFAULT_TARGET,), dtypes=None, full_sweeps=False):
    missing = [p for p in paths if not Path(p).exists()]
    if missing:
        print(f"conformance: no such file or folder: {', '.join(missing)}", file=sys.stderr)
        return None, None
    return load_paths(paths, targets, dtypes, full_sweeps)


def _print_errors(errors):
    for error in errors:
        print(error, file=sys.stderr)


def cmd_validate(args) -> int:
    cases, errors = _load(args.paths, tuple(TARGETS))  # every target: a divergence may be recorded for one only
    if cases is None:
        return EXIT_USAGE
    _print_errors(errors)
    _warn_stale_divergences(args.paths, cases)
    files = len({c.file for c in cases})
    verdict = f"{len(errors)} error(s)" if errors else "ok"
    default = sum(1 for c in cases if c.target == DEFAULT_TARGET)
    print(f"{verdict}: {default} cases in {files} file(s) ({len(cases)} over the targets {', '.join(TARGETS)})")
    return EXIT_USAGE if errors else EXIT_OK


def _warn_stale_divergences(paths, cases) -> None:
    """A registry entry no case of its folder refers to is a stale record (its cases are gone,
    or were never written); judged only for folders whose every catalogue file was loaded."""
    from conformance.catalogue.divergences import load_registry
    from conformance.catalogue.loader import discover

    loaded = {p.resolve() for p in discover(paths)}
    referred = {k["id"] for c in cases if c.known for k in [c.known, *c.known.get("also", [])]}
    for folder in sorted({p.parent for p in loaded}):
        try:
            whole_folder = {p.resolve() for p in discover([folder])}
        except OSError:  # a folder that changes while it is read (/tmp): no judgement of staleness
            continue
        if not whole_folder <= loaded:
            continue
        for ident, entry in load_registry(folder)[0].items():
            if ident in referred:
                continue
            missing = machine.unmet(entry.requires)
            if missing:  # its cases refer to it on a machine where it holds
                print(f"note: {entry.file}:{entry.line}: divergence {ident} holds only where {missing}, not on this machine",
                      file=sys.stderr)
            else:
                print(f"warning: {entry.file}:{entry.line}: divergence {ident}: no case refers to it", file=sys.stderr)


def cmd_list(args) -> int:
    cases, errors = _load(args.paths, args.target, args.dtypes, args.full_sweeps)
    if cases is None:
        return EXIT_USAGE
    _print_errors(errors)
    for case in select_modes(select(cases, args.expr), args.modes):
        print(case.id)
    return EXIT_USAGE if errors else EXIT_OK


def cmd_report(args) -> int:
    from conformance.report import main_report

    for path in (args.results, args.baseline):
        if path and not Path(path).is_file():
            print(f"conformance: no such file: {path}", file=sys.stderr)
            return EXIT_USAGE
    try:
        out = main_report(args.results, baseline_path=args.baseline, output_path=args.output)
    except ValueError as exc:  # not a results.json, or unreadable JSON
        print(f"conformance: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(out)
    return EXIT_OK


def cmd_ops(args) -> int:
    from conformance.axes import CHECK_MODES
    from conformance.ops import all_ops, check_of

    print("modes:\n" + "".join(f"    {m.name}: {m.doc}\n" for m in MODES.values()))
    for name, op in sorted(all_ops().items()):
        check = check_of(op, {})
        modes = ", ".join(CHECK_MODES[check])
        stochastic = f"; in training (call: {{training: true}}): statistics, modes {', '.join(CHECK_MODES['statistics'])}" if getattr(op, "stochastic", None) else ""
        print(f"{name}  [{op.family}]\n{describe_arguments(op)}    check: {check}, modes: {modes}{stochastic}")
    return EXIT_OK


def describe_arguments(op) -> str:
    """An op's arguments as `conformance ops` lists them, one a line: name, type (with its
    range or choices), and `required` or its default; then the rules between arguments."""
    if op.open_params:
        return "    arguments: any (the user's own class judges them)\n"
    if not op.params:
        return "    arguments: none\n"
    lines = ["    arguments:"]
    for arg, kind in op.params.items():
        given = "required" if arg in op.required else f"default {json.dumps(kind.default)}" if kind.has_default else "optional"
        lines.append(f"      {arg}: {kind.summary}; {given}")
    lines += [f"    constraint: {c.rule} ({c.source})" for c in op.constraints]
    return "\n".join(lines) + "\n"


def cmd_schema(args) -> int:
    from conformance.catalogue.schema import schema_text

    text = schema_text()
    if not args.output:
        print(text, end="")
        return EXIT_OK
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(out)
    return EXIT_OK


def cmd_run(args) -> int:
    from conformance import results
    from conformance.axes import DEFAULT_TARGET
    from conformance.runner import journal as journals
    from conformance.runner import shards
    from conformance.runner.session import catalogue_error_records, run_cases, timestamp
    from conformance.runner.worker import Limits
    from conformance.target import get_target

    if args.jobs < 1:
        print(f"conformance: -j/--jobs must be at least 1, got {args.jobs}", file=sys.stderr)
        return EXIT_USAGE
    if (args.executor == "dask") != bool(args.scheduler):
        print("conformance: --executor dask and --scheduler ADDRESS go together", file=sys.stderr)
        return EXIT_USAGE
    if args.durations and not args.shard:
        print("conformance: --durations balances shards; give --shard I/N with it", file=sys.stderr)
        return EXIT_USAGE
    try:
        shard = shards.parse_shard(args.shard) if args.shard else None
        durations = shards.durations_of(args.durations) if args.durations else None
    except shards.ShardError as exc:
        print(f"conformance: {exc}", file=sys.stderr)
        return EXIT_USAGE
    cases, errors = _load(args.paths, args.target, args.dtypes, args.full_sweeps)
    if cases is None:
        return EXIT_USAGE
    _print_errors(errors)
    cases = select_modes(select(cases, args.expr), args.modes)
    if shard:
        cases = shards.shard_cases(cases, *shard, durations)
    out_dir = Path(args.resume or args.out)
    kept = _kept_from(out_dir, cases) if args.resume else {}
    to_run = [c for c in cases if c.id not in kept]
    if not args.resume:
        for stale in ("results.json", "report.html"):  # a killed run must not leave the last run's results looking current
            (out_dir / stale).unlink(missing_ok=True)
    started, clock = timestamp(), time.perf_counter()
    progress = None if args.quiet else _progress_printer()
    out_dir.mkdir(parents=True, exist_ok=True)
    compile_cache = get_target(DEFAULT_TARGET).use_compile_cache(args.compile_cache) if args.compile_cache else None
    limits = Limits(timeout_s=args.timeout, memory_mb=args.memory_limit)
    worker_log = out_dir / "tensorflow.log"
    worker_log.write_text("")  # one run's worth: TensorFlow's own log lines from the workers
    versions = {}
    for name in args.target:
        versions.update(get_target(name).versions())
    meta = results.environment(versions)
    meta.update(
        target=args.target[0] if len(args.target) == 1 else list(args.target),
        modes=list(args.modes or sorted({c.mode for c in cases}, key=list(MODES).index)),
        started=started,
        jobs=args.jobs,
        executor=args.executor if args.executor == "local" else f"dask {args.scheduler}",
        limits=limits.to_json(),
        shard=args.shard,
        compile_cache=compile_cache,
        command="conformance " + " ".join(args.argv),
        selection=args.expr,
    )
    if kept:
        meta["resumed"] = {"kept": len(kept), "ran": len(to_run)}
    journal = journals.Journal(out_dir, {k: meta[k] for k in ("started", "command")})
    for record in kept.values():  # so that a resumed run killed outright still has them
        journal.write(record)
    if args.executor == "dask":
        from conformance.runner.dask_executor import DaskExecutor

        executor = DaskExecutor(args.scheduler, limits)
    else:
        from conformance.runner.session import LocalPool

        executor = LocalPool(args.jobs, limits, worker_stderr=worker_log)
    _print_environment(meta)
    with _sigterm_as_interrupt():
        run = run_cases(to_run, executor, progress=progress, journal=journal)
    records = list(kept.values()) + run.records + catalogue_error_records(errors)
    first = next((run.facts[t] for t in args.target if run.facts.get(t)), None)
    meta.update(facts=first, duration_s=round(time.perf_counter() - clock, 3))
    if first:
        print("conformance: " + _facts_line(first), file=sys.stderr)
    out = results.write(out_dir / "results.json", records, meta, registries(args.paths))
    journal.close(remove=True)  # results.json now holds all of it
    extra = _write_report(out)
    summary = results.summarize(records)
    line = ", ".join(f"{summary[s]} {s}" for s in results.STATUSES if summary[s]) or "no cases"
    print(f"\n{line} in {meta['duration_s']:.1f}s -> {out}{extra}")
    if run.interrupted:
        print(f"conformance: interrupted; `conformance run {' '.join(args.paths)} --resume {out_dir}` runs the {summary['notrun']} cases left",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    if errors:
        return EXIT_USAGE
    return EXIT_FAILED if summary["fail"] or summary["error"] or summary["xpass"] or summary["notrun"] else EXIT_OK


def _kept_from(out_dir: Path, cases) -> dict:
    """id -> Record of the cases that already have a result in out_dir, for the same definition."""
    from conformance.record import Record
    from conformance.results import jsonable
    from conformance.runner.journal import finished_records

    previous = finished_records(out_dir)
    kept = {}
    for case in cases:
        record = previous.get(case.id)
        if record is None:
            continue
        definition = json.loads(json.dumps(jsonable(case.to_json())))
        if all(record.get(k) == v for k, v in definition.items()):
            kept[case.id] = Record.from_json(record)
    return kept


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """While the run lasts, SIGTERM (a CI job cancelled, `kill`) stops it as Ctrl-C does."""
    try:
        previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _print_environment(meta: dict) -> None:
    """What changes the numbers, before anything runs (the workers add TensorFlow's own facts)."""
    flags = {k: v for k, v in meta["flags"].items() if v is not None}
    kerases = ", ".join(f"{label} {meta[key]}" for key, label in (("keras", "Keras"), ("tf_keras", "tf_keras (Keras 2)")) if meta.get(key))
    print(f"conformance: TensorFlow {meta.get('tensorflow')}, {kerases or 'Keras not found'}, NumPy {meta['numpy']}, "
          f"Python {meta['python']}; CPU {meta['cpu']} ({meta['cpu_count']} cores; {' '.join(meta['cpu_flags']) or 'no flags read'}); "
          f"environment {flags or 'defaults'}", file=sys.stderr)


def _facts_line(facts: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in facts.items())


def cmd_coverage(args) -> int:
    from conformance import coverage
    from conformance.ops import all_ops
    from conformance.target import get_target

    cases, errors = _load(args.paths, (args.target,))
    if cases is None:
        return EXIT_USAGE
    _print_errors(errors)
    target = get_target(args.target)
    keras = target.tensorflow().keras
    rows = coverage.coverage(keras, cases, all_ops())
    versions = target.versions()
    version = versions.get(TARGETS[args.target].package)
    if args.json:
        print(json.dumps({"target": args.target, "version": version, "namespaces": rows}, indent=1))
    else:
        print(coverage.markdown(rows, args.target, version))
    return EXIT_USAGE if errors else EXIT_OK


def cmd_merge(args) -> int:
    from conformance.runner import shards

    try:
        out = shards.write_merged(args.results, args.out, args.allow_mixed)
    except shards.ShardError as exc:
        print(f"conformance: {exc}", file=sys.stderr)
        return EXIT_USAGE
    from conformance import results

    summary = results.summarize(results.read(out)["cases"])
    line = ", ".join(f"{summary[s]} {s}" for s in results.STATUSES if summary[s]) or "no cases"
    print(f"{line} from {len(args.results)} file(s) -> {out}{_write_report(out)}")
    return EXIT_OK


def _write_report(results_path: Path) -> str:
    """Render report.html beside results.json when the report module is present."""
    try:
        from conformance.report import render_file
    except ImportError:
        return ""
    html = render_file(results_path, results_path.with_name("report.html"))
    return f", {html}"


def _progress_printer():
    tty = sys.stdout.isatty()
    counts = {"fail": 0, "error": 0}

    def progress(done, total, record):
        if record.status in counts:
            counts[record.status] += 1
            if not tty:
                print(f"{record.status.upper()}: {record.id}: {record.message.splitlines()[0] if record.message else ''}")
        if tty:
            print(f"\r[{done}/{total}] fail={counts['fail']} error={counts['error']}", end="", flush=True)
        elif done == total or done % 100 == 0:
            print(f"[{done}/{total}] fail={counts['fail']} error={counts['error']}", flush=True)

    return progress


def cmd_new(args) -> int:
    from conformance.catalogue.template import new_case

    try:
        placement, text = new_case(args.op, args.name, args.file, DEFAULT_CASES)
    except (KeyError, ValueError) as exc:
        print(f"conformance: {exc}", file=sys.stderr)
        return EXIT_USAGE
    path = placement.path
    also = f"; {args.op} also has cases in {', '.join(str(p) for p in placement.others)}" if placement.others else ""
    print(f"{'created' if placement.created else 'appended to'} {path} ({placement.reason}{also}):\n{text}")
    print(f"next: edit it, then `conformance validate {path}` and `conformance run {path} -k {args.name}`")
    return EXIT_OK


def cmd_fuzz(args) -> int:
    from conformance.fuzz.command import run

    return run(args)


def cmd_divergence(args) -> int:
    from conformance import upstream
    from conformance.catalogue.divergences import did_you_mean

    cases, errors = _load(args.paths, tuple(TARGETS))  # a divergence may be recorded for Keras 2 only
    if cases is None:
        return EXIT_USAGE
    _print_errors(errors)
    entries = registries(args.paths)
    if not args.id:
        counts = {i: len(upstream.cases_of(cases, i)) for i in entries}  # on this machine
        if args.markdown:  # the README's list: the same on every machine
            counts = upstream.counts_on_every_machine(args.paths, tuple(TARGETS), entries, cases)
            print(upstream.markdown_list(entries, counts), end="")
            return EXIT_OK
        for ident, entry in entries.items():
            print(f"{ident:50s} {entry.category:22s} {counts[ident]:5d} cases  {entry.title}")
        return EXIT_OK
    if args.id not in entries:
        print(f"conformance: no divergence {args.id!r} in the registries of {', '.join(args.paths)}"
              f"{did_you_mean(args.id, entries)}", file=sys.stderr)
        return EXIT_USAGE
    entry = entries[args.id].to_json()
    # the generated script is written for tf.keras (Keras 3): a Keras 2 finding shows by its own script
    case = upstream.smallest_case([c for c in upstream.cases_of(cases, args.id) if c.target == DEFAULT_TARGET])
    script = upstream.standalone_script(case, entry) if case else None
    if args.script:
        if script is None:
            print(f"conformance: {args.id} has no generated script; see `script:` in its registry entry", file=sys.stderr)
            return EXIT_FAILED
        print(script, end="")
        return EXIT_OK
    print(upstream.report(entry, case, script, Path.cwd(), upstream.diagnosis_of(case, entry)))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
