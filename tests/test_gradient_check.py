"""The gradient check (conformance.checks.gradients) accepts an exact gradient and catches
planted faults in it; kinks are judged one-sided; the catalogue key and the known-divergence
signature work end to end.

The exact gradients come from reference_impl.gradients' analytic VJPs (transposed convolution,
correlation), a formulation independent of the finite differences the check uses.
"""
import numpy as np
import pytest

from conformance.catalogue.loader import load_file
from conformance.catalogue.model import Case
from conformance.checks import gradients
from conformance.checks.values import run_reference
from conformance.ops import get_op
from conformance.runner.inputs import make_input, round_to
from reference_impl.gradients import conv_layer_vjp

CONV = {"filters": 4, "kernel_size": 3, "strides": 2, "padding": "same", "activation": "tanh"}


def conv_case(dtype="float32", **extra):
    return Case(id="g::conv", file="g", line=1, name="conv", op="Conv2D", params=dict(CONV), dtype=dtype,
                input_shape=(2, 7, 6, 3), **extra)


def judge_conv(planted=lambda grads: grads, dtype="float32"):
    """Judge the exact VJP of a strided, padded Conv2D + tanh (rounded to the dtype, as a
    target's gradient is), after `planted` changes it."""
    case = conv_case(dtype)
    op = get_op("Conv2D")
    x = make_input(case.input_shape, dtype, case.seed)
    reference, weights = run_reference(op, case, [x], [{}])
    v = gradients.cotangent(case, reference.output.shape)
    exact = conv_layer_vjp(x, weights["kernel"], weights["bias"], v, strides=2, padding="same", activation="tanh")
    grads = {"inputs": {"x": exact["inputs"]}, "weights": {"kernel": exact["kernel"], "bias": exact["bias"]}}
    grads = planted({g: {n: round_to(a, dtype) for n, a in d.items()} for g, d in grads.items()})

    def forward(inputs, w):
        return op.compute(inputs["x"], w, case.params, {})

    return gradients.judge(case, forward, {"x": x}, weights, grads, v, reference.output)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_exact_gradient_passes(dtype):
    messages, metrics = judge_conv(dtype=dtype)
    assert messages == []
    assert metrics["failed"] == [] and metrics["unresolved"] == []
    assert set(metrics["weights"]) == {"kernel", "bias"} and set(metrics["inputs"]) == {"x"}
    # each variable agrees far inside its tolerance
    assert all(e["ratio"] < 0.2 for group in ("inputs", "weights") for e in metrics[group].values())


def _change(group, name, how):
    def planted(grads):
        return {**grads, group: {**grads[group], name: how(grads[group][name])}}
    return planted


@pytest.mark.parametrize("group, name, how", [
    ("weights", "kernel", lambda k: k[::-1, ::-1]),                       # kernel gradient not flipped back
    ("weights", "bias", lambda b: 0.5 * b),                               # bias gradient halved
    ("inputs", "x", lambda dx: dx * np.where(np.arange(3) == 1, 1.001, 1.0)),  # one channel 0.1% off
    ("inputs", "x", lambda dx: np.roll(dx, 1, axis=1)),                   # input gradient shifted a row
    ("weights", "kernel", lambda k: k * (1 + 1e-4)),                      # a 1e-4 scale error in float32
])
def test_a_planted_fault_is_caught_and_named(group, name, how):
    messages, metrics = judge_conv(_change(group, name, how))
    assert metrics["failed"] == [f"{group}/{name}"]
    assert len(messages) == 1 and repr(name) in messages[0]


def test_a_kink_is_judged_between_the_one_sided_derivatives():
    """relu at one input exactly 0 among smooth ones: relu'(0) = 0 and = 1 both pass (Keras
    documents no convention), a slope of 3 there fails."""
    case = Case(id="g::relu", file="g", line=1, name="relu", op="activations.relu", params={}, dtype="float64",
                input_shape=None, input_values=[[0.7, -1.3, 0.0, 2.1]])
    x = np.array([[0.7, -1.3, 0.0, 2.1]])
    v = np.array([[0.9, -0.4, 1.7, 0.3]])
    forward = lambda inputs, w: np.maximum(inputs["x"], 0.0)
    slopes_away_from_zero = np.array([[1.0, 0.0, 0.0, 1.0]])
    results = {}
    for at_zero in (0.0, 1.0, 3.0):
        slopes = slopes_away_from_zero + np.array([[0, 0, at_zero, 0]])
        grads = {"inputs": {"x": v * slopes}, "weights": {}}
        results[at_zero] = gradients.judge(case, forward, {"x": x}, {}, grads, v, forward({"x": x}, {}))
    for at_zero in (0.0, 1.0):
        messages, metrics = results[at_zero]
        assert messages == [] and metrics["inputs"]["x"]["one_sided"] is not None
    messages, metrics = results[3.0]
    assert metrics["failed"] == ["inputs/x"] and "one-sided" in messages[0]


