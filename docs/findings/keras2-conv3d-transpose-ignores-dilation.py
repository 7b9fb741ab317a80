"""Keras 2 documents Conv3DTranspose's dilation_rate ("an integer or tuple/list of 3
integers, specifying the dilation rate to use for dilated convolution"), but ignores it: the
output has the shape and the values of the undilated transposed convolution. A 'valid'
transposed convolution of length n with kernel k, stride 1 and dilation d has length
n - 1 + d (k - 1) + 1: (3, 4, 4) with k = 2 and d = (1, 2, 3) gives (4, 6, 7); Keras 2 gives
(4, 5, 5), as for d = 1, and its values match dilation_rate=1 exactly. (Keras 3 gives (4, 6, 7).)

Recorded as keras2-conv3d-transpose-ignores-dilation for the tf_keras target.
"""
import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"  # tf.keras is Keras 2, the tf_keras package
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import tf_keras  # noqa: E402

print(f"tensorflow {tf.__version__}, tf_keras {tf_keras.__version__}")
x = np.random.default_rng(0).normal(size=(1, 3, 4, 4, 2)).astype("float32")
dilated = tf.keras.layers.Conv3DTranspose(2, 2, dilation_rate=(1, 2, 3))
plain = tf.keras.layers.Conv3DTranspose(2, 2)
dilated.build(x.shape)
plain.build(x.shape)
plain.set_weights(dilated.get_weights())
got, undilated = dilated(x).numpy(), plain(x).numpy()
print("output shape with dilation_rate=(1, 2, 3):", got.shape[1:4], " documented: (4, 6, 7)")
same = got.shape == undilated.shape and np.allclose(got, undilated)
print("equal to the undilated layer's output:", same)
raise SystemExit(0 if got.shape[1:4] != (4, 6, 7) else 1)  # 0 while the divergence is there
