"""Known divergences: a failure is the recorded one only when it matches the signature."""
import numpy as np
import pytest

from conformance.catalogue.divergences import describe, signature_problem
from conformance.catalogue.loader import load_file
from conformance.checks.known import judge_known
from conformance.checks.verdict import Verdict
from conformance.outcome import SideOutcome
from conformance.runner import execute
from conformance.runner.execute import run_case


def known(*signature):
    return {"id": "x", "category": "wrong-result", "title": "x title", "signature": list(signature)}


def raised(kind, message, bases=("Exception",)):
    return {"reference": {"output_shape": [2, 3], "error": None},
            "keras": {"output_shape": None, "error": {"type": kind, "bases": list(bases), "message": message, "phase": "call"}}}


def values(max_abs, max_rel=0.0, nonfinite=0, state=None):
    metrics = {"n_elements": 6, "max_abs_error": max_abs, "max_rel_error": max_rel, "n_nonfinite_mismatch": nonfinite}
    if state:
        metrics["state"] = state
    return Verdict("fail", "values differ", metrics,
                   {"reference": {"output_shape": [2, 3], "error": None}, "keras": {"output_shape": [2, 3], "error": None}})


@pytest.mark.parametrize("signature, verdict, status", [
    # raises: the type (or a base class) and the message pattern
    ({"raises": {"type": "InvalidArgumentError"}}, Verdict("fail", "m", None, raised("InvalidArgumentError", "no kernel")), "xfail"),
    ({"raises": {"type": "OpError"}}, Verdict("fail", "m", None, raised("InvalidArgumentError", "x", ("OpError", "Exception"))), "xfail"),
    ({"raises": {"type": "InvalidArgumentError", "match": "NHWC"}}, Verdict("fail", "m", None, raised("InvalidArgumentError", "only NCHW")), "fail"),
    ({"raises": {"type": ["ValueError", "TypeError"]}}, Verdict("fail", "m", None, raised("KeyError", "x")), "fail"),
    ({"raises": {"type": "ValueError"}}, values(0.5), "fail"),
    # crash: the signal
    ({"crash": "SIGFPE"}, Verdict("fail", "m", None, raised("ProcessCrash", "killed by signal SIGFPE")), "xfail"),
    ({"crash": "SIGFPE"}, Verdict("fail", "m", None, raised("ProcessCrash", "killed by signal SIGSEGV")), "fail"),
    # accepts: the reference raises (the case expects an error), tf.keras returns
    ({"accepts": True}, Verdict("fail", "m", None, {"reference": {"output_shape": None, "error": {"type": "ValueError", "bases": [], "message": "r", "phase": "arguments"}},
                                                   "keras": {"output_shape": [2], "error": None}}), "xfail"),
    ({"accepts": True}, values(0.5), "fail"),
    # values: bounds over the output and the state, NaN mismatches, shape
    ({"values": {"max_abs_error": 1e-6}}, values(4e-9), "xfail"),
    ({"values": {"max_abs_error": 1e-6}}, values(0.3), "fail"),  # a wrong value under a precision record
    ({"values": {"max_abs_error": 1e-6}}, values(1e-9, state={"losses": {"max_abs_error": 0.2}}), "fail"),
    ({"values": {"max_rel_error": 1e-6}}, values(1.0, max_rel=1e-7), "xfail"),
    ({"values": {"nonfinite": True}}, values(0.0, nonfinite=2), "xfail"),
    ({"values": {"nonfinite": True}}, values(0.5), "fail"),
    ({"values": {"nonfinite": False}}, values(0.5, nonfinite=1), "fail"),
    ({"values": {}}, Verdict("fail", "m", None, raised("ValueError", "x")), "fail"),
    ({"values": {"shape": True}}, Verdict("fail", "shape differs: tf.keras [2], reference [3]", {}, {}), "xfail"),
    ({"values": {}}, Verdict("fail", "shape differs: tf.keras [2], reference [3]", {}, {}), "fail"),
])
def test_a_failure_is_the_recorded_divergence_only_when_it_matches(signature, verdict, status):
    assert signature_problem(signature) is None
    judged = judge_known(known(signature), verdict)
    assert judged.status == status
    if status == "fail":
        assert judged.message.startswith(f"not the recorded divergence x ({describe(signature)}): ")


