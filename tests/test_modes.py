"""Execution modes end to end: a fault planted only in the compiled call is caught in that
mode alone; a fourth mode is one entry in conformance.axes; records round-trip."""
import numpy as np
import pytest

from conformance import axes
from conformance.catalogue.loader import load_file
from conformance.catalogue.model import Case
from conformance.record import Record
from conformance.runner.execute import run_case
from conformance.target import MEMBERS, get_target

CATALOGUE = """
op: Conv2D
cases:
  - name: conv
    input_shape: [2, 7, 6, 3]
    params: {filters: 4, kernel_size: 3, padding: same}
  - name: relu
    op: activations.relu
    input_shape: [3, 10]
"""


def perturbed_xla(tf, fn):
    """XLA that returns its result plus 1e-3: a fault only a compiled call has."""
    compiled = tf.function(fn, jit_compile=True)

    def call(*args):
        out = compiled(*args)
        return tf.nest.map_structure(lambda t: t if t is None else t + tf.cast(1e-3, t.dtype), out)

    return call


def test_a_fault_only_under_xla_is_caught_in_xla_alone(write_catalogue, monkeypatch):
    monkeypatch.setitem(axes.MODES, "xla", axes.Mode("xla", "planted fault", perturbed_xla, compiled=True))
    cases, errors = load_file(write_catalogue(CATALOGUE))
    assert errors == []
    records = {c.id.split("::")[1]: run_case(c) for c in cases}
    for name in ("conv", "relu"):
        assert records[name].status == "pass", records[name].message
        assert records[f"{name}[function]"].status == "pass", records[f"{name}[function]"].message
        xla = records[f"{name}[xla]"]
        assert xla.status == "fail"
        assert "out of the error bound" in xla.message
        # every element moved by 1e-3 from eager: far beyond atol + rtol|x| ~ 1e-5
        assert xla.metrics["vs_eager"] == pytest.approx(1e-3, rel=1e-3)
        assert xla.metrics["vs_eager_ratio"] > 10
        assert records[f"{name}[function]"].metrics["vs_eager"] == 0.0


def test_a_fourth_mode_is_one_entry_in_the_axes(write_catalogue, monkeypatch):
    no_autograph = axes.Mode("function_no_autograph", "tf.function without autograph",
                             lambda tf, fn: tf.function(fn, autograph=False), compiled=True)
    monkeypatch.setitem(axes.MODES, no_autograph.name, no_autograph)
    monkeypatch.setitem(axes.CHECK_MODES, "values", tuple(axes.MODES))
    cases, errors = load_file(write_catalogue(CATALOGUE))
    assert errors == []
    added = [c for c in cases if c.mode == "function_no_autograph"]
    assert [c.id.split("::")[1] for c in added] == ["conv[function_no_autograph]", "relu[function_no_autograph]"]
    for case in added:
        record = run_case(case)
        assert record.status == "pass", record.message
        assert record.durations["compile"] > 0 and record.metrics["vs_eager"] == 0.0


def test_compile_time_is_apart_from_the_call_and_eager_has_none():
    case = Case(id="t::c", file="t", line=1, name="c", op="Conv1D", params={"filters": 3, "kernel_size": 3},
                dtype="float32", input_shape=(2, 9, 4), mode="xla")
    record = run_case(case)
    assert record.status == "pass", record.message
    assert set(record.durations) == {"build", "eager", "compile", "call", "gradient", "reference", "reference gradient", "judge"}
    assert record.duration_s == pytest.approx(sum(record.durations.values()), abs=1e-5)
    eager = run_case(Case(**{**case.__dict__, "mode": "eager", "id": "t::c-eager"}))
    assert "compile" not in eager.durations and "eager" not in eager.durations


def test_a_stateful_layer_in_a_compiled_mode_starts_from_the_initial_state():
    # BatchNormalization in training updates its moving statistics on each call: the eager
    # comparison run and the compiling call must not leave their updates behind
    case = Case(id="t::bn", file="t", line=1, name="bn", op="BatchNormalization", params={"momentum": 0.5},
                dtype="float64", input_shape=(6, 4), call={"training": True}, calls=3, mode="function")
    record = run_case(case)
    assert record.status == "pass", record.message
    assert record.metrics["state"]["moving_mean"]["max_abs_error"] < 1e-12


def test_a_compiled_mode_is_judged_on_its_own_when_the_eager_call_raises():
    # channels_first float64 Conv1D: TensorFlow has no such CPU kernel for eager calls, while
    # XLA compiles its own; the eager failure must not become the xla case's result
    case = Case(id="t::cf", file="t", line=1, name="cf", op="Conv1D",
                params={"filters": 3, "kernel_size": 3, "data_format": "channels_first"},
                dtype="float64", input_shape=(2, 4, 9), mode="xla")
    xla = run_case(case)
    eager = run_case(Case(**{**case.__dict__, "mode": "eager", "id": "t::cf-eager"}))
    assert xla.status == "pass", xla.message
    if eager.status == "fail":  # no eager kernel: no comparison either
        assert xla.metrics["vs_eager"] is None
    else:
        assert xla.metrics["vs_eager"] < 1e-10


def test_records_round_trip_through_json(write_catalogue):
    cases, _ = load_file(write_catalogue(CATALOGUE))
    record = run_case(next(c for c in cases if c.id.endswith("conv[xla]")))
    data = record.to_json()
    again = Record.from_json(data)
    assert again.case == record.case
    assert again.to_json() == data
    assert data["mode"] == "xla" and data["target"] == "tf.keras" and data["check"] == "values"


def test_a_record_of_an_older_version_reads_as_eager():
    old = {"id": "cases/a.yaml::x", "op": "Conv1D", "params": {"filters": 1, "kernel_size": 1}, "dtype": "float32",
           "input_shapes": {"x": [1, 3, 2]}, "status": "pass", "duration_s": 0.5}
    record = Record.from_json(old)
    assert record.case.mode == "eager" and record.case.target == "tf.keras" and record.case.input_shape == (1, 3, 2)


def test_the_tf_keras_target_provides_the_whole_interface():
    target = get_target("tf.keras")
    assert [m for m in MEMBERS if not hasattr(target, m)] == []
    with pytest.raises(ValueError, match="unknown target 'keras2'; targets: tf.keras"):
        get_target("keras2")


def test_only_the_target_imports_tensorflow():
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "conformance"
    importing = sorted(str(p.relative_to(root)) for p in root.rglob("*.py")
                       if "import tensorflow" in p.read_text() and p.parent.name != "target")
    assert importing == ["reproduce.py", "upstream.py"]  # the standalone scripts they write, as text
