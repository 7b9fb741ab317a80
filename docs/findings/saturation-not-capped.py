"""RandomSaturation with value_range (0, 255) lets the HSV saturation exceed 1: pixels go negative.

Documentation (keras.layers.RandomSaturation):
    This layer will randomly increase/reduce the saturation for the input
    RGB images.
    factor: [...] `factor=0.5` makes this layer perform a no-op
        operation. `factor=0.0` makes the image fully grayscale.
        `factor=1.0` makes the image fully saturated.
    value_range: the range of values the incoming images will have.
The HSV saturation of a pixel is (max - min) / max, at most 1 ("fully saturated"). The layer
multiplies it by f / (1 - f) and then clips it to value_range, [0, 255], instead of [0, 1]: with
factor=(0.3, 0.6) (multipliers up to 1.5) a pixel of saturation 0.84 gets 1.16, and converting
back gives min = max (1 - 1.14) < 0, a negative channel value outside value_range. The HSV
conversion itself is scale-free (v = max), so with value_range (0, 1) the clip happens to cap
the saturation at 1 and the output stays in range.

Exit status: 0 while outputs below 0 appear, 1 otherwise.
Run: python docs/findings/saturation-not-capped.py
"""
import numpy as np
import tensorflow as tf

keras = tf.keras
print("tensorflow", tf.__version__, "keras", keras.__version__)

x = np.random.default_rng(0).normal(127.5, 30.0, (200, 6, 7, 3)).clip(0, 255).astype("float32")
y = np.asarray(keras.layers.RandomSaturation((0.3, 0.6), seed=1)(x, training=True)).astype(np.float64)
i = np.unravel_index(int(np.argmin(y)), y.shape)
saturation = lambda p: (p.max() - p.min()) / p.max()
print(f"factor=(0.3, 0.6), value_range (0, 255): output min {y.min():.3f}, {int((y < 0).sum())} values below 0")
print(f"e.g. image {int(i[0])}, pixel {[int(v) for v in i[1:3]]}: x {x[i[:3]].astype(np.float64).round(3).tolist()} (saturation "
      f"{saturation(x[i[:3]].astype(np.float64)):.3f}) -> y {y[i[:3]].round(3).tolist()} (saturation "
      f"{saturation(y[i[:3]]):.3f}, above 1)")
u = (x / 255).astype("float32")
yu = np.asarray(keras.layers.RandomSaturation((0.3, 0.6), value_range=(0, 1), seed=1)(u, training=True))
print(f"the same with value_range (0, 1): output min {float(yu.min()):.4f}")
raise SystemExit(0 if y.min() < -1e-3 else 1)
