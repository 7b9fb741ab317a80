"""Keras 2's Dropout and SpatialDropout1D take rate=1.0 in the constructor and at
inference, but raise ValueError when called in training: "`rate` must be a scalar tensor or a
float in the range [0, 1). Received: rate=1.0" (tf.nn.dropout's rule). The docstring says
"rate: Float between 0 and 1. Fraction of the input units to drop." and "The Dropout layer
randomly sets input units to 0 with a frequency of `rate`": our reading takes the range as
closed, so rate 1 drops every unit (the 1/(1 - rate) scaling applies to no unit). Keras 3
returns zeros.

Recorded as keras2-dropout-rate-one-rejected for the tf_keras target.
"""
import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"  # tf.keras is Keras 2, the tf_keras package
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

print("tensorflow", tf.__version__)
x = np.random.default_rng(0).standard_normal((8, 16, 32)).astype(np.float32)
raised = 0
for cls in (tf.keras.layers.Dropout, tf.keras.layers.SpatialDropout1D):
    layer = cls(1.0)
    print(f"{cls.__name__}(1.0) at inference: identity = {np.array_equal(np.asarray(layer(x, training=False)), x)}")
    try:
        y = np.asarray(layer(x, training=True))
        print(f"{cls.__name__}(1.0) in training: all zero = {not y.any()}")
    except ValueError as exc:
        raised += 1
        message = " ".join(str(exc).split())
        print(f"{cls.__name__}(1.0) in training raises ValueError:", message[message.find("`rate`"):][:110])
print("documented (our reading): zeros")
raise SystemExit(0 if raised == 2 else 1)  # 0 while the divergence is there
