"""Keras 2's F1Score and FBetaScore built with dtype="float64" ("dtype: Optional. Data type of
the metric result.") accept update_state but raise in result(): tf.math.square(self.beta) of
the Python float beta is a float32 tensor, multiplied by the float64 precision
(InvalidArgumentError "cannot compute Mul as input #1(zero-based) was expected to be a float
tensor but is a double tensor"). No float64 F-score can be read. Keras 3 returns the float64
score.

Recorded as keras2-f-score-float64-result-fails for the tf_keras target.
"""
import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"  # tf.keras is Keras 2, the tf_keras package
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import tf_keras  # noqa: E402

print(f"tensorflow {tf.__version__}, tf_keras {tf_keras.__version__}")
y_true = np.array([[1.0, 1.0, 1.0], [1.0, 0.0, 0.0], [1.0, 1.0, 0.0]])
y_pred = np.array([[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]])
raised = 0
for cls in (tf.keras.metrics.F1Score, tf.keras.metrics.FBetaScore):
    metric = cls(threshold=0.5, dtype="float64")
    metric.update_state(y_true, y_pred)
    try:
        print(cls.__name__, "->", metric.result().numpy().tolist())
    except tf.errors.InvalidArgumentError as exc:
        raised += 1
        print(cls.__name__, "result() raises InvalidArgumentError:", " ".join(str(exc).split())[:110])
print("documented (F1, float64): [0.5, 0.8, 0.6666666666666666]")
raise SystemExit(0 if raised == 2 else 1)  # 0 while the divergence is there
