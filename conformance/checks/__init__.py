"""What is compared: one judge per check kind, all sharing one verdict ladder (verdict.py).

A judge is `judge(op, case, target, timings) -> Verdict`: it makes the reference side,
asks the target for its side (in the case's mode), and gives the ladder a comparison. The
kinds and their default modes are declared in conformance.axes.CHECK_MODES; which kind a
case gets follows from its op (conformance.ops.check_of). A new check (gradients,
serialization) is one module here and one entry in each of those two tables.

- values.py: outputs, states and losses element by element against the reference;
- initializers.py: samples of an initializer against its documented distribution
  (distribution.py holds the statistics, which never import a framework);
- random_layers.py: random layers in training, statistically;
- custom.py: a user's own object against the user's own reference;
- losses.py: a loss on its named inputs (y_true, y_pred, sample_weight) against the reference;
- metrics.py: a stateful metric's result() after several update_state calls and after reset_state;
- optimizers.py: an optimizer's variables and slot variables after each step against the reference;
- training.py: a layer's weights after optimizer steps (`train:`): gradients, constraints,
  frozen weights (gradients.py holds the gradient comparison the values check uses too).
"""
from __future__ import annotations

from conformance.checks import custom, initializers, losses, metrics, optimizers, random_layers, training, values

JUDGES = {
    "values": values.judge,
    "distribution": initializers.judge,
    "statistics": random_layers.judge,
    "custom": custom.judge,
    "loss": losses.judge,
    "metric": metrics.judge,
    "optimizer": optimizers.judge,
    "training": training.judge,
}
