"""Dice and Tversky add 1e-7 to the denominator, which their docstrings do not state: float64 is off by about 1e-7 / denominator.

Documentation (keras.losses.Dice): loss = 1 - (2 * sum(y_true * y_pred)) / (sum(y_true) +
sum(y_pred)); Tversky: 1 - TP / (TP + alpha FP + beta FN) (Salehi et al. 2017). tf.keras divides
by the denominator plus keras.config.epsilon() = 1e-7, so in float64 the loss is off by about
(1 - loss) * 1e-7 / denominator, 1e-9 to 1e-7 on ordinary inputs, far above float64's rounding.

Exit status: 0 while tf.keras still diverges, 1 once it agrees.
Run: python docs/findings/dice-tversky-denominator-epsilon.py
"""
import numpy as np
import tensorflow as tf

keras = tf.keras
print("tensorflow", tf.__version__, "keras", keras.__version__)

t = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])
p = np.array([[0.8, 0.3, 0.6], [0.2, 0.9, 0.4]])
documented = 1 - 2 * (t * p).sum() / (t.sum() + p.sum())
with_epsilon = 1 - 2 * (t * p).sum() / (t.sum() + p.sum() + 1e-7)
got = float(keras.losses.dice(t, p))
tv = float(keras.losses.tversky(t, p))
print(f"dice: tf.keras {got:.15f}; documented {documented:.15f}; with +1e-7 {with_epsilon:.15f}")
print(f"tversky(0.5, 0.5): tf.keras {tv:.15f}")
raise SystemExit(0 if abs(got - documented) > 1e-12 else 1)
