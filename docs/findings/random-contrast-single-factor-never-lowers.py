"""RandomContrast(a) draws its contrast factor from [1, 1 + a], not the documented [1 - a, 1 + a].

Documentation (keras.layers.RandomContrast):
    factor: a positive float represented as fraction of value, or a tuple of
        size 2 representing lower and upper bound.
        When represented as a single float, lower = upper.
        The contrast factor will be randomly picked between
        `[1.0 - lower, 1.0 + upper]`. For any pixel x in the channel,
        the output will be `(x - mean) * factor + mean`
        where `mean` is the mean value of the channel.
With factor=0.4 the factor should be uniform in [0.6, 1.4]: half of the images get less
contrast. In training every image's factor (y - mean) / (x - mean) is at least 1: the layer
stores factor (max(-0.4, 0), 0.4) = (0, 0.4), so lower = 0. A pair (0.2, 0.5) gives [0.8, 1.5].

Exit status: 0 while no factor falls below 1, 1 otherwise.
Run: python docs/findings/random-contrast-single-factor-never-lowers.py
"""
import numpy as np
import tensorflow as tf

keras = tf.keras
print("tensorflow", tf.__version__, "keras", keras.__version__)

x = np.random.default_rng(0).normal(127.5, 30.0, (200, 5, 6, 3)).astype("float32")
mean = x.mean(axis=(1, 2), keepdims=True)


def factors(layer):
    y = np.asarray(layer(x, training=True)).astype(np.float64)
    inside = (y > 0) & (y < 255) & (np.abs(x - mean) > 5)
    return np.array([np.median(((y[i] - mean[i]) / (x[i] - mean[i]))[inside[i]]) for i in range(len(x))])


single = factors(keras.layers.RandomContrast(0.4, seed=1))
pair = factors(keras.layers.RandomContrast((0.2, 0.5), seed=1))
print(f"factor=0.4:        per-image factors in [{single.min():.4f}, {single.max():.4f}] "
      f"(documented [0.6, 1.4]); below 1: {int((single < 1).sum())} of {len(single)}")
print(f"factor=(0.2, 0.5): per-image factors in [{pair.min():.4f}, {pair.max():.4f}] (documented [0.8, 1.5])")
raise SystemExit(0 if (single < 0.9999).sum() == 0 else 1)
