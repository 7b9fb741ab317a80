"""Nadam's docstring cites Dozat (2015), whose momentum schedule is
mu_t = beta_1 * (1 - 0.5 * 0.96 ** (t / 250)) (psi = 0.004, the form tf.keras's own earlier
Nadam documented as 0.96^(0.004 t)). tf.keras uses 0.96 ** t: after 4 steps the running product of
mu (the optimizer's scalar slot) is 0.0527 with beta_1 = 0.875, where the schedule gives
0.0367, and every update differs (by 3 to 30% of the update on random gradients).

Recorded in cases/optimizers.yaml (nadam_arguments, every_optimizer) as
nadam-momentum-schedule-250-times-faster.
"""
import numpy as np
import tensorflow as tf

print(f"tensorflow {tf.__version__}, keras {tf.keras.__version__}")
w = tf.Variable(np.ones(2), dtype=tf.float64)
opt = tf.keras.optimizers.Nadam(learning_rate=0.5, beta_1=0.875)
opt.build([w])
product = [v for v in opt.variables if tuple(v.shape) == () and v.dtype != tf.int64 and "learning_rate" not in v.name][0]
dozat, fast = 1.0, 1.0
for t in range(1, 5):
    opt.apply_gradients([(tf.constant([0.5, -1.0], tf.float64), w)])
    dozat *= 0.875 * (1 - 0.5 * 0.96 ** (t / 250))
    fast *= 0.875 * (1 - 0.5 * 0.96 ** t)
    print(f"step {t}: tf.keras prod(mu) {float(product.numpy()):.6f}; Dozat's schedule {dozat:.6f}; with 0.96**t {fast:.6f}")
raise SystemExit(0 if abs(float(product.numpy()) - fast) < 1e-6 and abs(float(product.numpy()) - dozat) > 1e-3 else 1)
