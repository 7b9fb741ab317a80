"""Keras 2's NonNeg constraint ("Constrains the weights to be non-negative") cannot be applied
to float16 or bfloat16 weights, as it cannot to float64 ones: it multiplies the weights by a
mask cast to backend.floatx() (float32), so eagerly it raises InvalidArgumentError ("cannot
compute Mul as input #1(zero-based) was expected to be a half tensor but is a float tensor")
and inside tf.function a TypeError. A Dense(dtype="float16") with kernel_constraint="non_neg"
fails at its first optimizer step. Under the mixed_float16 / mixed_bfloat16 policies the
variables are float32 and the constraint works. Keras 3 returns the projected weights in every
dtype.

Recorded as keras2-non-neg-float64-rejected (extended to float16 and bfloat16) for the tf_keras
target.
"""
import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"  # tf.keras is Keras 2, the tf_keras package
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import tf_keras  # noqa: E402

print(f"tensorflow {tf.__version__}, tf_keras {tf_keras.__version__}")
weights = np.array([[0.5, -1.25], [2.0, -0.75]])
print("documented: [[0.5, 0.0], [2.0, 0.0]]")
raised = 0
for dtype in ("float16", "bfloat16", "float64"):
    w = tf.constant(weights, dtype=dtype)
    for name, fn in [("eager", tf.keras.constraints.NonNeg()), ("tf.function", tf.function(tf.keras.constraints.NonNeg()))]:
        try:
            print(f"{dtype:8s} {name:11s} ->", tf.cast(fn(w), "float64").numpy().tolist())
        except (tf.errors.InvalidArgumentError, TypeError) as exc:
            raised += 1
            print(f"{dtype:8s} {name:11s} raises", type(exc).__name__ + ":", " ".join(str(exc).split())[:110])

# the same in a layer: the first optimizer step applies the constraint
layer = tf.keras.layers.Dense(2, kernel_constraint="non_neg", dtype="float16")
layer.build((None, 3))
x = tf.constant([[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]], dtype="float16")
with tf.GradientTape() as tape:
    loss = tf.reduce_sum(layer(x))
grads = tape.gradient(loss, layer.trainable_variables)
try:
    tf.keras.optimizers.SGD(0.1).apply_gradients(zip(grads, layer.trainable_variables))
    print("Dense(dtype='float16', kernel_constraint='non_neg') steps; kernel >= 0:", bool(np.all(layer.kernel.numpy() >= 0)))
except (tf.errors.InvalidArgumentError, TypeError) as exc:
    raised += 1
    print("Dense(dtype='float16', kernel_constraint='non_neg'): the optimizer step raises", type(exc).__name__)
raise SystemExit(0 if raised == 7 else 1)  # 0 while the divergence is there
