"""Keras 2's BatchNormalization documents its moving statistics as
"moving_var = moving_var * momentum + var(batch) * (1 - momentum)", with the same var(batch)
its training output normalizes by (the batch's own, biased variance). On 4-D inputs, where
Keras 2 uses its fused kernel by default (`fused=None`: "use a faster, fused implementation
if possible"), the moving variance takes the unbiased variance n / (n - 1) * var(batch)
instead (Bessel's correction); on inputs of other ranks, and in Keras 3, it takes var(batch).
With n = 40 values per channel and momentum 0.5 the moving variance is off by 1.3%.

Recorded as keras2-batch-norm-fused-moving-variance-unbiased for the tf_keras target.
"""
import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"  # tf.keras is Keras 2, the tf_keras package
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import tf_keras  # noqa: E402

print(f"tensorflow {tf.__version__}, tf_keras {tf_keras.__version__}")
x = np.random.default_rng(0).normal(0.25, 1.0, size=(2, 5, 4, 3)).astype("float32")  # n = 2*5*4 = 40 per channel
layer = tf.keras.layers.BatchNormalization(momentum=0.5)
layer.build(x.shape)
layer(x, training=True)
variance = x.var(axis=(0, 1, 2))  # var(batch), the biased variance the output is normalized by
documented = 0.5 * 1.0 + 0.5 * variance
bessel = 0.5 * 1.0 + 0.5 * variance * 40 / 39
got = layer.moving_variance.numpy()
print("moving_variance              ", got)
print("documented (var(batch))      ", documented)
print("with n/(n-1) (Bessel)        ", bessel)
raise SystemExit(0 if np.allclose(got, bessel, rtol=1e-6) and not np.allclose(got, documented, rtol=1e-4) else 1)
