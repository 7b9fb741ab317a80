"""Ftrl's docstring gives the update w = (sgn(z) * lambda_1 - z) / ((beta + sqrt(n)) / alpha + lambda_2)
with lambda_2 "the L2 regularization strength" (l2_regularization_strength), as in McMahan et al.
(2013). tf.keras divides by (beta + sqrt(n)) / alpha + 2 * lambda_2: with l2 = 0.3 its w after
one step equals the documented formula with l2 = 0.6.

Recorded in cases/optimizers.yaml (ftrl_l2_regularization) as ftrl-l2-regularization-doubled.
"""
import numpy as np
import tensorflow as tf

print(f"tensorflow {tf.__version__}, keras {tf.keras.__version__}")
w0, g, lr = np.array([1.0, -2.0, 0.5, 3.0]), np.array([0.3, -1.0, 2.0, 0.01]), 0.5
w = tf.Variable(w0, dtype=tf.float64)
tf.keras.optimizers.Ftrl(learning_rate=lr, l2_regularization_strength=0.3).apply_gradients([(tf.constant(g), w)])


def documented(l2, n0=0.1):
    n = n0 + g * g
    z = g - (np.sqrt(n) - np.sqrt(n0)) / lr * w0
    return -z / (np.sqrt(n) / lr + l2)


print("tf.keras:             ", w.numpy())
print("documented, l2 = 0.3: ", documented(0.3))
print("documented, l2 = 0.6: ", documented(0.6))
raise SystemExit(0 if np.allclose(w.numpy(), documented(0.6)) and not np.allclose(w.numpy(), documented(0.3)) else 1)
