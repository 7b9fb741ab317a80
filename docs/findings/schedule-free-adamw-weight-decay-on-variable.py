"""ScheduleFreeAdamW's weight_decay ("If set, weight decay is applied") in the Algorithm of the
paper it cites (Defazio et al. 2024, Algorithm 1) is a term of the z step, evaluated at y and
scaled by the step's gamma_t = lr sqrt(1 - beta_2^t) min(1, t / warmup):
z_{t+1} = z_t - gamma_t g_t / (sqrt(v_t) + eps) - gamma_t * weight_decay * y_t.

tf.keras leaves z (its `momentum` slot) without any decay and instead multiplies the variable y
by (1 - lr * weight_decay) before the step. One step from w = [0.5, -1.25, 2.0] with lr = 0.25,
weight_decay = 0.5, gradient [0.75, -1.5, 0.25]: the Algorithm's z (= y after one step) is
w - gamma_1 (g / sqrt(v_1) + 0.5 w) = [0.248047, -0.995117, 1.742188]; tf.keras's z and y are
both the undecayed w - gamma_1 g / sqrt(v_1) = [0.25, -1.0, 1.75]: its decay of y is overwritten
at step 1 (the average's first weight is 1) and enters later steps only through the x it
recovers from the decayed y.

Exit 0 while the divergence exists, 1 otherwise.
"""
import numpy as np
import tensorflow as tf

print(f"tensorflow {tf.__version__}, keras {tf.keras.__version__}")
b2, lr, wd = 0.9990234375, 0.25, 0.5  # exact in float32
w0 = np.array([0.5, -1.25, 2.0])
g = np.array([0.75, -1.5, 0.25])
w = tf.keras.Variable(initializer=w0, dtype="float64", name="w")
opt = tf.keras.optimizers.ScheduleFreeAdamW(learning_rate=lr, beta_2=b2, epsilon=0.0, weight_decay=wd)
opt.build([w])
opt.apply_gradients([(tf.constant(g), w)])
z_keras = [v for v in opt.variables if v.name == "w_momentum"][0].numpy()
v = (1 - b2) * g * g
gamma = lr * np.sqrt(1 - b2)
z_paper = w0 - gamma * g / np.sqrt(v) - gamma * wd * w0
z_undecayed = w0 - gamma * g / np.sqrt(v)
print("tf.keras z", z_keras, "y", w.numpy())
print("Algorithm 1 z = y", z_paper)
print("z without weight decay", z_undecayed)
raise SystemExit(0 if np.max(np.abs(z_keras - z_paper)) > 1e-6 else 1)
