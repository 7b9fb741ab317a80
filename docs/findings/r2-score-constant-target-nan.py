"""R2Score on a target column that is constant (sum_squares = 0) returns NaN where the
predictions are exact (0 / 0), and 0 where they are not (-inf, replaced by 0); with
class_aggregation "uniform_average" or "variance_weighted_average" the NaN makes the score NaN.
The docstring gives R2 = 1 - sum_squares_residuals / sum_squares and is silent on
sum_squares = 0; its class_aggregation argument is "Equivalent to `multioutput` argument in
Scikit-Learn", whose r2_score gives 1 for exact predictions of a constant target and 0
otherwise (keras-team/keras#23420 makes Keras do so). The NaN is the formula's 0 / 0 in IEEE
arithmetic: an IEEE edge, not counted against tf.keras. Keras 2 (tf_keras 2.21) the same.

Recorded as r2-score-constant-target-nan.
"""
import numpy as np
import tensorflow as tf

import keras

print(f"tensorflow {tf.__version__}, keras {keras.__version__}")
y_true = np.array([[2.0, 1.0], [2.0, 4.0], [2.0, 3.0]], dtype=np.float32)  # column 0 constant
y_pred = np.array([[2.0, 2.0], [2.0, 4.0], [2.0, 4.0]], dtype=np.float32)  # and exactly predicted
metric = keras.metrics.R2Score(class_aggregation=None)
metric.update_state(y_true, y_pred)
got = metric.result().numpy()
print("per column:", got, "  scikit-learn's rule: [1.0, 0.5714]")
raise SystemExit(0 if np.isnan(got[0]) else 1)  # 0 while the divergence is there
