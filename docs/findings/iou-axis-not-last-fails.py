"""IoU metrics with `axis` other than -1 fail in result().

Documentation (keras.metrics.MeanIoU, OneHotMeanIoU, ...): "axis: (Optional) The dimension
containing the logits. Defaults to `-1`." With axis=1 (channels-first scores of shape (batch,
num_classes, width)) update_state succeeds and result() raises InvalidArgumentError ("Invalid
reduction dimension (1 for input with 1 dimension(s)"): the per-class IoU vector is reduced along
`axis`. Reported upstream as keras-team/keras#23667 (fix proposed in #23668).

Exit status: 0 while result() raises, 1 once it gives the documented value.
Run: python docs/findings/iou-axis-not-last-fails.py
"""
import numpy as np
import tensorflow as tf

print("tensorflow", tf.__version__, "keras", tf.keras.__version__)
y_true = np.array([[2, 0], [1, 0]])
y_pred = np.array([[[0.2, 0.1], [0.3, 0.2], [0.5, 0.7]],
                   [[0.5, 0.1], [0.3, 0.4], [0.1, 0.5]]])  # classes on axis 1
metric = tf.keras.metrics.MeanIoU(num_classes=3, sparse_y_pred=False, axis=1)
metric.update_state(y_true, y_pred)
try:
    print("MeanIoU(axis=1):", float(metric.result()))
    failed = False
except tf.errors.InvalidArgumentError as exc:
    print("MeanIoU(axis=1).result() raises:", str(exc).split("}}")[-1].strip()[:100])
    failed = True
# documented: predicted classes argmax over axis 1 = [[2, 2], [0, 1]]; true [[2, 0], [1, 0]]
cm = np.zeros((3, 3))
np.add.at(cm, (y_true.ravel(), np.argmax(y_pred, axis=1).ravel()), 1.0)
print("documented:", np.mean(np.diag(cm) / (cm.sum(0) + cm.sum(1) - np.diag(cm))))
raise SystemExit(0 if failed else 1)
