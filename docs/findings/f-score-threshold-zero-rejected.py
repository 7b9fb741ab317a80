"""F1Score and FBetaScore reject threshold=0, which their docstrings allow.

Documentation (keras.metrics.F1Score, FBetaScore): "threshold: Elements of `y_pred` greater than
`threshold` are converted to be 1, and the rest 0. If `threshold` is `None`, the argmax of
`y_pred` is converted to 1, and the rest to 0." No range is stated (and Precision documents
`thresholds=0` for logits). The constructor raises ValueError "Invalid `threshold` argument value.
It should verify 0 < threshold <= 1. Received: threshold=0.0"; negative thresholds (logits) are
refused too.

Exit status: 0 while threshold=0 raises, 1 once it gives the documented scores.
Run: python docs/findings/f-score-threshold-zero-rejected.py
"""
import numpy as np
import tensorflow as tf

print("tensorflow", tf.__version__, "keras", tf.keras.__version__)
y_true = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
y_pred = np.array([[0.3, -0.2], [-0.1, 0.4], [0.5, -0.6]])  # logits: positive where > 0
try:
    metric = tf.keras.metrics.F1Score(threshold=0.0)
    metric.update_state(y_true, y_pred)
    print("F1Score(threshold=0):", np.asarray(metric.result()).tolist())
    rejected = False
except ValueError as exc:
    print("F1Score(threshold=0) raises:", exc)
    rejected = True
# documented: predictions [[1, 0], [0, 1], [1, 0]]: class 0 tp 2, class 1 tp 1, fn 1 -> [1.0, 2/3]
print("documented:", [1.0, 2 / 3])
raise SystemExit(0 if rejected else 1)
