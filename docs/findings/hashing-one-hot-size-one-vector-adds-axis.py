"""Keras 3's Hashing(output_mode="one_hot") on a rank-1 input of one value appends a new axis,
(1,) -> (1, num_bins), where its docstring says a last dimension of size 1 is encoded in place.

Hashing output_mode "one_hot": "Encodes each individual element in the input into an array the
same size as `num_bins`, containing a 1 at the input's bin index. If the last dimension is size
1, will encode on that dimension. If the last dimension is not size 1, will append a new
dimension for the encoded output." A (1,) input has a last dimension of size 1: the documented
output is (num_bins,). Keras 3 returns (1, num_bins) (the rank-1 input read as a batch of
scalars); a (2, 1) input gives (2, num_bins) as documented, and Keras 2's Hashing gives
(num_bins,) for the (1,) input. The same sentence of CategoryEncoding was the subject of
keras-team/keras#19724. Reading a rank-1 input as a batch is reasonable: a documentation
mismatch.

Recorded as hashing-one-hot-size-one-vector-adds-axis (cases/hashing_layers.yaml,
hashing_one_hot_single_value). Exits 0 while the output is (1, num_bins), 1 once it is (num_bins,).
"""
import sys

import numpy as np
import tensorflow as tf

print("tensorflow", tf.__version__, "(tf.keras is", tf.keras.__name__ + ")")
layer = tf.keras.layers.Hashing(num_bins=4, output_mode="one_hot")
bins = np.asarray(tf.keras.layers.Hashing(num_bins=4, dtype="int64")(np.array([7, 8], np.int32)))
column = np.asarray(layer(np.array([[7], [8]], np.int32)))
print("(2, 1) input -> shape", column.shape, "; one-hot of the bins:", np.array_equal(column, np.eye(4)[bins]))
out = np.asarray(layer(np.array([7], np.int32)))
print("(1,) input -> shape", out.shape, "(documented: (4,), the one-hot vector", np.eye(4)[bins[0]].tolist(), ")")
sys.exit(0 if out.shape == (1, 4) else 1)
