"""User-defined Keras objects for cases/custom_objects.yaml, with the NumPy references they
must match. The harness loads this file only because it sits beside the catalogue file that
names it (see the README: loading a file runs it).

The first two are the examples of the Keras API article this project started from: a
normal-distribution initializer with a mean and a standard deviation, and a regularizer of
strength * sum of squares, each with get_config. The two constraints are written for this
catalogue: a clip to [low, high] and a non-negative unit norm (the negative entries zeroed,
then each slice over `axis` divided by epsilon + its L2 norm), in the manner of the
`keras.constraints.Constraint` docstring's NonNegative example.
"""
import keras
import numpy as np

from reference_impl.initializers import Distribution


class ExampleRandomNormal(keras.initializers.Initializer):
    """Draws from normal(mean, stddev)."""

    def __init__(self, mean, stddev):
        self.mean = mean
        self.stddev = stddev

    def __call__(self, shape, dtype=None):
        return keras.random.normal(shape, mean=self.mean, stddev=self.stddev, dtype=dtype)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev}


def example_random_normal_distribution(shape, mean, stddev):
    """The reference: every entry is normal(mean, stddev), independently."""
    return Distribution("normal", loc=float(mean), stddev=float(stddev))


class MyRegularizer(keras.regularizers.Regularizer):
    """strength * sum(x ** 2)."""

    def __init__(self, strength):
        self.strength = strength

    def __call__(self, x):
        return self.strength * keras.ops.sum(keras.ops.square(x))

    def get_config(self):
        return {"strength": self.strength}


def my_regularizer_penalty(x, strength):
    """The reference: strength * sum(x^2), in float64."""
    return strength * np.sum(np.square(np.asarray(x, dtype=np.float64)))


class ClipToRange(keras.constraints.Constraint):
    """Clips every weight into [low, high]."""

    def __init__(self, low, high):
        self.low = low
        self.high = high

    def __call__(self, w):
        return keras.ops.clip(w, self.low, self.high)

    def get_config(self):
        return {"low": self.low, "high": self.high}


def clip_to_range(w, low, high):
    """The reference: min(max(w, low), high) elementwise, in float64."""
    return np.clip(np.asarray(w, dtype=np.float64), low, high)


EPSILON = 1e-7  # keras.config.epsilon()'s default, part of NonNegUnitNorm's own definition


class NonNegUnitNorm(keras.constraints.Constraint):
    """max(w, 0), then each slice over `axis` divided by EPSILON + its L2 norm."""

    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w):
        w = w * keras.ops.cast(keras.ops.greater_equal(w, 0.0), dtype=w.dtype)
        norm = keras.ops.sqrt(keras.ops.sum(keras.ops.square(w), axis=self.axis, keepdims=True))
        return w / (EPSILON + norm)

    def get_config(self):
        return {"axis": self.axis}


def non_neg_unit_norm(w, axis=0):
    """The reference, in float64: a slice with no positive entry stays zero."""
    w = np.maximum(np.asarray(w, dtype=np.float64), 0.0)
    axes = tuple(axis) if isinstance(axis, list) else axis
    return w / (EPSILON + np.sqrt(np.sum(np.square(w), axis=axes, keepdims=True)))
