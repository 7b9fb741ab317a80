"""The expanded case: one concrete combination of op, parameters, input, dtype and mode."""
from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np

from conformance.axes import DEFAULT_TARGET, REFERENCE_MODE

FLOAT_DTYPES = ("float16", "bfloat16", "float32", "float64")
# Keras's mixed precision policies, which a layer takes as its `dtype` (keras.DTypePolicy):
# policy -> (compute dtype, variable dtype). A case written `dtype: mixed_float16` builds its
# layer with that policy; its inputs and weights are drawn in the compute dtype (so the casts
# the policy makes are exact), fed as float32 tensors, and the reference judges the result in
# the compute dtype's format.
POLICIES = {"mixed_float16": ("float16", "float32"), "mixed_bfloat16": ("bfloat16", "float32")}
DTYPES = FLOAT_DTYPES + tuple(POLICIES)


def parse_dtypes(text: str) -> tuple[str, ...]:
    """"float16,mixed_float16" -> ("float16", "mixed_float16"); a ValueError names an unknown one."""
    names = tuple(dict.fromkeys(d.strip() for d in text.split(",") if d.strip()))
    unknown = [d for d in names if d not in DTYPES]
    if unknown or not names:
        raise ValueError(f"unknown dtype(s) {', '.join(map(repr, unknown)) or repr(text)}; dtypes: {', '.join(DTYPES)}")
    return names


def compute_dtype(dtype: str) -> str:
    """The dtype a case computes in: its dtype, or its policy's compute dtype."""
    return POLICIES[dtype][0] if dtype in POLICIES else dtype

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
DEFAULT_TOLERANCE.update({policy: DEFAULT_TOLERANCE[compute] for policy, (compute, _) in POLICIES.items()})

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
    known: dict | None = None  # the recorded divergence a failure may be (Divergence.compact())
    skip: str | None = None
    tags: tuple = ()
    swept: dict = field(default_factory=dict)  # the swept key -> value of this combination
    call: dict = field(default_factory=dict)  # keyword arguments of each call (training, mask)
    calls: int = 1  # how many times the layer is called in a row, each on a fresh input
    input_distribution: dict = field(default_factory=dict)  # mean, std, constant_channels
    isolate: bool = False  # run the tf.keras side in a child process (it may kill its process)
    timeout: float | None = None  # seconds this case may take, instead of the run's --timeout
    kernel_of: dict | None = None  # initializers: the layer whose kernel shape input_shape is
    via_layer: bool = False  # initializers: sample through that layer's kernel_initializer
    inputs: dict | None = None  # several (or typed) inputs: name -> {shape | values, dtype, range, mean, std, p}
    custom: str | None = None  # custom ops: "/abs/path/file.py:Class", the user's Keras object
    reference: str | None = None  # custom ops: "/abs/path/file.py:function", the user's reference
    gradients_skip: str | None = None  # why this case's gradients are not checked (`gradients: {skip: REASON}`)
    sweep_index: int = 0  # the combination's place among its op's in its entry's sweep (0: the first); not recorded
    train: dict | None = None  # optimizer steps whose weights are judged: {optimizer, learning_rate, steps, loss, trainable}
    mode: str = REFERENCE_MODE  # how the target calls the op (conformance.axes.MODES)
    target: str = DEFAULT_TARGET

    @property
    def effective_tolerance(self) -> dict:
        return {**DEFAULT_TOLERANCE[self.dtype], **self.tolerance} if self.dtype else {}

    def to_json(self) -> dict:
        """The fields that define the case, as results.json stores them (one flat record)."""
        return {
            "id": self.id, "op": self.op, "file": self.file, "line": self.line, "name": self.name,
            "target": self.target, "mode": self.mode, "params": self.params, "swept": self.swept,
            "dtype": self.dtype, "input_shapes": self.input_shapes_json(), "inputs": self.inputs,
            "custom": self.custom, "reference": self.reference, "kernel_of": self.kernel_of,
            "via_layer": self.via_layer, "isolate": self.isolate, "timeout": self.timeout, "input_values": self.input_values,
            "input_distribution": self.input_distribution, "call": self.call, "calls": self.calls,
            "seed": self.seed, "expected": self.expect, "tolerance": self.effective_tolerance or None,
            "known": self.known, "skip": self.skip, "gradients_skip": self.gradients_skip, "train": self.train, "tags": list(self.tags),
        }

    @classmethod
    def from_json(cls, record: dict) -> "Case":
        """The case a results.json record was run from (records of older versions too: a
        missing mode is eager, a missing target tf.keras)."""
        shapes = record.get("input_shapes") or {}
        shape = shapes.get("x") or next(iter(shapes.values()), None)
        known = {f.name for f in fields(cls)}
        given = {k: v for k, v in record.items() if k in known and v is not None}
        given.update(
            input_shape=tuple(shape) if shape else (), expect=record.get("expected") or {},
            # the record holds the effective tolerance; the case keeps what differs from the default
            tolerance={k: v for k, v in (record.get("tolerance") or {}).items()
                       if v != DEFAULT_TOLERANCE.get(record.get("dtype"), {}).get(k)},
            tags=tuple(record.get("tags") or ()),
            line=record.get("line") or 0, seed=record.get("seed") or DEFAULT_SEED,
            params=record.get("params") or {}, call=record.get("call") or {}, swept=record.get("swept") or {},
            input_distribution=record.get("input_distribution") or {},
        )
        given.setdefault("file", "")
        given.setdefault("name", "")
        return cls(**given)

    def input_shapes_json(self) -> dict:
        if self.inputs:
            return {n: list(spec["shape"]) if "shape" in spec else list(np.shape(spec["values"])) for n, spec in self.inputs.items()}
        return {} if self.input_shape is None else {"x": list(self.input_shape)}


def mode_id(base_id: str, mode: str, target: str = DEFAULT_TARGET) -> str:
    """The id of a case in `mode` (and `target`): each is the last element in the brackets,
    mode then target, and the reference mode (eager) and the default target (tf.keras) are
    not written, so ids stay as they were before modes and targets:
    `f.yaml::name[a=1-float32]` (eager), `f.yaml::name[a=1-float32-xla]`, `f.yaml::name[xla]`,
    `f.yaml::name[a=1-float32-tf_keras]` (eager, Keras 2)."""
    elements = [e for e, default in ((mode, REFERENCE_MODE), (target, DEFAULT_TARGET)) if e != default]
    if not elements:
        return base_id
    if base_id.endswith("]"):
        return f"{base_id[:-1]}-{'-'.join(elements)}]"
    return f"{base_id}[{'-'.join(elements)}]"


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
