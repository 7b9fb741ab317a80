"""celu is documented as the "Continuously Differentiable Exponential Linear Unit",
celu(x) = alpha * (exp(x / alpha) - 1) for x < 0 and x for x >= 0: both pieces have slope 1
at 0 (d/dx alpha * (exp(x / alpha) - 1) = exp(x / alpha) = 1 there), so celu'(0) = 1 for every
alpha. tf.keras's gradient at exactly x = 0 is 2, in eager mode, in tf.function and under XLA:
it differentiates max(0, x) + min(0, alpha * (exp(x / alpha) - 1)) and the tie rules of
tf.maximum and tf.minimum each pass the full gradient at 0. An exact zero is common input
(zero padding, a ReLU before it, sparse features), and a training step there is doubled.

Recorded in cases/activations.yaml (smooth_at_zero) as celu-gradient-at-zero.
"""
import numpy as np
import tensorflow as tf

x = tf.constant([-1e-7, 0.0, 1e-7], tf.float32)


def gradient(alpha):
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.keras.activations.celu(x, alpha=alpha)
    return tape.gradient(y, x)


print(f"tensorflow {tf.__version__}, keras {tf.keras.__version__}")
worst = 0.0
for alpha in (1.0, 0.5, 2.5):
    for mode, fn in [("eager", gradient), ("function", tf.function(gradient)),
                     ("xla", tf.function(gradient, jit_compile=True))]:
        g = np.asarray(fn(alpha))
        worst = max(worst, float(np.abs(g - 1.0).max()))
        print(f"alpha={alpha} {mode:9s} d celu/dx at [-1e-7, 0, 1e-7] = {g}  (documented function: [1, 1, 1])")
raise SystemExit(0 if worst > 0.5 else 1)  # 0 while the divergence is there
