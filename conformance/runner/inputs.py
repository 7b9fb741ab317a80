"""Deterministic inputs and weights for a case.

Values are drawn in float64 from the case seed, then rounded to the case dtype; the
reference receives those rounded values (as float64), so both sides see identical
numbers and every difference is the layer's own. Inputs are non-integer, asymmetric
(nonzero mean) and of order one, so that a swapped axis, a flipped kernel, padding on
the wrong side or a dropped bias shows up far above the tolerance.
"""
from __future__ import annotations

import numpy as np

from conformance.catalogue.model import POLICIES, Case, compute_dtype, referenced_inputs

INPUT_MEAN, INPUT_STD = 0.25, 1.0
WEIGHT_MEAN, WEIGHT_STD = 0.05, 0.5
BIAS_MEAN, BIAS_STD = 0.5, 0.5
POSITIVE_LOG_STD = 0.5


def numpy_dtype(dtype: str):
    """The NumPy type of a dtype name; a mixed precision policy's compute dtype."""
    dtype = compute_dtype(dtype)
    if dtype == "bfloat16":
        import ml_dtypes  # shipped with TensorFlow; only bfloat16 needs it

        return ml_dtypes.bfloat16
    return np.dtype(dtype)


def round_to(values, dtype: str) -> np.ndarray:
    """Round float64 values to `dtype` and back: what both sides will see. A value beyond the
    dtype's range (1e39 in float32) becomes an infinity, as a case's input_values ask; that
    overflow is the point, not a warning."""
    with np.errstate(over="ignore"):
        return np.asarray(values, dtype=np.float64).astype(numpy_dtype(dtype)).astype(np.float64)


def input_stream(seed: int, call_index: int = 0) -> np.random.Generator:
    """The stream of the input of call `call_index` (the first call keeps the plain key)."""
    return np.random.default_rng([seed, 0] if call_index == 0 else [seed, 0, call_index])


def make_input(shape, dtype: str, seed: int, values=None, call_index: int = 0, distribution=None) -> np.ndarray:
    """normal(mean, std) values (default INPUT_MEAN, INPUT_STD); `constant_channels` along
    `channel_axis` hold the mean exactly (a zero-variance channel); literal `values` win."""
    if values is not None:
        return round_to(values, dtype)
    distribution = distribution or {}
    mean, std = distribution.get("mean", INPUT_MEAN), distribution.get("std", INPUT_STD)
    x = input_stream(seed, call_index).normal(mean, std, size=tuple(shape))
    channels = distribution.get("constant_channels")
    if channels:
        index = [slice(None)] * x.ndim
        index[distribution.get("channel_axis", -1)] = channels
        x[tuple(index)] = mean
    return round_to(x, dtype)


def make_weights(shapes: dict, dtype: str, seed: int, positive=frozenset()) -> dict:
    """One independent stream per weight name, so adding a weight never shifts the others.
    Names in `positive` (a variance) are log-normal: exp(normal(0, 0.5))."""
    out = {}
    for name, shape in shapes.items():
        rng = np.random.default_rng([seed, 1, *name.encode()])
        if name in positive:
            values = np.exp(rng.normal(0.0, POSITIVE_LOG_STD, size=tuple(shape)))
        else:
            mean, std = (BIAS_MEAN, BIAS_STD) if name == "bias" else (WEIGHT_MEAN, WEIGHT_STD)
            values = rng.normal(mean, std, size=tuple(shape))
        out[name] = round_to(values, dtype)
    return out


