"""Metrics built with dtype="float64" keep float32 state or return a float32 result.

Documentation (keras.metrics.Metric and every metric class): "dtype: (Optional) data type of the
metric result"; "The dtype of the metric's computations". TruePositives, FalsePositives,
TrueNegatives, FalseNegatives, Precision, Recall, AUC, PrecisionAtRecall, RecallAtPrecision,
SensitivityAtSpecificity, SpecificityAtSensitivity and R2Score create float32 variables whatever
the dtype, and MeanIoU, IoU, BinaryIoU, OneHotIoU and OneHotMeanIoU (float64 confusion matrix)
return a float32 result: with float64 inputs and dtype="float64" the result is accurate to float32
only (about 1e-7 relative), where the float64 metrics (Mean, MeanSquaredError, ...) are exact.

Exit status: 0 while a float64 metric returns float32, 1 once all return float64.
Run: python docs/findings/metric-float64-result-float32.py
"""
import numpy as np
import tensorflow as tf

print("tensorflow", tf.__version__, "keras", tf.keras.__version__)
y_true = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0], [1.0, 1.0, 0.0]])
y_pred = np.array([[0.7, 0.2, 0.4], [0.6, 0.9, 0.3], [0.8, 0.55, 0.1]])
weight = np.array([[0.3], [1.1], [0.7]])
# Precision at 0.5: positives predicted at 0.7, 0.6, 0.9, 0.8, 0.55; tp weight 0.3 + 1.1 + 0.7 + 0.7
tp, fp = 0.3 + 1.1 + 0.7 + 0.7, 1.1
exact = tp / (tp + fp)
float32_results = []
for name, kwargs, inputs in (
        ("Precision", {}, (y_true, y_pred, weight)),
        ("AUC", {}, (y_true, y_pred, weight)),
        ("R2Score", {}, (y_true, y_pred, weight)),
        ("MeanIoU", {"num_classes": 2}, (y_true, (y_pred > 0.5).astype(np.float64), np.broadcast_to(weight, y_true.shape))),
        ("MeanSquaredError", {}, (y_true, y_pred, weight[:, 0]))):
    metric = getattr(tf.keras.metrics, name)(dtype="float64", **kwargs)
    metric.update_state(*(tf.constant(v) for v in inputs))
    result = metric.result()
    variables = sorted({v.dtype for v in metric.variables})
    print(f"{name}: result {result.dtype.name} {float(result)!r}, variables {variables}")
    if result.dtype != tf.float64:
        float32_results.append(name)
print("Precision: exact", exact, "error", abs(float(tf.keras.metrics.Precision(dtype="float64")(y_true, y_pred, weight)) - exact))
raise SystemExit(0 if float32_results else 1)
