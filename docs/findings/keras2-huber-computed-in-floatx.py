"""Keras 2's huber (and the Huber loss class) casts y_true, y_pred and delta to
backend.floatx() (float32 by default) before computing: float64 inputs give a float32 loss,
off by about 5e-8 relative. Every other Keras 2 loss function (mse, logcosh, poisson, the
crossentropies, ...) computes in y_pred's dtype. The docstring gives the formula and states no
dtype ("For each value x in error = y_true - y_pred: loss = 0.5 * x^2 if |x| <= d ...").

Recorded as keras2-huber-computed-in-floatx for the tf_keras target.
"""
import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"  # tf.keras is Keras 2, the tf_keras package
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import tf_keras  # noqa: E402

print(f"tensorflow {tf.__version__}, tf_keras {tf_keras.__version__}")
y_true = np.array([[0.1, 0.7, -1.3]])
y_pred = np.array([[0.3, -0.2, 1.1]])  # float64
error = np.abs(y_pred - y_true)
documented = float(np.mean(np.where(error <= 1.0, 0.5 * error ** 2, 0.5 + (error - 1.0))))
function = tf.keras.losses.huber(y_true, y_pred)
loss = tf.keras.losses.Huber()(tf.constant(y_true), tf.constant(y_pred))
mse = tf.keras.losses.mse(y_true, y_pred)
print(f"huber on float64 inputs: dtype {function.dtype.name}, {float(function.numpy()[0])!r}")
print(f"Huber() on float64 inputs: dtype {loss.dtype.name}, {float(loss.numpy())!r}")
print(f"documented (float64): {documented!r}; difference {float(loss.numpy()) - documented:.3e}")
print(f"mse on the same inputs: dtype {mse.dtype.name}")
diverges = function.dtype == tf.float32 and loss.dtype == tf.float32 and abs(float(loss.numpy()) - documented) > 1e-12
raise SystemExit(0 if diverges else 1)  # 0 while the divergence is there
