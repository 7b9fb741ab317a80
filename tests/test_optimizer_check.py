"""The optimizer check (conformance.checks.optimizers) passes an exact implementation of the
update rules and catches planted faults: the wrong bias correction, momentum applied twice,
weight decay missing, clipnorm ignored.

The fake target below implements SGD and Adam itself, step by step in the case dtype, written
from the rules here rather than through reference_impl; each fault is one change to it. One test
also runs the real tf.keras target."""
from types import SimpleNamespace

import numpy as np
import pytest

from conformance.catalogue.model import Case
from conformance.checks import optimizers
from conformance.ops import get_op
from conformance.outcome import SideOutcome, Timings
from conformance.target import get_target

VARIABLES = {"kernel": {"shape": [3, 4]}, "bias": {"shape": [5]}}


def case(op, params, calls=3, dtype="float32"):
    return Case(id=f"t::{op}", file="t", line=1, name=op, op=op, params=params, dtype=dtype,
                input_shape=(3, 4), inputs=VARIABLES, calls=calls)


def fake_target(fault=None):
    """run_optimizer for SGD (momentum, nesterov, weight_decay, clipnorm) and Adam, in float32."""

    def run_optimizer(op, c, variables, gradients, timings=None):
        p = {"momentum": 0.0, "nesterov": False, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7, **c.params}
        lr = np.float32(p["learning_rate"] * (1 + 1e-3 if fault == "learning rate 1e-3 too large" else 1))
        w = {n: v.astype(np.float32) for n, v in variables.items()}
        slot = {n: {"a": np.zeros_like(v), "b": np.zeros_like(v)} for n, v in w.items()}
        steps = []
        for t, grads in enumerate(gradients, 1):
            for n in w:
                g = grads[n].astype(np.float32)
                if p.get("clipnorm") and fault != "clipnorm ignored":
                    g = g * min(np.float32(1), np.float32(p["clipnorm"]) / np.linalg.norm(g))
                if p.get("weight_decay") and fault != "weight decay missing":
                    w[n] = w[n] - lr * np.float32(p["weight_decay"]) * w[n]
                if c.op == "optimizers.Adam":
                    b1, b2 = np.float32(p["beta_1"]), np.float32(p["beta_2"])
                    m = slot[n]["a"] = b1 * slot[n]["a"] + (1 - b1) * g
                    v = slot[n]["b"] = b2 * slot[n]["b"] + (1 - b2) * g * g
                    correction = np.sqrt(1 - b2 ** t) / (1 - b1 ** t) if fault != "wrong bias correction" else 1 / (1 - b1 ** t)
                    w[n] = w[n] - lr * np.float32(correction) * m / (np.sqrt(v) + np.float32(p["epsilon"]))
                elif p["momentum"]:
                    velocity = slot[n]["a"] = np.float32(p["momentum"]) * slot[n]["a"] - lr * g
                    step = np.float32(p["momentum"]) * velocity - lr * g if p["nesterov"] else velocity
                    w[n] = w[n] + step + (velocity if fault == "momentum applied twice" else 0)
                else:
                    w[n] = w[n] - lr * g
            names = {"optimizers.Adam": {"a": "m", "b": "v"}, "optimizers.SGD": {"a": "velocity"}}[c.op]
            steps.append({"variables": {n: v.astype(np.float64) for n, v in w.items()},
                          "slots": {n: {names[k]: s.astype(np.float64) for k, s in slots.items() if k in names and (c.op == "optimizers.Adam" or p["momentum"])}
                                    for n, slots in slot.items()}})
        return SideOutcome(steps=steps)

    return SimpleNamespace(run_optimizer=run_optimizer)


def judged(c, target):
    return optimizers.judge(get_op(c.op), c, target, Timings())


