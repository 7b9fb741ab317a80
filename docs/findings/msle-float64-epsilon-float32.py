"""tf.keras.losses.msle in float64 replaces non-positive values by keras epsilon rounded to
float32, 1.0000000116860974e-07, not 1e-7.

keras.losses.mean_squared_logarithmic_error: "loss = mean(square(log(y_true + 1) - log(y_pred +
1)), axis=-1)" ... "Negative values and 0 values will be replaced with `keras.backend.epsilon()`
(default to `1e-7`)." In
float64 each such term is off by 2 |d| * 1.17e-15 (d the difference of the logs): here 1.6e-16
in a loss of about 0.0087, 91 units in the last place, where a float64 evaluation of the documented
formula errs by a few. Recomputing with float32(1e-7) gives tf.keras's value. Like
log-cosh-float64-log2-rounded: a constant rounded to float32 before it meets float64 values.

Exit status: 0 while tf.keras is nearer the float32-epsilon formula than the documented one.
"""
import numpy as np
import tensorflow as tf

print("tensorflow", tf.__version__)
y_true = np.array([0.06170648017283559, -0.33866970911419017, -0.7025184660330003])
y_pred = np.array([-1.0051875362981627, -0.38941450136787476, 0.16195634819281027])


def msle(t, p, epsilon):
    def log1p(y):
        return np.log1p(np.where(y > 0, y, epsilon))
    return np.mean(np.square(log1p(t) - log1p(p)))


documented = msle(y_true, y_pred, 1e-7)
float32_epsilon = msle(y_true, y_pred, float(np.float32(1e-7)))
got = float(tf.keras.losses.msle(tf.constant(y_true), tf.constant(y_pred)).numpy())
print(f"documented (epsilon 1e-7):          {documented!r}")
print(f"with epsilon float32(1e-7):         {float32_epsilon!r}")
print(f"tf.keras:                           {got!r}")
print(f"tf.keras - documented:              {got - documented:.3g} ({abs(got - documented) / np.spacing(documented):.0f} ulps)")
print(f"tf.keras - float32-epsilon formula: {got - float32_epsilon:.3g}")
raise SystemExit(0 if abs(got - float32_epsilon) < abs(got - documented) else 1)
