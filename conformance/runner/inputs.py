"""Deterministic inputs and weights for a case.

Values are drawn in float64 from the case seed, then rounded to the case dtype; the
reference receives those rounded values (as float64), so both sides see identical
numbers and every difference is the layer's own. Inputs are non-integer, asymmetric
(nonzero mean) and of order one, so that a swapped axis, a flipped kernel, padding on
the wrong side or a dropped bias shows up far above the tolerance.
"""
from __future__ import annotations

import numpy as np

INPUT_MEAN, INPUT_STD = 0.25, 1.0
WEIGHT_MEAN, WEIGHT_STD = 0.05, 0.5
BIAS_MEAN, BIAS_STD = 0.5, 0.5
POSITIVE_LOG_STD = 0.5


def numpy_dtype(dtype: str):
    if dtype == "bfloat16":
        import ml_dtypes  # shipped with TensorFlow; only bfloat16 needs it

        return ml_dtypes.bfloat16
    return np.dtype(dtype)


def round_to(values, dtype: str) -> np.ndarray:
    """Round float64 values to `dtype` and back: what both sides will see."""
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
