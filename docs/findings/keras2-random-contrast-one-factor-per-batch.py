"""Keras 2's RandomContrast draws one contrast factor for the whole batch, not one per image.

Documentation (tf_keras.layers.RandomContrast, Keras 2.21):
    This layer will randomly adjust the contrast of an image or images by a
    random factor. Contrast is adjusted independently for each channel of
    each image during training.
In training every image of a batch gets the same factor (y - mean) / (x - mean): over 64
images the factors' spread is float32 rounding, where images adjusted independently would
spread over [1 - lower, 1 + upper]. Keras 3's RandomContrast draws one factor per image.

Exit status: 0 while all images of a batch share one factor, 1 otherwise.
Run: python docs/findings/keras2-random-contrast-one-factor-per-batch.py
"""
import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

keras = tf.keras
import tf_keras  # noqa: E402

print("tensorflow", tf.__version__, "tf_keras", tf_keras.__version__)

x = np.random.default_rng(0).normal(127.5, 30.0, (64, 6, 7, 3)).astype("float32")
y = np.asarray(keras.layers.RandomContrast((0.2, 0.5), seed=1)(x, training=True)).astype(np.float64)
mean = x.mean(axis=(1, 2), keepdims=True)
inside = (y > 0) & (y < 255) & (np.abs(x - mean) > 5)
factors = np.array([np.median(((y[i] - mean[i]) / (x[i] - mean[i]))[inside[i]]) for i in range(len(x))])
print(f"per-image factors over 64 images: min {factors.min():.6f}, max {factors.max():.6f} (documented range [0.8, 1.5])")
raise SystemExit(0 if factors.max() - factors.min() < 1e-4 else 1)
