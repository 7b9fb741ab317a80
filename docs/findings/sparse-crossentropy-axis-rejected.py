"""SparseCategoricalCrossentropy and sparse_categorical_crossentropy reject every axis but -1.

Documentation (keras.losses.SparseCategoricalCrossentropy, sparse_categorical_crossentropy):
    axis: The axis along which to compute crossentropy (the features axis). Defaults to `-1`.
tf.keras raises "ValueError: Only axis=-1 is currently supported" for axis=1 on (batch, classes,
steps) predictions with (batch, steps) labels, in eager and in tf.function alike; the documented
loss is -log p[label] along axis 1.

Exit status: 0 while tf.keras still rejects the axis, 1 once it computes the documented loss.
Run: python docs/findings/sparse-crossentropy-axis-rejected.py
"""
import numpy as np
import tensorflow as tf

keras = tf.keras
print("tensorflow", tf.__version__, "keras", keras.__version__)

rng = np.random.default_rng(0)
logits = rng.normal(size=(2, 4, 3))               # 4 classes along axis 1
labels = np.array([[0, 3, 1], [2, 2, 0]])
log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
documented = -np.take_along_axis(log_p, labels[:, None, :], axis=1)[:, 0, :]
try:
    got = keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True, axis=1)
except ValueError as exc:
    print("tf.keras raises:", exc)
    print("documented losses:", np.round(documented, 6).tolist())
    raise SystemExit(0)
print("tf.keras", np.asarray(got).tolist(), "documented", documented.tolist())
raise SystemExit(0 if not np.allclose(got, documented, rtol=1e-5) else 1)
