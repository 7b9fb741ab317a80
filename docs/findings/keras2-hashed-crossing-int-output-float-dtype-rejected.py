"""Keras 2's HashedCrossing with output_mode="int" (the default) refuses a floating layer dtype,
a rule its docstring does not state.

tf_keras.layers.HashedCrossing documents num_bins, output_mode, sparse and "**kwargs: Keyword
arguments to construct a layer" (the base Layer: "dtype: The dtype of the layer's computations
and weights"), and no rule on the dtype. HashedCrossing(num_bins=3, dtype="float32") raises
ValueError in the constructor: "When `output_mode='int'`, `dtype` should be an integer type.
Received: dtype=float32". Keras 2's Hashing takes the same dtype and returns int64 bins;
Keras 3's HashedCrossing returns the bins as float32. The output is integer, so the rule is
reasonable: a documentation gap (as keras2-integer-lookup-float-dtype-rejected).

Recorded as keras2-hashed-crossing-int-output-float-dtype-rejected for the tf_keras target.
Exits 0 while the constructor raises, 1 once it builds.
"""
import os
import sys

os.environ["TF_USE_LEGACY_KERAS"] = "1"  # tf.keras is Keras 2, the tf_keras package
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

print("tensorflow", tf.__version__, "(tf.keras is", tf.keras.__name__ + ")")
a, b = np.array([1, 2, 3], np.int32), np.array([4, 5, 6], np.int32)
print("HashedCrossing(num_bins=3):", np.asarray(tf.keras.layers.HashedCrossing(num_bins=3)((a, b))).tolist())
print("Hashing(num_bins=3, dtype='float32') builds, output dtype",
      tf.keras.layers.Hashing(num_bins=3, dtype="float32")(a).dtype.name)
try:
    tf.keras.layers.HashedCrossing(num_bins=3, dtype="float32")
except ValueError as exc:
    print("HashedCrossing(num_bins=3, dtype='float32') raises ValueError:", " ".join(str(exc).split())[:140])
    sys.exit(0)
print("HashedCrossing(num_bins=3, dtype='float32') builds")
sys.exit(1)
