"""The metric check (conformance.checks.metrics) catches planted faults of a stateful metric, and
passes the faithful one.

A fake target runs a small stateful NumPy metric of this file (state: totals, counts, confusion
counts per threshold, accumulated batch by batch as tf.keras's variables are; result from the
state), not the reference's concatenation of all batches, so the faithful fake is a second
formulation that must agree. Each planted fault is one mistake a metric implementation can make:
forgetting the first batch, ignoring sample_weight, the wrong AUC summation, a reset_state that
resets nothing, a result read before the last update.
"""
import numpy as np
import pytest

from conformance.catalogue.model import Case
from conformance.checks.metrics import judge
from conformance.ops import get_op
from conformance.outcome import SideOutcome, Timings
from reference_impl import metrics as ref


class MeanSquaredError:
    """total / count of squared errors, weighted per sample."""

    def __init__(self, params, faults):
        self.faults = faults
        self.reset_state()

    def reset_state(self):
        if "no_reset" in self.faults and hasattr(self, "total"):
            return
        self.total, self.count, self.updates = 0.0, 0.0, 0

    def update_state(self, y_true, y_pred, sample_weight=None):
        self.updates += 1
        if "forget_first_batch" in self.faults and self.updates == 2:
            self.total, self.count = 0.0, 0.0  # as if the first batch had never been seen
        values = np.mean((y_pred - y_true) ** 2, axis=-1)
        weights = np.ones_like(values) if sample_weight is None or "ignore_weight" in self.faults else sample_weight
        self.total += float(np.sum(weights * values))
        self.count += float(np.sum(weights))

    def result(self):
        scale = 1 + 1e-3 if "scale_1e-3" in self.faults else 1.0
        return np.float64(scale * self.total / self.count)


class AUC:
    """Confusion counts at the documented thresholds, accumulated per batch; the area from them."""

    def __init__(self, params, faults):
        self.params, self.faults = params, faults
        self.thresholds = ref.curve_thresholds(params.get("num_thresholds", 200))
        self.reset_state()

    def reset_state(self):
        self.counts, self.updates = None, 0

    def update_state(self, y_true, y_pred, sample_weight=None):
        self.updates += 1
        if "forget_first_batch" in self.faults and self.updates == 2:
            self.counts = None
        labels = (np.asarray(y_true) != 0).reshape(-1, 1)
        scores = np.asarray(y_pred, dtype=np.float64).reshape(-1, 1)
        weights = np.broadcast_to(1.0 if sample_weight is None else sample_weight, np.shape(y_pred)).reshape(-1, 1)
        # counted by loops over thresholds and entries: a second formulation of the counts
        counts = {k: np.zeros((len(self.thresholds), 1)) for k in ("tp", "fp", "fn", "tn")}
        for i, t in enumerate(self.thresholds):
            for label, score, weight in zip(labels[:, 0], scores[:, 0], weights[:, 0]):
                kind = ("tp" if label else "fp") if score > t else ("fn" if label else "tn")
                counts[kind][i, 0] += weight
        self.counts = counts if self.counts is None else {k: self.counts[k] + counts[k] for k in counts}

    def result(self):
        method = "interpolation" if "wrong_summation" in self.faults else self.params.get("summation_method", "interpolation")
        return np.float64(ref.area(self.counts, self.params.get("curve", "ROC"), method)[0])


METRICS = {"metrics.MeanSquaredError": MeanSquaredError, "metrics.AUC": AUC}


class FakeTarget:
    """run_metric as the tf.keras target runs it: update_state per batch, result() after each,
    reset_state() before the last batch. Fakes accept cotangent=None where they run layers."""

    def __init__(self, *faults):
        self.faults = set(faults)

    def run_metric(self, op, case, batches, timings=None):
        metric = METRICS[case.op](case.params, self.faults)
        outputs = []
        for i, batch in enumerate(batches):
            if i == len(batches) - 1:
                metric.reset_state()
            values = {name: np.asarray(value, dtype=np.float64) for name, (value, _) in batch.items()}
            stale = "stale_result" in self.faults and 0 < i < len(batches) - 1
            result_before = metric.result() if stale else None
            metric.update_state(**values)
            outputs.append(result_before if result_before is not None else metric.result())
        state = {f"after_update_{i}": v for i, v in enumerate(outputs[:-2], 1)}
        state["after_reset"] = outputs[-1]
        return SideOutcome(output=np.asarray(outputs[-2]), state=state)

    def run_layer(self, *args, cotangent=None, **kwargs):
        raise NotImplementedError

    def run_function(self, *args, cotangent=None, **kwargs):
        raise NotImplementedError


