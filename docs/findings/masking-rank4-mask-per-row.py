"""Masking on an input of rank 4: documented to mask a timestep (dimension #1) when "all values
in the input tensor at that timestep are equal to mask_value", giving a (batch, time) mask;
tf.keras reduces only the last axis, so it returns a (batch, time, rows) mask and zeroes single
rows of a timestep that is not all mask_value.

Recorded in cases/core_layers_more.yaml (masking_rank4).
"""
import sys

import numpy as np
import tensorflow as tf

print("tensorflow", tf.__version__, "keras", tf.keras.__version__ if hasattr(tf.keras, "__version__") else "")
x = np.array([[[[0.0, 0.0], [1.0, 2.0]], [[0.0, 0.0], [0.0, 0.0]], [[0.5, -1.0], [2.0, 0.0]]]], dtype=np.float32)
layer = tf.keras.layers.Masking(mask_value=0.0)
mask = np.asarray(layer.compute_mask(x))
output = np.asarray(layer(x))
documented_mask = np.any(x != 0.0, axis=(2, 3))  # (batch, time): [[True, False, True]]
print("documented mask", documented_mask.tolist(), "shape", documented_mask.shape)
print("tf.keras mask  ", mask.tolist(), "shape", mask.shape)
print("output at t=0 (documented: the input, [[0, 0], [1, 2]]):", output[0, 0].tolist())
diverges = mask.shape != documented_mask.shape or not np.array_equal(output[0, 0], x[0, 0])
sys.exit(0 if diverges else 1)
