"""Keras 2's side of bincount-16-bit-no-kernel: its categorical layers encode every non-int
output_mode, one_hot included, with tf.math.bincount in the layer's compute dtype, and the
counting kernel (DenseBincount) has no float16 or bfloat16 type. So Hashing, HashedCrossing,
CategoryEncoding, IntegerLookup and StringLookup with output_mode "one_hot" (and "multi_hot",
"count") raise InvalidArgumentError eagerly ("Value for attr 'T' of half is not in the list of
allowed values: int32, int64, float, double ... {{node DenseBincount}}") and TypeError inside
tf.function ("Value passed to parameter 'weights' has DataType float16 ..."), with dtype
"float16" or "bfloat16" and under the mixed policies too (Keras 2 counts in the 16-bit compute
dtype; Keras 3 counts in float32 under a policy, and its one_hot does not count at all).
Documentation: HashedCrossing's docstring shows output_mode="one_hot" returning float32 one-hot
rows; Layer "dtype: The dtype of the layer's computations and weights. Can also be a
`tf.keras.mixed_precision.Policy`". float32 gives the documented encodings.

Part of bincount-16-bit-no-kernel (targets tf.keras and tf_keras).
"""
import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"  # tf.keras is Keras 2, the tf_keras package
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import tf_keras  # noqa: E402

print(f"tensorflow {tf.__version__}, tf_keras {tf_keras.__version__}")
layers = tf_keras.layers
ids = tf.constant([[1], [3], [2]])
makers = {
    "Hashing": (lambda d: layers.Hashing(num_bins=4, output_mode="one_hot", dtype=d), ids),
    "HashedCrossing": (lambda d: layers.HashedCrossing(num_bins=4, output_mode="one_hot", dtype=d),
                       (tf.constant([1, 2, 3]), tf.constant([4, 5, 6]))),
    "CategoryEncoding": (lambda d: layers.CategoryEncoding(num_tokens=4, output_mode="one_hot", dtype=d), ids),
    "IntegerLookup": (lambda d: layers.IntegerLookup(vocabulary=[1, 2, 3], output_mode="one_hot", dtype=d), ids),
}
raised = 0
for name, (make, x) in makers.items():
    for dtype in ("float16", "bfloat16", "mixed_float16", "mixed_bfloat16", "float32"):
        try:
            out = make(dtype)(x)
            print(f"{name:16} one_hot {dtype:15} -> {out.dtype.name} {np.asarray(out, dtype=np.float64).tolist()}")
        except tf.errors.InvalidArgumentError as exc:
            raised += dtype != "float32"
            message = " ".join(str(exc).split())
            print(f"{name:16} one_hot {dtype:15} raises InvalidArgumentError: {message[message.find('Value'):][:70]} ... DenseBincount")
raise SystemExit(0 if raised == 16 else 1)  # 0 while the divergence is there
