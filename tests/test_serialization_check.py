"""The serialization check (conformance.checks.serialization, conformance.target.tf_keras_serialization):
an honest layer's copies pass; planted faults are caught and the failing round trip named: a
get_config that forgets an argument, a from_config copy that computes differently, a layer that
does not survive the .keras file. Also the sample of the costlier round trips, the known-divergence signature
and the record of a catalogue case end to end.
"""
import dataclasses

import numpy as np
import pytest

from conformance.catalogue.divergences import describe, signature_problem
from conformance.catalogue.model import Case
from conformance.checks import serialization
from conformance.checks.known import judge_known
from conformance.checks.verdict import Verdict
from conformance.outcome import SideOutcome, Timings
from conformance.target import tf_keras_serialization as target_side
from conformance.target.tf_keras import tensorflow

X = np.random.default_rng(7).normal(size=(3, 5)).astype("float32")


def _keras():
    return tensorflow().keras


@pytest.fixture(scope="module")
def layers():
    """Tiny custom layers, registered so that deserialization and load_model find them."""
    keras = _keras()
    register = keras.utils.register_keras_serializable(package="conformance_test_serialization")

    @register
    class Scaled(keras.layers.Layer):
        """y = scale * (x @ kernel): an honest get_config."""

        def __init__(self, units=2, scale=1.0, **kwargs):
            super().__init__(**kwargs)
            self.units, self.scale = units, scale

        def build(self, input_shape):
            self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")

        def call(self, x):
            return self.scale * keras.ops.matmul(x, self.kernel)

        def get_config(self):
            return {**super().get_config(), "units": self.units, "scale": self.scale}

    @register
    class ForgetsScale(Scaled):
        """get_config forgets `scale`: the copy gets the default."""

        def get_config(self):
            config = super().get_config()
            del config["scale"]
            return config

    @register
    class CopyComputesDifferently(Scaled):
        """from_config gives a layer with the same config that adds 1e-6 to its output."""

        @classmethod
        def from_config(cls, config):
            copy = cls(**config)
            copy.shift = 1e-6
            return copy

        def call(self, x):
            return super().call(x) + getattr(self, "shift", 0.0)

    @register
    class LostInTheFile(Scaled):
        """Its weights come back from a .keras file halved."""

        def load_own_variables(self, store):
            super().load_own_variables(store)
            self.kernel.assign(self.kernel * 0.5)

    @register
    class DocumentsAnotherDefault(Scaled):
        """Scales a product.

        Args:
            units: the output width. Defaults to `2`.
            scale: the factor, a float. When left out the factor is
                one half. Defaults to `0.5`.

        Call arguments:
            x: Defaults to `7`, which is not an argument of the constructor.
        """

    return {"honest": Scaled, "forgets": ForgetsScale, "differs": CopyComputesDifferently, "file": LostInTheFile,
            "documents": DocumentsAnotherDefault}


OP = dataclasses.make_dataclass("Op", [("input_names", tuple, ("x",)), ("stochastic", object, None), ("state", tuple, ())])()


def case(params=None, **extra):
    return Case(id="s::layer", file="s", line=1, name="layer", op="Dense",
                params={"units": 2, "scale": 3.0} if params is None else params, dtype="float32", input_shape=(3, 5), **extra)


def round_trips(cls, the_case=None):
    """The target side's report for a built `cls(**params)` called on X, as tf_keras.run_layer makes it."""
    tf = tensorflow()
    layer = cls(**((the_case or case()).params))
    layer.build(X.shape)
    layer.kernel.assign(np.arange(10, dtype="float32").reshape(5, 2) / 7.0)
    feeds = [({"x": tf.constant(X)}, {})]
    invoke = lambda layer, given, call: layer(given["x"], **call)  # noqa: E731
    outcome = SideOutcome(output=np.asarray(invoke(layer, *feeds[0])).astype(np.float64))
    return target_side.round_trips(OP, the_case or case(), layer, invoke, feeds, {"kernel": None}, lambda: None,
                                   outcome, Timings())


def judged(reported, status="pass"):
    verdict = Verdict(status, "" if status == "pass" else "values differ", {})
    serialization.judge(verdict, reported)
    return verdict


def test_an_honest_layer_passes_every_round_trip(layers):
    reported = round_trips(layers["honest"])
    assert reported["checked"] == ["from_config", "serialize", "keras_file", "defaults"]
    verdict = judged(reported)
    assert verdict.status == "pass", verdict.message
    assert verdict.metrics["serialization"]["failed"] == []
    for name, entry in reported["round_trips"].items():
        assert entry["config"] == [] and entry["outputs"] == {}
        assert entry["compared"] == (["output"] if name != "defaults" else [])  # the case passes every argument


