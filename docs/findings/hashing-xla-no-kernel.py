"""Hashing and HashedCrossing under XLA (tf.function(jit_compile=True)) do not compile: the
string ops they are built on (AsString, which turns integer inputs into text, the string hash,
and SparseCrossHashed) have no XLA kernel. Eagerly and in tf.function both layers work and
agree with their docstrings (Hashing's FarmHash64 example: ['A', 'B', 'C', 'D', 'E'] with
num_bins=3 -> [1, 0, 1, 1, 2]). The docstrings document no mode the layers cannot run in
("It cannot be used as part of the compiled computation graph of a model with any backend other
than TensorFlow" implies that with TensorFlow it can). Keras 2 (tf_keras) behaves
the same.

Recorded as hashing-xla-no-kernel in cases/hashing_layers.yaml (hashing_compiled,
hashed_crossing_compiled). Exits 0 while XLA raises, 1 once both layers compile.
"""
import sys

import numpy as np
import tensorflow as tf

print("tensorflow", tf.__version__, "(tf.keras is", tf.keras.__name__ + ")")
hashing = tf.keras.layers.Hashing(num_bins=3)
print("Hashing docstring example, eagerly:", hashing(tf.constant([["A"], ["B"], ["C"], ["D"], ["E"]])).numpy().ravel().tolist())
x = tf.constant(np.array([[3, -4, 5], [6, 0, 8]], dtype=np.int64))
print("Hashing(num_bins=6) on integers, tf.function:", tf.function(hashing)(x).numpy().tolist())
crossing = tf.keras.layers.HashedCrossing(num_bins=1, output_mode="one_hot")
a, b = tf.constant([1, 2, 3]), tf.constant([4, 5, 6])
print("HashedCrossing(num_bins=1), tf.function:", tf.function(lambda p, q: crossing((p, q)))(a, b).numpy().tolist())
failures = 0
for name, run in (("Hashing", lambda: tf.function(hashing, jit_compile=True)(x)),
                  ("HashedCrossing", lambda: tf.function(lambda p, q: crossing((p, q)), jit_compile=True)(a, b))):
    try:
        run()
        print(name, "under XLA: computed")
    except tf.errors.InvalidArgumentError as exc:
        ops = sorted(set(op for op in ("AsString", "StringToHashBucketFast", "SparseCrossHashed", "SparseCross")
                         if op in str(exc)))
        print(name, "under XLA: InvalidArgumentError, unsupported operations:", ops)
        failures += 1
sys.exit(0 if failures else 1)
