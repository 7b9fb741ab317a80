"""The axes a case is judged along, declared once: execution modes and targets.

A case is (op x parameters x dtype x mode x check) for one target, in the way PyTorch's
OpInfo separates samples, dtypes, devices and test kinds. Swept parameters and dtypes are
declared by the catalogue; the check follows from the op (conformance.checks). This module
holds the two axes that are the harness's own vocabulary:

- MODES: how the target calls the op. Adding a fourth mode is one entry here: its name,
  what it means, and how a call is wrapped (`wrap(tf, fn)`, given the TensorFlow module so
  that this file never imports it). Validation, ids, `--modes`, `conformance ops`,
  `conformance new` and the report all read this table.
- TARGETS: what is tested (tf.keras, the default, and Keras 2 as `tf_keras`); conformance.target
  maps each name onto an adapter. A target other than the default is written in case ids as
  modes are (`f.yaml::name[a=1-float32-xla-tf_keras]`), and runs in worker processes of its own.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Mode:
    name: str
    doc: str
    # fn(*tensors) -> outputs  ->  the same call as this mode runs it
    wrap: Callable[[object, Callable], Callable]
    compiled: bool  # True: the first call traces (and compiles); timed apart from the calls


MODES: dict[str, Mode] = {
    mode.name: mode
    for mode in (
        Mode("eager", "the layer or function called directly", lambda tf, fn: fn, compiled=False),
        Mode("function", "the call inside tf.function (a traced graph)", lambda tf, fn: tf.function(fn), compiled=True),
        Mode("xla", "the call inside tf.function(jit_compile=True) (compiled by XLA)",
             lambda tf, fn: tf.function(fn, jit_compile=True), compiled=True),
    )
}
# The mode every other mode is compared with (metrics.vs_eager); it is not written in case ids.
REFERENCE_MODE = "eager"

# What a case compares, by the kind of op (conformance.ops.check_of), with the modes it runs
# in unless the case says `modes:`. conformance.checks registers one judge per name. The
# sampled checks default to eager: they draw thousands of values, and their subject (a
# distribution, a random mask) is not what a compiled call is likely to change.
CHECK_MODES: dict[str, tuple[str, ...]] = {
    "values": tuple(MODES),  # layers and functions: outputs, states, losses against the reference
    "distribution": (REFERENCE_MODE,),  # initializers: samples against the documented distribution
    "statistics": (REFERENCE_MODE,),  # random layers in training: masks and noise, statistically
    "custom": (REFERENCE_MODE,),  # the user's own objects against the user's own reference
    "loss": tuple(MODES),  # losses: the (reduced) loss against the reference
    "metric": tuple(MODES),  # metrics: result() after several update_state calls, and after reset_state
    "optimizer": tuple(MODES),  # optimizers: variables and slot variables after each apply_gradients step
    "training": tuple(MODES),  # a layer's weights after optimizer steps (`train:`) against the reference's update
}

@dataclass(frozen=True)
class Target:
    name: str
    doc: str
    package: str  # the distribution that provides it (its version goes in the record)
    # Environment a worker process of this target starts with: TensorFlow reads
    # TF_USE_LEGACY_KERAS when `tf.keras` is first touched, so one process serves one target.
    environment: dict


TARGETS: dict[str, Target] = {
    target.name: target
    for target in (
        Target("tf.keras", "Keras 3 on TensorFlow, as tf.keras", "keras", {}),
        Target("tf_keras", "Keras 2, the tf_keras package: what tf.keras is with TF_USE_LEGACY_KERAS=1",
               "tf_keras", {"TF_USE_LEGACY_KERAS": "1"}),
    )
}
DEFAULT_TARGET = "tf.keras"


def parse_modes(text: str) -> tuple[str, ...]:
    """"eager,xla" -> ("eager", "xla"); a ValueError names an unknown mode."""
    names = tuple(m.strip() for m in text.split(",") if m.strip())
    unknown = [m for m in names if m not in MODES]
    if unknown or not names:
        raise ValueError(f"unknown mode(s) {', '.join(map(repr, unknown)) or repr(text)}; modes: {', '.join(MODES)}")
    return names


def parse_targets(text: str) -> tuple[str, ...]:
    """"tf.keras,tf_keras" -> ("tf.keras", "tf_keras"); a ValueError names an unknown target."""
    names = tuple(dict.fromkeys(t.strip() for t in text.split(",") if t.strip()))
    unknown = [t for t in names if t not in TARGETS]
    if unknown or not names:
        raise ValueError(f"unknown target(s) {', '.join(map(repr, unknown)) or repr(text)}; targets: {', '.join(TARGETS)}")
    return names
