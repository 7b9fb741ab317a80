"""The second target, Keras 2 (`tf_keras`): the same catalogue judged against it, its own
documented semantics in the reference, what it lacks skipped, divergences recorded per target,
and the migration view. The end-to-end test runs both targets in one command."""
import json

import numpy as np
import pytest

from conformance.axes import parse_targets
from conformance.catalogue.loader import load_file
from conformance.catalogue.model import mode_id
from conformance.cli import main
from conformance.ops import get_op
from conformance.ops.keras2 import documented_by
from conformance.report.migration import base_id

from conftest import registry_text

X = np.array([[0.5, -1.25, 2.0], [-0.75, 0.0, 3.5]])

BOTH = """
cases:
  - name: penalty
    op: regularizers.l1_l2
    input_shape: [4, 5]
    dtype: float32
    modes: [eager]
  - name: keras3_only
    op: activations.celu
    input_shape: [2, 6]
    dtype: float32
    modes: [eager]
  - name: renamed_argument
    op: LeakyReLU
    input_shape: [2, 7]
    params: {negative_slope: 0.15}
    dtype: float32
    modes: [eager]
"""


def test_target_ids_and_parsing():
    assert mode_id("f.yaml::a[b=1-float32]", "xla", "tf_keras") == "f.yaml::a[b=1-float32-xla-tf_keras]"
    assert mode_id("f.yaml::a", "eager", "tf_keras") == "f.yaml::a[tf_keras]"
    assert mode_id("f.yaml::a[float32]", "function") == "f.yaml::a[float32-function]"
    assert base_id("f.yaml::a[b=1-float32-xla-tf_keras]", "tf_keras") == "f.yaml::a[b=1-float32-xla]"
    assert base_id("f.yaml::a[tf_keras]", "tf_keras") == "f.yaml::a"
    assert parse_targets("tf.keras, tf_keras,tf.keras") == ("tf.keras", "tf_keras")
    with pytest.raises(ValueError, match="keras2"):
        parse_targets("tf.keras,keras2")


def test_the_reference_follows_each_targets_documentation():
    # l1_l2(): Keras 3 documents L1L2(l1=0.0, l2=0.0), Keras 2 l1_l2(l1=0.01, l2=0.01).
    # By hand: sum|x| = 8.0, sum x^2 = 0.25 + 1.5625 + 4 + 0.5625 + 0 + 12.25 = 18.625.
    op = get_op("regularizers.l1_l2")
    assert documented_by(op, "tf.keras").compute(X, {}) == 0.0
    assert documented_by(op, "tf_keras").compute(X, {}) == pytest.approx(0.01 * 8.0 + 0.01 * 18.625, rel=1e-15)
    # a case that gives the factors is judged by them on both targets
    assert documented_by(op, "tf_keras").compute(X, {"l1": 0.5, "l2": 0.0}) == pytest.approx(4.0, rel=1e-15)
    # hard_sigmoid: Keras 2 is clip(0.2 x + 0.5, 0, 1); Keras 3 is clip(x + 3, 0, 6) / 6
    x = np.array([-3.0, -2.5, -1.0, 0.0, 1.0, 2.0, 2.6])
    sigmoid = get_op("activations.hard_sigmoid")
    np.testing.assert_allclose(documented_by(sigmoid, "tf_keras").compute(x, {}), [0, 0, 0.3, 0.5, 0.7, 0.9, 1.0], atol=1e-15)
    np.testing.assert_allclose(documented_by(sigmoid, "tf.keras").compute(x, {}), [0, 1 / 12, 1 / 3, 0.5, 2 / 3, 5 / 6, 14 / 15], atol=1e-15)


def test_an_optimizer_keeps_its_error_bound_on_keras2_and_an_activation_drops_it():
    # Keras 2's optimizers compute as Keras 3's but with use_ema, and their judge refuses a bound
    # that carried other values than the reference's (checks.optimizers._bound_applies); a
    # formula of its own (hard_sigmoid) has no bound of its own
    adam = get_op("optimizers.Adam")
    assert adam.error_bound is not None and documented_by(adam, "tf_keras").error_bound is adam.error_bound
    sigmoid = get_op("activations.hard_sigmoid")
    assert sigmoid.error_bound is not None and documented_by(sigmoid, "tf_keras").error_bound is None


def test_a_layer_naming_hard_sigmoid_gets_the_keras2_formula():
    dense = documented_by(get_op("Dense"), "tf_keras")
    weights = {"kernel": np.array([[1.0], [2.0]]), "bias": np.array([0.0])}
    x = np.array([[1.0, 0.5]])  # x @ kernel = 2.0: Keras 2 gives 0.9, Keras 3 5/6
    params = {"units": 1, "activation": "hard_sigmoid"}
    assert dense.compute(x, weights, params, {})[0, 0] == pytest.approx(0.9, abs=1e-15)
    assert get_op("Dense").compute(x, weights, params, {})[0, 0] == pytest.approx(5 / 6, abs=1e-15)


