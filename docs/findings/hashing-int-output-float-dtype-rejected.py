"""Keras 3's Hashing with output_mode="int" (the default) refuses a floating layer dtype, a rule
its documentation does not state, and its documented output dtype is not the one it returns.

Hashing's docstring lists no `dtype` rule (the base Layer: "dtype: the dtype of the layer's
computations and weights") and documents "Output shape: An `int32` tensor of shape
`(batch_size, ...)`". Hashing(num_bins=3, dtype="float32") raises ValueError in the
constructor ("When `output_mode="int"`, `dtype` should be an integer type, 'int32' or 'in64'");
built without a dtype it returns int64, not int32. Keras 3's HashedCrossing takes the same
dtype and returns its bins as float32; Keras 2's Hashing takes it too. The output is integer,
so the rule is reasonable: a documentation gap.

Recorded as hashing-int-output-float-dtype-rejected (cases/hashing_layers.yaml: every
output_mode "int" case of Hashing in Keras 3). Exits 0 while the constructor raises, 1 once it
builds.
"""
import sys

import numpy as np
import tensorflow as tf

keras = tf.keras
print("tensorflow", tf.__version__, "keras", keras.__version__)
x = np.array([[3, -4, 5], [6, 0, 8]], dtype=np.int32)
print("Hashing(num_bins=3) output dtype:", keras.layers.Hashing(num_bins=3)(x).dtype.name, "(documented: int32)")
print("HashedCrossing(num_bins=3, dtype='float32') output dtype:",
      keras.layers.HashedCrossing(num_bins=3, dtype="float32")((x[:, 0], x[:, 1])).dtype.name)
try:
    keras.layers.Hashing(num_bins=3, dtype="float32")
except ValueError as exc:
    print("Hashing(num_bins=3, dtype='float32') raises ValueError:", " ".join(str(exc).split())[:160])
    sys.exit(0)
print("Hashing(num_bins=3, dtype='float32') builds")
sys.exit(1)
