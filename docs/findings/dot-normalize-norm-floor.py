"""Dot(normalize=True) floors the norm at about 1e-7, so tiny vectors get the wrong cosine.

Documentation (keras.layers.Dot, keras/src/layers/merging/dot.py):
    normalize: Whether to L2-normalize samples along the dot product axis
        before taking the dot product. If set to `True`, then
        the output of the dot product is the cosine proximity
        between the two samples.
The cosine of two nonzero vectors does not depend on their lengths. tf.keras normalizes with
keras.ops.normalize, x * min(1 / ||x||, 1 / epsilon) with epsilon = keras.config.epsilon()
= 1e-7, so a sample whose norm is below 1e-7 is not scaled to unit length: the cosine of
[3e-8, -4e-8] and [0.9, -1.2] (parallel, cosine 1) comes out 0.5, in float32 and float64.
Samples with a norm above 1e-7 are right.

Exit status: 0 while tf.keras still diverges from the documented cosine, 1 once it agrees.
Run: python docs/findings/dot-normalize-norm-floor.py
"""
import numpy as np
import tensorflow as tf

keras = tf.keras
print("tensorflow", tf.__version__, "keras", keras.__version__)
print("keras.config.epsilon() =", keras.config.epsilon())

a = np.array([[3.0e-8, -4.0e-8, 0.0],    # norm 5e-8, parallel to b[0]
              [1.3, -0.7, 0.25]])
b = np.array([[0.9, -1.2, 0.0],
              [0.4, 2.1, -1.6]])
documented = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))

worst = 0.0
for dtype in ("float32", "float64"):
    got = np.asarray(keras.layers.Dot(axes=1, normalize=True, dtype=dtype)(
        [a.astype(dtype), b.astype(dtype)]), np.float64)[:, 0]
    d = np.abs(got - documented)
    print(f"{dtype}: tf.keras {np.round(got, 7)}  documented cosine {np.round(documented, 7)}"
          f"  |diff| {d[0]:.3e} (tiny sample), {d[1]:.3e} (ordinary sample)")
    worst = max(worst, d[0])
print(f"max abs difference: {worst:.3e}")

raise SystemExit(0 if worst > 1e-3 else 1)
