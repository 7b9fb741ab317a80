"""RandomColorDegeneration(a) and RandomSaturation(a) draw their factor from [-a, a], not [0, a].

Documentation (keras.layers.RandomColorDegeneration; RandomSaturation says the same):
    factor: A tuple of two floats or a single float.
        `factor` controls the extent to which the
        image sharpness is impacted. `factor=0.0` makes this layer perform a
        no-op operation, while a value of 1.0 uses the degenerated result
        entirely. [...] Values should be between `0.0` and `1.0`. If a tuple
        is used, a `factor` is sampled between the two values for every image
        augmented. If a single float is used, a value between `0.0` and the
        passed float is sampled.
RandomSaturation: "`factor=0.5` makes this layer perform a no-op operation. `factor=0.0` makes
the image fully grayscale."
With factor=0.6 the per-image factor should lie in [0, 0.6]. RandomColorDegeneration's output is
x + f (gray - x), so every difference of two channels is (1 - f) times the input's: f = 1 -
(y_r - y_g) / (x_r - x_g) comes out in [-0.6, 0.6], about half of the images pushed away from
gray (more colourful). RandomSaturation multiplies the HSV saturation by f / (1 - f): a negative
f gives a negative saturation, clipped to 0, so about half of the images come out fully gray,
which no factor in (0, 0.6] gives. Both layers keep the base class's factor bounds (-1, 1), and
_set_factor turns a float a into (max(-a, -1), a) = (-a, a). A pair (0.2, 0.7) gives [0.2, 0.7].

Exit status: 0 while negative degeneration factors and fully gray saturated images appear, 1 otherwise.
Run: python docs/findings/single-float-factor-signed-range.py
"""
import numpy as np
import tensorflow as tf

keras = tf.keras
print("tensorflow", tf.__version__, "keras", keras.__version__)

x = np.random.default_rng(0).normal(127.5, 30.0, (200, 6, 7, 3)).clip(0, 255).astype("float32")
x64 = x.astype(np.float64)

y = np.asarray(keras.layers.RandomColorDegeneration(0.6, seed=1)(x, training=True)).astype(np.float64)
dx, dy = x64[..., 0] - x64[..., 1], y[..., 0] - y[..., 1]
usable = np.abs(dx) > 10
factors = np.array([1 - np.median(dy[i][usable[i]] / dx[i][usable[i]]) for i in range(len(x))])
print(f"RandomColorDegeneration(0.6): per-image factors in [{factors.min():.4f}, {factors.max():.4f}] "
      f"(documented [0, 0.6]); negative: {int((factors < -1e-3).sum())} of {len(x)}")

y = np.asarray(keras.layers.RandomSaturation(0.6, seed=1)(x, training=True)).astype(np.float64)
gray = np.all(np.abs(y - y[..., :1]) < 1e-3, axis=(1, 2, 3))  # every pixel's channels equal
print(f"RandomSaturation(0.6): {int(gray.sum())} of {len(x)} images fully gray (documented: only for a factor of "
      f"exactly 0, which a factor sampled in [0, 0.6] almost never is)")
raise SystemExit(0 if (factors < -1e-3).sum() > 0 and gray.sum() > 0 else 1)
