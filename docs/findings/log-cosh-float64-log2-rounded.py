"""LogCosh in float64 subtracts log(2) rounded to float32, an error of 1.9e-9 in every loss.

Documentation (keras.losses.LogCosh / log_cosh): loss = mean(log(cosh(y_pred - y_true))).
log(cosh(x)) = |x| + log1p(exp(-2|x|)) - log 2; tf.keras's float64 result differs from it by
-1.9e-9 = float32(log 2) - log 2 at every element, whatever x: the constant log 2 is rounded to
float32 before it meets the float64 loss.

Exit status: 0 while tf.keras still diverges, 1 once it agrees.
Run: python docs/findings/log-cosh-float64-log2-rounded.py
"""
import numpy as np
import tensorflow as tf

keras = tf.keras
print("tensorflow", tf.__version__, "keras", keras.__version__)

y_true = np.array([[0.0, 1.0, -2.0], [0.5, 0.25, 3.0]])
y_pred = np.array([[1.0, -0.5, -1.0], [0.5, 2.0, -1.0]])
documented = np.log(np.cosh(y_pred - y_true)).mean(axis=-1)
got = np.asarray(keras.losses.logcosh(y_true, y_pred), np.float64)
print("tf.keras - documented:", (got - documented).tolist())
print("float32(log 2) - log 2 =", float(np.float32(np.log(2.0))) - np.log(2.0))
raise SystemExit(0 if np.abs(got - documented).max() > 1e-12 else 1)
