"""IntegerLookup under XLA (tf.function(jit_compile=True)) does not compile: its hash table
lookup (LookupTableFindV2) has no XLA kernel; eagerly and in tf.function it works. Keras 3's
Model.compile(jit_compile="auto") falls back to no XLA for such models, but an explicit
jit_compile=True fails.

Recorded in cases/preprocessing_layers.yaml (integer_lookup_compiled).
"""
import sys

import numpy as np
import tensorflow as tf

print("tensorflow", tf.__version__)
layer = tf.keras.layers.IntegerLookup(vocabulary=[3, 5, 7, 1])
x = tf.constant(np.array([[3, 4, 1], [7, 7, 0]], dtype=np.int32))
print("tf.function:", tf.function(layer)(x).numpy().tolist())
try:
    tf.function(layer, jit_compile=True)(x)
    print("XLA: computed")
    sys.exit(1)
except tf.errors.InvalidArgumentError as e:
    print("XLA: InvalidArgumentError, LookupTableFindV2:", "LookupTableFindV2" in str(e))
    sys.exit(0)
