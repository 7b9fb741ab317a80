"""Keras 2's Discretization cannot bucketize float16 or bfloat16 values: it hands its input to
TensorFlow's Bucketize, which has kernels for int32, int64, float and double only. So on a 16-bit
input it raises InvalidArgumentError ("Value for attr 'T' of half is not in the list of allowed
values ... {{node Bucketize}}") eagerly and TypeError inside tf.function, whatever its
output_mode; and with dtype="float16" (or "bfloat16", or a mixed policy) and a counting or
one_hot output_mode it casts its float32 input to that dtype first and raises the same way.
(output_mode="int" with dtype="float16" ignores the floating dtype and computes on float32 input.)
tf_keras.layers.Discretization documents "Input shape: Any `tf.Tensor` or `tf.RaggedTensor` of
dimension 2 or higher." and the base Layer "dtype: The dtype of the layer's computations and
weights"; float32 gives the documented bins. Keras 3 bucketizes the same 16-bit input.

Recorded as keras2-discretization-16-bit-no-bucketize-kernel for the tf_keras target.
"""
import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"  # tf.keras is Keras 2, the tf_keras package
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import tf_keras  # noqa: E402

print(f"tensorflow {tf.__version__}, tf_keras {tf_keras.__version__}")
x = np.array([[-1.5, 1.0, 3.4, 0.5], [0.0, 3.0, 1.3, 0.0]], dtype=np.float32)  # the docstring's example
print("documented (int): [[0, 2, 3, 1], [1, 3, 2, 1]]")


def show(label, fn):
    try:
        print(f"{label:42} -> {np.asarray(fn()).tolist()}")
        return False
    except (tf.errors.InvalidArgumentError, TypeError) as exc:
        message = " ".join(str(exc).split())
        print(f"{label:42} raises {type(exc).__name__}: {message[message.find('Value'):][:95]}")
        return True


raised = []
for dtype in ("float16", "bfloat16"):
    layer = tf_keras.layers.Discretization(bin_boundaries=[0.0, 1.0, 2.0])
    raised.append(show(f"int, {dtype} input", lambda: layer(tf.constant(x, dtype=dtype))))
    raised.append(show(f"int, {dtype} input, tf.function", lambda: tf.function(layer)(tf.constant(x, dtype=dtype))))
    for policy in (dtype, "mixed_" + dtype):
        counting = tf_keras.layers.Discretization(bin_boundaries=[0.0, 1.0, 2.0], output_mode="count", dtype=policy)
        raised.append(show(f"count, dtype={policy}, float32 input", lambda: counting(tf.constant(x))))
float32_ok = not show("int, float32 input", lambda: tf_keras.layers.Discretization(bin_boundaries=[0.0, 1.0, 2.0])(x))
raise SystemExit(0 if all(raised) and float32_ok else 1)  # 0 while the divergence is there
