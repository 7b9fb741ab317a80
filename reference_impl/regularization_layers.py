"""Keras 3 regularization layers (Dropout, SpatialDropout1D/2D/3D, GaussianNoise,
GaussianDropout, AlphaDropout) in NumPy float64: what their documentation fixes.

They are random in training, so the reference states, rather than samples, what a training
output must satisfy; at inference each is the identity (documented: "only active at
training time").

- Dropout(rate, noise_shape): each element of a mask of shape noise_shape (default: the
  input's; broadcast to it) is 0 with probability rate; y = x * mask / (1 - rate).
- SpatialDropout1D/2D/3D(rate, data_format): Dropout whose mask is (batch, 1, ..., channels)
  (channels_last) or (batch, channels, 1, ...) (channels_first): whole feature maps drop.
- GaussianNoise(stddev): y = x + n, n ~ normal(0, stddev) independently.
- GaussianDropout(rate): y = x * n, n ~ normal(1, sqrt(rate / (1 - rate))) independently.
- AlphaDropout(rate, noise_shape): dropped elements are set to the SELU negative saturation
  alpha' = -SELU_SCALE * SELU_ALPHA = -1.7580993408473766, then y = a * (kept x or alpha') + b
  with a = ((1 - rate) * (1 + rate * alpha'^2)) ** -1/2 and b = -a * alpha' * rate, which keeps
  a zero-mean unit-variance input's mean and variance (Klambauer et al., 2017, section 3).
"""
from __future__ import annotations

import math

import numpy as np

from reference_impl.activations import SELU_ALPHA, SELU_SCALE

ALPHA_PRIME = -SELU_SCALE * SELU_ALPHA  # -1.7580993408473766


def identity(x, **ignored):
    """Every regularization layer at inference: y = x."""
    return np.asarray(x, dtype=np.float64)


def dropout_scale(rate: float) -> float:
    """The factor kept elements are multiplied by in training: 1 / (1 - rate)."""
    if not 0 <= rate < 1:
        raise ValueError(f"`rate` must be in [0, 1). Received: rate={rate!r}")
    return 1.0 / (1.0 - rate)


def mask_shape(layer: str, input_shape, *, noise_shape=None, data_format="channels_last") -> tuple:
    """The shape of the drop mask (broadcast against the input)."""
    shape = tuple(input_shape)
    if layer.startswith("SpatialDropout"):
        if data_format == "channels_first":
            return (shape[0], shape[1]) + (1,) * (len(shape) - 2)
        return (shape[0],) + (1,) * (len(shape) - 2) + (shape[-1],)
    if noise_shape is None:
        return shape
    return tuple(n if n is not None else s for n, s in zip(noise_shape, shape))


def gaussian_dropout_stddev(rate: float) -> float:
    """sqrt(rate / (1 - rate)), the documented standard deviation of GaussianDropout's noise."""
    if not 0 <= rate < 1:
        raise ValueError(f"`rate` must be in [0, 1). Received: rate={rate!r}")
    return math.sqrt(rate / (1.0 - rate))


def alpha_dropout_affine(rate: float) -> tuple[float, float]:
    """(a, b) of AlphaDropout: a = ((1 - p)(1 + p alpha'^2))^-1/2, b = -a alpha' p."""
    if not 0 <= rate < 1:
        raise ValueError(f"`rate` must be in [0, 1). Received: rate={rate!r}")
    a = ((1.0 - rate) * (1.0 + rate * ALPHA_PRIME**2)) ** -0.5
    return a, -a * ALPHA_PRIME * rate
