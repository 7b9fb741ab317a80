"""Resizing(interpolation="nearest") under XLA: the forward pass compiles, its gradient does not
("No registered 'ResizeNearestNeighborGrad' OpKernel for XLA_CPU_JIT"), so a model with the layer
cannot be trained with jit_compile=True; eagerly and in tf.function the gradient works.

Recorded in cases/preprocessing_layers.yaml (resizing_compiled).
"""
import sys

import numpy as np
import tensorflow as tf

print("tensorflow", tf.__version__)
layer = tf.keras.layers.Resizing(8, 4, interpolation="nearest")
x = tf.constant(np.random.default_rng(0).normal(size=(2, 5, 7, 3)).astype(np.float32))
v = tf.constant(np.random.default_rng(1).normal(size=(2, 8, 4, 3)).astype(np.float32))  # a cotangent


def gradient(x, v):
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(layer(x) * v)
    return tape.gradient(y, x)


print("tf.function gradient sum:", float(tf.reduce_sum(tf.function(gradient)(x, v))))
try:
    tf.function(gradient, jit_compile=True)(x, v)
    print("XLA gradient: computed")
    sys.exit(1)
except tf.errors.InvalidArgumentError as e:
    print("XLA gradient: InvalidArgumentError:", "ResizeNearestNeighborGrad" in str(e))
    sys.exit(0)
