"""TopKCategoricalAccuracy and SparseTopKCategoricalAccuracy raise on float64 predictions.

Documentation (keras.metrics.TopKCategoricalAccuracy): "dtype: (Optional) data type of the metric
result"; the docstrings state no dtype restriction on y_pred. With dtype="float64" and float64
y_pred, update_state raises InvalidArgumentError from TensorFlow's InTopKV2, which has a float32
kernel only ("cannot compute InTopKV2 as input #0(zero-based) was expected to be a float tensor
but is a double tensor"). CategoricalAccuracy takes the same inputs.

Exit status: 0 while the float64 update raises, 1 once it computes the documented 0.5.
Run: python docs/findings/top-k-accuracy-float64-rejected.py
"""
import numpy as np
import tensorflow as tf

print("tensorflow", tf.__version__, "keras", tf.keras.__version__)
y_true = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
y_pred = np.array([[0.1, 0.9, 0.8], [0.05, 0.95, 0.0]])  # the docstring's example, in float64
failed = []
for name, labels in (("TopKCategoricalAccuracy", y_true), ("SparseTopKCategoricalAccuracy", np.array([2, 1]))):
    metric = getattr(tf.keras.metrics, name)(k=1, dtype="float64")
    try:
        metric.update_state(tf.constant(labels), tf.constant(y_pred))
        print(name, "float64:", float(metric.result()), "(documented 0.5)")
    except tf.errors.InvalidArgumentError as exc:
        print(name, "float64 raises:", str(exc).splitlines()[0][:120])
        failed.append(name)
raise SystemExit(0 if failed else 1)