def make_named_input(name: str, spec: dict, case_dtype: str, seed: int, call_index: int = 0) -> np.ndarray:
    """One of a case's named `inputs`: floats normal(mean, std) rounded to their dtype (the
    case dtype by default), integers uniform on [low, high), booleans true with probability
    p; or the literal `values`. Each name has its own stream, so adding an input never
    shifts the others."""
    dtype = spec.get("dtype", case_dtype)
    if "values" in spec:
        values = np.asarray(spec["values"])
        return values.astype(bool) if dtype == "bool" else values.astype(np.int64) if dtype.startswith("int") else round_to(values, dtype)
    rng = np.random.default_rng([seed, 2, call_index, *name.encode()])
    shape = tuple(spec["shape"])
    if dtype == "bool":
        return rng.random(shape) < spec.get("p", 0.7)
    if dtype.startswith("int"):
        low, high = spec["range"]
        return rng.integers(low, high, size=shape).astype(np.int64)
    return round_to(rng.normal(spec.get("mean", INPUT_MEAN), spec.get("std", INPUT_STD), size=shape), dtype)


def keras_dtype(value: np.ndarray, spec: dict | None, case_dtype: str):
    """The dtype tf.keras gets a named input in: its spec's, or the case dtype for floats; under
    a mixed precision policy float32, as a user's model feeds it (the layer casts it to its
    compute dtype, exactly: the values are drawn in that dtype)."""
    if value.dtype == bool:
        return np.bool_
    if np.issubdtype(value.dtype, np.integer):
        return np.dtype((spec or {}).get("dtype", "int32"))
    given = (spec or {}).get("dtype", case_dtype)
    return np.dtype(POLICIES[given][1]) if given in POLICIES else numpy_dtype(given)


def call_arguments(case: Case, inputs=None) -> dict:
    """The case's call arguments for one call. "$name" is that call's input `name`. A list
    that names inputs or holds a null (`mask: [$query_mask, $value_mask]`, `[null, $m]`,
    `initial_state: [$h0, $c0]`) is a list of separate arguments and stays a Python list,
    one array per item, whatever their shapes. A literal nested list under a mask key
    (`mask: [[1, 0, 1], [1, 1, 0]]`) is ONE boolean mask; only when it is ragged, and so
    cannot be one array, is it read as one mask per item. (Two literal masks of equal shape
    are indistinguishable from one mask of a higher rank: give them as named inputs.)"""
    def tensor(key, value):
        if isinstance(value, str) and value.startswith("$"):
            return inputs[value[1:]]
        if key.endswith("mask") and isinstance(value, list):
            return np.asarray(value, dtype=bool)
        return value

    def resolve(key, value):
        if isinstance(value, list) and any(v is None or (isinstance(v, str) and v.startswith("$")) for v in value):
            return [None if v is None else tensor(key, v) for v in value]
        try:
            return tensor(key, value)
        except ValueError:  # a ragged literal list of masks: one mask per item
            return [None if v is None else np.asarray(v, dtype=bool) for v in value]

    return {key: resolve(key, value) for key, value in case.call.items()}


def all_named_inputs(case: Case) -> list:
    """Every named input of the case, per call (the layer's and those `call` refers to)."""
    return [{name: make_named_input(name, spec, case.dtype, case.seed, i) for name, spec in case.inputs.items()}
            for i in range(case.calls)]


def make_inputs(case: Case, op=None, named: list | None = None) -> list:
    """The layer's input for each call, each from its own stream of the case seed: an
    array, or for an op with named inputs a dict name -> array in the case's order.
    `named`: the case's named inputs per call, when the caller already made them."""
    if case.inputs is None:
        return [
            make_input(case.input_shape, case.dtype, case.seed, case.input_values, call_index=i, distribution=case.input_distribution)
            for i in range(case.calls)
        ]
    for_call = referenced_inputs(case.call)
    calls = [{n: v for n, v in given.items() if n not in for_call} for given in (named or all_named_inputs(case))]
    if op is not None and op.input_names == ("x",):
        return [given["x"] for given in calls]
    return calls


def layer_feeds(case: Case, op) -> tuple[list, list]:
    """(inputs, call arguments) of each call of a layer case."""
    named = all_named_inputs(case) if case.inputs else None
    inputs = make_inputs(case, op, named)
    calls = [call_arguments(case, n) for n in (named or [x if isinstance(x, dict) else {"x": x} for x in inputs])]
    return inputs, calls
