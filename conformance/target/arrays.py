"""Tensors as NumPy arrays, for every dtype the targets return (no framework import)."""
from __future__ import annotations

import numpy as np


def as_float64(value) -> np.ndarray:
    """A tensor, a variable or an array as a float64 ndarray. `.numpy()` first: a 0-d bfloat16
    tensor's __array__ gives a NumPy scalar, which np.asarray refuses ("object __array__ method
    not producing an array")."""
    value = value.numpy() if hasattr(value, "numpy") else value
    return np.asarray(value).astype(np.float64)
