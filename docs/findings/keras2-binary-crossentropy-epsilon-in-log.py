"""Keras 2's binary crossentropy (BinaryCrossentropy, binary_crossentropy, the focal forms built
on it, and the BinaryCrossentropy metric) clips the probabilities to [1e-7, 1 - 1e-7] and then
adds 1e-7 again inside both logarithms: -(y log(p + 1e-7) + (1 - y) log(1 - p + 1e-7)). Its
docstrings give no formula beyond "crossentropy" and state no epsilon. The extra 1e-7 moves
every float64 loss by about 1e-7 / p (within float32's rounding, visible in float64), and a
label given probability 0 costs -log(2e-7) = 15.42, not the -log(1e-7) = 16.12 of the clipping
alone. Keras 3 clips but adds nothing inside the log. Upstream: keras-team/keras#15249,
tensorflow/tensorflow#51675 (the double epsilon), tensorflow/tensorflow#41595.

Recorded as keras2-binary-crossentropy-epsilon-in-log for the tf_keras target.
"""
import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"  # tf.keras is Keras 2, the tf_keras package
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import tf_keras  # noqa: E402

print(f"tensorflow {tf.__version__}, tf_keras {tf_keras.__version__}")
y = np.array([[0.0, 1.0, 1.0, 0.0]])
p = np.array([[0.25, 0.6, 0.9, 0.05]])  # float64
keras = float(tf.keras.losses.binary_crossentropy(y, p).numpy()[0])
documented = -float(np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
with_epsilon = -float(np.mean(y * np.log(p + 1e-7) + (1 - y) * np.log(1 - p + 1e-7)))
print(f"tf.keras              {keras!r}")
print(f"crossentropy          {documented!r}  (difference {keras - documented:.3e})")
print(f"with +1e-7 in the log {with_epsilon!r}  (difference {keras - with_epsilon:.1e})")
zero = float(tf.keras.losses.binary_crossentropy(np.array([[1.0]]), np.array([[0.0]])).numpy()[0])
print(f"label 1, probability 0: {zero!r} = -log(2e-7) {-float(np.log(2e-7))!r}; clipping alone gives {-float(np.log(1e-7))!r}")
diverges = abs(keras - documented) > 1e-9 and abs(keras - with_epsilon) < 1e-15
raise SystemExit(0 if diverges else 1)  # 0 while the divergence is there
