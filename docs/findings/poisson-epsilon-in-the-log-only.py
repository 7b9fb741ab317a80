"""Poisson adds 1e-7 to y_pred inside the logarithm only; its docstring's example adds it in both terms.

Documentation (keras.losses.poisson): loss = y_pred - y_true * log(y_pred), and the example checks
    y_pred = y_pred + 1e-7
    assert np.allclose(loss, np.mean(y_pred - y_true * np.log(y_pred), axis=-1), atol=1e-5)
i.e. mean((y_pred + 1e-7) - y_true log(y_pred + 1e-7)). tf.keras computes mean(y_pred - y_true
log(y_pred + 1e-7)), exactly 1e-7 less: within the example's atol and float32's tolerance, but
far beyond float64's.

Exit status: 0 while tf.keras still diverges, 1 once it agrees.
Run: python docs/findings/poisson-epsilon-in-the-log-only.py
"""
import numpy as np
import tensorflow as tf

keras = tf.keras
print("tensorflow", tf.__version__, "keras", keras.__version__)

y_true = np.array([[1.0, 0.0, 2.0], [3.0, 1.0, 0.5]])
y_pred = np.array([[0.5, 1.5, 2.5], [1.0, 0.25, 4.0]])
shifted = y_pred + 1e-7
documented = np.mean(shifted - y_true * np.log(shifted), axis=-1)
got = np.asarray(keras.losses.poisson(y_true, y_pred), np.float64)
print("tf.keras - documented (float64):", (got - documented).tolist())
raise SystemExit(0 if np.abs(got - documented).max() > 1e-12 else 1)
