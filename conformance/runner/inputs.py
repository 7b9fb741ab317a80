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


def numpy_dtype(dtype: str):
    if dtype == "bfloat16":
        import ml_dtypes  # shipped with TensorFlow; only bfloat16 needs it

        return ml_dtypes.bfloat16
    return np.dtype(dtype)


def round_to(values, dtype: str) -> np.ndarray:
    """Round float64 values to `dtype` and back: what both sides will see."""
    return np.asarray(values, dtype=np.float64).astype(numpy_dtype(dtype)).astype(np.float64)


def make_input(shape, dtype: str, seed: int, values=None) -> np.ndarray:
    if values is not None:
        return round_to(values, dtype)
    rng = np.random.default_rng([seed, 0])
    return round_to(rng.normal(INPUT_MEAN, INPUT_STD, size=tuple(shape)), dtype)


def make_weights(shapes: dict, dtype: str, seed: int) -> dict:
    """One independent stream per weight name, so adding a weight never shifts the others."""
    out = {}
    for name, shape in shapes.items():
        rng = np.random.default_rng([seed, 1, *name.encode()])
        mean, std = (BIAS_MEAN, BIAS_STD) if name == "bias" else (WEIGHT_MEAN, WEIGHT_STD)
        out[name] = round_to(rng.normal(mean, std, size=tuple(shape)), dtype)
    return out