def test_no_gradient_at_all_fails_where_the_output_depends_on_the_variable():
    """tf.keras giving None (bicubic resizing in float16) is taken as zeros and named
    disconnected: it fails even where the float16 rounding allowance exceeds the derivative,
    and passes for an input the output really does not depend on."""
    case = Case(id="g::lin", file="g", line=1, name="lin", op="activations.linear", params={}, dtype="float16",
                input_shape=(4, 500))
    # 2000 terms of random sign: <g, u> ~ sqrt(2000) against a sum of magnitudes ~ 2000
    x = round_to(np.random.default_rng(3).normal(0.25, 1.0, (4, 500)), "float16")
    scale = np.random.default_rng(4).normal(size=(4, 500))
    v = gradients.cotangent(case, x.shape)
    forward = lambda inputs, w: scale * inputs["x"] + 0.0 * inputs["y"]  # noqa: E731
    zeros = {"inputs": {"x": np.zeros_like(x), "y": np.zeros_like(x)}, "weights": {}}
    # as zeros only, the float16 allowance (2**7 u of the sums) hides the missing gradient of x
    quiet, _ = gradients.judge(case, forward, {"x": x, "y": x}, {}, zeros, v, forward({"x": x, "y": x}, {}))
    assert quiet == []
    messages, metrics = gradients.judge(case, forward, {"x": x, "y": x}, {},
                                        {**zeros, "disconnected": ["inputs/x", "inputs/y"]}, v, forward({"x": x, "y": x}, {}))
    assert metrics["failed"] == ["inputs/x"] and metrics["inputs"]["x"]["disconnected"]
    assert len(messages) == 1 and "gives none" in messages[0]
    assert "disconnected" not in metrics["inputs"]["y"]  # truly independent: its derivative is 0


def test_an_infinite_gradient_is_not_judged_only_where_the_exact_one_overflows_the_format():
    """f(x) = c x elementwise in float16 and v = 1: J^T v = c everywhere. With c = 1e7,
    |<v, J u>| / sum|u| (the least the largest element can be) is beyond 65504, so tf.keras's
    inf (NaN in <g, u>: inf - inf) is what the format can give; with c = 10 it is a fault."""
    case = Case(id="g::scale", file="g", line=1, name="scale", op="activations.linear", params={}, dtype="float16",
                input_shape=(2, 6))
    x = round_to(np.random.default_rng(5).normal(0.5, 1.0, (2, 6)), "float16")
    v = np.full(x.shape, 1.0)  # |J^T v| = c everywhere
    infinite = {"inputs": {"x": np.full(x.shape, np.inf)}, "weights": {}}
    verdicts = {}
    for c in (1e7, 10.0):
        forward = lambda inputs, w, c=c: c * inputs["x"]  # noqa: E731
        verdicts[c] = gradients.judge(case, forward, {"x": x}, {}, infinite, v, forward({"x": x}, {}))
    messages, metrics = verdicts[1e7]
    assert messages == [] and metrics["inputs"]["x"]["overflow"] and "beyond the largest float16 value 65504" in metrics["inputs"]["x"]["note"]
    messages, metrics = verdicts[10.0]
    assert metrics["failed"] == ["inputs/x"] and "overflow" not in metrics["inputs"]["x"]
    assert np.isfinite(metrics["inputs"]["x"]["allowed"])  # the reference's size sets it, not the inf
    # the same in float32, whose range holds 1e7: a fault
    case32 = Case(**{**case.__dict__, "dtype": "float32"})
    forward = lambda inputs, w: 1e7 * inputs["x"]  # noqa: E731
    messages, metrics = gradients.judge(case32, forward, {"x": x}, {}, infinite, v, forward({"x": x}, {}))
    assert metrics["failed"] == ["inputs/x"]


