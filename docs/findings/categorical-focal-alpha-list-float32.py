"""CategoricalFocalCrossentropy with a list alpha in float64 rounds the factors to float32.

Documentation (keras.losses.CategoricalFocalCrossentropy): alpha "can be a list of floats or a
scalar", dtype: "The dtype of the loss's computations". With dtype float64 and alpha =
[0.1, 0.2, 0.3] tf.keras's loss is the documented one with each factor rounded to float32
(relative error up to 1.5e-8), far beyond float64's rounding; a scalar alpha is exact.

Exit status: 0 while tf.keras still diverges, 1 once it agrees.
Run: python docs/findings/categorical-focal-alpha-list-float32.py
"""
import numpy as np
import tensorflow as tf

keras = tf.keras
print("tensorflow", tf.__version__, "keras", keras.__version__)

t = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
p = np.array([[0.2, 0.7, 0.1], [0.3, 0.3, 0.4]])
alpha = np.array([0.1, 0.2, 0.3])


def focal(a):
    return (-(a * (1 - p) ** 2 * t * np.log(p)).sum(axis=1)).mean()


got = float(keras.losses.CategoricalFocalCrossentropy(alpha=alpha.tolist(), dtype="float64")(t, p))
print(f"tf.keras {got:.17f}\ndocumented {focal(alpha):.17f}\nwith float32 factors {focal(alpha.astype(np.float32).astype(np.float64)):.17f}")
raise SystemExit(0 if abs(got - focal(alpha)) > 1e-13 else 1)
