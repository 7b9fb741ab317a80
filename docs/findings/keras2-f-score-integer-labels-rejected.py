"""Keras 2's F1Score and FBetaScore reject integer labels given as a tensor: update_state
calls tf.convert_to_tensor(y_true, dtype=self.dtype), which converts the NumPy int32 array of
the docstring's example but raises ValueError ("Tensor conversion requested dtype float32 for
Tensor with dtype int32") for the same labels as a tf.Tensor, which is what model.fit and
model.evaluate pass. Keras 3 casts the labels. Upstream: keras-team/tf-keras#33,
keras-team/keras#18362 (open).

Recorded as keras2-f-score-integer-labels-rejected for the tf_keras target.
"""
import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"  # tf.keras is Keras 2, the tf_keras package
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import tf_keras  # noqa: E402

print(f"tensorflow {tf.__version__}, tf_keras {tf_keras.__version__}")
# F1Score's docstring example
y_true = np.array([[1, 1, 1], [1, 0, 0], [1, 1, 0]], np.int32)
y_pred = np.array([[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]], np.float32)
metric = tf.keras.metrics.F1Score(threshold=0.5)
metric.update_state(y_true, y_pred)
print("NumPy int32 labels  ->", metric.result().numpy().tolist(), "(documented [0.5, 0.8, 0.6667])")
metric = tf.keras.metrics.F1Score(threshold=0.5)
try:
    metric.update_state(tf.constant(y_true), tf.constant(y_pred))
    print("tf.Tensor int32 labels ->", metric.result().numpy().tolist())
    raised = False
except ValueError as exc:
    raised = True
    print("tf.Tensor int32 labels raises ValueError:", " ".join(str(exc).split())[:90])
raise SystemExit(0 if raised else 1)  # 0 while the divergence is there