def case(op, params=None, weighted=True, shape=(7, 4), dtype="float64"):
    inputs = {"y_true": {"shape": list(shape)}, "y_pred": {"shape": list(shape)}}
    if weighted:
        inputs["sample_weight"] = {"shape": [shape[0]] if op.endswith("MeanSquaredError") else [shape[0], 1]}
    return Case(id=f"planted::{op}", file="planted", line=1, name="planted", op=op, params=params or {},
                dtype=dtype, input_shape=None, inputs=inputs, calls=3)


def verdict(c, target):
    return judge(get_op(c.op), c, target, Timings())


@pytest.mark.parametrize("c", [case("metrics.MeanSquaredError"),
                               case("metrics.AUC", {"num_thresholds": 7, "summation_method": "minoring"}),
                               case("metrics.AUC", {"num_thresholds": 11, "curve": "PR", "summation_method": "majoring"})],
                         ids=["mse", "auc-roc-minoring", "auc-pr-majoring"])
def test_the_faithful_metric_passes(c):
    v = verdict(c, FakeTarget())
    assert v.status == "pass", v.message


@pytest.mark.parametrize("op, params", [("metrics.MeanSquaredError", {}), ("metrics.AUC", {"num_thresholds": 7})])
def test_a_metric_that_forgets_the_first_batch_is_caught(op, params):
    v = verdict(case(op, params), FakeTarget("forget_first_batch"))
    assert v.status == "fail"
    assert "after_update_1" not in v.message  # right after one batch it still agrees
    assert "after_update_2" in v.message


def test_a_metric_that_ignores_sample_weight_is_caught():
    v = verdict(case("metrics.MeanSquaredError"), FakeTarget("ignore_weight"))
    assert v.status == "fail"
    assert "after_update_1" in v.message and "after_reset" in v.message


def test_the_wrong_auc_summation_is_caught():
    c = case("metrics.AUC", {"num_thresholds": 7, "summation_method": "majoring"})
    v = verdict(c, FakeTarget("wrong_summation"))
    assert v.status == "fail"


def test_a_metric_that_does_not_reset_is_caught():
    v = verdict(case("metrics.MeanSquaredError"), FakeTarget("no_reset"))
    assert v.status == "fail"
    assert "after_reset" in v.message
    assert "after_update" not in v.message  # every result before the reset agrees


def test_a_result_read_before_the_update_is_caught():
    v = verdict(case("metrics.AUC", {"num_thresholds": 5}), FakeTarget("stale_result"))
    assert v.status == "fail"


def test_a_case_whose_reference_rejects_the_arguments_is_an_error():
    c = case("metrics.AUC", {"summation_method": "trapezoid"})
    assert verdict(c, FakeTarget()).status == "error"


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_every_result_is_judged_by_the_metrics_error_bound(dtype):
    v = verdict(case("metrics.MeanSquaredError", dtype=dtype), FakeTarget())
    assert v.status == "pass", v.message
    assert v.metrics["judged_by"] == "bound"
    assert 0 < v.metrics["error_bound_max"] < (1e-5 if dtype == "float32" else 1e-13)
    assert {s["judged_by"] for s in v.metrics["state"].values()} == {"bound"}


def test_a_1e_3_scale_error_is_caught_by_the_bound():
    v = verdict(case("metrics.MeanSquaredError", dtype="float32"), FakeTarget("scale_1e-3"))
    assert v.status == "fail"
    assert "error bound" in v.message
    assert "after_update_1" in v.message and "after_reset" in v.message


def test_auc_is_judged_by_its_bound():
    v = verdict(case("metrics.AUC", {"num_thresholds": 7, "summation_method": "minoring"}, dtype="float32"), FakeTarget())
    assert v.status == "pass", v.message
    assert v.metrics["judged_by"] == "bound"
