"""Keras 2's Precision and Recall with top_k, and R2Score with num_regressors > 0, built with
dtype="float16", "bfloat16" or "float64" ("dtype: (Optional) data type of the metric result.")
raise InvalidArgumentError "cannot compute Mul as input #1(zero-based) was expected to be a half
tensor but is a float tensor": the top-k filter multiplies the predictions (cast to the metric's
dtype) by tf.one_hot(...), float32 by default, and the adjusted R2 multiplies 1 - R2 by
tf.cast(num_samples, tf.float32) - 1. The same metrics without top_k / num_regressors, and all
of them in float32 or under the mixed_float16 / mixed_bfloat16 policies (float32 variables),
work. Keras 3 returns the values in every dtype.

Recorded as keras2-metric-float32-constant-non-float32-dtype for the tf_keras target.
"""
import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"  # tf.keras is Keras 2, the tf_keras package
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import tf_keras  # noqa: E402

print(f"tensorflow {tf.__version__}, tf_keras {tf_keras.__version__}")
y_true = np.array([[0.0, 1.0, 1.0, 0.0], [1.0, 0.0, 1.0, 1.0], [0.0, 0.0, 1.0, 0.0]])
y_pred = np.array([[0.25, 0.75, 0.125, 0.5], [0.875, 0.375, 0.5, 0.625], [0.5, 0.25, 0.75, 0.125]])
# documented, top_k=2: the two largest predictions of each row count as positive
top2 = np.argsort(-y_pred, axis=1)[:, :2]
predicted = np.zeros_like(y_true)
np.put_along_axis(predicted, top2, 1.0, axis=1)
tp = float((predicted * y_true).sum())
print(f"documented: Precision(top_k=2) {tp / predicted.sum():.4f}, Recall(top_k=2) {tp / y_true.sum():.4f}")
r_true = np.array([[1.0], [4.0], [3.0], [2.5], [0.5]])
r_pred = np.array([[2.0], [4.0], [4.0], [2.0], [1.0]])
r2 = 1 - ((r_true - r_pred) ** 2).sum() / ((r_true - r_true.mean()) ** 2).sum()
n, p = len(r_true), 1
print(f"documented: R2Score(num_regressors=1) {1 - (1 - r2) * (n - 1) / (n - p - 1):.4f}")

raised = 0
for dtype in ("float32", "float16", "bfloat16", "float64"):
    for name, make, (a, b) in [
        ("Precision(top_k=2)", lambda: tf.keras.metrics.Precision(top_k=2, dtype=dtype), (y_true, y_pred)),
        ("Recall(top_k=2)", lambda: tf.keras.metrics.Recall(top_k=2, dtype=dtype), (y_true, y_pred)),
        ("R2Score(num_regressors=1)", lambda: tf.keras.metrics.R2Score(num_regressors=1, dtype=dtype), (r_true, r_pred)),
    ]:
        metric = make()
        try:
            metric.update_state(tf.constant(a, dtype), tf.constant(b, dtype))
            print(f"{dtype:8s} {name:26s} -> {float(tf.cast(metric.result(), 'float64')):.4f}")
        except tf.errors.InvalidArgumentError as exc:
            raised += dtype != "float32"
            print(f"{dtype:8s} {name:26s} raises InvalidArgumentError:", " ".join(str(exc).split())[:100])
raise SystemExit(0 if raised == 9 else 1)  # 0 while the divergence is there
