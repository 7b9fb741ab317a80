"""ConcordanceCorrelation in float64 adds 1e-7 to its denominator and misses its docstring's value.

Documentation (keras.metrics.ConcordanceCorrelation and concordance_correlation): "mean(2 *
(y_true - mean(y_true)) * (y_pred - mean(y_pred)) / (var(y_true) + var(y_pred) +
square(mean(y_true) - mean(y_pred))))", and the class's example: 0.9816320385426076. With
dtype="float64" tf.keras returns 0.981631677178593, which is the formula with 1e-7
(keras.config.epsilon()) added to the denominator: off by 3.7e-7 relative.

Exit status: 0 while the float64 result is off by more than 1e-12, 1 once it is the documented value.
Run: python docs/findings/concordance-denominator-epsilon.py
"""
import numpy as np
import tensorflow as tf

print("tensorflow", tf.__version__, "keras", tf.keras.__version__)
y_true = np.array([[0, 1, 0.5], [1, 1, 0.2]])
y_pred = np.array([[0.1, 0.9, 0.5], [1, 0.9, 0.2]])
metric = tf.keras.metrics.ConcordanceCorrelation(dtype="float64")
metric.update_state(tf.constant(y_true), tf.constant(y_pred))
got = float(metric.result())
ct, cp = y_true - y_true.mean(1, keepdims=True), y_pred - y_pred.mean(1, keepdims=True)
spread = (ct ** 2).mean(1) + (cp ** 2).mean(1) + (y_true.mean(1) - y_pred.mean(1)) ** 2
documented = np.mean((2 * ct * cp).mean(1) / spread)
print("tf.keras:", got, "documented:", documented, "docstring: 0.9816320385426076",
      "with 1e-7 in the denominator:", np.mean((2 * ct * cp).mean(1) / (spread + 1e-7)))
raise SystemExit(0 if abs(got - documented) > 1e-12 else 1)
