"""User-defined Keras objects for cases/custom_objects.yaml, with the NumPy references they
must match. The harness loads this file only because it sits beside the catalogue file that
names it (see the README: loading a file runs it).

These are the two examples of the Keras API article this project started from: a
normal-distribution initializer with a mean and a standard deviation, and a regularizer of
strength * sum of squares, each with get_config.
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
