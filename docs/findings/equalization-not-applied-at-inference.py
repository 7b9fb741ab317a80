"""Equalization does nothing at inference, although its docstring says it is applied there.

Documentation (keras.layers.Equalization, keras/src/layers/preprocessing/image_preprocessing/equalization.py):
    This layer works with both grayscale and color images, performing
    equalization independently on each color channel. At inference time,
    the equalization is consistently applied.
With training=False (and when a model calls it in predict/evaluate) the layer returns its
input unchanged: transform_images equalizes only `if training:`. With training=True the
same images are equalized (values spread over 0..255).

Exit status: 0 while the inference output is the input, 1 once it is equalized.
Run: python docs/findings/equalization-not-applied-at-inference.py
"""
import numpy as np
import tensorflow as tf

keras = tf.keras
print("tensorflow", tf.__version__, "keras", keras.__version__)

x = np.random.default_rng(0).normal(127.5, 30.0, (2, 7, 8, 3)).astype("float32")
layer = keras.layers.Equalization()
inference = np.asarray(layer(x, training=False))
training = np.asarray(layer(x, training=True))
print(f"input range [{x.min():.2f}, {x.max():.2f}]")
print(f"training=True:  range [{training.min():.2f}, {training.max():.2f}], max |y - x| {np.max(np.abs(training - x)):.2f}")
print(f"training=False: range [{inference.min():.2f}, {inference.max():.2f}], max |y - x| {np.max(np.abs(inference - x)):.2f}")
raise SystemExit(0 if np.array_equal(inference, x) else 1)
