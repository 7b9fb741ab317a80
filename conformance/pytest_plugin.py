"""pytest plugin (entry point `pytest11`): catalogue YAML files become test items.

Only files that look like catalogues (a top-level `cases:` and an `op:` key) are
collected, so unrelated YAML in a project is left alone. Each expanded case is one
item named by its id, so -k, -n (xdist) and --junitxml work as usual. Recorded
divergences are strict xfails. `--conformance-out DIR` writes DIR/results.json,
merged across xdist workers (each item's record travels back on its report).
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from conformance.axes import DEFAULT_TARGET, parse_modes, parse_targets
from conformance.catalogue.model import parse_dtypes
from conformance.catalogue.divergences import REGISTRY_FILE, load_registry
from conformance.catalogue.loader import CatalogueError, load_file, looks_like_catalogue
from conformance.record import Record
from conformance.selection import select_modes

RECORD_ATTR = "conformance_record"


def pytest_addoption(parser):
    group = parser.getgroup("conformance", "tf.keras conformance catalogue")
    group.addoption(
        "--conformance-modes", metavar="MODES", default=None,
        help="collect only these execution modes, comma-separated (eager,function,xla); default: each case's own",
    )
    group.addoption(
        "--conformance-target", metavar="TARGETS", default=None,
        help="collect the cases of these targets, comma-separated (tf.keras, the default; tf_keras: Keras 2)",
    )
    group.addoption(
        "--conformance-dtypes", metavar="DTYPES", default=None,
        help="collect every case in these dtypes instead of its own, comma-separated (float16, bfloat16, float32, "
             "float64, and for layers mixed_float16, mixed_bfloat16)",
    )
    group.addoption(
        "--conformance-full-sweeps", action="store_true", default=False,
        help="collect every combination of every sweep in every mode, also where a case compiles a sample of them "
             "(`compiled_sweep: each_value`)",
    )
    group.addoption(
        "--conformance-compile-cache", metavar="DIR", default=None,
        help="keep XLA's compiled programs in DIR across runs (a subfolder per TensorFlow version)",
    )
    group.addoption(
        "--conformance-timeout", metavar="SECONDS", type=float, default=None,
        help="stop a case after SECONDS, recorded as timed out (default: the runner's, 120; a case's `timeout:` wins)",
    )
    group.addoption(
        "--conformance-in-process", action="store_true", default=False,
        help="run the cases in the pytest process itself (for a debugger) instead of a supervised worker process "
             "that a hang or a crash cannot take down",
    )
    group.addoption(
        "--conformance-out", metavar="DIR", default=None,
        help="write DIR/results.json (and report.html) for the catalogue cases that ran",
    )
    group.addoption(
        "--conformance-fuzz", metavar="DURATION", default=None,
        help="also fuzz the collected cases' ops for DURATION in all (30s, 5m), one item per op family that fails "
             "when it finds a divergence not recorded; found cases go to --conformance-out/fuzz (else a temporary folder)",
    )


def pytest_collect_file(file_path: Path, parent):
    if looks_like_catalogue(file_path):
        return CatalogueFile.from_parent(parent, path=file_path)
    if file_path.name == REGISTRY_FILE:
        return RegistryFile.from_parent(parent, path=file_path)
    return None


class Divergence(Exception):
    """tf.keras departs from the reference (the case's status is fail)."""


class KnownDivergence(Exception):
    """The recorded divergence, as its signature describes it (status xfail): the only
    exception the strict xfail marker accepts, so any other failure of the case fails."""


class HarnessError(Exception):
    """The harness could not judge the case (status error); never an expected failure."""


class CatalogueFile(pytest.File):
    def collect(self):
        targets = self.config.getoption("conformance_target")
        dtypes = self.config.getoption("conformance_dtypes")
        cases, errors = load_file(self.path, parse_targets(targets) if targets else (DEFAULT_TARGET,),
                                  parse_dtypes(dtypes) if dtypes else None, self.config.getoption("conformance_full_sweeps"))
        modes = self.config.getoption("conformance_modes")
        for case in select_modes(cases, parse_modes(modes) if modes else None):
            item = CaseItem.from_parent(self, name=case.id.split("::", 1)[1], case=case)
            if case.known:
                reason = "; or with it, ".join(
                    f"{k['id']}: {k['title']}" + (f" ({', '.join(k['links'])})" if k.get("links") else "")
                    for k in [case.known, *case.known.get("also", [])])
                # strict, but for an entry that only explains a failure of a case moved into a
                # dtype by --conformance-dtypes (known "strict": False)
                item.add_marker(pytest.mark.xfail(reason=reason, strict=case.known.get("strict", True),
                                                  raises=KnownDivergence))
            yield item
        for error in errors:
            name = error.case_id.split("::", 1)[1] if error.case_id else f"line-{error.line or 0}"
            yield CatalogueErrorItem.from_parent(self, name=f"{name}[catalogue-error]", error=error)


class RegistryFile(pytest.File):
    """divergences.yaml: no items when it is well-formed, a failing item per problem otherwise."""

    def collect(self):
        for problem in load_registry(self.path.parent)[1]:
            error = CatalogueError(problem.file, problem.line, problem.key, problem.message)
            yield CatalogueErrorItem.from_parent(self, name=f"{problem.key or 'file'}[registry-error]", error=error)


class CaseItem(pytest.Item):
    def __init__(self, *, case, **kwargs):
        super().__init__(**kwargs)
        self.case = case
        self.record = None
        for tag in case.tags:
            self.add_marker(tag)
        self.add_marker("conformance")
        self.extra_keyword_matches.add(case.mode)  # -k eager selects eager cases (their ids do not say it)
        self.extra_keyword_matches.add(case.target)  # and -k tf.keras the default target's

    def runtest(self):
        self.record = record = _run(self.config, self.case)
        status = record.status
        if status == "skip":
            pytest.skip(record.message)
        if status == "xfail":
            raise KnownDivergence(record.message)
        if status == "fail":
            raise Divergence(record.message)
        if status == "error":
            raise HarnessError(record.message)
        # pass, and xpass: the strict xfail marker turns a pass into a reported failure

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, (Divergence, KnownDivergence, HarnessError)):
            return _describe(self.case, self.record, excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, (self.case.line or 1) - 1, f"{self.case.op}: {self.name}"


class CatalogueErrorItem(pytest.Item):
    def __init__(self, *, error, **kwargs):
        super().__init__(**kwargs)
        self.error = error

    def runtest(self):
        raise HarnessError(f"catalogue error: {self.error}")

    def repr_failure(self, excinfo, style=None):
        return str(excinfo.value)

    def reportinfo(self):
        return self.path, (self.error.line or 1) - 1, "catalogue error"


_supervisor = None  # one supervised worker process per pytest process (xdist: per xdist worker)


def _run(config, case) -> Record:
    """The case's record: in a worker process under supervision (a hang, a crash or a memory
    overrun of one case is that case's result, never the end of the pytest session), or here
    with --conformance-in-process."""
    global _supervisor
    if config.getoption("conformance_in_process"):
        from conformance.runner.execute import run_case

        return run_case(case)
    from conformance.runner.session import record_of
    from conformance.runner.worker import Limits, Supervisor

    if _supervisor is None:
        timeout = config.getoption("conformance_timeout")
        _supervisor = Supervisor(Limits(timeout_s=timeout) if timeout else Limits())
    return record_of(case, _supervisor.run(case))


def pytest_unconfigure(config):
    global _supervisor
    if _supervisor is not None:
        _supervisor.close()
        _supervisor = None


def _describe(case, record, exc) -> str:
    kind = "harness error" if isinstance(exc, HarnessError) else "divergence"
    diagnosis = record.diagnosis if record else None
    lines = [f"diagnosis: {diagnosis['sentence']}"] if diagnosis else []  # what explains it, first
    lines += [f"{kind}: {exc}", f"  case: {case.id} ({case.file}:{case.line})", f"  op: {case.op}  dtype: {case.dtype}  mode: {case.mode}"]
    lines.append(f"  params: {case.params}")
    lines.append(f"  input_shape: {list(case.input_shape)}  tolerance: {case.effective_tolerance}")
    for side in ("reference", "keras"):
        info = (record.outcome if record else {}).get(side)
        if info:
            what = f"raised {info['error']['type']}: {info['error']['message']}" if info.get("error") else f"shape {info['output_shape']}"
            lines.append(f"  {'tf.keras' if side == 'keras' else 'reference'}: {what}")
    return "\n".join(lines)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if call.when == "call" and getattr(item, "record", None) is not None:
        # as JSON text: xdist's wire format (execnet) takes no integer below -2**31, and a case's
        # values may hold int64 edges (-2**63) or uint64 salts
        setattr(report, RECORD_ATTR, json.dumps(item.record.to_json()))


class _Collector:
    def __init__(self, out_dir: Path):
        self.out_dir = out_dir
        self.records: list[dict] = []
        self.started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        self.clock = time.perf_counter()

    def pytest_runtest_logreport(self, report):
        record = getattr(report, RECORD_ATTR, None)
        if record is not None:
            self.records.append(Record.from_json(json.loads(record)))

    def pytest_sessionfinish(self, session):
        from conformance import results
        from conformance.axes import DEFAULT_TARGET, MODES, TARGETS
        from conformance.target import get_target

        targets = [t for t in TARGETS if any(r.case.target == t for r in self.records)] or [DEFAULT_TARGET]
        versions = {}
        for name in targets:
            versions.update(get_target(name).versions())
        meta = results.environment(versions)
        meta.update(
            target=targets[0] if len(targets) == 1 else targets,
            modes=[m for m in MODES if any(r.case.mode == m for r in self.records)],
            started=self.started,
            duration_s=round(time.perf_counter() - self.clock, 3),
            command="pytest " + " ".join(session.config.invocation_params.args),
            runner="pytest",
        )
        from conformance.catalogue.loader import registries

        files = sorted({r.case.file for r in self.records if r.case.file})
        path = results.write(self.out_dir / "results.json", self.records, meta,
                             registries([f for f in files if Path(f).is_file()]))
        try:
            from conformance.report import render_file
        except ImportError:
            return
        render_file(path, path.with_name("report.html"))


def pytest_configure(config):
    from conformance.axes import TARGETS
    from conformance.target import get_target

    for option, parse in (("conformance_modes", parse_modes), ("conformance_target", parse_targets)):
        text = config.getoption(option)
        if text:
            try:
                parse(text)
            except ValueError as exc:
                raise pytest.UsageError(f"--{option.replace('_', '-')}: {exc}") from None
    cache = config.getoption("conformance_compile_cache")
    if cache and not hasattr(config, "workerinput"):  # the workers inherit the flag
        for name in TARGETS:
            get_target(name).use_compile_cache(cache)
    for name in TARGETS:
        get_target(name).quiet_tensorflow_logs()  # before xdist starts its workers, which inherit it
    config.addinivalue_line("markers", "conformance: a case from the tf.keras conformance catalogue")
    out = config.getoption("conformance_out")
    if out and not hasattr(config, "workerinput"):  # only the controller writes the merged file
        config.pluginmanager.register(_Collector(Path(out)), "conformance-collector")


class NewDivergence(Exception):
    """The fuzzer found a divergence that no recorded one explains."""


class FuzzItem(pytest.Item):
    """A bounded fuzz pass over one family's ops (conformance.fuzz), the ops those of the
    collected catalogue cases; it fails when a new divergence is found, naming the minimal
    case written for each."""

    def __init__(self, *, ops, budget_s, catalogue, **kwargs):
        super().__init__(**kwargs)
        self.ops, self.budget_s, self.catalogue = ops, budget_s, catalogue

    def runtest(self):
        import tempfile

        from conformance.fuzz import Fuzzer, KnownDivergences, resolve_ops
        from conformance.fuzz.execute import verdict_of_record

        out = self.config.getoption("conformance_out")
        folder = Path(out) / "fuzz" if out else Path(tempfile.mkdtemp(prefix="conformance-fuzz-"))
        fuzzer = Fuzzer(folder, lambda case: verdict_of_record(_run(self.config, case)), KnownDivergences(self.catalogue))
        summary = fuzzer.run(resolve_ops(self.ops), self.budget_s)
        if summary["new"]:
            raise NewDivergence("\n".join(f"{f['op']}: {f['name']} in {f['file']}: {f['message'][:300]}" for f in summary["new"]))

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, NewDivergence):
            return f"new divergences found by fuzzing (each a minimal catalogue case):\n{excinfo.value}"
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return "conformance-fuzz", None, f"fuzz {self.name}"


def pytest_collection_modifyitems(session, config, items):
    budget = config.getoption("conformance_fuzz")
    if not budget:
        return
    from conformance.fuzz import parse_budget, resolve_ops
    from conformance.ops import get_op

    try:
        seconds = parse_budget(budget)
    except ValueError as exc:
        raise pytest.UsageError(f"--conformance-fuzz: {exc}") from None
    cases = [item.case for item in items if isinstance(item, CaseItem)]
    try:
        ops = resolve_ops(sorted({c.op for c in cases}))
    except ValueError:
        return  # only custom ops: nothing the fuzzer can draw
    families: dict[str, list[str]] = {}
    for op in ops:
        families.setdefault(op.family, []).append(op.name)
    catalogue = sorted({str(Path(c.file)) for c in cases if c.file and Path(c.file).is_file()})
    for family, names in families.items():
        items.append(FuzzItem.from_parent(session, name=f"fuzz[{family.replace(' ', '_')}]", ops=names,
                                          budget_s=seconds / len(families), catalogue=catalogue))
