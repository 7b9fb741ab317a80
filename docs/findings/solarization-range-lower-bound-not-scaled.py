"""Solarization draws a pair's addition and threshold from [lower, upper * 255], not [lower * 255, upper * 255].

Documentation (keras.layers.Solarization):
    addition_factor: (Optional)  A tuple of two floats or a single float,
        between 0 and 1.
        For each augmented image a value is
        sampled from the provided range. If a float is passed, the range is
        interpreted as `(0, addition_factor)`. If specified, this value
        (times the value range of input images, e.g. 255), is
        added to each pixel before solarization and thresholding.
    threshold_factor: (Optional)  A tuple of two floats or a single float.
        For each augmented image a value is
        sampled from the provided range. [...] If specified, only pixel
        values above this threshold will be solarized.
With addition_factor=(0.1, 0.4) each image's addition should lie in [0.1 * 255, 0.4 * 255] =
[25.5, 102]. With the default threshold 0 every pixel is solarized, y = 255 - (x + a), so
a = 255 - y - x per image: about a quarter of them lie below 25.5 (down to 0.1), because
get_random_transformation samples uniform(minval=lower, maxval=upper * 255): only the upper
bound is scaled. The threshold is sampled the same way: threshold_factor=(0.4, 0.8) gives
thresholds in [0.4, 204] instead of [102, 204], and pixels below 90 get solarized. A single float (lower 0) is not affected.

Exit status: 0 while additions below 25.5 appear, 1 otherwise.
Run: python docs/findings/solarization-range-lower-bound-not-scaled.py
"""
import numpy as np
import tensorflow as tf

keras = tf.keras
print("tensorflow", tf.__version__, "keras", keras.__version__)

x = np.random.default_rng(0).normal(127.5, 30.0, (200, 6, 7, 3)).clip(1, 150).astype("float32")
y = np.asarray(keras.layers.Solarization(addition_factor=(0.1, 0.4), seed=1)(x, training=True)).astype(np.float64)
additions = np.median(255 - y - x.astype(np.float64), axis=(1, 2, 3))  # x + a stays below 255 here
spread = np.max(np.abs(255 - y - x - additions[:, None, None, None]))
print(f"addition_factor=(0.1, 0.4): per-image additions in [{additions.min():.3f}, {additions.max():.3f}] "
      f"(documented [25.5, 102]); below 25.5: {int((additions < 25.5).sum())} of {len(additions)} "
      f"(one addition per image: max deviation {spread:.2g})")

y = np.asarray(keras.layers.Solarization(threshold_factor=(0.4, 0.8), seed=1)(x, training=True)).astype(np.float64)
# a threshold of at least 102 leaves every pixel below 102 alone (y == x); solarized pixels are 255 - x
low_solarized = ((np.abs(y - (255 - x)) < 1e-3) & (x < 90)).any(axis=(1, 2, 3))
print(f"threshold_factor=(0.4, 0.8): {int(low_solarized.sum())} of {len(x)} images solarize pixels below 90 "
      f"(documented thresholds [102, 204] leave every pixel below 102 unchanged)")
raise SystemExit(0 if (additions < 25.0).sum() > 0 else 1)
