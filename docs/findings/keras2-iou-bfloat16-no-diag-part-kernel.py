"""Keras 2's IoU metrics (IoU, MeanIoU, BinaryIoU, OneHotIoU, OneHotMeanIoU) built with
dtype="bfloat16" ("dtype: (Optional) data type of the metric result.") accept update_state but
raise in result(): the confusion matrix is kept in the metric's dtype and its diagonal is read
with tf.linalg.tensor_diag_part, which has no bfloat16 CPU kernel (NotFoundError "Could not find
device for node: {{node DiagPart}} = DiagPart[T=DT_BFLOAT16]"). float16 and float32 work, and so
does mixed_bfloat16 (float32 variables). Keras 3 returns the bfloat16 IoU.

Recorded as keras2-iou-bfloat16-no-diag-part-kernel for the tf_keras target.
"""
import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"  # tf.keras is Keras 2, the tf_keras package
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import tf_keras  # noqa: E402

print(f"tensorflow {tf.__version__}, tf_keras {tf_keras.__version__}")
y_true = np.array([0, 0, 1, 1, 2, 1])
y_pred = np.array([0, 1, 0, 1, 2, 2])
# documented: IoU = TP / (TP + FP + FN) per class: 1/3, 1/4, 1/2; mean 0.3611
print("documented MeanIoU(num_classes=3): 0.3611")
raised = 0
for dtype in ("float32", "float16", "bfloat16"):
    for name, metric, (a, b) in [
        ("MeanIoU(num_classes=3)", tf.keras.metrics.MeanIoU(num_classes=3, dtype=dtype), (y_true, y_pred)),
        ("BinaryIoU()", tf.keras.metrics.BinaryIoU(dtype=dtype), (np.array([0, 1, 1, 0]), np.array([0.2, 0.7, 0.4, 0.6]))),
    ]:
        metric.update_state(a, b)
        try:
            print(f"{dtype:8s} {name:22s} -> {float(tf.cast(metric.result(), 'float64')):.4f}")
        except tf.errors.NotFoundError as exc:
            raised += dtype == "bfloat16"
            print(f"{dtype:8s} {name:22s} result() raises NotFoundError:", " ".join(str(exc).split())[:90])
raise SystemExit(0 if raised == 2 else 1)  # 0 while the divergence is there
