"""What is tested: one adapter per target, the only code that touches a framework.

A target is a module that provides the members of `Target` below. Today there is one,
tf.keras (Keras 3 on TensorFlow, `tf_keras.py`, with `tf_keras_custom.py` for user-defined
objects), and Keras 2 through the `tf_keras` package (`keras2.py`, which drives the same
adapter in a process where `tf.keras` is Keras 2). A target is a module with the members
below, named in conformance.axes.TARGETS and mapped in `TARGET_MODULES`; the checks and the
runner do not change.

Every member takes the case, so the target applies the case's mode itself
(conformance.axes.MODES: how a call is wrapped) and records build, compile and call time in
the `Timings` it is given.
"""
from __future__ import annotations

import importlib
from typing import Protocol

from conformance.axes import TARGETS


class Target(Protocol):
    NAME: str

    def tensorflow(self):
        """Import the framework once (workers pay for it before their first case)."""

    def quiet_tensorflow_logs(self) -> None:
        """Keep the framework's start-up logs out of the terminal (before workers start)."""

    def use_compile_cache(self, directory) -> str:
        """Keep compiled programs (XLA's) in `directory` across runs (before workers start)."""

    def versions(self) -> dict:
        """Installed versions, for the record's environment (without importing the framework)."""

    def unsupported(self, op, case) -> str | None:
        """Why this target cannot run the case as written (the op or an argument does not exist
        in it), or None: the case is then a skip with that reason, not a failure."""

    def reset_random_state(self, seed) -> None:
        """Seed every global generator of the framework from the case's seed (reproducible runs)."""

    def environment_facts(self) -> dict:
        """Settings that change the framework's numbers here (threads, oneDNN, XLA flags)."""

    def run_layer(self, op, case, inputs, weights, calls, timings=None, cotangent=None):
        """Build the layer, set `weights` by name, call it on each input: a SideOutcome. With
        a `cotangent`, also its vector-Jacobian product over the float inputs and trainable
        weights (SideOutcome.gradients), in the case's mode."""

    def run_layer_isolated(self, op, case, inputs, weights, calls, timings=None):
        """run_layer in a child process, for calls that may kill their process."""

    def train_layer(self, op, case, x, weights, call, timings=None):
        """`case.train`'s optimizer steps on the layer: a SideOutcome whose `steps` hold the
        weights before each step and the gradients it applied, and `state` the weights after."""

    def run_function(self, op, case, x, timings=None, cotangent=None):
        """The op's callable (an activation, a regularizer) applied to x: a SideOutcome (with a
        `cotangent`, also its vector-Jacobian product with respect to x)."""

    def run_loss(self, op, case, inputs, timings=None):
        """A loss (class or function form) on its named inputs (name -> (values, dtype)): a SideOutcome."""

    def run_metric(self, op, case, batches, timings=None):
        """A stateful metric: update_state on each batch but the last (name -> (values, dtype))
        and result(), then reset_state(), the last batch and result(): a SideOutcome."""

    def run_optimizer(self, op, case, variables, gradients, timings=None):
        """An optimizer built on the named variables, one apply_gradients per step (a dict of
        gradients each): a SideOutcome whose `steps` hold the variables and slots after each."""

    def draw_initializer(self, op, case, shape, seeds):
        """One draw per seed, stacked; state says whether seeded draws repeat."""

    def draw_layer_kernels(self, op, case, seeds):
        """The initializer as a layer's kernel_initializer, one layer per seed."""

    def check_custom_object(self, op, case, cls, reference):
        """A user's Keras object against the user's reference: (messages, metrics)."""


TARGET_MODULES = {"tf.keras": "conformance.target.tf_keras", "tf_keras": "conformance.target.keras2"}
MEMBERS = tuple(name for name in Target.__dict__ if not name.startswith("_"))


def get_target(name: str) -> Target:
    if name not in TARGETS:
        raise ValueError(f"unknown target {name!r}; targets: {', '.join(TARGETS)}")
    return importlib.import_module(TARGET_MODULES[name])
