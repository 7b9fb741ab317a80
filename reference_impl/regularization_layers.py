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

Argument rules, from the Keras 3.15 docstrings:

- rate: Dropout, SpatialDropout1D/2D/3D and AlphaDropout: "Float between 0 and 1";
  GaussianDropout: "Float, drop probability (as with `Dropout`)", a probability, so the same
  range. A number outside [0, 1] (or NaN) is a ValueError; a value that is not a real number
  (a string, a list, a bool) is a TypeError. "Between 0 and 1" is read inclusively: rate is
  the "fraction of the input units to drop", and both no unit (0) and every unit (1) are
  fractions. rate = 0 drops nothing: the identity in training too (scale 1 / (1 - 0) = 1,
  GaussianDropout's noise has standard deviation 0, AlphaDropout's a = 1, b = 0). rate = 1 is
  accepted; Dropout and the spatial variants then set every unit to 0 in training ("randomly
  sets input units to 0 with a frequency of `rate`"; the 1 / (1 - rate) scale applies to the
  inputs not set to 0, of which there are none). For GaussianDropout and AlphaDropout the
  documented training formulas divide by zero at rate = 1 (sqrt(rate / (1 - rate)); a =
  ((1 - rate) ...) ** -1/2): the docs define no training output there, so `check_modelled`
  refuses such a case (NotImplementedError) and the formula helpers raise ValueError.
- noise_shape (Dropout, AlphaDropout): "1D integer tensor representing the shape of the
  binary dropout mask that will be multiplied with the input", e.g. "(batch_size, 1,
  features)" for inputs "(batch_size, timesteps, features)". So: None, or a sequence (not a
  string) whose entries are positive ints; an entry may also be None, meaning the input's size
  along that axis (Keras's own tests, dropout_test.py test_validate_noise_shape_none_values and
  alpha_dropout_test.py test_alpha_dropout_partial_noise_shape_dynamic, use it). Anything else
  is a ValueError, as Keras's tests expect (test_validate_noise_shape_non_iterable,
  _invalid_type, _negative_value, _zero_value). The mask is multiplied with the input, so in
  training it must broadcast to the input's shape without changing it (NumPy rules, aligned
  from the right: each entry 1 or the input's size); that needs the input and only matters
  when a mask is drawn, so it is checked by `mask_shape`, not by the shape rules (at inference
  the layer does nothing, whatever noise_shape says).
- stddev (GaussianNoise): "Float, standard deviation of the noise distribution": a real number
  >= 0.
- data_format (SpatialDropout2D/3D): "channels_first" or "channels_last" (None: the default,
  channels_last); the spatial layers take inputs of rank 3, 4 and 5 ("Input shape: 3D tensor",
  "4D tensor", "5D tensor").

