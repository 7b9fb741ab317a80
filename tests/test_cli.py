"""The `conformance` command: exit codes, messages, results.json, and `new`."""
import json
import os

from conformance.catalogue.loader import load_file
from conformance.cli import main

GOOD = """
op: Conv1D
cases:
  - name: small
    input_shape: [2, 7, 3]
    params: {filters: 2, kernel_size: 3}
    sweep: {padding: [valid, causal]}
  - name: rejected
    input_shape: [1, 9, 2]
    params: {filters: 1, kernel_size: 3, strides: 2, dilation_rate: 2}
    expect: {error: ValueError}
"""


def test_validate_ok_and_broken(write_catalogue, capsys):
    good = write_catalogue(GOOD, name="good/conv1d.yaml")
    assert main(["validate", str(good.parent)]) == 0
    # 2 + 1 value cases, each in the three modes
    assert "ok: 9 cases in 1 file(s)" in capsys.readouterr().out

    bad = write_catalogue("op: Conv1D\ncases:\n  - name: a\n    input_shape: [1, 5, 2]\n    params: {filter: 1, kernel_size: 2}\n", name="bad/x.yaml")
    assert main(["validate", str(bad)]) == 2
    captured = capsys.readouterr()
    assert "x.yaml:5: params.filter: Conv1D has no argument 'filter'; did you mean 'filters'?" in captured.err
    assert "Traceback" not in captured.err + captured.out


def test_missing_path_is_a_usage_error(capsys, tmp_path):
    assert main(["validate", str(tmp_path / "nope")]) == 2
    assert "no such file or folder" in capsys.readouterr().err


def test_list_with_k(write_catalogue, capsys):
    path = write_catalogue(GOOD)
    assert main(["list", str(path), "-k", "small and not causal"]) == 0
    out = capsys.readouterr().out.split()
    assert [i.split("::")[1] for i in out] == ["small[padding=valid]", "small[padding=valid-function]", "small[padding=valid-xla]"]
    # the mode selects too: by word (eager ids do not name it) and by --modes
    assert main(["list", str(path), "-k", "small and not causal and eager"]) == 0
    assert [i.split("::")[1] for i in capsys.readouterr().out.split()] == ["small[padding=valid]"]
    assert main(["list", str(path), "--modes", "xla,function", "-k", "rejected"]) == 0
    assert [i.split("::")[1] for i in capsys.readouterr().out.split()] == ["rejected[function]", "rejected[xla]"]
    assert main(["list", str(path), "-k", "small and ("]) == 2


def test_run_writes_results_json(write_catalogue, tmp_path, capsys):
    path = write_catalogue(GOOD)
    out = tmp_path / "out"
    code = main(["run", str(path), "--out", str(out), "-q"])
    summary = capsys.readouterr().out
    doc = json.loads((out / "results.json").read_text())
    assert code == 0, summary
    assert "9 pass" in summary
    assert doc["summary"]["pass"] == 9 and doc["summary"]["total"] == 9
    for key in ("tensorflow", "keras", "numpy", "python", "platform", "cpu", "flags", "started", "duration_s", "modes", "target"):
        assert key in doc["meta"], key
    assert doc["meta"]["modes"] == ["eager", "function", "xla"] and doc["meta"]["target"] == "tf.keras"
    record = next(r for r in doc["cases"] if r["id"].endswith("small[padding=causal]"))
    for key in ("id", "op", "file", "params", "dtype", "input_shapes", "status", "metrics", "tolerance", "message", "duration_s"):
        assert key in record, key
    assert record["params"] == {"filters": 2, "kernel_size": 3, "padding": "causal"}
    assert record["input_shapes"] == {"x": [2, 7, 3]}
    assert record["outcome"]["keras"]["output_shape"] == [2, 7, 2]
    assert record["metrics"]["n_elements"] == 28 and record["metrics"]["max_abs_error"] < 1e-5
    assert record["mode"] == "eager" and record["check"] == "values" and "vs_eager" not in record["metrics"]
    assert set(record["durations"]) >= {"build", "call", "reference", "judge"}
    xla = next(r for r in doc["cases"] if r["id"].endswith("small[padding=causal-xla]"))
    assert xla["mode"] == "xla" and xla["params"] == record["params"]
    assert xla["metrics"]["vs_eager"] < 1e-5 and xla["durations"]["compile"] > 0
    rejected = next(r for r in doc["cases"] if r["id"].endswith("::rejected"))
    assert rejected["status"] == "pass" and rejected["outcome"]["keras"]["error"]["type"] == "ValueError"


