"""Keras 2's Discretization raises for output_mode="one_hot" on a 2-D input, which its
docstring accepts: "Input shape: Any `tf.Tensor` or `tf.RaggedTensor` of dimension 2 or
higher", and for "one_hot": "If the last dimension is not size 1, will append a new dimension
for the encoded output". On its own docstring example input (2, 4) the layer raises
ValueError "When output_mode is not `'int'`, maximum supported output rank is 2" (the limit
Keras 2 documents for CategoryEncoding and IntegerLookup, "currently only output up to rank 2
is supported", and not for Discretization). Keras 3 returns the (2, 4, 4) one-hot output.

Recorded as keras2-discretization-one-hot-rank-limit for the tf_keras target.
"""
import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"  # tf.keras is Keras 2, the tf_keras package
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

print("tensorflow", tf.__version__)
x = np.array([[-1.5, 1.0, 3.4, 0.5], [0.0, 3.0, 1.3, 0.0]])  # the docstring's example input
print("int:", np.asarray(tf.keras.layers.Discretization(bin_boundaries=[0.0, 1.0, 2.0])(x)).tolist())
documented = np.eye(4)[[[0, 2, 3, 1], [1, 3, 2, 1]]]  # (2, 4, 4): a new last dimension
try:
    y = tf.keras.layers.Discretization(bin_boundaries=[0.0, 1.0, 2.0], output_mode="one_hot")(x)
    print("one_hot: shape", tuple(y.shape), "equal to the documented (2, 4, 4):", np.array_equal(np.asarray(y), documented))
    raise SystemExit(1)
except ValueError as exc:
    print("one_hot raises ValueError:", " ".join(str(exc).split())[:160])
    raise SystemExit(0)  # 0 while the divergence is there
