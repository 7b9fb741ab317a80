"""Keras 2's AlphaDropout takes a `noise_shape` (its signature: AlphaDropout(rate,
noise_shape=None, seed=None)) that its docstring does not describe, and in training raises
ValueError on one with None entries ("Attempt to convert a value (None) with an unsupported
type (<class 'NoneType'>) to a Tensor"), while Dropout, whose noise_shape is "1D integer tensor
representing the shape of the binary dropout mask", fills a None entry from the input's shape.
AlphaDropout's docstring calls it "a `Dropout` that keeps mean and variance of inputs": our
reading takes noise_shape as Dropout's. A documentation gap rather than a wrong result: the
Keras 2 docs promise nothing for None entries. Keras 3's AlphaDropout accepts them.

Recorded as keras2-alpha-dropout-noise-shape-none-rejected for the tf_keras target.
"""
import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"  # tf.keras is Keras 2, the tf_keras package
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

print("tensorflow", tf.__version__)
x = np.ones((16, 32, 64), np.float32)
y = np.asarray(tf.keras.layers.Dropout(0.5, noise_shape=(None, 1, None), seed=1)(x, training=True))
print("Dropout(0.5, noise_shape=(None, 1, None)): same mask along axis 1 =", bool((y == y[:, :1, :]).all()))
print("AlphaDropout(0.5, noise_shape=(16, 1, 64)) works:",
      tuple(tf.keras.layers.AlphaDropout(0.5, noise_shape=(16, 1, 64), seed=1)(x, training=True).shape))
try:
    tf.keras.layers.AlphaDropout(0.5, noise_shape=(None, 1, None), seed=1)(x, training=True)
    print("AlphaDropout(0.5, noise_shape=(None, 1, None)) works")
    raise SystemExit(1)
except ValueError as exc:
    message = " ".join(str(exc).split())
    print("AlphaDropout(0.5, noise_shape=(None, 1, None)) raises ValueError:", message[message.find("Attempt"):][:100])
    raise SystemExit(0)  # 0 while the divergence is there
