"""Keras 2's F1Score and FBetaScore built with dtype="float16", "bfloat16" or "float64" ("dtype:
Optional. Data type of the metric result.") accept update_state but raise in result():
tf.math.square(self.beta) of the Python float beta is a float32 tensor, multiplied by the
precision in the metric's dtype (InvalidArgumentError "cannot compute Mul as input #1(zero-based)
was expected to be a float tensor but is a half tensor", "... a bfloat16 tensor", "... a double
tensor"). No F-score of a dtype other than float32 can be read; under the mixed_float16 and
mixed_bfloat16 policies (float32 variables) it can. Keras 3 returns the score in every dtype.

Recorded as keras2-f-score-float64-result-fails (extended to float16 and bfloat16) for the
tf_keras target.
"""
import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"  # tf.keras is Keras 2, the tf_keras package
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import tf_keras  # noqa: E402

print(f"tensorflow {tf.__version__}, tf_keras {tf_keras.__version__}")
y_true = np.array([[1.0, 1.0, 1.0], [1.0, 0.0, 0.0], [1.0, 1.0, 0.0]])
y_pred = np.array([[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]])
print("documented (F1, threshold 0.5): [0.5, 0.8, 0.6666666666666666]")
raised = 0
for dtype in ("float32", "float16", "bfloat16", "float64"):
    for cls in (tf.keras.metrics.F1Score, tf.keras.metrics.FBetaScore):
        metric = cls(threshold=0.5, dtype=dtype)
        metric.update_state(tf.constant(y_true, dtype), tf.constant(y_pred, dtype))
        try:
            print(f"{dtype:8s} {cls.__name__:10s} ->", np.round(tf.cast(metric.result(), "float64").numpy(), 4).tolist())
        except tf.errors.InvalidArgumentError as exc:
            raised += dtype != "float32"
            print(f"{dtype:8s} {cls.__name__:10s} result() raises InvalidArgumentError:", " ".join(str(exc).split())[:100])
raise SystemExit(0 if raised == 6 else 1)  # 0 while the divergence is there
