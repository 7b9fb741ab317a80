"""Keras 2's BatchNormalization keeps `momentum` in float32 even for a float64 layer: with the
default 0.99 (float32(0.99) = 0.9900000095367432), a float64 layer's moving mean after one
call is off by about 2e-8 relative from "moving_mean * momentum + mean(batch) * (1 -
momentum)" with momentum = 0.99 (float64 arithmetic gives about 1e-16). Momenta exact in
float32 (0.5) agree. (Layer: "dtype: the dtype of the layer's computations and weights".)

Recorded as keras2-batch-norm-momentum-float32 for the tf_keras target.
"""
import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"  # tf.keras is Keras 2, the tf_keras package
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import tf_keras  # noqa: E402

print(f"tensorflow {tf.__version__}, tf_keras {tf_keras.__version__}")
x = np.random.default_rng(0).normal(0.25, 1.0, size=(8, 5, 3))  # float64, rank 3 (not fused)
worst = {}
for momentum in (0.99, 0.5):
    layer = tf.keras.layers.BatchNormalization(momentum=momentum, dtype="float64")
    layer.build(x.shape)
    layer(x, training=True)
    expected = 0.0 * momentum + x.mean(axis=(0, 1)) * (1 - momentum)
    got = layer.moving_mean.numpy()
    worst[momentum] = float(np.max(np.abs(got - expected) / np.abs(expected)))
    print(f"momentum={momentum}: max relative error of moving_mean {worst[momentum]:.3g}")
raise SystemExit(0 if worst[0.99] > 1e-11 and worst[0.5] < 1e-14 else 1)  # 0 while the divergence is there