EXACT = [
    ("optimizers.SGD", {"learning_rate": 0.1}),
    ("optimizers.SGD", {"learning_rate": 0.1, "momentum": 0.9}),
    ("optimizers.SGD", {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True}),
    ("optimizers.SGD", {"learning_rate": 0.1, "weight_decay": 0.2}),
    ("optimizers.SGD", {"learning_rate": 0.1, "clipnorm": 0.5}),
    ("optimizers.Adam", {"learning_rate": 0.1}),
]


@pytest.mark.parametrize("op, params", EXACT)
def test_the_exact_rule_passes(op, params):
    verdict = judged(case(op, params), fake_target())
    assert verdict.status == "pass", verdict.message
    assert len(verdict.metrics["steps"]) == 3


@pytest.mark.parametrize("fault, op, params, where", [
    ("wrong bias correction", "optimizers.Adam", {"learning_rate": 0.1}, "kernel after step 1"),
    ("momentum applied twice", "optimizers.SGD", {"learning_rate": 0.1, "momentum": 0.9}, "kernel after step 1"),
    ("weight decay missing", "optimizers.SGD", {"learning_rate": 0.1, "weight_decay": 0.2}, "kernel after step 1"),
    ("clipnorm ignored", "optimizers.SGD", {"learning_rate": 0.1, "clipnorm": 0.5}, "kernel after step 1"),
    ("learning rate 1e-3 too large", "optimizers.Adam", {"learning_rate": 0.1}, "kernel after step 1"),
    ("learning rate 1e-3 too large", "optimizers.SGD", {"learning_rate": 0.1, "momentum": 0.9}, "kernel after step 1"),
])
def test_a_planted_fault_is_caught(fault, op, params, where):
    verdict = judged(case(op, params), fake_target(fault))
    assert verdict.status == "fail", fault
    assert where in verdict.message, verdict.message


def test_a_wrong_slot_is_caught_even_when_the_variables_agree():
    honest = fake_target()

    def run_optimizer(*args, **kwargs):
        outcome = honest.run_optimizer(*args, **kwargs)
        outcome.steps[1]["slots"]["bias"]["v"] = outcome.steps[1]["slots"]["bias"]["v"] * 1.01
        return outcome

    verdict = judged(case("optimizers.Adam", {"learning_rate": 0.1}), SimpleNamespace(run_optimizer=run_optimizer))
    assert verdict.status == "fail" and "bias/v after step 2" in verdict.message


def test_the_rounding_bound_is_derived_from_the_decay_rates():
    # Adam's defaults: K = 0.9 / 0.1 + 0.999 / 0.001 = 1008
    assert optimizers.conditioning({"beta_1": 0.9, "beta_2": 0.999}) == pytest.approx(1008.0)
    assert optimizers.conditioning({"learning_rate": 0.5}) == 0.0
    assert optimizers.conditioning({"inner_optimizer": {"class_name": "SGD", "config": {"momentum": 0.5}}}) == pytest.approx(1.0)


def test_arguments_reach_the_reference_as_the_dtype_represents_them():
    assert optimizers.in_dtype({"beta_2": 0.999, "steps": 2, "flag": True}, "float32") == \
        {"beta_2": float(np.float32(0.999)), "steps": 2, "flag": True}
    assert optimizers.in_dtype({"beta_2": 0.999}, "float64") == {"beta_2": 0.999}


@pytest.mark.parametrize("mode", ["eager", "function"])
def test_tf_keras_adam_with_a_schedule_passes_in_its_mode(mode):
    c = case("optimizers.Adam", {"learning_rate": {"class_name": "ExponentialDecay",
                                                   "config": {"initial_learning_rate": 0.1, "decay_steps": 2, "decay_rate": 0.5}}})
    c = Case(**{**c.__dict__, "mode": mode})
    verdict = judged(c, get_target("tf.keras"))
    assert verdict.status == "pass", verdict.message
    assert set(verdict.metrics["steps"][0]) == {"kernel", "bias", "kernel/m", "kernel/v", "bias/m", "bias/v"}


