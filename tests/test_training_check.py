"""The training check (`train:`, conformance.checks.training) passes tf.keras's honest steps
and catches planted faults: a constraint not applied, a frozen weight that moves, a
regularizer's penalty missing from the gradient, a learning rate applied twice.

Each fault is planted in tf.keras's real outcome (a wrapper around the real target changes
what it reports), so the judge sees exactly what a faulty optimizer step would produce.
"""
from types import SimpleNamespace

import numpy as np
import pytest

from conformance.catalogue.model import Case
from conformance.checks import training
from conformance.ops import get_op
from conformance.outcome import Timings
from conformance.target import get_target

TRAIN = {"optimizer": "SGD", "learning_rate": 0.05, "steps": 2, "loss": "sum", "trainable": True}


def case(op, params, shape, **train):
    return Case(id=f"t::{op}", file="t", line=1, name=op, op=op, params=params, dtype="float32",
                input_shape=tuple(shape), train={**TRAIN, **train})


def judged(c, plant=None):
    """The training verdict of `c`, with `plant(outcome)` changing what tf.keras reported."""
    real = get_target("tf.keras")

    def train_layer(*args, **kwargs):
        outcome = real.train_layer(*args, **kwargs)
        assert outcome.error is None, outcome.error
        if plant:
            plant(outcome)
        return outcome

    return training.judge(get_op(c.op), c, SimpleNamespace(train_layer=train_layer), Timings())


def _after(outcome, k):
    """The weights tf.keras reports after step k (0-based)."""
    return outcome.steps[k + 1]["weights"] if k + 1 < len(outcome.steps) else outcome.state


def test_honest_steps_pass_and_weights_are_reported_per_step():
    verdict = judged(case("Conv2D", {"filters": 4, "kernel_size": 3, "kernel_constraint": "non_neg",
                                     "kernel_regularizer": "l2"}, [2, 6, 5, 3]))
    assert verdict.status == "pass", verdict.message
    assert verdict.metrics["trainable"] == ["bias", "kernel"]
    assert len(verdict.metrics["steps"]) == 2
    assert set(verdict.metrics["steps"][1]["weights"]) == {"kernel", "bias"}


def test_a_constraint_that_is_not_applied_is_caught():
    c = case("Conv2D", {"filters": 4, "kernel_size": 3, "kernel_constraint": "non_neg"}, [2, 6, 5, 3])

    def unconstrained(outcome):
        for k, step in enumerate(outcome.steps):
            _after(outcome, k)["kernel"] = step["weights"]["kernel"] - 0.05 * step["gradients"]["kernel"]
        assert np.min(outcome.state["kernel"]) < 0  # the plant matters: non_neg would have clipped these

    verdict = judged(c, unconstrained)
    assert verdict.status == "fail" and "weight 'kernel' after step 1" in verdict.message


def test_a_frozen_weight_that_moves_is_caught():
    c = case("Conv2D", {"filters": 4, "kernel_size": 3}, [2, 6, 5, 3], trainable=False)
    assert judged(c).status == "pass"

    def moved(outcome):
        outcome.state["bias"] = outcome.state["bias"] + 1e-3

    verdict = judged(c, moved)
    assert verdict.status == "fail" and "weight 'bias' after step 2" in verdict.message


def test_batch_norm_frozen_keeps_its_moving_statistics_and_trainable_moves_them():
    frozen = judged(case("BatchNormalization", {}, [8, 5], trainable=False))
    assert frozen.status == "pass", frozen.message
    assert frozen.metrics["trainable"] == []
    c = case("BatchNormalization", {}, [8, 5])
    c = Case(**{**c.__dict__, "call": {"training": True}})
    moving = judged(c)
    assert moving.status == "pass", moving.message
    assert moving.metrics["trainable"] == ["beta", "gamma"]


def test_a_penalty_missing_from_the_gradient_is_caught():
    """l2 (0.01 * sum w**2) adds 0.02 * w to the kernel's gradient: a step that leaves it out
    fails the gradient comparison of step 1, naming the kernel."""
    c = case("Dense", {"units": 3, "kernel_regularizer": "l2"}, [5, 6])

    def no_penalty(outcome):
        for k, step in enumerate(outcome.steps):
            w = step["weights"]["kernel"]
            step["gradients"]["kernel"] = step["gradients"]["kernel"] - 0.02 * w
            _after(outcome, k)["kernel"] = w - 0.05 * step["gradients"]["kernel"]

    verdict = judged(c, no_penalty)
    assert verdict.status == "fail"
    assert "step 1: gradient of weight 'kernel'" in verdict.message
    assert verdict.metrics["steps"][0]["gradients"]["failed"] == ["weights/kernel"]


@pytest.mark.parametrize("factor", [2.0, 0.5])
def test_a_wrong_learning_rate_is_caught(factor):
    c = case("Dense", {"units": 3}, [5, 6])

    def wrong_rate(outcome):
        for k, step in enumerate(outcome.steps):
            for name in ("kernel", "bias"):
                _after(outcome, k)[name] = step["weights"][name] - factor * 0.05 * step["gradients"][name]

    verdict = judged(c, wrong_rate)
    assert verdict.status == "fail" and "after step 1" in verdict.message


def test_a_frozen_sublayer_that_trains_is_caught():
    """TimeDistributed(Dense(trainable=False)): tf.keras trains nothing (pass); an optimizer
    step that moved the wrapped kernel anyway fails, naming it."""
    c = case("TimeDistributed", {"layer": {"class_name": "Dense", "config": {"units": 3, "trainable": False}}}, [2, 5, 4])
    honest = judged(c)
    assert honest.status == "pass", honest.message
    assert honest.metrics["trainable"] == []

    def trained(outcome):
        for k, step in enumerate(outcome.steps):
            step["gradients"]["dense/kernel"] = np.ones_like(step["weights"]["dense/kernel"])
            _after(outcome, k)["dense/kernel"] = step["weights"]["dense/kernel"] - 0.05

    verdict = judged(c, trained)
    assert verdict.status == "fail"
    assert "the wrapped Dense was built with trainable=False but tf.keras trains dense/kernel" in verdict.message
