"""UpSampling2D(interpolation="bicubic") against the Keys cubic kernel (a = -1/2) it documents.

tf.image.resize documents bicubic as "Cubic interpolant of Keys. Equivalent to Catmull-Rom
kernel", half-pixel centers, and at the edges "only input pixels inside the image will be
included in the filter sum, and the output value will be appropriately normalized".
The layer's 1-D weights (read off by upsampling unit impulses along W) match that for
factors 2 and 4, but for 3, 5, 7 they are off by up to ~5e-4 everywhere, interior included.
They match, to float32 rounding, the Keys kernel evaluated at the sample offset rounded to
the nearest multiple of 1/1024 (as from a 1024-entry lookup table). lanczos3 / lanczos5
(the ScaleAndTranslate path) show nothing of the kind.
"""
import numpy as np
import tensorflow as tf


def keys(x, a=-0.5):
    x = np.abs(x)
    return np.where(x <= 1, (a + 2) * x**3 - (a + 3) * x**2 + 1,
                    np.where(x < 2, a * x**3 - 5 * a * x**2 + 8 * a * x - 4 * a, 0.0))


def lanczos(r):
    return lambda x: np.where(np.abs(x) < r, np.sinc(x) * np.sinc(x / r), 0.0)


def keys_on_1024_grid(x):
    """Keys at |x| with its fractional part rounded to the nearest multiple of 1/1024."""
    ax = np.abs(x)
    whole = np.floor(ax)
    return keys(whole + np.rint((ax - whole) * 1024) / 1024)


def documented_weights(n, s, kernel, radius):
    """(n*s, n): half-pixel centres c_i = (i + 0.5)/s - 0.5, in-image taps only, rows normalized."""
    d = ((np.arange(n * s) + 0.5) / s - 0.5)[:, None] - np.arange(n)[None, :]
    w = np.where(np.abs(d) < radius, kernel(d), 0.0)
    return w / w.sum(1, keepdims=True)


def keras_weights(n, s, method):
    """The layer's (n*s, n) 1-D weight matrix: upsample unit impulses e_0 .. e_{n-1} along W."""
    x = np.eye(n).reshape(n, 1, n, 1)
    layer = tf.keras.layers.UpSampling2D(size=(1, s), interpolation=method, dtype="float64")
    return np.asarray(layer(tf.constant(x)))[:, 0, :, 0].T


print("max |keras weights - documented weights| (float32 rounding is ~1e-7)")
for n, s in [(6, 2), (6, 4), (6, 3), (6, 5), (6, 7), (2, 3)]:
    k = keras_weights(n, s, "bicubic")
    exact = np.abs(k - documented_weights(n, s, keys, 2)).max()
    grid = np.abs(k - documented_weights(n, s, keys_on_1024_grid, 2)).max()
    print(f"  bicubic  n={n} s={s}: Keys {exact:.2e}   Keys at offsets rounded to 1/1024 {grid:.2e}")
for method, r in [("lanczos3", 3), ("lanczos5", 5)]:
    for n, s in [(6, 3), (6, 7)]:
        k = keras_weights(n, s, method)
        print(f"  {method} n={n} s={s}: Lanczos {np.abs(k - documented_weights(n, s, lanczos(r), r)).max():.2e}")

# a layer call as the conformance case makes it: batch 2, 3x4 image, 3 channels, size (2, 3)
x = np.random.default_rng(0).normal(0.25, 1.0, size=(2, 3, 4, 3))
mh, mw = documented_weights(3, 2, keys, 2), documented_weights(4, 3, keys, 2)
reference = np.einsum("ph,bhwc,qw->bpqc", mh, x, mw)
out = np.asarray(tf.keras.layers.UpSampling2D(size=(2, 3), interpolation="bicubic")(tf.constant(x.astype(np.float32))), np.float64)
print(f"UpSampling2D((2, 3), 'bicubic') on 2x3x4x3 float32: max |keras - Keys| = {np.abs(out - reference).max():.2e}")