def test_gradients_key(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text("op: activations.relu\ncases:\n  - name: a\n    input_values: [[0.0, 1.0]]\n"
                    "    gradients: {skip: on the kink on purpose}\n")
    cases, errors = load_file(good)
    assert errors == []
    assert {c.gradients_skip for c in cases} == {"on the kink on purpose"}
    bad = tmp_path / "bad.yaml"
    bad.write_text("op: activations.relu\ncases:\n  - name: a\n    input_shape: [2, 3]\n    gradients: false\n")
    cases, (error,) = load_file(bad)
    assert cases == []
    assert "bad.yaml:5" in str(error) and "gradients" in str(error) and "{skip: REASON}" in str(error)


@pytest.mark.parametrize("mode", ["eager", "xla"])
def test_tf_keras_conv_gradients_pass_end_to_end(mode):
    from conformance.runner.execute import run_case

    record = run_case(conv_case(mode=mode))
    assert record.status == "pass", record.message
    checked = record.metrics["gradients"]
    assert set(checked["weights"]) == {"kernel", "bias"} and checked["failed"] == []
    # the gradient is a program of its own (its trace and compile timed with it), the forward's is apart
    assert record.durations["gradient"] > 0 and record.durations["reference gradient"] > 0
    assert ("compile" in record.durations) == (mode == "xla")


def test_celu_gradient_at_zero_is_the_recorded_divergence():
    """The catalogue's smooth_at_zero case: forward values agree, the gradient does not, and
    the known signature `gradients: {of: [inputs/x]}` turns it into an xfail; elu passes."""
    from pathlib import Path

    from conformance.runner.execute import run_case

    cases = {c.id: c for c in load_file(Path(__file__).parents[1] / "cases" / "activations.yaml")[0]
             if c.name == "smooth_at_zero" and c.mode == "eager" and c.dtype == "float32"}
    celu = run_case(next(c for i, c in cases.items() if "celu" in i))
    elu = run_case(next(c for i, c in cases.items() if "op=activations.elu" in i))
    assert celu.status == "xfail", celu.message
    assert celu.metrics["gradients"]["failed"] == ["inputs/x"]
    assert elu.status == "pass", elu.message


def test_compiled_modes_check_a_deterministic_sample_of_gradients(monkeypatch):
    from types import SimpleNamespace
    import zlib

    monkeypatch.delenv(gradients.ALL_GRADIENTS_VARIABLE, raising=False)

    def case(mode, index, sweep_index=1, known=None):
        return SimpleNamespace(mode=mode, id=f"cases/x.yaml::c[{index}-{mode}]", sweep_index=sweep_index, known=known)

    for mode, every in (("function", 4), ("xla", 8)):
        kept = [i for i in range(400) if not gradients.sampled_out(case(mode, i))]
        assert kept == [i for i in range(400) if zlib.crc32(f"cases/x.yaml::c[{i}-{mode}]".encode()) % every == 0]
        assert 400 / every * 0.7 < len(kept) < 400 / every * 1.3
        assert not gradients.sampled_out(case(mode, kept[-1] + 1, sweep_index=0))  # the first of its sweep
        recorded = {"signature": [{"gradients": "inputs"}]}
        assert not any(gradients.sampled_out(case(mode, i, known=recorded)) for i in range(50))
    assert not any(gradients.sampled_out(case("eager", i)) for i in range(50))
    monkeypatch.setenv(gradients.ALL_GRADIENTS_VARIABLE, "1")
    assert not any(gradients.sampled_out(case("function", i)) for i in range(50))


def _loss_case(op, params, shape=(4, 5), dtype="float64"):
    return Case(id=f"g::{op}", file="g", line=1, name="loss", op=op, params=params, dtype=dtype, input_shape=shape)


class _Scaled:
    """The tf.keras target with its loss gradients multiplied by `factor` (a planted fault)."""

    def __init__(self, factor):
        from conformance.target import get_target

        self.real, self.factor = get_target("tf.keras"), factor

    def run_loss(self, op, case, inputs, timings=None, cotangent=None):
        outcome = self.real.run_loss(op, case, inputs, timings, cotangent=cotangent)
        if outcome.gradients:
            outcome.gradients = {"inputs": {k: g * self.factor for k, g in outcome.gradients["inputs"].items()}, "weights": {}}
        return outcome


@pytest.mark.parametrize("op, params", [("losses.Huber", {"delta": 0.7}), ("losses.CategoricalCrossentropy", {}),
                                        ("losses.SparseCategoricalCrossentropy", {"from_logits": True})])
def test_loss_gradients_with_respect_to_y_pred(op, params):
    from conformance.checks import losses
    from conformance.outcome import Timings

    case = _loss_case(op, params)
    honest = losses.judge(get_op(op), case, _Scaled(1.0), Timings())
    assert honest.status == "pass", honest.message
    assert honest.metrics["gradients"]["inputs"]["y_pred"]["ratio"] < 1
    assert set(honest.metrics["gradients"]["inputs"]) == {"y_pred"}  # labels and weights are data
    planted = losses.judge(get_op(op), case, _Scaled(1.001), Timings())
    assert planted.status == "fail" and "gradient of input 'y_pred'" in planted.message


def test_probabilities_move_within_their_simplex():
    """tf.keras divides y_pred by its sum before the crossentropy: the same value on the simplex, another
    derivative off it. Along directions of zero sum (the tangent) the reference agrees, and the
    projection is u minus its mean along the class axis."""
    import dataclasses

    from conformance.checks import losses
    from conformance.outcome import Timings

    op = get_op("losses.CategoricalCrossentropy")
    u = np.array([[1.0, 2.0, 6.0], [0.5, -0.5, 3.0]])
    assert np.allclose(op.tangent({})["y_pred"](u), [[-2.0, -1.0, 3.0], [-0.5, -1.5, 2.0]])
    assert op.tangent({"from_logits": True}) == {}
    assert np.allclose(op.tangent({"axis": 0})["y_pred"](u), [[0.25, 1.25, 1.5], [-0.25, -1.25, -1.5]])
    # without the projection, the directions that leave the simplex show the normalization
    untangled = dataclasses.replace(op, tangent=None)
    verdict = losses.judge(untangled, _loss_case(op.name, {}), _Scaled(1.0), Timings())
    assert verdict.status == "fail" and "gradient of input 'y_pred'" in verdict.message


class _LayerFault:
    """The tf.keras target with a layer's output times `output` and its input gradient times
    `gradient` (planted faults)."""

    def __init__(self, output, gradient):
        from conformance.target import get_target

        self.real, self.output, self.gradient = get_target("tf.keras"), output, gradient

    def run_layer(self, op, case, inputs, weights, calls, timings=None, cotangent=None):
        outcome = self.real.run_layer(op, case, inputs, weights, calls, timings, cotangent=cotangent)
        outcome.output = outcome.output * self.output
        if outcome.gradients:
            outcome.gradients["inputs"] = {k: g * self.gradient for k, g in outcome.gradients["inputs"].items()}
        return outcome


@pytest.mark.parametrize("gradient_factor, failed", [(1.0, []), (1.01, ["inputs/x"])])
def test_the_gradient_behind_a_failed_forward_is_judged_on_request(monkeypatch, gradient_factor, failed):
    """A forward 1e-6 off in float64 fails, which leaves its gradient unchecked; with
    CONFORMANCE_GRADIENTS_BEHIND_FAILURES=1 the gradient is judged all the same and recorded
    apart (a 1% wrong input gradient is named, a right one is not), the verdict unchanged."""
    from conformance.checks import values
    from conformance.outcome import Timings

    case, op = conv_case("float64"), get_op("Conv2D")
    monkeypatch.delenv(gradients.BEHIND_FAILURES_VARIABLE, raising=False)
    plain = values.judge(op, case, _LayerFault(1 + 1e-6, gradient_factor), Timings())
    assert plain.status == "fail" and plain.metrics["gradients"] == {"not_checked": "the forward values diverge"}
    monkeypatch.setenv(gradients.BEHIND_FAILURES_VARIABLE, "1")
    probed = values.judge(op, case, _LayerFault(1 + 1e-6, gradient_factor), Timings())
    assert (probed.status, probed.message) == (plain.status, plain.message)
    behind = probed.metrics["gradients"]["behind_failure"]
    assert behind["failed"] == failed
    assert set(behind["inputs"]) == {"x"} and set(behind["weights"]) == {"kernel", "bias"}
    assert ("gradient of input 'x'" in behind["messages"]) == bool(failed)
