"""The fuzzer finds planted faults and shrinks each to a minimal case, within seconds.

The faults are planted in a fake target: a module-like object with the members of
conformance.target.Target that computes the reference in NumPy and then makes one mistake a
real implementation could make. No TensorFlow is imported, so these tests are fast:
- Conv1D 'same' padding whose odd pixel goes before instead of after (only an even effective
  kernel has an odd total padding, so only even kernels show it);
- Conv1D with channels_first adding the bias along the length axis when the output's length
  equals the number of filters (the bias has as many entries as either);
- AveragePooling1D 'same' dividing a window clipped at the border by the full pool size.

Minimal means what the fuzzer promises: no optional argument can be left out and no size
(input dimension, integer argument) reduced by one without losing the divergence. The tests
check it independently of the greedy pass, by trying every such change on the written case.
"""
from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from conformance.catalogue.loader import load_file
from conformance.checks.values import run_reference
from conformance.fuzz import Fuzzer, InProcess, KnownDivergences, parse_budget, resolve_ops
from conformance.fuzz.cases import Refused, to_case
from conformance.fuzz.shrink import _int_positions
from conformance.fuzz.signature import is_divergence, same_divergence
from conformance.ops import get_op
from conformance.outcome import SideOutcome, error_info
from reference_impl.conv import _same_pads

REPO = Path(__file__).resolve().parents[1]
# The search is bounded by examples (deterministic under the seed whatever the machine's
# load); the time is only a ceiling against a search that hangs, so it is generous: a loaded
# CI machine (the catalogue's TensorFlow cases on both cores) must never cut a search short,
# or the planted fault may go unfound. 400 examples take a few seconds on an idle machine.
EXAMPLES = 400
BUDGET_S = 1800.0


class PlantedTarget:
    """The reference itself, except where `fault(op, case, x, weights, output)` returns a
    different output for a single-input layer (None: the honest output)."""

    NAME = "planted"

    def __init__(self, fault):
        self.fault = fault

    def reset_random_state(self, seed):
        pass

    def run_layer(self, op, case, inputs, weights, calls, timings=None, cotangent=None):
        if weights is None:  # the reference rejected the arguments: so does this target
            try:
                op.predict_weights(case.params, tuple(np.shape(inputs[0])))
            except (ValueError, TypeError) as exc:
                return SideOutcome(error=error_info(exc, "build"))
        side, _ = run_reference(op, case, inputs, calls)
        if side.error is not None:
            return side
        wrong = self.fault(op, case, inputs[-1], weights, side.output)
        return SideOutcome(output=side.output if wrong is None else wrong, state=side.state)

    run_layer_isolated = run_layer

    def run_function(self, op, case, x, timings=None, cotangent=None):
        return SideOutcome(output=np.asarray(op.compute(x, case.params), dtype=np.float64))


def same_padding_before(op, case, x, weights, output):
    """'same' with the odd pixel of padding before (the documented place is after)."""
    p = case.params
    if op.name != "Conv1D" or str(p.get("padding", "valid")).lower() != "same":
        return None
    first = p.get("data_format") == "channels_first"
    n = x.shape[2] if first else x.shape[1]
    k = _one(p["kernel_size"])
    d, s = _one(p.get("dilation_rate", 1)), _one(p.get("strides", 1))
    before, after = _same_pads(n, (k - 1) * d + 1, s)
    pads = [(0, 0), (0, 0), (after, before)] if first else [(0, 0), (after, before), (0, 0)]
    return op.compute(np.pad(x, pads), weights, {**p, "padding": "valid"}, {})


def bias_on_length_axis(op, case, x, weights, output):
    """channels_first: when the output's length equals the number of filters, the bias is
    added along the length instead of the channels."""
    p = case.params
    if op.name != "Conv1D" or p.get("data_format") != "channels_first" or not p.get("use_bias", True):
        return None
    if output.shape[2] != output.shape[1]:
        return None
    bias = weights["bias"]
    return output - bias[None, :, None] + bias[None, None, :]


def clipped_window_full_divisor(op, case, x, weights, output):
    """AveragePooling1D 'same': every window divided by pool_size, padded zeros counted."""
    p = case.params
    if op.name != "AveragePooling1D" or str(p.get("padding", "valid")).lower() != "same":
        return None
    first = p.get("data_format") == "channels_first"
    xl = np.moveaxis(x, 1, 2) if first else x
    k = _one(p.get("pool_size", 2))
    s = _one(p.get("strides") or k)
    before, after = _same_pads(xl.shape[1], k, s)
    padded = np.pad(xl, [(0, 0), (before, after), (0, 0)])
    out = op.compute(padded, {}, {**p, "padding": "valid", "data_format": "channels_last"}, {})
    return np.moveaxis(out, 2, 1) if first else out


def _one(v):
    return v[0] if isinstance(v, list) else v