def test_a_divergence_applies_to_the_targets_it_was_seen_in(write_catalogue, tmp_path):
    entries = {"seen-in-keras3": {"values": {}}, "seen-in-both": {"values": {}}}
    document = registry_text(entries).replace("  seen-in-both:\n", "  seen-in-both:\n    targets: [tf.keras, tf_keras]\n")
    (tmp_path / "divergences.yaml").write_text(document, encoding="utf-8")
    path = write_catalogue("""
        cases:
          - name: a
            op: activations.relu
            input_shape: [2, 3]
            modes: [eager]
            known: seen-in-keras3
          - name: b
            op: activations.relu
            input_shape: [2, 3]
            modes: [eager]
            known: [{id: seen-in-both, when: {target: tf_keras}}]
    """)
    cases, errors = load_file(path, ("tf.keras", "tf_keras"))
    assert not errors, errors
    known = {c.id.split("::")[1]: (c.known or {}).get("id") for c in cases}
    assert known == {"a": "seen-in-keras3", "a[tf_keras]": None, "b": None, "b[tf_keras]": "seen-in-both"}
    bad = write_catalogue("""
        cases:
          - name: c
            op: activations.relu
            input_shape: [2, 3]
            known: [{id: seen-in-both, when: {target: keras2}}]
    """, "bad.yaml")
    _, errors = load_file(bad)
    assert len(errors) == 1 and "unknown target" in str(errors[0]) and errors[0].line == 5


def test_both_targets_in_one_run_with_the_migration_view(write_catalogue, tmp_path, capsys):
    path = write_catalogue(BOTH)
    out = tmp_path / "out"
    code = main(["run", str(path), "--target", "tf.keras,tf_keras", "-j", "2", "--out", str(out), "-q"])
    summary = capsys.readouterr().out
    assert code == 0, summary
    doc = json.loads((out / "results.json").read_text())
    records = {r["id"].split("::")[1]: r for r in doc["cases"]}
    assert doc["meta"]["target"] == ["tf.keras", "tf_keras"] and doc["meta"]["tf_keras"]
    assert {k: r["status"] for k, r in records.items()} == {
        "penalty": "pass", "penalty[tf_keras]": "pass",
        "keras3_only": "pass", "keras3_only[tf_keras]": "skip",
        "renamed_argument": "pass", "renamed_argument[tf_keras]": "pass",
    }
    assert records["keras3_only[tf_keras]"]["message"] == "not in Keras 2: tf_keras has no activations.celu"
    assert records["penalty[tf_keras]"]["target"] == "tf_keras"
    notes = records["penalty[tf_keras]"]["outcome"]["migration"]
    assert [(n["cause"], n["argument"], n["keras2"]) for n in notes] == [("default changed", "l1", 0.01), ("default changed", "l2", 0.01)]
    html = (out / "report.html").read_text()
    assert "Keras 2 → Keras 3" in html and "l1 defaults to 0.01 in Keras 2" in html and "tf_keras has no activations.celu" in html


def test_a_rejection_only_keras3_documents_is_not_judged_for_keras2(tmp_path):
    """GaussianDropout(rate=1.5): Keras 3's constructor documents and raises the ValueError the
    reference expects; Keras 2 documents no such rule, so its case is skipped with both docstrings,
    and the migration view names the cause. A case expecting no error is judged as usual."""
    from conformance.ops.keras2 import REJECTION_PREFIX, undocumented_rejection
    from conformance.report.migration import causes_of

    path = tmp_path / "rates.yaml"
    path.write_text("op: GaussianDropout\ncases:\n"
                    "  - name: rate_above_one\n    input_shape: [2, 3]\n    params: {rate: 1.5}\n"
                    "    expect: {error: ValueError}\n    dtype: float32\n    modes: [eager]\n"
                    "  - name: rate_half\n    input_shape: [2, 3]\n    params: {rate: 0.5}\n    dtype: float32\n    modes: [eager]\n")
    cases, errors = load_file(path, targets=("tf.keras", "tf_keras"))
    assert errors == []
    by_id = {c.id.split("::")[1]: c for c in cases}
    op = get_op("GaussianDropout")
    skipped = undocumented_rejection(op, by_id["rate_above_one[tf_keras]"])
    assert skipped.startswith(f"{REJECTION_PREFIX}: tf_keras.layers.GaussianDropout")
    assert undocumented_rejection(op, by_id["rate_above_one"]) is None  # Keras 3 is judged
    assert undocumented_rejection(op, by_id["rate_half[tf_keras]"]) is None  # no error expected
    assert causes_of({"status": "pass"}, {"status": "skip", "message": skipped}) == \
        [("rejection not in Keras 2", skipped.removeprefix(REJECTION_PREFIX + ": "))]


def test_a_float32_initial_state_under_a_policy_is_a_documented_keras2_limitation():
    # tf_keras's Policy: "only tensors in the first argument to the layer's `call` method are casted"
    from types import SimpleNamespace

    from conformance.ops.keras2 import documented_limitation

    error = {"type": "InvalidArgumentError",
             "message": "cannot compute MatMul as input #1(zero-based) was expected to be a float tensor but is a half tensor"}
    case = SimpleNamespace(target="tf_keras", params={"units": 2}, dtype="mixed_float16", call={"initial_state": ["$h0"]})
    assert "only tensors in the first argument" in documented_limitation(get_op("SimpleRNN"), case, error)
    # not without an initial state, not outside a policy, not on Keras 3, not for another error
    assert documented_limitation(get_op("SimpleRNN"), SimpleNamespace(**{**vars(case), "call": {}}), error) is None
    assert documented_limitation(get_op("SimpleRNN"), SimpleNamespace(**{**vars(case), "dtype": "float16"}), error) is None
    assert documented_limitation(get_op("SimpleRNN"), SimpleNamespace(**{**vars(case), "target": "tf.keras"}), error) is None
    assert documented_limitation(get_op("SimpleRNN"), case, {"type": "ValueError", "message": "units"}) is None
