"""Keras 2's IntegerLookup with output_mode="int" (the default) raises ValueError in the
constructor when given a floating `dtype`: "When `output_mode='int'`, `dtype` should be an
integer type. Received: dtype=float32". Its docstring lists no `dtype` argument and no such
rule; every layer takes `dtype` ("The dtype of the layer's computations and weights", the
base Layer's docstring). Discretization, which has the same rule in its code, maps a floating
dtype to int64 instead ("Compat for when dtype was always floating and ignored by the layer"),
and Keras 3's IntegerLookup ignores the dtype and returns int64 indices. The integer output
makes the rule reasonable: a documentation gap, not a wrong result.

Recorded as keras2-integer-lookup-float-dtype-rejected for the tf_keras target.
"""
import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"  # tf.keras is Keras 2, the tf_keras package
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

print("tensorflow", tf.__version__)
x = np.array([[3, 4, 7], [1, 0, 5]], np.int32)
print("IntegerLookup(vocabulary=[3, 5, 7, 1]):", np.asarray(tf.keras.layers.IntegerLookup(vocabulary=[3, 5, 7, 1])(x)).tolist())
d = tf.keras.layers.Discretization(bin_boundaries=[0.0, 1.0], dtype="float32")
print("Discretization(dtype='float32') builds, output dtype", d(np.array([[0.5]])).dtype.name)
try:
    tf.keras.layers.IntegerLookup(vocabulary=[3, 5, 7, 1], dtype="float32")
    print("IntegerLookup(dtype='float32') builds")
    raise SystemExit(1)
except ValueError as exc:
    print("IntegerLookup(dtype='float32') raises ValueError:", " ".join(str(exc).split())[:120])
    raise SystemExit(0)  # 0 while the divergence is there
