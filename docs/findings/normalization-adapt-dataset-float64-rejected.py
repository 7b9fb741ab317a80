"""Normalization(dtype="float64").adapt() over batches (a tf.data.Dataset, or a list of arrays)
raises, where the same data as one array adapts.

Normalization.adapt: "data: The data to train on. It can be passed as a NumPy array, a
backend-native eager tensor, a `tf.data.Dataset`, a `keras.utils.PyDataset`, or an iterable of
batches". Layer: "dtype: the dtype of the layer's computations and weights". Exit 0 while adapting
a float64 layer over batches raises, 1 once it gives the data's mean and variance.
"""
import numpy as np
import tensorflow as tf

print("tensorflow", tf.__version__, "keras", tf.keras.__version__)
data = np.random.default_rng(2).normal(-1.5, 0.5, size=(41, 3))
x = np.array([[0.3, -1.2, 2.5], [-2.0, -1.5, 0.75]])
expected = (x - data.mean(axis=0)) / np.sqrt(data.var(axis=0))

whole = tf.keras.layers.Normalization(axis=-1, dtype="float64")
whole.adapt(data)
print("one array:       max error", np.abs(np.asarray(whole(x)) - expected).max())
failures = 0
for name, batches in (("tf.data.Dataset", tf.data.Dataset.from_tensor_slices(data).batch(16)),
                      ("list of batches", [data[:16], data[16:32], data[32:]])):
    layer = tf.keras.layers.Normalization(axis=-1, dtype="float64")
    try:
        layer.adapt(batches)
        print(f"{name}: max error", np.abs(np.asarray(layer(x)) - expected).max())
    except Exception as exc:  # the divergence
        failures += 1
        print(f"{name}: {type(exc).__name__}: {str(exc)[:160]}")
# float16 and bfloat16 layers over batches fail the same way (a float32 one adapts)
for dtype in ("float16", "bfloat16", "float32"):
    layer = tf.keras.layers.Normalization(axis=-1, dtype=dtype)
    try:
        layer.adapt(tf.data.Dataset.from_tensor_slices(tf.constant(data, dtype=dtype)).batch(16))
        print(f"{dtype} tf.data.Dataset: adapts, mean {np.asarray(tf.cast(layer.mean, tf.float64)).ravel().round(3).tolist()}")
    except Exception as exc:
        print(f"{dtype} tf.data.Dataset: {type(exc).__name__}: {str(exc)[:120]}")
raise SystemExit(0 if failures else 1)