def test_any_of_several_signatures_and_the_other_statuses():
    two = known({"raises": {"type": "ValueError"}}, {"values": {"max_abs_error": 1e-3}})
    assert judge_known(two, values(1e-4)).status == "xfail"
    assert judge_known(two, Verdict("fail", "m", None, raised("ValueError", "x"))).status == "xfail"
    passed = judge_known(two, Verdict("pass"))
    assert passed.status == "xpass" and "x no longer diverges" in passed.message
    assert judge_known(two, Verdict("error", "harness")).status == "error"


def test_two_recorded_divergences_explain_a_failure_of_two_parts_together():
    # a round trip that changed the layer (alone: False, as the forward values failed too)
    # and a forward failure; each divergence's signature names one part
    def both_parts(max_abs):
        verdict = values(max_abs)
        verdict.metrics["serialization"] = {"failed": ["defaults"], "alone": False}
        return verdict

    config = {**known({"serialization": {"via": ["defaults"]}}), "id": "config"}
    output = {**known({"values": {"max_abs_error": 1e-3}}), "id": "output"}
    judged = judge_known({**config, "also": [output]}, both_parts(1e-4))
    assert judged.status == "xfail" and "(recorded as config and output)" in judged.message
    assert judge_known({**output, "also": [config]}, both_parts(1e-4)).status == "xfail"
    # either divergence alone does not explain both parts
    assert judge_known(config, both_parts(1e-4)).status == "fail"
    assert judge_known(output, both_parts(1e-4)).status == "fail"
    # a forward error beyond the second divergence's signature is still a fail
    assert judge_known({**config, "also": [output]}, both_parts(0.5)).status == "fail"
    # and a round trip its signature does not name
    other = both_parts(1e-4)
    other.metrics["serialization"]["failed"] = ["keras_file"]
    assert judge_known({**config, "also": [output]}, other).status == "fail"
    # two round trips, each named by one divergence, the forward values agreeing
    file = {**known({"serialization": {"via": ["keras_file"]}}), "id": "file"}
    two_round_trips = Verdict("fail", "m", {"n_elements": 6, "serialization": {"failed": ["defaults", "keras_file"], "alone": True}},
                              {"reference": {"output_shape": [2, 3], "error": None}, "keras": {"output_shape": [2, 3], "error": None}})
    judged = judge_known({**config, "also": [file]}, two_round_trips)
    assert judged.status == "xfail" and "(recorded as config and file)" in judged.message
    assert judge_known({**config, "also": [output]}, two_round_trips).status == "fail"


def test_a_second_recorded_divergence_that_applies_may_explain_the_failure_alone():
    # a values divergence first, and a raise recorded for the same case in another mode: the
    # raise is that second entry's, the values the first's, anything else neither's
    first = {**known({"values": {"max_abs_error": 1e-3}}), "id": "first"}
    second = {**known({"raises": {"type": "TypeError", "match": "SelectV2"}}), "id": "second"}
    both = {**first, "also": [second]}
    judged = judge_known(both, Verdict("fail", "m", None, raised("TypeError", "Input 'e' of 'SelectV2' Op")))
    assert judged.status == "xfail" and "(recorded as second)" in judged.message
    assert judge_known(both, values(1e-4)).status == "xfail"
    assert judge_known(first, Verdict("fail", "m", None, raised("TypeError", "SelectV2"))).status == "fail"
    assert judge_known(both, Verdict("fail", "m", None, raised("ValueError", "SelectV2"))).status == "fail"
    assert judge_known(both, values(0.5)).status == "fail"


