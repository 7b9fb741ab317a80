"""Keras 2's HashedCrossing(output_mode="one_hot") drops the batch axis of a batch of one:
features of shape (1,) give (num_bins,), features of shape (3,) give (3, num_bins).

tf_keras.layers.HashedCrossing: "Valid input shapes are `(batch_size, 1)`, `(batch_size,)` and
`()`"; output_mode "one_hot": "Encodes each individual element in the input into an array the
same size as `num_bins`, containing a 1 at the input's bin index." A (batch_size,) input of
batch size 1 holds one element: the documented output is (1, num_bins), as for any other batch
size. Called eagerly, Keras 2 returns (num_bins,), so the output's rank depends on the batch
size; (1, 1) inputs give (1, num_bins), the same call inside tf.function gives (1, num_bins),
and Keras 3 gives (1, num_bins) for (1,).

Recorded as keras2-hashed-crossing-one-hot-batch-of-one-drops-batch-axis for the tf_keras target
(cases/hashing_layers.yaml, hashed_crossing_batch_of_one). Exits 0 while the (1,) features give
(num_bins,), 1 once they give (1, num_bins).
"""
import os
import sys

os.environ["TF_USE_LEGACY_KERAS"] = "1"  # tf.keras is Keras 2, the tf_keras package
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

print("tensorflow", tf.__version__, "(tf.keras is", tf.keras.__name__ + ")")
layer = tf.keras.layers.HashedCrossing(num_bins=4, output_mode="one_hot")
for a, b in ((np.array([3, 5, 7]), np.array([-4, 1, 2])), (np.array([[3]]), np.array([[-4]]))):
    print("features of shape", a.shape, "-> shape", tuple(layer((a, b)).shape))
a, b = tf.constant([3]), tf.constant([-4])
print("features of shape (1,) inside tf.function -> shape", tuple(tf.function(lambda p, q: layer((p, q)))(a, b).shape))
out = np.asarray(layer((a, b)))
print("features of shape (1,), eagerly -> shape", out.shape, "(documented: (1, 4))")
sys.exit(0 if out.shape == (4,) else 1)
