"""The expanded case: one concrete combination of op, parameters, input and dtype."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

DTYPES = ("float16", "bfloat16", "float32", "float64")

# Default tolerances per dtype, |keras - reference| <= atol + rtol * |reference|, chosen
# from each format's unit roundoff u (float32: 2**-24 ~ 6e-8): about 2**7 u of slack
# for float32/float64 accumulation-order noise, and an absolute floor for results that
# cancel to near zero or are flushed from subnormal to zero. Documented in the README.
DEFAULT_TOLERANCE = {
    "float16": {"rtol": 1e-3, "atol": 1e-3},
    "bfloat16": {"rtol": 1.6e-2, "atol": 1e-2},
    "float32": {"rtol": 1e-5, "atol": 1e-5},
    "float64": {"rtol": 1e-10, "atol": 1e-10},
}

DEFAULT_SEED = 0
MAX_CALLS = 20

# Exceptions an `expect: {error: ...}` may name; a raised subclass counts as a match.
KNOWN_ERRORS = ("ValueError", "TypeError", "NotImplementedError", "InvalidArgumentError", "Exception")


@dataclass(frozen=True)
class Case:
    id: str
    file: str
    line: int
    name: str
    op: str
    params: dict
    dtype: str
    input_shape: tuple | None
    input_values: list | None = None
    seed: int = DEFAULT_SEED
    tolerance: dict = field(default_factory=dict)
    expect: dict = field(default_factory=dict)
    xfail: dict | None = None
    skip: str | None = None
    tags: tuple = ()
    swept: dict = field(default_factory=dict)  # the swept key -> value of this combination
    call: dict = field(default_factory=dict)  # keyword arguments of each call (training, mask)
    calls: int = 1  # how many times the layer is called in a row, each on a fresh input
    input_distribution: dict = field(default_factory=dict)  # mean, std, constant_channels
    isolate: bool = False  # run the tf.keras side in a child process (it may kill its process)
    kernel_of: dict | None = None  # initializers: the layer whose kernel shape input_shape is
    via_layer: bool = False  # initializers: sample through that layer's kernel_initializer
    inputs: dict | None = None  # several (or typed) inputs: name -> {shape | values, dtype, range, mean, std, p}
    custom: str | None = None  # custom ops: "/abs/path/file.py:Class", the user's Keras object
    reference: str | None = None  # custom ops: "/abs/path/file.py:function", the user's reference

    @property
    def effective_tolerance(self) -> dict:
        return {**DEFAULT_TOLERANCE[self.dtype], **self.tolerance}


def referenced_inputs(call) -> set:
    """Names of inputs that `call` refers to as "$name" (masks, initial states): they feed
    the call's arguments, not the layer's inputs."""
    values = [v for value in (call.values() if isinstance(call, dict) else []) for v in (value if isinstance(value, list) else [value])]
    return {v[1:] for v in values if isinstance(v, str) and v.startswith("$")}


def input_shapes(op, case: Case):
    """What an op's predict_weights/predict_output take for this case: the input's shape (a
    tuple) for a one-input op, or {name: shape} of the layer's named inputs."""
    if case.inputs is None:
        return tuple(case.input_shape)
    call_only = referenced_inputs(case.call)
    shapes = {name: tuple(spec["shape"]) if "shape" in spec else tuple(np.shape(spec["values"]))
              for name, spec in case.inputs.items() if name not in call_only}
    return shapes["x"] if op.input_names == ("x",) else shapes
