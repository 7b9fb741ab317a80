"""R2Score(num_regressors=p) counts every output of a sample as a sample in the adjusted R2.

Documentation (keras.metrics.R2Score): "num_regressors: Number of independent regressors used
("Adjusted R2" score)", linking the coefficient of determination, whose adjusted form is
1 - (1 - R2) (n - 1) / (n - p - 1) with n the number of samples. For y of shape (8, 3) (8 samples,
3 outputs) tf.keras uses n = 24, the number of entries, so its adjusted score is closer to R2 than
documented; with one output per sample the two agree. Fixed upstream by keras-team/keras#23334
("Fix sample size inflation in R2Score Adjusted R2 calculation").

Exit status: 0 while tf.keras uses the entries, 1 once it uses the samples.
Run: python docs/findings/r2-adjusted-counts-entries.py
"""
import numpy as np
import tensorflow as tf

print("tensorflow", tf.__version__, "keras", tf.keras.__version__)
rng = np.random.default_rng(1)
y_true, y_pred = rng.normal(size=(8, 3)), rng.normal(size=(8, 3))
metric = tf.keras.metrics.R2Score(class_aggregation=None, num_regressors=2, dtype="float64")
metric.update_state(y_true, y_pred)
got = np.asarray(metric.result())
r2 = 1 - np.sum((y_true - y_pred) ** 2, 0) / np.sum((y_true - y_true.mean(0)) ** 2, 0)
for n in (8, 24):
    print(f"adjusted with n = {n}:", (1 - (1 - r2) * (n - 1) / (n - 2 - 1)).tolist())
print("tf.keras:", got.tolist())
documented = 1 - (1 - r2) * (8 - 1) / (8 - 2 - 1)
raise SystemExit(0 if np.max(np.abs(got - documented)) > 1e-5 else 1)