def test_run_records_broken_cases_and_exits_2(write_catalogue, tmp_path, capsys):
    path = write_catalogue(GOOD + "  - name: broken\n    input_shape: [1, 5, 2]\n    params: {filters: 1}\n")
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "-q"]) == 2
    doc = json.loads((out / "results.json").read_text())
    statuses = {r["id"].split("::")[1]: r["status"] for r in doc["cases"]}
    assert statuses["broken[catalogue-error]"] == "error"
    assert sum(s == "pass" for s in statuses.values()) == 9  # the others still ran, in three modes
    assert "Conv1D needs kernel_size" in next(r["message"] for r in doc["cases"] if r["id"].endswith("broken[catalogue-error]"))


def test_new_appends_a_valid_template(tmp_path, capsys):
    target = tmp_path / "cases" / "conv2d.yaml"
    assert main(["new", "Conv2D", "--name", "my_case", "--file", str(target)]) == 0
    assert main(["new", "Conv2D", "--name", "second", "--file", str(target)]) == 0
    cases, errors = load_file(target)
    assert errors == []
    assert [c.name for c in cases if c.mode == "eager"] == ["my_case", "second"]
    assert cases[0].params == {"filters": 3, "kernel_size": 3}
    assert main(["new", "Conv2D", "--name", "my_case", "--file", str(target)]) == 2
    assert "already has a case named 'my_case'" in capsys.readouterr().err
    assert main(["new", "Conv2Dx", "--name", "z", "--file", str(target)]) == 2
    assert "did you mean 'Conv2D'" in capsys.readouterr().err


def test_every_op_has_a_valid_template(tmp_path, capsys):
    from conformance.ops import all_ops

    broken = []
    # custom ops name the user's own files, which a template cannot provide
    for name in sorted(n for n in all_ops() if not n.startswith("custom.")):
        target = tmp_path / f"{name}.yaml"
        assert main(["new", name, "--name", "first", "--file", str(target)]) == 0
        cases, errors = load_file(target)
        if errors or len({c.name for c in cases}) != 1:
            broken.append(f"{name}: {[str(e) for e in errors]}")
    capsys.readouterr()
    assert broken == []


def test_compile_cache_keeps_xla_programs_per_tensorflow_version(write_catalogue, tmp_path, capsys):
    # in a child process: TensorFlow reads the cache flag when it starts
    import subprocess
    import sys

    path = write_catalogue(GOOD)
    cache = tmp_path / "xla-cache"
    command = [sys.executable, "-m", "conformance.cli", "run", str(path), "--modes", "xla", "-k", "small",
               "--out", str(tmp_path / "out"), "-q", "--compile-cache", str(cache)]
    # every XLA gradient checked, so that each case has two programs: its forward and its gradient
    environment = {**os.environ, "CONFORMANCE_ALL_GRADIENTS": "1"}
    assert subprocess.run(command, capture_output=True, env=environment).returncode == 0
    (folder,) = cache.iterdir()
    assert folder.name.startswith("tf-2.")  # one folder per TensorFlow version and XLA flags
    assert len(list(folder.glob("*.pb"))) == 4  # a forward and a gradient program per case (two paddings)
    doc = json.loads((tmp_path / "out" / "results.json").read_text())
    assert doc["meta"]["compile_cache"] == str(folder)


def test_validate_warns_of_a_divergence_no_case_refers_to(write_catalogue, write_registry, capsys):
    registry = write_registry("used-one", "forgotten-one")
    write_catalogue(GOOD.replace("    sweep: {padding: [valid, causal]}", "    sweep: {padding: [valid, causal]}\n    known: used-one"))
    assert main(["validate", str(registry.parent)]) == 0
    err = capsys.readouterr().err
    assert "divergences.yaml:8: divergence forgotten-one: no case refers to it" in err
    assert "used-one" not in err


def test_divergence_lists_reports_and_prints_a_script(write_catalogue, write_registry, capsys):
    registry = write_registry(conv_values={"values": {}})
    write_catalogue(GOOD.replace("    sweep: {padding: [valid, causal]}", "    known: conv-values"))
    folder = str(registry.parent)
    assert main(["divergence", "--cases", folder]) == 0
    listing = capsys.readouterr().out
    assert "conv-values" in listing and " 3 cases" in listing  # the small case in its three modes
    assert main(["divergence", "conv-valus", "--cases", folder]) == 2
    assert "did you mean 'conv-values'" in capsys.readouterr().err
    assert main(["divergence", "conv-values", "--cases", folder]) == 0
    report = capsys.readouterr().out
    assert report.startswith("# conv-values title")
    assert "Standalone reproduction (from `" in report and "keras.layers.Conv1D(**params, dtype=dtype)" in report
    assert main(["divergence", "conv-values", "--cases", folder, "--script"]) == 0
    script = capsys.readouterr().out
    compile(script, "script.py", "exec")  # valid Python
    assert "import conformance" not in script and "from conformance" not in script
