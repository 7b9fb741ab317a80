"""A run that loses nothing: hangs, crashes and interrupts cost only their own case; shards
merge to the same results as one run; two runs are identical; the Dask executor agrees with
the process pool. The integration tests run the `conformance` command in a subprocess on small
catalogues written here, with a user regularizer that hangs or kills its process on purpose
(deterministic, unlike a TensorFlow bug that a new version may fix)."""
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from conformance.results import environment_differences
from conformance.runner import shards
from conformance.runner.journal import JOURNAL_FILE, finished_records, read_journal
from conformance.runner.worker import Limits, Stop, side_of

ROOT = Path(__file__).resolve().parents[1]

OBJECTS = textwrap.dedent('''
    import os
    import signal
    import time

    import keras
    import numpy as np


    class Penalty(keras.regularizers.Regularizer):
        """strength * sum|x|, or, with behaviour "hang" or "segfault", a regularizer gone wrong."""

        def __init__(self, strength=0.1, behaviour="ok"):
            self.strength, self.behaviour = strength, behaviour

        def __call__(self, x):
            if self.behaviour == "hang":
                while True:
                    pass
            if self.behaviour == "segfault":
                os.kill(os.getpid(), signal.SIGSEGV)
            if self.behaviour == "hog":  # 3 GiB written (so resident), then held
                held = np.ones(3 * 2**30 // 8)
                time.sleep(60)
            return self.strength * keras.ops.sum(keras.ops.abs(x))

        def get_config(self):
            return {"strength": self.strength, "behaviour": self.behaviour}


    def penalty(x, strength, behaviour):
        return strength * np.sum(np.abs(x))
''')


def catalogue(tmp_path: Path, hang_timeout: float = 4) -> Path:
    """Three Dense cases, a regularizer that kills its process, one that hangs, three more Dense."""
    (tmp_path / "objects.py").write_text(OBJECTS)
    path = tmp_path / "mixed.yaml"
    path.write_text(textwrap.dedent(f'''
        cases:
          - name: before
            op: Dense
            sweep: {{units: [2, 3, 5]}}
            input_shape: [2, 5]
            modes: [eager]
          - name: segfault
            op: custom.regularizer
            custom: objects.py:Penalty
            reference: objects.py:penalty
            params: {{strength: 0.5, behaviour: segfault}}
            input_shape: [3, 4]
          - name: hang
            op: custom.regularizer
            custom: objects.py:Penalty
            reference: objects.py:penalty
            params: {{strength: 0.5, behaviour: hang}}
            input_shape: [3, 4]
            timeout: {hang_timeout}
          - name: after
            op: Dense
            sweep: {{units: [2, 3, 5]}}
            input_shape: [3, 4]
            modes: [eager]
    '''))
    return path