@pytest.mark.parametrize("signature, problem", [
    ({"raises": {"match": "x"}}, "raises: expected {type: NAME"),
    ({"crash": "SIGFOO"}, "crash: expected a signal name"),
    ({"values": {"max_abs_error": -1}}, "values.max_abs_error: expected a positive number"),
    ({"values": {"nan": True}}, "values: expected a mapping of"),
    ({"raises": {"type": "X"}, "accepts": True}, "exactly one of"),
    ({"raise": {"type": "X"}}, "did you mean 'raises'"),
])
def test_signature_mistakes_are_named(signature, problem):
    assert problem in signature_problem(signature)


@pytest.fixture
def missing_kernel_case():
    """A case of the catalogue's float64 channels_first sweep, recorded as a missing kernel."""
    cases, errors = load_file("cases/conv1d.yaml")
    assert errors == []
    case = next(c for c in cases if c.known and c.known["id"] == "conv-float64-channels-first-no-cpu-kernel" and c.mode == "eager")
    return case


def test_the_recorded_missing_kernel_is_an_xfail(missing_kernel_case):
    record = run_case(missing_kernel_case)
    assert record.status == "xfail", record.message


def test_a_wrong_value_planted_in_a_missing_kernel_sweep_is_a_fail(missing_kernel_case, monkeypatch):
    real = execute.get_target(missing_kernel_case.target)

    class WrongValues:
        """tf.keras as if it had the kernel, but computed the convolution wrong."""

        def __getattr__(self, name):
            return getattr(real, name)

        def run_layer(self, op, case, inputs, weights, calls, timings=None, cotangent=None):
            from conformance.checks.values import run_reference

            reference, _ = run_reference(op, case, inputs, calls)
            return SideOutcome(output=reference.output + 0.125)

    monkeypatch.setattr(execute, "get_target", lambda name: WrongValues())
    record = run_case(missing_kernel_case)
    assert record.status == "fail"
    assert record.message.startswith("not the recorded divergence conv-float64-channels-first-no-cpu-kernel (tf.keras raises")
    assert "values out of tolerance, max abs error 0.125" in record.message


def test_the_readme_lists_the_registry_as_generated(capsys):
    """The README's list of known divergences is `conformance divergence --markdown` (run here
    as the README says), whose counts are the same on every machine: this machine's own load
    stands for its combination of facts, the others are loaded as if on another machine."""
    import re
    from pathlib import Path

    from conformance.cli import main

    assert main(["divergence", "--markdown"]) == 0
    generated = capsys.readouterr().out
    readme = Path("README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- divergences:start[^\n]*-->\n(.*)<!-- divergences:end -->", readme, re.S)
    assert block, "the README lost its divergences markers"
    assert block.group(1) == generated, "README drifted from cases/divergences.yaml: paste `conformance divergence --markdown`"


def test_counts_on_every_machine_are_the_same_from_either_machine():
    """A divergence that needs oneDNN counts its cases whichever machine generates the list,
    and this machine's own load may stand in for its combination."""
    from conformance import machine, upstream
    from conformance.axes import TARGETS
    from conformance.catalogue.loader import load_paths, registries

    paths, targets = ["cases/pooling_window.yaml"], tuple(TARGETS)
    entries = registries(paths)
    seen = []
    for facts in machine.every_machine():
        with machine.assuming(facts):
            here, _ = load_paths(paths, targets)
            seen.append(upstream.counts_on_every_machine(paths, targets, entries, here))
    assert seen[0] == seen[1] == upstream.counts_on_every_machine(paths, targets, entries)
    # the window-larger-than-input SIGFPE needs oneDNN; without it the same cases return an empty array
    assert seen[0]["max-pooling-window-larger-than-input-sigfpe"] > 0
    assert seen[0]["pooling-window-larger-than-input-empty-output"] > 0
