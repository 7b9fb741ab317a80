"""The crossentropies clip probabilities to [1e-7, 1 - 1e-7] before the logarithm, which their docstrings do not state.

Documentation (keras.losses.BinaryCrossentropy): y_pred is "a probability (i.e, value in [0., 1.]
when from_logits=False)"; the crossentropy is -[t log p + (1 - t) log(1 - p)]
(CategoricalCrossentropy, SparseCategoricalCrossentropy: -sum t log p). No clipping is documented.
tf.keras clips p to [epsilon, 1 - epsilon], epsilon = keras.config.epsilon() = 1e-7: a label
given probability 0 costs -log(1e-7) = 16.12 (8.06 averaged over two classes), not infinity,
and a confident right answer p = 1 costs 1e-7 instead of 0 (visible in float64).

Exit status: 0 while tf.keras still clips, 1 once it gives the documented values.
Run: python docs/findings/crossentropy-probabilities-clipped.py
"""
import numpy as np
import tensorflow as tf

keras = tf.keras
print("tensorflow", tf.__version__, "keras", keras.__version__)

t = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
p = np.array([[0.5, 0.0, 0.5], [1.0, 0.0, 0.0]])
with np.errstate(divide="ignore", invalid="ignore"):
    documented = -np.where(t == 0, 0.0, t * np.log(p)).sum(axis=1)
got = np.asarray(keras.losses.categorical_crossentropy(t, p), np.float64)
print("categorical_crossentropy: tf.keras", got.tolist(), "documented", documented.tolist())
bce = float(keras.losses.binary_crossentropy(np.array([0.0, 1.0]), np.array([0.0, 1.0])))
print(f"binary_crossentropy([0, 1], [0, 1]) in float64: tf.keras {bce:.3e}; documented 0")
raise SystemExit(0 if np.isfinite(got[0]) or bce != 0.0 else 1)