@pytest.mark.parametrize("op, params", EXACT)
def test_the_variables_and_slots_are_judged_by_the_bound(op, params):
    verdict = judged(case(op, params), fake_target())
    assert verdict.metrics["judged_by"] == "bound"
    assert 0 < verdict.metrics["max_bound_ratio"] <= 1
    assert verdict.metrics["n_judged_by_bound"] == verdict.metrics["n_compared"]
    assert all(m["judged_by"] == "bound" for step in verdict.metrics["steps"] for m in step.values())


def test_the_lr_fault_is_out_of_the_bound_not_of_the_tolerance():
    # SGD without momentum, one step: a learning rate 1e-3 too large moves w by 1e-4 |g|, within
    # the flat float32 tolerance (1e-5 + 1e-5 |w|) where |g| < 0.1 (1 + |w|), but far beyond the
    # bound of w - lr g, a few units of float32's roundoff of |w| + |lr g|
    verdict = judged(case("optimizers.SGD", {"learning_rate": 0.1}, calls=1), fake_target("learning rate 1e-3 too large"))
    assert verdict.status == "fail" and "out of the error bound" in verdict.message, verdict.message
    assert verdict.metrics["max_bound_ratio"] > 10


def test_a_case_with_its_own_tolerance_is_judged_by_it():
    c = case("optimizers.Adam", {"learning_rate": 0.1})
    c = Case(**{**c.__dict__, "tolerance": {"rtol": 1e-4, "atol": 1e-4}})
    verdict = judged(c, fake_target())
    assert verdict.status == "pass" and verdict.metrics["judged_by"] == "tolerance"


def test_the_bound_is_not_used_for_values_it_was_not_derived_for():
    # a reference other than the bound's (Keras 2's EMA, which starts from the initial value):
    # the tolerance judges, and the record says why
    c = case("optimizers.SGD", {"learning_rate": 0.1})
    variables, gradients = optimizers.optimizer_inputs(c)
    op = get_op("optimizers.SGD")
    params = optimizers.in_dtype(optimizers.with_defaults(op, c.params), c.dtype)
    expected = op.compute(variables, gradients, params)
    bounds = optimizers.step_bounds(op, c, variables, gradients, params)
    moved = [{**e, "variables": {n: v + 1e-3 for n, v in e["variables"].items()}} for e in expected]
    steps = [{"variables": e["variables"], "slots": {}} for e in moved]
    messages, metrics = optimizers.compare_steps(c, moved, steps, variables, params, bounds)
    assert messages == [] and metrics["judged_by"] == "tolerance"
    assert "other values of 'kernel'" in metrics["bound_not_used"]


@pytest.mark.parametrize("mode", ["eager", "function"])
def test_the_optimizer_may_build_its_slots_in_its_first_step(mode):
    """`call: {build: in_step}`: tf.keras's Adam creates its slots in its first apply_gradients
    (inside the traced step in function mode) and still follows the documented rule."""
    c = Case(**{**case("optimizers.Adam", {"learning_rate": 0.1}).__dict__, "mode": mode, "call": {"build": "in_step"}})
    verdict = judged(c, get_target("tf.keras"))
    assert verdict.status == "pass", verdict.message
    assert set(verdict.metrics["steps"][0]) == {"kernel", "bias", "kernel/m", "kernel/v", "bias/m", "bias/v"}


def test_when_the_optimizer_builds_is_checked_with_the_case(write_catalogue):
    from conformance.catalogue.loader import load_file
    path = write_catalogue("op: optimizers.Adam\ncases:\n  - name: a\n    inputs: {kernel: {shape: [3, 4]}}\n"
                           "    params: {learning_rate: 0.1}\n    call: {build: later}\n")
    cases, errors = load_file(path)
    assert cases == [] and len(errors) == 1
    assert ":6: call.build: expected" in str(errors[0]) and "'later'" in str(errors[0])
    assert load_file(write_catalogue(path.read_text().replace("later", "in_step"), name="good.yaml"))[1] == []
