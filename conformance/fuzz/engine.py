"""The fuzz loop: for each op, Hypothesis draws catalogue cases (conformance.fuzz.strategies),
each is validated by the loader and run as `conformance run` runs a case; a divergence that
is neither a recorded one nor one already found is shrunk (Hypothesis, then the greedy pass
of conformance.fuzz.shrink) and written as a ready catalogue case.

Budget. Each op gets an equal share of what is left of the run's budget (time an op does not
use goes to the ones after it), and at least half of an equal share of the whole budget, so a
run whose early findings took long to shrink overruns its budget rather than skipping the last
ops. Hypothesis runs in batches of `batch` examples, each batch
seeded from `--seed` and its index, so a run is reproducible: the same seed draws the same
examples in the same order (how many fit in the budget depends on the machine). Once an
op's time is up, the examples left in a batch return at once, so a batch is large: each
starts again from Hypothesis's simplest examples. A batch also ends at a new divergence. Shrinking a finding has its
own bound (a number of runs), so a finding near the end of a budget is still shrunk.

A different new divergence seen while Hypothesis shrinks another is kept and shrunk by the
greedy pass alone afterwards.
"""
from __future__ import annotations

import json
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import HealthCheck, Verbosity, given, reject, settings
from hypothesis import seed as hypothesis_seed
from hypothesis.database import DirectoryBasedExampleDatabase

from conformance.catalogue.model import KNOWN_ERRORS
from conformance.fuzz.cases import Refused, case_yaml, load_case, to_case
from conformance.fuzz.shrink import greedy
from conformance.fuzz.signature import (
    KnownDivergences, is_divergence, same_divergence, signature_of, subject_of,
)
from conformance.fuzz.strategies import KEEP_INVALID_KEY, spec_strategy
from conformance.ops import all_ops, get_op

DEFAULT_MODES = ("eager",)
DEFAULT_DTYPES = ("float32", "float64")
BATCH = 200
HYPOTHESIS_SHRINK_RUNS = 40
GREEDY_SHRINK_RUNS = 100
MAX_ERROR_SAMPLES = 3


class _Diverges(Exception):
    """Raised inside the Hypothesis test: this example shows the divergence being shrunk."""


class _StopShrinking(BaseException):
    """Raised inside the Hypothesis test when shrinking has used its runs: a BaseException,
    so Hypothesis lets it through instead of taking it for a failure."""


@dataclass
class Finding:
    """A new divergence, shrunk: `spec` is the case as written (with its expect)."""

    op: str
    name: str
    spec: dict
    signature: dict
    subject: str | None
    status: str
    message: str
    record: dict
    shrink_runs: int
    drawn: dict  # the example Hypothesis first found, before any shrinking


@dataclass
class OpStats:
    op: str
    family: str
    examples: int = 0  # cases run while searching
    refused: int = 0  # drawn specs the loader refused even as an expected error
    divergences: int = 0  # examples that diverged (known or new)
    known: Counter = field(default_factory=Counter)  # recorded divergence id -> examples
    new: Counter = field(default_factory=Counter)  # new finding's name -> examples
    shrink_runs: int = 0
    harness_errors: int = 0  # the harness or the reference could not judge an example
    error_samples: list = field(default_factory=list)
    seconds: float = 0.0

    def to_json(self) -> dict:
        return {"family": self.family, "examples": self.examples, "refused": self.refused,
                "divergences": self.divergences, "known": dict(self.known), "new": dict(self.new),
                "shrink_runs": self.shrink_runs, "harness_errors": self.harness_errors,
                "error_samples": self.error_samples, "seconds": round(self.seconds, 1)}


def parse_budget(text: str) -> float:
    """'90s', '10m', '1h', '1h30m' or plain seconds -> seconds."""
    text = str(text).strip().lower()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    parts = re.findall(r"(\d+(?:\.\d+)?)([hms])", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"a budget is a duration such as 30s, 10m, 1h or 1h30m; got {text!r}")
    return sum(float(n) * {"h": 3600, "m": 60, "s": 1}[u] for n, u in parts)


def _family_key(name: str) -> str:
    return re.sub(r"[\s_-]+", " ", name.strip().lower())