`output_shape(layer_name, input_shape, **params)` and `weight_shapes(...)` apply these rules
(none of the layers has a weight; the output has the input's shape) without drawing anything.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from reference_impl.activations import SELU_ALPHA, SELU_SCALE
from reference_impl.conv import _is_int, data_format_argument
from reference_impl.core import REQUIRED, _arguments, _shape_argument

ALPHA_PRIME = -SELU_SCALE * SELU_ALPHA  # -1.7580993408473766

# Layer name -> (constructor argument -> default, arguments accepted and ignored). `seed`
# only feeds the random draws, which the reference does not make.
_IGNORED = frozenset({"seed", "name", "dtype", "trainable"})
ARGUMENTS = {
    "Dropout": ({"rate": REQUIRED, "noise_shape": None}, _IGNORED),
    "SpatialDropout1D": ({"rate": REQUIRED}, _IGNORED),
    "SpatialDropout2D": ({"rate": REQUIRED, "data_format": None}, _IGNORED),
    "SpatialDropout3D": ({"rate": REQUIRED, "data_format": None}, _IGNORED),
    "GaussianNoise": ({"stddev": REQUIRED}, _IGNORED),
    "GaussianDropout": ({"rate": REQUIRED}, _IGNORED),
    "AlphaDropout": ({"rate": REQUIRED, "noise_shape": None}, _IGNORED),
}
LAYERS = tuple(ARGUMENTS)
_SPATIAL_RANK = {"SpatialDropout1D": 3, "SpatialDropout2D": 4, "SpatialDropout3D": 5}
# Layers whose training formula divides by 1 - rate (undefined at rate = 1).
_UNDEFINED_AT_RATE_ONE = ("GaussianDropout", "AlphaDropout")


# --- arguments -----------------------------------------------------------------------------


def _real(name, value):
    """A real number (not a bool) as a float; anything else is a TypeError naming `name`."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a float. Received: {name}={value!r} of type {type(value).__name__}")
    return float(value)


def rate_argument(rate) -> float:
    """`rate`, "Float between 0 and 1" (both ends included): ValueError outside [0, 1] or NaN,
    TypeError for a value that is not a real number."""
    value = _real("rate", rate)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"`rate` must be a float between 0 and 1. Received: rate={rate!r}")
    return value


def stddev_argument(stddev) -> float:
    """`stddev`, "standard deviation of the noise distribution": a real number >= 0."""
    value = _real("stddev", stddev)
    if not value >= 0.0:
        raise ValueError(f"`stddev` must be a float >= 0 (a standard deviation). Received: stddev={stddev!r}")
    return value


def noise_shape_argument(noise_shape):
    """`noise_shape`: None, or a tuple of positive ints and Nones (None: the input's size there).

    A string, a non-iterable, an entry that is not an int or None (bools included) and an entry
    <= 0 are ValueErrors naming noise_shape and the value received.
    """
    if noise_shape is None:
        return None
    entries = None
    if not isinstance(noise_shape, (str, bytes, dict)):
        try:
            entries = tuple(noise_shape)
        except TypeError:
            entries = None
    if entries is None:
        raise ValueError(
            "`noise_shape` must be None or a tuple/list of positive ints (or None entries). "
            f"Received: noise_shape={noise_shape!r}"
        )
    for i, n in enumerate(entries):
        if n is not None and not (_is_int(n) and n >= 1):
            raise ValueError(
                "`noise_shape` entries must be positive ints or None. "
                f"Received: noise_shape={noise_shape!r} (entry {i}: {n!r})"
            )
    return tuple(None if n is None else int(n) for n in entries)


def _check_arguments(layer_name, params) -> dict:
    """The layer's arguments bound and checked (unknown or missing names: TypeError)."""
    args = _arguments(layer_name, params, ARGUMENTS)
    if "rate" in args:
        args["rate"] = rate_argument(args["rate"])
    if "stddev" in args:
        args["stddev"] = stddev_argument(args["stddev"])
    if "noise_shape" in args:
        args["noise_shape"] = noise_shape_argument(args["noise_shape"])
    if "data_format" in args:
        args["data_format"] = data_format_argument(args["data_format"])
    return args


# --- shape rules (pure) ----------------------------------------------------------------------


def output_shape(layer_name, input_shape, **params):
    """The input's shape, once the arguments are checked (module docstring); the spatial layers
    also need an input of rank 3 (1D), 4 (2D) or 5 (3D)."""
    _check_arguments(layer_name, params)
    rank = _SPATIAL_RANK.get(layer_name)
    shape = _shape_argument("input_shape", input_shape, min_rank=1, rank=rank)
    return shape


def weight_shapes(layer_name, input_shape, **params):
    """{}: none of these layers has a weight; ValueError/TypeError for rejected arguments."""
    output_shape(layer_name, input_shape, **params)
    return {}


def check_modelled(layer_name, params, call):
    """NotImplementedError where the documentation defines no output to compare with:
    GaussianDropout and AlphaDropout in training at rate = 1, whose documented formulas divide
    by 1 - rate. Argument errors are output_shape's (ValueError / TypeError)."""
    args = _check_arguments(layer_name, params)
    if (call or {}).get("training") and layer_name in _UNDEFINED_AT_RATE_ONE and args["rate"] == 1.0:
        formula = "sqrt(rate / (1 - rate))" if layer_name == "GaussianDropout" else "((1 - rate) * (1 + rate * alpha'^2)) ** -1/2"
        raise NotImplementedError(
            f"{layer_name} in training at rate=1: the documented {formula} divides by zero, so the "
            "documentation defines no output to compare with. Received: rate=1, training=True"
        )


# --- the layers ------------------------------------------------------------------------------


def identity(x, **ignored):
    """Every regularization layer at inference: y = x."""
    return np.asarray(x, dtype=np.float64)


def dropout_scale(rate: float) -> float:
    """The factor kept elements are multiplied by in training: 1 / (1 - rate).

    rate = 1 keeps no element: the factor, 1 / 0, is undefined and applies to nothing; it is
    returned as NaN, so that no output value can pass for a kept one (every element must be
    the dropped value, 0).
    """
    rate = rate_argument(rate)
    return math.nan if rate == 1.0 else 1.0 / (1.0 - rate)


def mask_shape(layer: str, input_shape, *, noise_shape=None, data_format="channels_last") -> tuple:
    """The shape of the drop mask in training, of the input's rank (broadcast against the input).

    Dropout/AlphaDropout: noise_shape (default: the input's shape), None entries replaced by the
    input's size; a shorter noise_shape is aligned from the right and padded with 1s in front.
    It must broadcast to the input without changing it, each entry 1 or the input's size, or it
    is a ValueError naming noise_shape. SpatialDropout: (batch, 1, ..., channels), or
    (batch, channels, 1, ...) for channels_first.
    """
    shape = tuple(input_shape)
    if layer.startswith("SpatialDropout"):
        data_format = data_format_argument(data_format)
        if len(shape) != _SPATIAL_RANK[layer]:
            raise ValueError(f"{layer} takes inputs of rank {_SPATIAL_RANK[layer]}. Received: input_shape={shape}")
        if data_format == "channels_first":
            return (shape[0], shape[1]) + (1,) * (len(shape) - 2)
        return (shape[0],) + (1,) * (len(shape) - 2) + (shape[-1],)
    noise = noise_shape_argument(noise_shape)
    if noise is None:
        return shape
    if len(noise) > len(shape):
        raise ValueError(f"`noise_shape` has more dims than the input. Received: noise_shape={noise_shape!r} "
                         f"for an input of shape {shape}")
    aligned = shape[len(shape) - len(noise):]
    resolved = tuple(s if n is None else n for n, s in zip(noise, aligned))
    bad = [i for i, (n, s) in enumerate(zip(resolved, aligned)) if n not in (1, s)]
    if bad:
        raise ValueError(f"`noise_shape` must broadcast to the input's shape (each entry 1 or the input's size). "
                         f"Received: noise_shape={noise_shape!r} for an input of shape {shape}")
    return (1,) * (len(shape) - len(noise)) + resolved


def gaussian_dropout_stddev(rate: float) -> float:
    """sqrt(rate / (1 - rate)), the documented standard deviation of GaussianDropout's noise;
    undefined at rate = 1 (ValueError)."""
    rate = rate_argument(rate)
    if rate == 1.0:
        raise ValueError("GaussianDropout's noise standard deviation sqrt(rate / (1 - rate)) is undefined at rate=1. "
                         "Received: rate=1")
    return math.sqrt(rate / (1.0 - rate))


def alpha_dropout_affine(rate: float) -> tuple[float, float]:
    """(a, b) of AlphaDropout: a = ((1 - p)(1 + p alpha'^2))^-1/2, b = -a alpha' p; undefined at
    p = rate = 1 (ValueError)."""
    rate = rate_argument(rate)
    if rate == 1.0:
        raise ValueError("AlphaDropout's a = ((1 - rate) * (1 + rate * alpha'^2)) ** -1/2 is undefined at rate=1. "
                         "Received: rate=1")
    a = ((1.0 - rate) * (1.0 + rate * ALPHA_PRIME**2)) ** -0.5
    return a, -a * ALPHA_PRIME * rate
