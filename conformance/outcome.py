"""What one side of a case produced, and how long each phase took: the vocabulary shared by
the targets, the checks and the runner (no framework, no catalogue)."""
from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

MAX_MESSAGE = 2000
# The phases a case's time is split into (record field `durations`).
# eager: the eager run a compiled mode is compared with; diagnose: a failure's diagnosis (conformance.diagnosis);
# gradient: the target's vector-Jacobian product in the case's mode (its trace and compile included);
# serialization: the target's round trips of a layer (conformance.checks.serialization);
# reference gradient: the reference's directional derivatives (conformance.checks.gradients)
PHASES = ("build", "eager", "compile", "call", "gradient", "serialization", "reference", "reference gradient", "judge", "diagnose")


@dataclass
class SideOutcome:
    """What one implementation produced: an output, or the error it raised and where."""

    output: np.ndarray | None = None
    error: dict | None = None
    state: dict = field(default_factory=dict)  # state variables after the last call, further outputs, losses
    eager_output: np.ndarray | None = None  # in a compiled mode: the same layer's eager output
    error_bound: np.ndarray | None = None  # reference only: the formula's own rounding bound per element
    # reference only: the bounds of further outputs and state variables, by their name in `state`
    state_bounds: dict = field(default_factory=dict)
    # target only, a layer case: {"output": dtype name, "variables": {name: dtype name}}
    dtypes: dict | None = None
    # target only, when asked for (conformance.checks.gradients): the vector-Jacobian product
    # of a cotangent, {"inputs": {name: array}, "weights": {name: array}} over the float
    # inputs and the trainable weights, or the error computing it raised
    gradients: dict | None = None
    gradient_error: dict | None = None
    # target only, for a `train:` case: per optimizer step {"weights": before, "gradients": applied}
    steps: list | None = None
    # target only, a layer case (conformance.checks.serialization): what the round trips of the
    # layer through get_config/from_config, Keras serialization and a .keras file gave back
    serialization: dict | None = None

    @property
    def shape(self):
        return None if self.output is None else list(self.output.shape)

    def summary(self) -> dict:
        return {"output_shape": self.shape, "error": self.error}

    def describe(self) -> str:
        if self.error:
            return f"raised {self.error['type']} during {self.error['phase']}: {self.error['message']}"
        return f"returned shape {self.shape}"


def error_info(exc: BaseException, phase: str) -> dict:
    """An exception as a record field: its type, base classes (to match `expect.error`
    against a subclass), message and the phase it was raised in."""
    message = str(exc).strip()
    if len(message) > MAX_MESSAGE:
        message = message[:MAX_MESSAGE] + " [...]"
    return {
        "type": type(exc).__name__,
        "bases": [c.__name__ for c in type(exc).__mro__[1:] if c not in (object, BaseException)],
        "message": message,
        "phase": phase,
    }


def harness_error(kind: str, message: str, phase: str) -> dict:
    """An error the harness names itself (a weight layout mismatch, a killed process)."""
    return {"type": kind, "bases": [], "message": message, "phase": phase}


# Called with a phase's name as it starts: a worker process reports it to its supervisor,
# which then knows whose code (tf.keras's or the reference's) hung or killed the process.
_phase_listener = None


def listen_to_phases(listener) -> None:
    """Call `listener(phase)` whenever any Timings enters a phase (None: stop)."""
    global _phase_listener
    _phase_listener = listener


class Timings(dict):
    """Seconds per phase; `with timings("call"): ...` adds to a phase."""

    @contextmanager
    def __call__(self, phase: str):
        if _phase_listener is not None:
            _phase_listener(phase)
        started = time.perf_counter()
        try:
            yield
        finally:
            self[phase] = self.get(phase, 0.0) + time.perf_counter() - started
