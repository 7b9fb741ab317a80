"""Keras 2's R2Score built with a dtype other than float32 ("dtype: Optional. data type of the
metric result.") raises in result() inside tf.function (and under XLA): result() replaces
infinite scores with tf.where(tf.math.is_inf(raw_scores), 0.0, raw_scores), and the Python 0.0
becomes a float32 tensor when traced, so SelectV2 gets float32 and float16 / bfloat16 / float64
operands: TypeError "Input 'e' of 'SelectV2' Op has type ... that does not match type float32
of argument 't'". Called eagerly, the same metric returns the score; dtype="float32" works in
both. Keras 3 returns the score.

Recorded as keras2-r2-score-graph-non-float32-type-error for the tf_keras target.
"""
import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"  # tf.keras is Keras 2, the tf_keras package
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import tf_keras  # noqa: E402

print(f"tensorflow {tf.__version__}, tf_keras {tf_keras.__version__}")
y_true = np.array([[1.0], [4.0], [3.0]])
y_pred = np.array([[2.0], [4.0], [4.0]])
# documented: 1 - sum((t - p)^2) / sum((t - mean t)^2) = 1 - 2 / (14 / 3) = 0.5714
print("documented R2: 0.5714")
raised = 0
for dtype in ("float32", "float16", "bfloat16", "float64"):
    metric = tf.keras.metrics.R2Score(dtype=dtype)
    metric.update_state(y_true, y_pred)
    eager = float(tf.cast(metric.result(), "float64"))
    try:
        traced = float(tf.cast(tf.function(metric.result)(), "float64"))
        print(f"{dtype:8s} eager {eager:.4f}, tf.function {traced:.4f}")
    except TypeError as exc:
        raised += dtype != "float32"
        print(f"{dtype:8s} eager {eager:.4f}, tf.function raises TypeError:", " ".join(str(exc).split())[-110:])
raise SystemExit(0 if raised == 3 else 1)  # 0 while the divergence is there