def test_docstring_defaults_are_read_from_the_args_section(layers):
    assert target_side.docstring_defaults(layers["documents"].__doc__) == {"units": 2, "scale": 0.5}
    text = """Pads.

    Args:
        padding: an int. Defaults to `(1, 1)`.
        data_format: one of "channels_last" or "channels_first". Defaults to
            the `image_data_format` value found in your Keras config file.
        mode: a string, defaults to "constant".

    Input shape:
        Defaults to `3`.
    """
    assert target_side.docstring_defaults(text) == {"padding": (1, 1), "mode": "constant"}


def test_a_default_the_docstring_states_otherwise_is_caught(layers):
    # the case leaves `scale` out: the layer reports 1.0 (its signature), the docstring says 0.5
    left_out = case(params={"units": 2})
    honest = round_trips(layers["honest"], left_out)["round_trips"]["defaults"]
    assert (honest["compared"], honest["config"], honest["documented"]) == (["scale"], [], {"scale": "signature"})
    verdict = judged(round_trips(layers["documents"], left_out))
    assert verdict.status == "fail" and verdict.metrics["serialization"]["failed"] == ["defaults"]
    assert ("the defaults check: left out, scale is 1.0 in get_config(), against 0.5 for its documented default "
            "(from the docstring)") in verdict.message


def test_a_forgotten_argument_is_caught_in_every_round_trip(layers):
    verdict = judged(round_trips(layers["forgets"]))
    assert verdict.status == "fail"
    assert verdict.metrics["serialization"]["failed"] == ["from_config", "serialize", "keras_file"]
    # the config is the same (scale is missing from both), the outputs are a third of the layer's
    assert "the from_config round trip (get_config/from_config) changes output: 6 of 6 elements differ" in verdict.message
    assert "serialize_keras_object/deserialize_keras_object" in verdict.message and ".keras file" in verdict.message


def test_a_copy_that_computes_differently_is_caught(layers):
    reported = round_trips(layers["differs"])
    verdict = judged(reported)
    assert verdict.status == "fail"
    # deserialization goes through from_config too; the file's loader as well
    assert "from_config" in verdict.metrics["serialization"]["failed"]
    entry = reported["round_trips"]["from_config"]
    assert entry["config"] == [] and entry["outputs"]["output"]["n_different"] > 0
    assert entry["outputs"]["output"]["max_abs_difference"] < 1e-5


def test_a_layer_that_does_not_survive_the_file_is_caught_and_only_there(layers):
    verdict = judged(round_trips(layers["file"]))
    assert verdict.metrics["serialization"]["failed"] == ["keras_file"]
    assert verdict.message.startswith("serialization: the keras_file round trip (a .keras file (save/load_model)) changes output")


def test_a_changed_config_is_named_with_both_values(layers):
    keras = _keras()

    @keras.utils.register_keras_serializable(package="conformance_test_serialization")
    class ScaleDoubled(layers["honest"]):
        @classmethod
        def from_config(cls, config):
            return cls(**{**config, "scale": 2 * config["scale"]})

    reported = round_trips(ScaleDoubled)
    entry = reported["round_trips"]["from_config"]
    assert entry["config"] == [{"key": "scale", "original": "3.0", "copy": "6.0"}]
    message = judged(reported).message
    assert "the from_config round trip (get_config/from_config) changes the config (scale: 3.0 -> 6.0); changes output: " in message

    @keras.utils.register_keras_serializable(package="conformance_test_serialization")
    class UnitsOffByOne(layers["honest"]):
        @classmethod
        def from_config(cls, config):
            return cls(**{**config, "units": config["units"] + 1})

    message = judged(round_trips(UnitsOffByOne)).message
    assert "changes the config (units: 2 -> 3); raised ValueError during set_weights" in message


def test_a_round_trip_that_raises_is_a_failure_naming_the_phase(layers):
    keras = _keras()

    @keras.utils.register_keras_serializable(package="conformance_test_serialization")
    class CannotComeBack(layers["honest"]):
        @classmethod
        def from_config(cls, config):
            raise TypeError("no way back")

    verdict = judged(round_trips(CannotComeBack))
    assert "the from_config round trip (get_config/from_config) raised TypeError during copy: no way back" in verdict.message


def test_a_serialization_failure_is_added_to_a_forward_failure(layers):
    verdict = judged(round_trips(layers["forgets"]), status="fail")
    assert verdict.status == "fail" and verdict.message.startswith("values differ; serialization: ")
    assert verdict.metrics["serialization"]["alone"] is False


def test_serialization_and_the_keras_file_are_sampled(layers, monkeypatch):
    monkeypatch.delenv(target_side.ALL_SERIALIZATION_VARIABLE, raising=False)
    later = case(sweep_index=3)
    reported = round_trips(layers["honest"], later)
    assert reported["checked"] == ["from_config"]
    assert reported["not_checked"]["defaults"].startswith("sampled out")
    assert reported["not_checked"]["keras_file"].startswith("sampled out")
    assert reported["not_checked"]["serialize"].startswith("sampled out")
    # a recorded serialization divergence always has its file checked, and the variable checks every one
    recorded = dataclasses.replace(later, known={"id": "x", "signature": [{"serialization": {"via": ["keras_file"]}}]})
    assert target_side.sampled_out(recorded) is None
    monkeypatch.setenv(target_side.ALL_SERIALIZATION_VARIABLE, "1")
    assert target_side.sampled_out(later) is None


