"""Normalization(axis=[1, 2], mean=<shape (4,)>, variance=<shape (3, 4)>): each is documented to
"be broadcast to the shape of the kept axes" (here (3, 4)), and both can be; tf.keras refuses the
pair at construction ("`mean` and `variance` must have the same shape"), a rule the docstring
does not state ("`mean` and `variance` must be specified together" is all it asks).

Recorded in cases/preprocessing_layers.yaml (normalization_mean_variance_shapes_differ).
"""
import sys

import numpy as np
import tensorflow as tf

print("tensorflow", tf.__version__)
mean = np.array([0.5, 1.0, -1.0, 2.0])
variance = np.array([[1.0, 2.0, 0.5, 3.0], [1.5, 0.25, 4.0, 1.0], [2.0, 0.75, 1.25, 0.5]])
x = np.random.default_rng(0).normal(size=(2, 3, 4)).astype(np.float32)
documented = (x - np.broadcast_to(mean, (3, 4))) / np.sqrt(variance)
try:
    y = tf.keras.layers.Normalization(axis=[1, 2], mean=mean, variance=variance)(x)
    print("computed; max |y - documented| =", float(np.abs(np.asarray(y) - documented).max()))
    sys.exit(1)
except ValueError as e:
    print("ValueError:", str(e)[:200])
    sys.exit(0)
