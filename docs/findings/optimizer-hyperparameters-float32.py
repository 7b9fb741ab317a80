"""An optimizer's hyperparameters (SGD's momentum, Adam's beta_1 and beta_2, Adagrad's
initial_accumulator_value, ...) are rounded to float32 in parts of the update even when the
variables are float64. The docstrings document them as floats ("beta_2: A float value ...
Defaults to 0.999"); nothing says they lose precision. Adam's moments use beta_1 and beta_2 as
given, but its bias correction sqrt(1 - beta_2^t) / (1 - beta_1^t) uses float32(0.9) and
float32(0.999): 1 - float32(0.999) = 0.00099998713, and the first step is off by 6.6e-6 relative
(float64's rounding is 1.1e-16). The learning rate itself is recorded apart
(sgd-learning-rate-float32); here it is 0.5, exact in float32.

Recorded in cases/optimizers.yaml (float64_hyperparameters) as optimizer-hyperparameters-float32.
"""
import numpy as np
import tensorflow as tf

print(f"tensorflow {tf.__version__}, keras {tf.keras.__version__}")
w0, g, lr = np.array([1.0, -2.0, 0.7]), np.array([0.3, -1.0, 2.0]), 0.5


def adam(b1, b2, correction_b1, correction_b2, eps=1e-7):
    """One Adam step from zero moments; the bias correction with its own betas."""
    m, v = (1 - b1) * g, (1 - b2) * g * g
    return w0 - lr * np.sqrt(1 - correction_b2) / (1 - correction_b1) * m / (np.sqrt(v) + eps)


variable = tf.Variable(w0, dtype=tf.float64)
tf.keras.optimizers.Adam(learning_rate=lr).apply_gradients([(tf.constant(g), variable)])
exact = adam(0.9, 0.999, 0.9, 0.999)
rounded = adam(0.9, 0.999, float(np.float32(0.9)), float(np.float32(0.999)))
print("Adam, float64 variable:    ", variable.numpy())
print("documented (0.9, 0.999):   ", exact, " relative error", np.max(np.abs(variable.numpy() - exact) / np.abs(exact)))
print("float32 betas in the bias correction:", rounded, " relative error", np.max(np.abs(variable.numpy() - rounded) / np.abs(rounded)))
raise SystemExit(0 if np.allclose(variable.numpy(), rounded, rtol=1e-13, atol=0) and not np.allclose(variable.numpy(), exact, rtol=1e-10, atol=0) else 1)
