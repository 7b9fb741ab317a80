"""ScheduleFreeAdamW cites Defazio et al. 2024 ("The Road Less Scheduled"), whose Algorithm 1
keeps z (the docstring's `momentum`, "the sequence where gradient updates are applied") and
its average x ("the averaged sequence used for evaluation"): x_{t+1} = (1 - c_{t+1}) x_t +
c_{t+1} z_{t+1} with one scalar weight c_{t+1} per step, and the model variable is
y_{t+1} = (1 - beta_1) z_{t+1} + beta_1 x_{t+1} ("the model parameters are set to an
interpolation between `momentum` and `x`").

tf.keras stores only y (the variable) and z, so x_t = (y_t - (1 - beta_1) z_t) / beta_1. From
step 2 on, the x implied by tf.keras's y and z is not an average of the z's: with
beta_1 = 0.875 the weight c = (x_new - x_old) / (z_new - x_old) it implies is 3/7 at step 2
(neither the paper's gamma_2^2 / (gamma_1^2 + gamma_2^2) = 0.667 nor the repository's 1/t = 0.5)
and differs from element to element at step 3 (0.04, 0.26, 0.02). tf.keras's y is, to 1e-12,
the Algorithm with weight 1/t and x_old recovered from y_old and the *updated* z (z_{t+1} in
place of z_t): x_old comes out shifted by (1 - beta_1) / beta_1 * (z_t - z_{t+1}).

Exit 0 while the divergence exists, 1 otherwise.
"""
import numpy as np
import tensorflow as tf

print(f"tensorflow {tf.__version__}, keras {tf.keras.__version__}")
b1, b2, lr, eps = 0.875, 0.9990234375, 0.25, 0.0  # exact in float32, as tf.keras keeps them
w0 = np.array([0.5, -1.25, 2.0], np.float64)
grads = [np.array([0.75, -1.5, 0.25]), np.array([0.5, 0.625, -1.0]), np.array([-0.375, 1.25, 0.875])]

w = tf.keras.Variable(initializer=w0, dtype="float64", name="w")
opt = tf.keras.optimizers.ScheduleFreeAdamW(learning_rate=lr, beta_1=b1, beta_2=b2, epsilon=eps)
opt.build([w])
z_slot = [v for v in opt.variables if v.name == "w_momentum"][0]

# The paper's Algorithm 1 (no warmup, no weight decay): gamma_t = lr sqrt(1 - b2^t),
# c_{t+1} = gamma_t^2 / sum_i gamma_i^2.
z, x, v, weights = w0.copy(), w0.copy(), np.zeros(3), 0.0
# The same with x_old taken from y_old and the updated z (what tf.keras's numbers fit).
y_alias, z_alias, v_alias = w0.copy(), w0.copy(), np.zeros(3)
diverged, fits_alias = False, True
x_keras_old = w0.copy()
for t, g in enumerate(grads, 1):
    opt.apply_gradients([(tf.constant(g), w)])
    y_keras, z_keras = w.numpy(), z_slot.numpy()
    v = b2 * v + (1 - b2) * g * g
    gamma = lr * np.sqrt(1 - b2 ** t)
    z = z - gamma * g / (np.sqrt(v) + eps)
    weights += gamma ** 2
    c = gamma ** 2 / weights
    x = (1 - c) * x + c * z
    y = (1 - b1) * z + b1 * x
    v_alias = b2 * v_alias + (1 - b2) * g * g
    z_alias = z_alias - lr * g / (np.sqrt(v_alias / (1 - b2 ** t)) + eps)
    x_old = (y_alias - (1 - b1) * z_alias) / b1
    y_alias = (1 - b1) * z_alias + b1 * ((1 - 1 / t) * x_old + z_alias / t)
    x_keras = (y_keras - (1 - b1) * z_keras) / b1
    implied_c = (x_keras - x_keras_old) / (z_keras - x_keras_old)
    x_keras_old = x_keras
    print(f"step {t}: tf.keras y {np.round(y_keras, 6)}, z {np.round(z_keras, 6)}; "
          f"Algorithm 1 y {np.round(y, 6)}, z {np.round(z, 6)}, c {c:.4f}; "
          f"averaging weight implied by tf.keras {np.round(implied_c, 4)}")
    diverged |= bool(np.max(np.abs(y_keras - y)) > 1e-6)
    fits_alias &= bool(np.max(np.abs(y_keras - y_alias)) < 1e-12)
print("tf.keras's y fits the Algorithm with x recovered from the updated momentum:", fits_alias)
raise SystemExit(0 if diverged else 1)
