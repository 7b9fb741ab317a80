"""Keras 2's RandomCrop(dtype="float64") rounds its float64 output to float32 precision.

Documentation (tf_keras.layers.RandomCrop, Keras 2.21): "Input pixel values can be of any range
(e.g. `[0., 1.)` or `[0, 255]`) and of integer or floating point dtype. By default, the layer will
output floats." With dtype="float64" the output is float64, so a crop (a selection of input
values) should return them exactly. At inference with a target of the input's own size (the
documented output is then the input) the float64 output differs from the float64 input by
up to 7.6e-6 for values near 130 (relative 5.7e-8, float32 rounding): the values went through
float32 (the legacy image ops cast to float32).

Exit status: 0 while the output differs from the input, 1 once it is exact.
Run: python docs/findings/keras2-random-crop-float64-rounded.py
"""
import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

keras = tf.keras
import tf_keras  # noqa: E402

print("tensorflow", tf.__version__, "tf_keras", tf_keras.__version__)

x = np.random.default_rng(0).normal(127.5, 30.0, (2, 7, 8, 3))
y = keras.layers.RandomCrop(7, 8, dtype="float64")(x, training=False)
error = np.abs(np.asarray(y) - x)
print(f"output dtype {y.dtype}; max |y - x| {error.max():.3g}, max relative {np.max(error / np.abs(x)):.3g}")
print(f"equal to the input rounded to float32: {np.array_equal(np.asarray(y), x.astype(np.float32).astype(np.float64))}")
raise SystemExit(0 if error.max() > 0 else 1)
