"""MeanIoU (and the other IoU metrics) reject a sample_weight that broadcasts to y_true.

Documentation (keras.metrics.MeanIoU.update_state, BinaryIoU.update_state): "sample_weight:
Optional weighting of each example. Can be a `Tensor` whose rank is either 0, or the same as
`y_true`, and must be broadcastable to `y_true`." A weight of shape (batch, 1) for labels of shape
(batch, n), one weight per example, is of y_true's rank and broadcastable; update_state raises
InvalidArgumentError ("Incompatible shapes: [2] vs. [6]"): the labels are flattened before the
weight is broadcast. The confusion metrics (Precision, AUC, ...) accept the same weight.

Exit status: 0 while the documented weight raises, 1 once MeanIoU gives the weighted value.
Run: python docs/findings/iou-sample-weight-broadcast-rejected.py
"""
import numpy as np
import tensorflow as tf

print("tensorflow", tf.__version__, "keras", tf.keras.__version__)
y_true = np.array([[0, 1, 1], [1, 0, 0]])
y_pred = np.array([[0, 1, 0], [1, 1, 0]])
weight = np.array([[2.0], [0.5]])  # one weight per example: rank 2, broadcastable to (2, 3)
failed = []
for name, kwargs in (("MeanIoU", {"num_classes": 2}), ("BinaryIoU", {})):
    metric = getattr(tf.keras.metrics, name)(**kwargs)
    try:
        metric.update_state(y_true, y_pred.astype("float32"), sample_weight=weight)
        print(name, "gives", float(metric.result()))
    except tf.errors.InvalidArgumentError as exc:
        print(name, "raises:", str(exc).split("}}")[-1].strip()[:100])
        failed.append(name)
cm = np.zeros((2, 2))
np.add.at(cm, (y_true.ravel(), y_pred.ravel()), np.broadcast_to(weight, y_true.shape).ravel())
iou = np.diag(cm) / (cm.sum(0) + cm.sum(1) - np.diag(cm))
print("documented MeanIoU:", iou.mean())
raise SystemExit(0 if failed else 1)
