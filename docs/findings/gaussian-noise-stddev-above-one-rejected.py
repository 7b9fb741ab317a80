"""GaussianNoise rejects a standard deviation above 1.

Documentation (keras.layers.GaussianNoise, keras/src/layers/regularization/gaussian_noise.py):
    stddev: Float, standard deviation of the noise distribution.
Any nonnegative standard deviation is a valid argument; the docstring sets no upper bound.
The constructor raises ValueError ("Expected a float value between 0 and 1") for any
stddev > 1. stddev <= 1 works and adds noise of the requested standard deviation in training.

Exit status: 0 while tf.keras still raises, 1 once it accepts stddev = 1.5.
Run: python docs/findings/gaussian-noise-stddev-above-one-rejected.py
"""
import numpy as np
import tensorflow as tf

keras = tf.keras
print("tensorflow", tf.__version__, "keras", keras.__version__)

x = np.random.default_rng(0).normal(0.25, 1.0, (2, 200, 50)).astype("float32")


def noise_std(stddev):
    layer = keras.layers.GaussianNoise(stddev, seed=0)
    return float(np.std(np.asarray(layer(x, training=True)) - x))


print(f"GaussianNoise(0.8): accepted, measured noise std {noise_std(0.8):.4f} (documented 0.8)")
try:
    std = noise_std(1.5)
except Exception as e:  # noqa: BLE001 - any exception is the finding
    print(f"GaussianNoise(1.5): raises {type(e).__name__}: {str(e).splitlines()[0]}")
    raise SystemExit(0)
print(f"GaussianNoise(1.5): accepted, measured noise std {std:.4f} (documented 1.5)")
raise SystemExit(1)
