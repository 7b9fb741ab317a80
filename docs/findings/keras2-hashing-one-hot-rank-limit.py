"""Keras 2's Hashing(output_mode="one_hot") raises on a 2-D input whose last dimension is not 1,
which its docstring accepts.

tf_keras.layers.Hashing output_mode "one_hot": "Encodes each individual element in the input
into an array the same size as `num_bins` ... If the last dimension is not size 1, will append
a new dimension for the encoded output."; input shape: "A single or list of string, int32 or
int64 `Tensor` ... of shape `(batch_size, ...,)`". On a (2, 8) integer input it raises
ValueError "When output_mode is not `'int'`, maximum supported output rank is 2". Keras 2
documents that limit for CategoryEncoding and IntegerLookup ("currently only output up to rank
2 is supported"), not for Hashing (as keras2-discretization-one-hot-rank-limit for
Discretization). A (n, 1) input is encoded to (n, num_bins) and works; Keras 3 returns the
(2, 8, 7) one-hot output.

Recorded as keras2-hashing-one-hot-rank-limit (cases/hashing_layers.yaml, hashing_integer_edges).
Exits 0 while the layer raises, 1 once it returns the (2, 8, 7) output.
"""
import os
import sys

os.environ["TF_USE_LEGACY_KERAS"] = "1"  # tf.keras is Keras 2, the tf_keras package
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

print("tensorflow", tf.__version__, "(tf.keras is", tf.keras.__name__ + ")")
x = np.array([[0, 1, -1, 9, 10, -10, 99, 100], [5, 6, 7, 8, 9, 10, 11, 12]], dtype=np.int64)
layer = tf.keras.layers.Hashing(num_bins=7, output_mode="one_hot")
print("(2, 1) input -> shape", tuple(layer(x[:, :1]).shape))
bins = np.asarray(tf.keras.layers.Hashing(num_bins=7)(x))
try:
    out = np.asarray(layer(x))
except ValueError as exc:
    print("(2, 8) input raises ValueError:", " ".join(str(exc).split())[:200])
    sys.exit(0)
print("(2, 8) input -> shape", out.shape, "; the one-hot of the int bins:", np.array_equal(out, np.eye(7)[bins]))
sys.exit(1)
