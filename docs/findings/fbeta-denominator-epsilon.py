"""F1Score and FBetaScore in float64 add 1e-7 to their denominators.

Documentation (keras.metrics.FBetaScore): "f_beta_score = (1 + b2) * (precision * recall) /
(precision * b2 + recall)", precision and recall from the true and false positives and negatives;
no epsilon. In float64 tf.keras returns a score off by about 1e-7 relative (the size of
keras.config.epsilon() added to the precision, recall and F denominators): F1 of a class with
tp = 1, fp = 1, fn = 1 is exactly 0.5, tf.keras gives 0.49999992...

Exit status: 0 while the float64 score is off by more than 1e-12, 1 once it is exact.
Run: python docs/findings/fbeta-denominator-epsilon.py
"""
import numpy as np
import tensorflow as tf

print("tensorflow", tf.__version__, "keras", tf.keras.__version__)
y_true = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
y_pred = np.array([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3], [0.4, 0.6]])  # argmax: one hit per class
metric = tf.keras.metrics.F1Score(dtype="float64")
metric.update_state(tf.constant(y_true), tf.constant(y_pred))
got = np.asarray(metric.result())
exact = np.array([0.5, 0.5])  # precision = recall = 1/2 for both classes
eps = 1e-7
p = 1 / (2 + eps)
with_eps = 2 * p * p / (2 * p + eps)
print("tf.keras:", got.tolist(), "exact:", exact.tolist(), "with 1e-7 in the denominators:", with_eps)
raise SystemExit(0 if np.max(np.abs(got - exact)) > 1e-12 else 1)
