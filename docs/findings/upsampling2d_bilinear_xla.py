"""Bilinear UpSampling2D under XLA (jit_compile=True) against eager, tf.function and a float64
NumPy evaluation of bilinear resizing with half-pixel centres (what tf.image.resize documents).

Recorded in cases/reshaping_layers.yaml::up_sampling_2d_bilinear; upstream:
https://github.com/tensorflow/tensorflow/issues/118344
"""
import numpy as np
import tensorflow as tf


def bilinear_1d(n_in, n_out):
    """(n_out, n_in) interpolation matrix, half-pixel centres, edges clamped."""
    centre = (np.arange(n_out) + 0.5) * n_in / n_out - 0.5
    low = np.clip(np.floor(centre), 0, n_in - 1).astype(int)
    high = np.clip(low + 1, 0, n_in - 1)
    frac = np.clip(centre - low, 0.0, 1.0)
    m = np.zeros((n_out, n_in))
    m[np.arange(n_out), low] += 1 - frac
    m[np.arange(n_out), high] += frac
    return m


x = np.random.default_rng(0).normal(0.25, 1.0, size=(2, 3, 4, 2))
size = (2, 3)
reference = np.einsum("ph,qw,bhwc->bpqc", bilinear_1d(3, 6), bilinear_1d(4, 12), x)
layer = tf.keras.layers.UpSampling2D(size=size, interpolation="bilinear")
call = lambda t: layer(t)
for mode, fn in [("eager", call), ("function", tf.function(call)), ("xla", tf.function(call, jit_compile=True))]:
    out = np.asarray(fn(tf.constant(x.astype(np.float32))), np.float64)
    err = np.abs(out - reference)
    print(f"{mode:9s} max|keras - reference| = {err.max():.3g}; columns off by > 1e-3: {sorted(set(np.argwhere(err > 1e-3)[:, 2]))}")
