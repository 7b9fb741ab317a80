"""In float16 (and bfloat16, where said) a step inside the documented formula leaves the format's
range, or its epsilon rounds away, where the exact result is finite: tf.keras returns the inf or
NaN the formula gives in IEEE arithmetic, the reference (float64) the exact value.

- activations.squareplus(x) = (x + sqrt(x^2 + b)) / 2: for |x| > 256, x^2 exceeds float16's
  largest value, 65504, so 700 gives inf (exactly 700.0014).
- KLDivergence: y_true * log(y_true / y_pred), both clipped to [1e-7, 1] (the docstring's example
  clips at 1e-7): in float16 1e-7 is the subnormal 1.19e-7, and 0.25 / 1.19e-7 = 2.1e6
  overflows: inf (exactly 3.63 for the row below).
- BinaryFocalCrossentropy at probabilities 0 and 1: tf.keras clips them to [1e-7, 1 - 1e-7] (the
  docstring names no clip), but 1 - 1e-7 rounds to 1 in float16 and bfloat16, so log(1 - p) =
  -inf, times the focal factor 0: NaN (the unclipped formula has 0 log 0 there, NaN in IEEE).
- Dot(normalize=True): 1e-8 is 0 in float16, and l2-normalizing the zero vector with
  epsilon 1e-12 (0 in float16) is 0 / 0: NaN (the cosine of a zero vector is undefined anyway).
The documentation promises none of these values at the 16-bit edges, so they are recorded as IEEE
edges (not counted against tf.keras): a model in float16 meets them as inf or NaN losses.

Exit status: 0 while squareplus(700) is inf in float16, 1 once it is finite.
"""
import numpy as np
import tensorflow as tf

print("tensorflow", tf.__version__)
keras = tf.keras


def show(name, compute):
    got = {dtype: np.asarray(compute(dtype), dtype=np.float64) for dtype in ("float32", "float16", "bfloat16")}
    print(f"{name:32} " + ", ".join(f"{d}: {np.array2string(v, precision=5)}" for d, v in got.items()))
    return got


square = show("squareplus(700)", lambda d: keras.activations.squareplus(tf.constant([700.0], dtype=d)))
show("KLDivergence", lambda d: keras.losses.KLDivergence(dtype=d)(
    tf.constant([[0.0, 0.25, 0.75]], dtype=d), tf.constant([[0.2, 0.0, 0.8]], dtype=d)))
show("BinaryFocalCrossentropy at 0, 1", lambda d: keras.losses.BinaryFocalCrossentropy(dtype=d)(
    tf.constant([[0.0, 1.0, 0.0, 1.0]], dtype=d), tf.constant([[0.0, 1.0, 0.25, 0.75]], dtype=d)))
show("Dot(normalize=True), a = 1e-8", lambda d: keras.layers.Dot(axes=1, normalize=True, dtype=d)(
    [tf.constant([[1e-8, 0.0]], dtype=d), tf.constant([[1.0, 0.0]], dtype=d)]))
raise SystemExit(0 if np.isinf(square["float16"]).all() else 1)
