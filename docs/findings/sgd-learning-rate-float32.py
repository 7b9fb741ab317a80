"""An optimizer's learning rate is held in float32 whatever the dtype of the variables it
updates: a float64 weight trained with SGD(learning_rate=0.05) moves by 0.05000000074505806 * g
(float32's nearest value to 0.05), a relative error of 1.5e-8 in every update of a float64 model,
a million times float64's rounding. The SGD docstring documents `learning_rate` as "A float ...
The learning rate"; nothing says it is rounded to float32.

Recorded in cases/training.yaml (conv2d_plain[float64]) as sgd-learning-rate-float32.
"""
import numpy as np
import tensorflow as tf

start = np.array([1.0, -2.0, 3.0])
g = tf.constant([10.0, 10.0, 10.0], tf.float64)
print(f"tensorflow {tf.__version__}, keras {tf.keras.__version__}")
worst = 0.0
for lr in (0.05, 0.1, 0.5):
    variable = tf.Variable(start, dtype=tf.float64)
    optimizer = tf.keras.optimizers.SGD(learning_rate=lr)
    optimizer.apply_gradients([(g, variable)])
    applied = float((start[0] - variable.numpy()[0]) / 10.0)
    worst = max(worst, abs(applied - lr) / lr)
    print(f"SGD(learning_rate={lr!r}) on a float64 variable: applied learning rate {applied!r} "
          f"(float32({lr}) = {float(np.float32(lr))!r}); learning_rate variable dtype {optimizer.learning_rate.dtype}")
raise SystemExit(0 if worst > 1e-12 else 1)  # 0 while the divergence is there