@pytest.mark.parametrize("extra, why", [
    ({"mode": "xla"}, "eager mode only"),
    ({"expect": {"error": "ValueError"}}, "expects an error"),
    ({"isolate": True}, "known crasher"),
])
def test_cases_that_are_not_checked_say_why(layers, extra, why):
    reported = round_trips(layers["honest"], case(**extra))
    assert reported["checked"] == [] and why in reported["not_checked"]
    assert judged(reported).status == "pass"


def test_a_target_without_copies_is_not_checked():
    verdict = judged(None)
    assert verdict.status == "pass" and verdict.metrics["serialization"]["not_checked"]


def known(*signature):
    return {"id": "x", "category": "wrong-result", "title": "x title", "signature": list(signature)}


def test_the_signature_matches_a_serialization_failure_only(layers):
    alone = judged(round_trips(layers["file"]))
    with_forward = judged(round_trips(layers["file"]), status="fail")
    assert judge_known(known({"serialization": {"via": ["keras_file"]}}), alone).status == "xfail"
    assert judge_known(known({"serialization": {}}), alone).status == "xfail"
    assert judge_known(known({"serialization": {"via": ["from_config"]}}), alone).status == "fail"
    # a values or gradients signature does not match a failure that is in serialization
    assert judge_known(known({"values": {}}), alone).status == "fail"
    assert judge_known(known({"values": {}}), with_forward).status == "fail"
    assert judge_known(known({"gradients": {}}), alone).status == "fail"
    # and a serialization signature does not match a forward failure
    assert judge_known(known({"serialization": {}}), with_forward).status == "fail"
    message = judge_known(known({"values": {}}), alone).message
    assert "the serialization check fails for keras_file" in message


@pytest.mark.parametrize("signature, problem", [
    ({"serialization": {"via": ["from_config", "keras_file"]}}, None),
    ({"serialization": None}, None),
    ({"serialization": {"via": ["keras"]}}, "unknown round trip 'keras'"),
    ({"serialization": {"via": []}}, "expected {via:"),
    ({"serialization": {"of": ["from_config"]}}, "expected {via:"),
])
def test_signature_mistakes_are_named(signature, problem):
    found = signature_problem(signature)
    assert (found is None) if problem is None else problem in found
    if problem is None:
        assert describe(signature).startswith("a serialization round trip changes the layer")


def test_a_catalogue_case_records_its_round_trips_end_to_end(monkeypatch):
    from conformance.catalogue.loader import load_file
    from conformance.runner.execute import run_case

    cases, errors = load_file("cases/core_layers.yaml")
    assert errors == []
    dense = next(c for c in cases if c.op == "Dense" and c.mode == "eager" and c.sweep_index == 0 and not c.known
                 and not c.expect)
    record = run_case(dense)
    assert record.status == "pass", record.message
    assert record.metrics["serialization"]["checked"] == ["from_config", "serialize", "keras_file", "defaults"]
    assert record.durations["serialization"] > 0

    # a copy that comes back with its kernel moved by one ulp fails the case, naming the round trip
    real = target_side._copy

    def planted(name, tf, layer, folder, build):
        copy = real(name, tf, layer, folder, build)
        if name == "serialize":
            original = copy.set_weights
            copy.set_weights = lambda weights: original([np.nextafter(w, np.inf) for w in weights])
        return copy

    monkeypatch.setattr(target_side, "_copy", planted)
    record = run_case(dense)
    assert record.status == "fail"
    assert record.message.startswith("serialization: the serialize round trip (serialize_keras_object/deserialize_keras_object) "
                                     "changes output")


def test_the_report_shows_each_round_trip(layers):
    from conformance.report.render import _compact_serialization

    rows = _compact_serialization(judged(round_trips(layers["file"], case(sweep_index=0))).metrics["serialization"])
    assert rows[0] == ["from_config", None] and rows[1] == ["serialize", None]
    assert rows[2][0] == "keras_file" and "changes output" in rows[2][1]
    assert _compact_serialization({"checked": [], "not_checked": "the case expects an error"}) == "the case expects an error"


def test_a_layer_whose_get_config_raises_fails_every_round_trip(layers):
    class NoConfig(layers["honest"]):
        def get_config(self):
            raise NotImplementedError("no config")

    reported = round_trips(NoConfig)
    assert set(judged(reported).metrics["serialization"]["failed"]) == {"from_config", "serialize", "keras_file", "defaults"}
    assert reported["round_trips"]["from_config"]["error"]["phase"] == "get_config of the layer"
