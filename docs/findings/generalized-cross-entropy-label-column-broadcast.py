"""CategoricalGeneralizedCrossEntropy with labels of shape [batch_size, 1] broadcasts them against every sample.

Documentation (keras.losses.categorical_generalized_cross_entropy):
    y_true: Ground truth labels. Expected to contain *integer class indices* with shape
        `[batch_size]` or `[batch_size, 1]`.
    Returns: GCE loss values with shape `[batch_size]`.
With (batch, 1) labels, one_hot gives (batch, 1, classes), which multiplies the (batch, classes)
predictions by broadcasting into (batch, batch, classes): the function returns (batch, batch)
losses and the class averages them, a different number from the [batch_size] labels'.

Exit status: 0 while tf.keras still diverges, 1 once it agrees.
Run: python docs/findings/generalized-cross-entropy-label-column-broadcast.py
"""
import numpy as np
import tensorflow as tf

keras = tf.keras
print("tensorflow", tf.__version__, "keras", keras.__version__)

p = np.array([[0.7, 0.2, 0.1], [0.1, 0.6, 0.3], [0.25, 0.25, 0.5], [0.3, 0.3, 0.4]])
labels = np.array([0, 1, 2, 1])
q = 0.5
documented = (1 - p[np.arange(4), labels] ** q) / q
flat = np.asarray(keras.losses.categorical_generalized_cross_entropy(labels, p, q=q))
column = np.asarray(keras.losses.categorical_generalized_cross_entropy(labels[:, None], p, q=q))
print("labels [batch]:   ", np.round(flat, 6).tolist(), "shape", flat.shape)
print("labels [batch, 1]:", "shape", column.shape)
print("documented:       ", np.round(documented, 6).tolist())
cls = float(keras.losses.CategoricalGeneralizedCrossEntropy(q=q, dtype="float64")(labels[:, None], p))
print(f"class, [batch, 1] labels: {cls:.6f}; documented mean {documented.mean():.6f}")
raise SystemExit(0 if column.shape != (4,) or abs(cls - documented.mean()) > 1e-6 else 1)
