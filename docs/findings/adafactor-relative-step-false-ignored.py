"""Adafactor's docstring: "relative_step: bool, defaults to True. If learning_rate is a constant
and relative_step=True, learning rate will be adjusted based on current iterations." With
relative_step=False tf.keras adjusts it all the same: Adafactor(learning_rate=0.9,
relative_step=False) takes the same steps as relative_step=True, whose step size at t = 2 is
min(0.9, 1 / sqrt(2)) = 0.707, not 0.9.

Recorded in cases/optimizers.yaml (adafactor_relative_step_false) as
adafactor-relative-step-false-ignored.
"""
import numpy as np
import tensorflow as tf

print(f"tensorflow {tf.__version__}, keras {tf.keras.__version__}")
rng = np.random.default_rng(0)
w0 = rng.normal(size=(3, 4))
grads = [rng.normal(size=(3, 4)) for _ in range(3)]
after = {}
for relative_step in (True, False):
    w = tf.Variable(w0, dtype=tf.float64)
    opt = tf.keras.optimizers.Adafactor(learning_rate=0.9, relative_step=relative_step)
    for g in grads:
        opt.apply_gradients([(tf.constant(g), w)])
    after[relative_step] = w.numpy()
    print(f"relative_step={relative_step}: w after 3 steps, first row {after[relative_step][0]}")
raise SystemExit(0 if np.array_equal(after[True], after[False]) else 1)
