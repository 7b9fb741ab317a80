"""Equalization (training=True) equalizes each channel with the histogram of the whole batch,
so an image's output depends on the other images in the batch.

Documentation (keras.layers.Equalization):
    Histogram equalization is a technique to adjust image intensities to
    enhance contrast by effectively spreading out the most frequent
    intensity values. This layer applies equalization on a channel-wise
    basis [...] performing equalization independently on each color channel.
Histogram equalization of an image maps each value through the cumulative histogram of that
image's channel. transform_images takes `channel = images[..., i]`, which for a batch holds
every image's channel i, and builds one histogram from all of them. With integer pixels and
256 bins (one bin per level, so no reading of the bin edges matters) the first image of a
batch of two is equalized differently from the same image alone.

Exit status: 0 while the first image's output depends on the second image, 1 otherwise.
Run: python docs/findings/equalization-histogram-over-batch.py
"""
import numpy as np
import tensorflow as tf

keras = tf.keras
print("tensorflow", tf.__version__, "keras", keras.__version__)

rng = np.random.default_rng(0)
x = rng.integers(0, 256, (2, 7, 8, 3)).astype("float32")
layer = keras.layers.Equalization()
in_batch = np.asarray(layer(x, training=True))[0]
alone = np.asarray(layer(x[:1], training=True))[0]


def equalize(channel):  # textbook histogram equalization of one image's channel (integer levels)
    counts = np.bincount(channel.astype(int).ravel(), minlength=256)
    cdf = np.cumsum(counts)
    cdf_min = cdf[np.nonzero(cdf)[0][0]]
    return np.round((cdf - cdf_min) / (channel.size - cdf_min) * 255)[channel.astype(int)]


expected = np.stack([equalize(x[0, ..., c]) for c in range(3)], axis=-1)
print(f"image 0 alone vs the textbook equalization: max abs difference {np.max(np.abs(alone - expected)):.3g}")
print(f"image 0 in a batch of two vs alone:          max abs difference {np.max(np.abs(in_batch - alone)):.3g}")
raise SystemExit(0 if np.max(np.abs(in_batch - alone)) > 0.5 else 1)
