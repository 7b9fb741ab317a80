"""RMSprop's docstring says its epsilon is "'epsilon hat' in the Kingma and Ba paper (in the
formula just before Section 2.1)", which is added to the square root: the step is
lr * g / (sqrt(v) + epsilon). tf.keras adds epsilon inside the root: lr * g / sqrt(v + epsilon).
With epsilon=0.1, one step from v = 0 (rho = 0.9) on g = 0.3 moves w by lr * 0.908674 instead of
lr * 1.539501.

Recorded in cases/optimizers.yaml (rmsprop_epsilon, every_optimizer) as rmsprop-epsilon-inside-root.
"""
import numpy as np
import tensorflow as tf

print(f"tensorflow {tf.__version__}, keras {tf.keras.__version__}")
g = np.array([0.3, -1.0, 2.0, 0.01])
w = tf.Variable(np.zeros(4), dtype=tf.float64)
tf.keras.optimizers.RMSprop(learning_rate=0.5, rho=0.9, epsilon=0.1).apply_gradients([(tf.constant(g), w)])
moved = -w.numpy() / 0.5
v = 0.1 * g * g
documented, inside = g / (np.sqrt(v) + 0.1), g / np.sqrt(v + 0.1)
print("tf.keras step / lr:         ", moved)
print("documented g/(sqrt(v)+eps): ", documented)
print("g/sqrt(v+eps):              ", inside)
raise SystemExit(0 if np.allclose(moved, inside) and not np.allclose(moved, documented) else 1)