def conformance(*args, env=None, **kwargs):
    return subprocess.run([sys.executable, "-m", "conformance.cli", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, env=env, **kwargs)


def by_id(results_path) -> dict:
    return {r["id"]: r for r in json.loads(Path(results_path).read_text())["cases"]}


def without_timings(record: dict) -> dict:
    return {k: v for k, v in record.items() if k not in ("durations", "duration_s")}


# ---------------------------------------------------------------- pure parts

def test_the_side_that_was_running_is_named_from_the_phase():
    assert [side_of(p) for p in ("build", "eager", "compile", "call", "reference", "judge", None)] == \
        ["tf.keras"] * 4 + ["reference", "harness", "harness"]
    crash = Stop("signal", "call", signal="SIGFPE", attempts=2)
    assert crash.describe() == ("the process running tf.keras was killed by signal SIGFPE (phase call); "
                                "again when rerun alone in a fresh worker")
    assert Stop("timeout", "reference", limit=7.5).describe() == "timed out after 7.5 s while the reference was running (phase reference)"
    assert Stop("memory", "compile", limit=100, used=612.4).to_json()["side"] == "tf.keras"


def test_a_case_timeout_wins_over_the_run_default():
    class Case:
        timeout = None

    slow = Case()
    slow.timeout = 600
    assert Limits(timeout_s=30).timeout_for(Case()) == 30 and Limits(timeout_s=30).timeout_for(slow) == 600


class _Case:
    def __init__(self, case_id):
        self.id = case_id


def test_shards_partition_the_cases_deterministically():
    cases = [_Case(f"f.yaml::c{i}") for i in range(200)]
    parts = [shards.shard_cases(cases, i, 3) for i in (1, 2, 3)]
    ids = [c.id for part in parts for c in part]
    assert sorted(ids) == sorted(c.id for c in cases) and len(ids) == len(set(ids))
    assert all(40 < len(p) < 95 for p in parts)  # a hash split is roughly even
    assert [c.id for c in shards.shard_cases(cases, 2, 3)] == [c.id for c in parts[1]]  # same split every time
    assert all(p == sorted(p, key=lambda c: int(c.id.split("c")[-1])) for p in parts)  # catalogue order kept


def test_durations_balance_the_shards_longest_first():
    cases = [_Case(n) for n in "abcdef"]
    durations = {"a": 8.0, "b": 7.0, "c": 6.0, "d": 5.0, "e": 4.0}  # f unknown: the median, 6
    # LPT by hand: a->1 (8), b->2 (7), c(6) and f(6) -> 2 then 1 ... ties by id: c before f
    # c -> shard 2 (7 < 8): 13; f -> shard 1 (8): 14; d -> shard 2 (13): 18; e -> shard 1 (14): 18
    assert [c.id for c in shards.shard_cases(cases, 1, 2, durations)] == ["a", "e", "f"]
    assert [c.id for c in shards.shard_cases(cases, 2, 2, durations)] == ["b", "c", "d"]


@pytest.mark.parametrize("text", ["0/3", "4/3", "1", "a/b", "1/0", ""])
def test_a_malformed_shard_is_refused(text):
    with pytest.raises(shards.ShardError, match="--shard"):
        shards.parse_shard(text)


def _results(path: Path, ids, **meta) -> Path:
    document = {"schema_version": 4, "meta": {"tensorflow": "2.21.0", "keras": "3.15.1", "numpy": "2.4", "python": "3.11",
                                              "target": "tf.keras", "started": "t", "duration_s": 1.0, **meta},
                "summary": {}, "divergences": {}, "cases": [{"id": i, "status": "pass"} for i in ids]}
    path.write_text(json.dumps(document))
    return path


def test_merge_refuses_mixed_versions_and_a_case_in_two_shards(tmp_path):
    a = _results(tmp_path / "a.json", ["x", "y"])
    b = _results(tmp_path / "b.json", ["z"], keras="3.14.0")
    with pytest.raises(shards.ShardError, match="keras '3.14.0' but .*'3.15.1'"):
        shards.merge([a, b])
    records, meta, _ = shards.merge([a, b], allow_mixed=True)
    assert [r["id"] for r in records] == ["x", "y", "z"] and len(meta["merged_from"]) == 2
    with pytest.raises(shards.ShardError, match="case y is in both"):
        shards.merge([a, _results(tmp_path / "c.json", ["y"])])


def test_a_journal_cut_short_keeps_every_whole_line(tmp_path):
    lines = [{"journal": {"started": "t"}}, {"id": "a", "status": "pass"}, {"id": "b", "status": "notrun"},
             {"id": "c", "status": "fail"}]
    text = "".join(json.dumps(line) + "\n" for line in lines) + '{"id": "d", "sta'  # killed mid-line
    (tmp_path / JOURNAL_FILE).write_text(text)
    assert [r["id"] for r in read_journal(tmp_path / JOURNAL_FILE)] == ["a", "b", "c"]
    assert sorted(finished_records(tmp_path)) == ["a", "c"]  # notrun is no result


def test_environment_differences_name_what_changed():
    before = {"keras": "3.15.1", "cpu_flags": ["avx2"], "flags": {"TF_ENABLE_ONEDNN_OPTS": None}, "facts": {"onednn": True}}
    after = {"keras": "3.15.1", "cpu_flags": ["avx2", "avx512f"], "flags": {"TF_ENABLE_ONEDNN_OPTS": "0"}, "facts": {"onednn": False}}
    assert environment_differences(before, after) == [
        ("cpu_flags", ["avx2"], ["avx2", "avx512f"]), ("flags.TF_ENABLE_ONEDNN_OPTS", None, "0"), ("facts.onednn", True, False)]
    assert environment_differences(before, {"keras": "3.15.1"}) == []  # not recorded is not a change


# ---------------------------------------------------------------- the command, end to end

def test_a_hang_and_a_crash_cost_only_their_own_case(tmp_path):
    path = catalogue(tmp_path)
    started = time.monotonic()
    result = conformance("run", path, "-j", "1", "--out", tmp_path / "out", "-q")
    elapsed = time.monotonic() - started
    assert result.returncode == 1, result.stderr
    records = by_id(tmp_path / "out" / "results.json")
    assert len(records) == 8
    innocent = [r for i, r in records.items() if "::before" in i or "::after" in i]
    assert len(innocent) == 6 and all(r["status"] == "pass" for r in innocent)
    crash = records[f"{path}::segfault"]
    # it ran after three cases in the same worker: rerun alone, it died again, so it is the culprit
    assert crash["status"] == "fail" and crash["outcome"]["stopped"] == {
        "reason": "signal", "side": "tf.keras", "phase": "call", "signal": "SIGSEGV", "limit": None, "used": None, "attempts": 2}
    assert crash["outcome"]["keras"]["error"]["type"] == "ProcessCrash"
    hang = records[f"{path}::hang"]
    assert hang["status"] == "error" and hang["message"] == "timed out after 4 s while tf.keras was running (phase call)"
    assert elapsed < 100  # the hang cost its 4 s, not the run
    assert not (tmp_path / "out" / JOURNAL_FILE).exists()  # a finished run leaves results.json only


def test_a_case_past_the_memory_budget_is_stopped_and_recorded(tmp_path):
    (tmp_path / "objects.py").write_text(OBJECTS)
    path = tmp_path / "hog.yaml"
    path.write_text(textwrap.dedent('''
        cases:
          - name: hog
            op: custom.regularizer
            custom: objects.py:Penalty
            reference: objects.py:penalty
            params: {strength: 0.5, behaviour: hog}
            input_shape: [3, 4]
    '''))
    # a worker holding TensorFlow is well under 2 GiB; the case pushes it past 3 GiB
    result = conformance("run", path, "--memory-limit", 2048, "--out", tmp_path / "out", "-q")
    assert result.returncode == 1, result.stderr
    (record,) = by_id(tmp_path / "out" / "results.json").values()
    stopped = record["outcome"]["stopped"]
    assert record["status"] == "error" and stopped["reason"] == "memory" and stopped["side"] == "tf.keras"
    assert stopped["limit"] == 2048 and 2048 < stopped["used"] < 5 * 1024  # the 3 GiB plus TensorFlow at most
    assert record["message"].startswith("stopped at ") and "past the budget of 2048 MiB" in record["message"]


def test_pytest_items_survive_a_hang_and_a_crash(tmp_path):
    path = catalogue(tmp_path)
    result = subprocess.run([sys.executable, "-m", "pytest", str(path), "-q", "-p", "no:cacheprovider",
                             "--junitxml", str(tmp_path / "junit.xml")], cwd=tmp_path, capture_output=True, text=True)
    assert "2 failed, 6 passed" in result.stdout, result.stdout[-3000:]
    assert "killed by signal SIGSEGV" in result.stdout and "timed out after 4 s" in result.stdout


def test_an_interrupt_keeps_what_finished_and_resume_runs_the_rest(tmp_path):
    path = catalogue(tmp_path, hang_timeout=600)
    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-m", "conformance.cli", "run", str(path), "-j", "1", "--out", str(out), "-q"],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    journal = out / JOURNAL_FILE
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and len(read_journal(journal)) < 4:  # the three before, and the crash
        time.sleep(0.2)
    time.sleep(1.0)  # the hang is now running
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    records = by_id(out / "results.json")
    statuses = {i.split("::")[1]: r["status"] for i, r in records.items()}
    assert [s for n, s in statuses.items() if n.startswith("before")] == ["pass"] * 3
    assert statuses["hang"] == "notrun"
    assert all(s == "notrun" for n, s in statuses.items() if n.startswith("after"))
    assert not journal.exists() and "--resume" in stderr

    # resume with a case timeout small enough: only the 4 cases without a result run
    path.write_text(path.read_text().replace("timeout: 600", "timeout: 3"))
    resumed = conformance("run", path, "--resume", out, "-q")
    assert resumed.returncode == 1, resumed.stderr
    document = json.loads((out / "results.json").read_text())
    assert document["meta"]["resumed"] == {"kept": 4, "ran": 4}
    records = by_id(out / "results.json")
    assert records[f"{path}::hang"]["status"] == "error"
    assert sum(r["status"] == "pass" for r in records.values()) == 6


def test_a_run_killed_outright_resumes_from_its_journal(tmp_path):
    path = catalogue(tmp_path, hang_timeout=600)
    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-m", "conformance.cli", "run", str(path), "-j", "1", "--out", str(out), "-q"],
                               cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and len(read_journal(out / JOURNAL_FILE)) < 3:
        time.sleep(0.2)
    process.kill()  # SIGKILL: no handler runs, no results.json
    process.wait()
    assert not (out / "results.json").exists()
    kept = len(read_journal(out / JOURNAL_FILE))
    assert kept >= 3
    resumed = conformance("run", path, "--resume", out, "-q", "-k", "not hang")
    assert resumed.returncode == 1, resumed.stderr  # the segfault case fails
    document = json.loads((out / "results.json").read_text())
    assert document["meta"]["resumed"]["kept"] == kept and len(document["cases"]) == 7


def test_two_runs_give_identical_results_and_shards_merge_to_one_run(tmp_path):
    """Every random layer (in training: their draws) and every initializer, once with two
    workers and once as two shards of one worker each, merged: identical but for timings."""
    from conformance.catalogue.loader import load_paths

    files = [ROOT / "cases" / "regularization_layers.yaml", ROOT / "cases" / "initializers.yaml"]
    cases, _ = load_paths(files)
    first_of_op = {}
    for case in cases:
        if case.mode == "eager" and not case.expect.get("error"):
            first_of_op.setdefault((case.op, case.call.get("training", False)), case)
    expr = " or ".join(sorted(c.id.split("::", 1)[1] for c in first_of_op.values()))  # an id is a substring of itself
    whole = conformance("run", *files, "-k", expr, "--modes", "eager", "-j", "2", "--out", tmp_path / "whole", "-q")
    assert whole.returncode in (0, 1), whole.stderr
    for i in (1, 2):
        part = conformance("run", *files, "-k", expr, "--modes", "eager", "--shard", f"{i}/2", "--out", tmp_path / f"s{i}", "-q")
        assert part.returncode in (0, 1), part.stderr
    merged = conformance("merge", *(tmp_path / f"s{i}" / "results.json" for i in (1, 2)), "-o", tmp_path / "merged")
    assert merged.returncode == 0, merged.stderr
    a, b = by_id(tmp_path / "whole" / "results.json"), by_id(tmp_path / "merged" / "results.json")
    ops = {r["op"] for r in a.values()}
    assert {"Dropout", "SpatialDropout2D", "GaussianNoise", "GaussianDropout", "AlphaDropout"} <= ops
    assert {"initializers.GlorotUniform", "initializers.Orthogonal", "initializers.TruncatedNormal"} <= ops
    assert a.keys() == b.keys() and len(a) >= len(first_of_op) >= 20
    assert [i for i in a if without_timings(a[i]) != without_timings(b[i])] == []


def test_the_dask_executor_gives_the_process_pool_results(tmp_path):
    distributed = pytest.importorskip("distributed")
    path = catalogue(tmp_path)
    env = {k: v for k, v in os.environ.items()}
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        # both executors' workers see the same thread settings (a Dask nanny sets OMP_NUM_THREADS=1)
        env.update({k: os.environ.get(k, "1") for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")})
        on_dask = conformance("run", path, "--executor", "dask", "--scheduler", cluster.scheduler_address,
                              "--out", tmp_path / "dask", "-q", env=env)
    local = conformance("run", path, "-j", "2", "--out", tmp_path / "local", "-q", env=env)
    assert on_dask.returncode == local.returncode == 1, on_dask.stderr + local.stderr
    a, b = by_id(tmp_path / "dask" / "results.json"), by_id(tmp_path / "local" / "results.json")
    assert a.keys() == b.keys() and len(a) == 8
    # the crash's attempts depend on what its worker ran before, which the schedulers decide
    drop = lambda r: {**without_timings(r), "message": None, "outcome": {**r["outcome"], "stopped": None}}  # noqa: E731
    assert [i for i in a if drop(a[i]) != drop(b[i])] == []
    assert a[f"{path}::segfault"]["outcome"]["stopped"]["signal"] == "SIGSEGV"
    meta = json.loads((tmp_path / "dask" / "results.json").read_text())["meta"]
    assert meta["executor"].startswith("dask tcp://") and meta["facts"]["python_hash_seed"] == "0"


def test_onednn_is_read_from_the_cpu_flags_and_the_environment_variable():
    from conformance import machine

    assert machine.onednn(["avx", "avx2", "fma"], {}) is False  # an AVX2-only CPU: TensorFlow leaves it off
    assert machine.onednn(["avx2", "avx512f", "avx512_vnni"], {}) is True
    assert machine.onednn(["avx2", "amx_tile"], {}) is True
    assert machine.onednn(["avx2"], {"TF_ENABLE_ONEDNN_OPTS": "1"}) is True
    assert machine.onednn(["avx512_bf16"], {"TF_ENABLE_ONEDNN_OPTS": "false"}) is False


def test_unmet_names_what_an_entry_requires_and_the_machine_lacks():
    from conformance import machine

    with machine.assuming({"onednn": False}):
        assert machine.unmet({"onednn": True}) == {"onednn": True}
        assert machine.unmet({"onednn": False}) == {} and machine.unmet({}) == {}
    with machine.assuming({"onednn": True}):
        assert machine.unmet({"onednn": True}) == {}


def test_onednn_as_read_without_tensorflow_agrees_with_tensorflow():
    from tensorflow.python.util import _pywrap_util_port

    from conformance import machine

    assert machine.facts()["onednn"] == bool(_pywrap_util_port.IsMklEnabled())
