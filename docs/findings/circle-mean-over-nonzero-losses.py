"""Circle's "sum_over_batch_size" divides by the number of anchors whose loss is above 0, not by the batch size.

Documentation (keras.losses.Circle, and the Loss base class):
    reduction: ... "sum_over_batch_size" and "mean" sum the loss and divide by the sample size,
    and "mean_with_sample_weight" sums the loss and divides by the sum of the sample weights.
An anchor with no other sample of its label (remove_diagonal=True) has no positive pair: its
Circle loss is softplus(-inf) = 0, and keras.losses.circle returns 0 for it. The class then
divides the sum by the number of non-zero losses (a mask of loss > 0), so the batch mean is off
by batch / (number of anchors with positives); mean_with_sample_weight likewise leaves those
anchors' weights out of the divisor. The Circle docstring says nothing of such a mask.

Exit status: 0 while tf.keras still diverges, 1 once it agrees.
Run: python docs/findings/circle-mean-over-nonzero-losses.py
"""
import numpy as np
import tensorflow as tf

keras = tf.keras
print("tensorflow", tf.__version__, "keras", keras.__version__)

rng = np.random.default_rng(0)
e = rng.normal(size=(5, 4))
e /= np.linalg.norm(e, axis=1, keepdims=True)
labels = np.array([0, 0, 1, 1, 2])                     # the last anchor has no positive
per_anchor = np.asarray(keras.losses.circle(labels, e), np.float64)
got = float(keras.losses.Circle(dtype="float64")(labels, e))
print("per-anchor losses (keras.losses.circle):", np.round(per_anchor, 5).tolist())
print(f"Circle() sum_over_batch_size: tf.keras {got:.6f}; sum / batch size {per_anchor.sum() / 5:.6f}; "
      f"sum / non-zero losses {per_anchor.sum() / np.count_nonzero(per_anchor):.6f}")
raise SystemExit(0 if abs(got - per_anchor.sum() / 5) > 1e-4 else 1)