def resolve_ops(names) -> list:
    """Op names, family names ('convolution', 'regularization_layers') or 'all' -> ops, in
    registry order, each once. The custom ops are never fuzzed: their arguments and their
    reference are the user's own."""
    from conformance.fuzz.strategies import fuzzable_ops

    ops = all_ops()
    families = {_family_key(op.family) for op in ops.values()}
    chosen = []
    for name in names:
        if name == "all":
            chosen += list(ops.values())
        elif _family_key(name) in families:
            chosen += [op for op in ops.values() if _family_key(op.family) == _family_key(name)]
        else:
            chosen.append(get_op(name))  # UnknownOp names the closest ops
    unique = list({op.name: op for op in chosen}.values())
    fuzzable = fuzzable_ops(unique)
    if not fuzzable:
        raise ValueError(f"nothing to fuzz in {', '.join(names)}: the custom ops take the user's own arguments and reference")
    return fuzzable


def file_slug(op_name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", op_name.lower()).strip("_")


class Fuzzer:
    def __init__(self, out: Path, execute, known: KnownDivergences | None = None, *, seed: int = 0,
                 modes=DEFAULT_MODES, dtypes=DEFAULT_DTYPES, batch: int = BATCH,
                 hypothesis_shrink_runs: int = HYPOTHESIS_SHRINK_RUNS, greedy_shrink_runs: int = GREEDY_SHRINK_RUNS,
                 max_examples: int | None = None, progress=None):
        self.out = Path(out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.execute = execute
        self.known = known or KnownDivergences()
        self.seed, self.modes, self.dtypes, self.batch = seed, tuple(modes), tuple(dtypes), batch
        self.hypothesis_shrink_runs, self.greedy_shrink_runs = hypothesis_shrink_runs, greedy_shrink_runs
        # examples per op, besides the time: a budget that does not depend on the machine's load
        self.max_examples = max_examples
        self.database = DirectoryBasedExampleDatabase(str(self.out / ".hypothesis"))
        self.progress = progress or (lambda line: None)
        self.stats: dict[str, OpStats] = {}
        self.findings: dict[str, list[Finding]] = {}
        self.started = time.time()

    # --- the run ------------------------------------------------------------------------

    def run(self, ops, budget_s: float) -> dict:
        deadline = time.monotonic() + budget_s
        for i, op in enumerate(ops):
            # an equal share of what is left, but never below half of an equal share of the
            # whole: shrinking the findings of early ops must not starve the last families
            share = max((deadline - time.monotonic()) / (len(ops) - i), budget_s / len(ops) / 2)
            self.fuzz_op(op, share)
            self.write_summary(budget_s)
        return self.write_summary(budget_s)

    def fuzz_op(self, op, budget_s: float) -> OpStats:
        stats = self.stats.setdefault(op.name, OpStats(op.name, op.family))
        findings = self.findings.setdefault(op.name, [])
        started = time.monotonic()
        deadline = started + budget_s
        index = 0
        while time.monotonic() < deadline and not self._enough(stats):
            self._batch(op, index, deadline, stats, findings)
            index += 1
        stats.seconds += time.monotonic() - started
        kinds = ", ".join(f"{k}: {n}" for k, n in stats.known.items())
        new = ", ".join(f.name for f in findings)
        self.progress(f"{op.name}: {stats.examples} examples, {stats.divergences} diverged"
                      + (f"; known {kinds}" if kinds else "") + (f"; NEW {new} -> {self.file_of(op.name)}" if new else "")
                      + (f"; {stats.harness_errors} harness errors" if stats.harness_errors else "")
                      + f" ({stats.seconds:.0f} s)")
        return stats

    def _batch(self, op, index, deadline, stats: OpStats, findings: list) -> None:
        state = {"target": None, "failing": [], "others": [], "shrink_runs": 0}
        file = self.file_of(op.name)

        def test(spec):
            spec = dict(spec)
            keep_invalid = spec.pop(KEEP_INVALID_KEY)
            if state["target"] is not None:
                state["shrink_runs"] += 1
                if state["shrink_runs"] > _shrink_runs(self.hypothesis_shrink_runs, state["target"][0]):
                    raise _StopShrinking()
            elif time.monotonic() > deadline or self._enough(stats):
                return  # the op's budget is spent: the batch's remaining examples pass at once
            try:
                spec_run, case, verdict = self._run(spec, "fuzzed", file, keep_invalid)
            except Refused:
                stats.refused += 1
                reject()
            if state["target"] is None:
                stats.examples += 1
            else:
                stats.shrink_runs += 1
            what = self._classify(case, verdict, stats, findings, count=state["target"] is None)
            if what != "new":
                return
            if state["target"] is None:
                state["target"] = (signature_of(verdict), subject_of(verdict))
            if same_divergence(*state["target"], verdict):
                state["failing"].append(spec)
                raise _Diverges()
            if not any(same_divergence(s, subj, verdict) for s, subj, _ in state["others"]):
                state["others"].append((signature_of(verdict), subject_of(verdict), spec))

        test._hypothesis_internal_add_digest = op.name.encode()  # one database entry per op
        run = settings(max_examples=self.batch, deadline=None, database=self.database, derandomize=False,
                       suppress_health_check=list(HealthCheck), report_multiple_bugs=False,
                       verbosity=Verbosity.quiet, print_blob=False)(
            hypothesis_seed(self.seed * 1_000_003 + index)(given(spec_strategy(op, self.dtypes, self.modes))(test)))
        try:
            run()
        except (_Diverges, _StopShrinking):
            pass
        except Exception as exc:  # Hypothesis's own complaints (flaky, unsatisfiable): the batch ends
            if len(stats.error_samples) < MAX_ERROR_SAMPLES:
                stats.error_samples.append(f"hypothesis: {type(exc).__name__}: {str(exc)[:300]}")
        if state["failing"]:
            signature, subject = state["target"]
            drawn = state["failing"][0]  # the first diverging example, before Hypothesis shrank it
            self._finish(op, state["failing"][-1], drawn, signature, subject, stats, findings, state["shrink_runs"])
        for signature, subject, spec in state["others"]:
            if not any(same_divergence(f.signature, f.subject, v) for f in findings for v in [self._verdict_of(f)]):
                self._finish(op, spec, spec, signature, subject, stats, findings, 0)

    def _enough(self, stats: OpStats) -> bool:
        return self.max_examples is not None and stats.examples >= self.max_examples

    def _run(self, spec: dict, name: str, file: Path, keep_invalid: bool = True):
        """(spec as run, Case, Verdict). A spec the reference rejects runs as a case that
        expects the rejection (or, unless `keep_invalid`, is refused), whether the reference
        rejects it at validation (its shape rules) or only when it computes (glu on an odd
        number of channels). Raises Refused."""
        spec_run, case = to_case({"name": name, **spec}, file)
        if "expect" in spec_run and not keep_invalid:
            raise Refused("an invalid combination, not kept this time")
        verdict = self.execute(case)
        rejected = ((verdict.outcome or {}).get("reference") or {}).get("error")
        if verdict.status == "error" and "expect" not in spec_run and rejected and rejected["type"] in KNOWN_ERRORS:
            if not keep_invalid:
                raise Refused("an invalid combination, not kept this time")
            spec_run = {**spec_run, "expect": {"error": rejected["type"]}}
            case = load_case(spec_run, file)
            verdict = self.execute(case)
        return spec_run, case, verdict

    def _classify(self, case, verdict, stats: OpStats, findings: list, count: bool = True) -> str:
        """'pass', 'error', 'known', 'repeat' (a finding of this run) or 'new'."""
        if not is_divergence(verdict):
            if verdict.status == "error":
                if count:
                    stats.harness_errors += 1
                if len(stats.error_samples) < MAX_ERROR_SAMPLES:
                    stats.error_samples.append(f"{_short(case)}: {verdict.message[:400]}")
                return "error"
            return "pass"
        known = self.known.match(case, verdict)
        if known:
            if count:
                stats.divergences += 1
                stats.known[known] += 1
            return "known"
        for finding in findings:
            if same_divergence(finding.signature, finding.subject, verdict):
                if count:
                    stats.divergences += 1
                    stats.new[finding.name] += 1
                return "repeat"
        if count:
            stats.divergences += 1
        return "new"

    def _finish(self, op, spec, drawn, signature, subject, stats, findings, hypothesis_runs) -> None:
        file = self.file_of(op.name)

        def still(candidate):
            try:
                _, case, verdict = self._run(candidate, "fuzzed", file)
            except Refused:
                return False
            stats.shrink_runs += 1
            return (is_divergence(verdict) and self.known.match(case, verdict) is None
                    and same_divergence(signature, subject, verdict))

        shrunk, runs = greedy(spec, still, _shrink_runs(self.greedy_shrink_runs, signature))
        name = f"fuzz_{next(iter(signature))}_{len(findings) + 1}"
        spec_run, case, verdict = self._run(shrunk, name, file)
        if not same_divergence(signature, subject, verdict):  # flaky: keep what Hypothesis found
            spec_run, case, verdict = self._run(spec, name, file)
        from conformance.record import Record

        record = Record(case=case, family=op.family, status=verdict.status, message=verdict.message,
                        metrics=verdict.metrics, outcome=verdict.outcome, diagnosis=verdict.diagnosis).to_json()
        finding = Finding(op.name, name, spec_run, signature, subject, verdict.status, verdict.message, record,
                          hypothesis_runs + runs, drawn)
        findings.append(finding)
        stats.new[name] += 1
        self.write_findings(op.name)

    def _verdict_of(self, finding: Finding):
        from conformance.checks.verdict import Verdict

        r = finding.record
        return Verdict(r["status"], r["message"], r["metrics"], r["outcome"], r["diagnosis"])

    # --- output -------------------------------------------------------------------------

    def file_of(self, op_name: str) -> Path:
        return self.out / f"fuzz_{file_slug(op_name)}.yaml"

    def write_findings(self, op_name: str) -> Path:
        """DIR/fuzz_<op>.yaml: the op's new divergences as a catalogue file, each case with a
        comment saying what diverged and a standalone reproduction script."""
        from conformance.reproduce import snippet

        path = self.file_of(op_name)
        parts = [
            f"# New divergences of {op_name} found by `conformance fuzz` (seed {self.seed}), each shrunk to a minimal case.\n"
            "# `conformance run` on this file fails on each; to keep one, move it into the op's catalogue file with\n"
            "# `known: ID` and an entry in divergences.yaml (README: Fuzzing, Known divergences).\n",
            f"op: {op_name}\ncases:\n",
        ]
        for finding in self.findings[op_name]:
            spec = {k: v for k, v in finding.spec.items() if k != "op"}
            comment = [f"{finding.name}: {finding.status}: {finding.message[:600]}",
                       f"signature: {json.dumps(finding.signature)}" + (f", subject {finding.subject}" if finding.subject else ""),
                       f"first drawn as: {json.dumps(finding.drawn, default=str)[:600]}",
                       "reproduce (python3 - <<'EOF' ... EOF):"]
            try:
                comment += snippet(finding.record).splitlines()
            except Exception as exc:  # a script is a convenience; the case itself is the finding
                comment.append(f"(no script: {type(exc).__name__}: {exc})")
            parts.append("".join(f"# {line}".rstrip() + "\n" for line in comment))
            parts.append(case_yaml(spec))
        path.write_text("".join(parts), encoding="utf-8")
        return path

    def summary(self, budget_s: float) -> dict:
        families: dict[str, dict] = {}
        for stats in self.stats.values():
            family = families.setdefault(stats.family, {"ops": 0, "examples": 0, "divergences": 0, "known": Counter(),
                                                        "new": 0, "harness_errors": 0, "seconds": 0.0})
            family["ops"] += 1
            family["examples"] += stats.examples
            family["divergences"] += stats.divergences
            family["known"].update(stats.known)
            family["new"] += len(self.findings.get(stats.op, []))
            family["harness_errors"] += stats.harness_errors
            family["seconds"] += stats.seconds
        for family in families.values():
            family["known"] = dict(family["known"])
            family["seconds"] = round(family["seconds"], 1)
        new = [{"op": f.op, "name": f.name, "file": str(self.file_of(f.op)), "signature": f.signature,
                "subject": f.subject, "message": f.message[:600], "spec": f.spec, "shrink_runs": f.shrink_runs}
               for findings in self.findings.values() for f in findings]
        return {
            "seed": self.seed, "budget_s": budget_s, "modes": list(self.modes), "dtypes": list(self.dtypes),
            "elapsed_s": round(time.time() - self.started, 1),
            "totals": {"ops": len(self.stats), "examples": sum(s.examples for s in self.stats.values()),
                       "divergences": sum(s.divergences for s in self.stats.values()),
                       "known": sum(sum(s.known.values()) for s in self.stats.values()),
                       "known_ids": sorted({k for s in self.stats.values() for k in s.known}),
                       "new": len(new), "harness_errors": sum(s.harness_errors for s in self.stats.values())},
            "families": families,
            "ops": {name: stats.to_json() for name, stats in self.stats.items()},
            "new": new,
        }

    def write_summary(self, budget_s: float) -> dict:
        data = self.summary(budget_s)
        (self.out / "fuzz.json").write_text(json.dumps(data, indent=1, default=str) + "\n", encoding="utf-8")
        return data


# A crash costs a new worker process (TensorFlow imported again, twice: the supervisor reruns
# the culprit alone) and a hang its whole time limit: shrinking such a divergence gets fewer runs.
COSTLY_SHRINK_RUNS = 12


def _shrink_runs(runs: int, signature: dict) -> int:
    return min(runs, COSTLY_SHRINK_RUNS) if {"crash", "stopped"} & set(signature) else runs


def _short(case) -> str:
    return f"{case.op} {json.dumps(case.params, default=str)[:200]} {list(case.input_shape or [])} {case.dtype} {case.mode}"
