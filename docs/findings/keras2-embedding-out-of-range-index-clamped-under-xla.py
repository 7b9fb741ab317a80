"""Keras 2's Embedding documents "This layer can only be used on positive integer inputs of a
fixed range" and input_dim as the "Size of the vocabulary, i.e. maximum integer index + 1".
Given an id outside [0, input_dim), it raises InvalidArgumentError eagerly and inside
tf.function (TensorFlow's CPU gather checks the range), but compiled with XLA
(tf.function(jit_compile=True)) it returns a row silently: -1 gives row 0 and input_dim + 1
gives the last row (XLA's gather clamps the index). The same layer, the same ids: an error or
a value depending on the compilation mode. Keras 3 returns a row for a negative id in every
mode (embedding-negative-index-wraps: -1 is the last row).

Recorded as keras2-embedding-out-of-range-index-clamped-under-xla for the tf_keras target.
"""
import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"  # tf.keras is Keras 2, the tf_keras package
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

print("tensorflow", tf.__version__)
layer = tf.keras.layers.Embedding(4, 3)
layer.build((1, 3))
table = layer.embeddings.numpy()
ids = np.array([[1, -1, 5]], np.int32)
results = {}
for name, fn in [("eager", layer), ("tf.function", tf.function(layer)), ("xla", tf.function(layer, jit_compile=True))]:
    try:
        results[name] = np.asarray(fn(ids))
        rows = [int(np.argmin(np.abs(table - r).sum(axis=1))) for r in results[name][0]]
        print(f"{name}: ids {ids[0].tolist()} -> rows {rows}")
    except tf.errors.InvalidArgumentError as exc:
        results[name] = None
        print(f"{name}: InvalidArgumentError:", " ".join(str(exc).split())[:110])
xla = results["xla"]
clamped = xla is not None and np.array_equal(xla[0, 1], table[0]) and np.array_equal(xla[0, 2], table[3])
print("documented: only ids in [0, input_dim) = [0, 4)")
raise SystemExit(0 if clamped and results["eager"] is None else 1)  # 0 while the divergence is there