def fuzz(tmp_path, op_name, fault, known=None, examples=EXAMPLES, seed=0):
    fuzzer = Fuzzer(tmp_path, InProcess(PlantedTarget(fault)), known, seed=seed, dtypes=("float64",), max_examples=examples)
    summary = fuzzer.run(resolve_ops([op_name]), BUDGET_S)
    return fuzzer, summary


def written_cases(path: Path) -> list[dict]:
    return yaml.safe_load(path.read_text())["cases"]


def diverges(spec: dict, target, file: Path, signature, subject) -> bool:
    try:
        _, case = to_case({"name": "probe", **spec}, file)
    except Refused:
        return False
    verdict = InProcess(target)(case)
    return is_divergence(verdict) and same_divergence(signature, subject, verdict)


def assert_minimal(spec: dict, target, file: Path, signature, subject):
    """No optional argument can be left out, no size reduced by one, keeping the divergence."""
    op = get_op(spec["op"])
    assert diverges(spec, target, file, signature, subject)
    for key in spec.get("params", {}):
        if key in op.required:
            continue
        smaller = copy.deepcopy(spec)
        del smaller["params"][key]
        assert not diverges(smaller, target, file, signature, subject), f"{key} could be left out of {spec}"
    sizes = [("input_shape", i) for i in range(len(spec.get("input_shape", [])))]
    sizes += [("params", k, *pos) for k, v in spec.get("params", {}).items()
              if op.params[k].minimum is not None for pos in _int_positions(v)]
    for path in sizes:
        smaller = copy.deepcopy(spec)
        parent = smaller
        for key in path[:-1]:
            parent = parent[key]
        minimum = 1 if path[0] == "input_shape" else op.params[path[1]].minimum
        if parent[path[-1]] - 1 < minimum:
            continue
        parent[path[-1]] -= 1
        assert not diverges(smaller, target, file, signature, subject), f"{path} could be reduced in {spec}"


def first_finding(fuzzer, op_name, target):
    """The first finding; every finding is minimal (edge values in the input may make a
    second one, NaN where the reference has a number, of the same planted fault)."""
    findings = fuzzer.findings[op_name]
    assert findings, fuzzer.stats[op_name].to_json()
    for finding in findings:
        assert_minimal(finding.spec, target, fuzzer.file_of(op_name), finding.signature, finding.subject)
    return findings[0]


def test_same_padding_on_the_wrong_side_for_even_kernels_is_found_and_shrunk(tmp_path):
    fuzzer, summary = fuzz(tmp_path, "Conv1D", same_padding_before)
    finding = first_finding(fuzzer, "Conv1D", PlantedTarget(same_padding_before))
    spec = finding.spec
    # the shrunk case: an even kernel, 'same', nothing else; sizes at their smallest
    assert str(spec["params"]["padding"]).lower() == "same"
    k = _one(spec["params"]["kernel_size"])
    d = _one(spec["params"].get("dilation_rate", 1))
    assert ((k - 1) * d + 1) % 2 == 0
    assert spec["params"]["filters"] == 1 and spec["input_shape"][0] == 1 and spec["input_shape"][-1] == 1
    assert finding.signature == {"values": {"shape": False, "nonfinite": False}}
    assert summary["ops"]["Conv1D"]["examples"] > 5 and summary["totals"]["new"] >= 1


def test_bias_on_the_wrong_axis_when_sizes_coincide_is_found_and_shrunk(tmp_path):
    fuzzer, _ = fuzz(tmp_path, "Conv1D", bias_on_length_axis, examples=1000)
    finding = first_finding(fuzzer, "Conv1D", PlantedTarget(bias_on_length_axis))
    spec = finding.spec
    assert spec["params"]["data_format"] == "channels_first"
    # the coincidence itself: output length == filters, at least 2 (with 1 the same bias is
    # added either way). A pair of sizes that must change together (input length and filters)
    # is a local minimum of one-at-a-time reductions: 3 and 3 may stay 3 and 3.
    op = get_op("Conv1D")
    _, case = to_case({"name": "probe", **spec}, fuzzer.file_of("Conv1D"))
    out = op.predict_output(case.params, case.input_shape)
    assert out[1] == out[2] == spec["params"]["filters"] >= 2
    assert spec["input_shape"][0] == 1 and spec["input_shape"][1] == 1  # batch and input channels
    assert set(spec["params"]) <= {"data_format", "filters", "kernel_size", "strides", "padding", "dilation_rate"}


def test_pooling_window_clipped_at_the_border_is_found_and_shrunk(tmp_path):
    fuzzer, _ = fuzz(tmp_path, "AveragePooling1D", clipped_window_full_divisor)
    finding = first_finding(fuzzer, "AveragePooling1D", PlantedTarget(clipped_window_full_divisor))
    spec = finding.spec
    assert str(spec["params"]["padding"]).lower() == "same"
    # a window clipped at the border: pool size 2 over a single step, one channel, one batch
    assert _one(spec["params"]["pool_size"]) == 2 and spec["input_shape"] == [1, 1, 1]


def test_written_file_is_a_catalogue_and_fuzz_json_counts(tmp_path):
    fuzzer, summary = fuzz(tmp_path, "AveragePooling1D", clipped_window_full_divisor)
    path = fuzzer.file_of("AveragePooling1D")
    cases, errors = load_file(path)
    assert errors == [] and len(cases) == len(fuzzer.findings["AveragePooling1D"]) >= 1
    text = path.read_text()
    assert "# reproduce" in text and "import tensorflow as tf" in text  # the standalone script, commented
    data = json.loads((tmp_path / "fuzz.json").read_text())
    assert data == json.loads(json.dumps(summary, default=str))
    op = data["ops"]["AveragePooling1D"]
    assert op["examples"] > 0 and op["divergences"] >= 1 and data["totals"]["new"] == len(cases)
    assert data["families"]["pooling"]["new"] == len(cases)
    assert (tmp_path / ".hypothesis").is_dir()


def test_an_honest_target_gives_no_divergence(tmp_path):
    fuzzer, summary = fuzz(tmp_path, "Conv1D", lambda *a: None, examples=150)
    assert summary["totals"]["divergences"] == 0 and fuzzer.findings["Conv1D"] == []
    assert summary["ops"]["Conv1D"]["harness_errors"] == 0, summary["ops"]["Conv1D"]["error_samples"]


def test_a_recorded_divergence_is_counted_not_repeated(tmp_path):
    """A catalogue that records the planted bias fault (as cases/divergences.yaml records
    tf.keras's own, conv-channels-first-bias-axis): every divergence the fuzzer meets is
    counted under that id, and no case is written."""
    catalogue = tmp_path / "catalogue"
    catalogue.mkdir()
    (catalogue / "divergences.yaml").write_text(
        "divergences:\n"
        "  bias-on-length-axis:\n"
        "    category: wrong-result\n"
        "    title: channels_first adds the bias along the length when it equals the filters\n"
        "    evidence: planted in a fake target\n"
        "    seen: {tensorflow: 2.21.0, keras: 3.15.1}\n"
        "    signature: {values: {nonfinite: false}}\n")
    (catalogue / "conv1d.yaml").write_text(
        "op: Conv1D\ncases:\n"
        "  - name: length_equals_filters\n"
        "    input_shape: [2, 3, 4]\n"
        "    params: {filters: 4, kernel_size: 1, data_format: channels_first}\n"
        "    dtype: [float32, float64]\n"
        "    known: bias-on-length-axis\n")
    known = KnownDivergences([catalogue])
    assert known.by_op["Conv1D"]["bias-on-length-axis"].arguments == {"data_format": "channels_first"}
    fuzzer, summary = fuzz(tmp_path / "out", "Conv1D", bias_on_length_axis, known=known, examples=1000)
    op = summary["ops"]["Conv1D"]
    assert op["known"]["bias-on-length-axis"] >= 1
    assert op["divergences"] == op["known"]["bias-on-length-axis"] and fuzzer.findings["Conv1D"] == []


def test_same_seed_draws_the_same_examples(tmp_path):
    def drawn(folder, seed=7):
        seen = []

        def execute(case):  # what was drawn, without the output folder's path
            seen.append(json.dumps({k: v for k, v in case.to_json().items() if k not in ("id", "file")}, default=str))
            return _passing()
        fuzzer = Fuzzer(folder, execute, seed=seed, dtypes=("float32", "float64"), batch=30)
        fuzzer._batch(get_op("Conv1D"), 0, float("inf"), fuzzer.stats.setdefault("Conv1D", _stats()), [])
        return seen
    first = drawn(tmp_path / "a")
    assert len(first) > 10 and first == drawn(tmp_path / "b")
    assert drawn(tmp_path / "c", seed=8) != first


def _passing():
    from conformance.checks.verdict import Verdict
    return Verdict("pass")


def _stats():
    from conformance.fuzz.engine import OpStats
    return OpStats("Conv1D", "convolution")


@pytest.mark.parametrize("text, seconds", [("30s", 30), ("10m", 600), ("1h30m", 5400), ("45", 45), ("1.5m", 90)])
def test_budgets(text, seconds):
    assert parse_budget(text) == seconds


def test_a_bad_budget_names_the_value():
    with pytest.raises(ValueError, match="'ten minutes'"):
        parse_budget("ten minutes")


def test_families_and_all_resolve_without_the_custom_ops():
    assert [op.name for op in resolve_ops(["pooling"])][:2] == ["MaxPooling1D", "MaxPooling2D"]
    everything = resolve_ops(["all"])
    assert not any(op.name.startswith("custom.") for op in everything)
    assert {op.family for op in everything} >= {"convolution", "recurrent", "initializers", "regularization layers"}
    assert resolve_ops(["regularization_layers"]) == resolve_ops(["regularization layers"])
    with pytest.raises(ValueError, match="user's own"):
        resolve_ops(["custom.regularizer"])
