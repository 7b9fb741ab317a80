"""Keras 2's Hashing and Discretization with output_mode="int" (their default) raise TypeError in
the constructor when their dtype is a mixed precision policy, by name or as a Policy:
"Cannot convert the argument `type_value`: 'mixed_float16' to a TensorFlow DType". The
constructor checks a floating dtype with tf.as_dtype(dtype), which knows no policy, before the
base Layer parses it. A plain floating dtype is accepted there and ignored (dtype="float16" gives
the int64 bins), and so is the mixed policy set globally (set_global_policy): only a policy passed
as the layer's dtype fails. Documentation: tf_keras.mixed_precision.Policy "Policies can be passed
to the `dtype` argument of layer constructors" and "passing a dtype policy name to a layer is
equivalent to passing the corresponding policy"; Layer "dtype: ... Can also be a
`tf.keras.mixed_precision.Policy`"; Hashing "Output shape: An int64 `Tensor` ...".

Recorded as keras2-int-output-mixed-policy-type-error for the tf_keras target.
"""
import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"  # tf.keras is Keras 2, the tf_keras package
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import tf_keras  # noqa: E402

print(f"tensorflow {tf.__version__}, tf_keras {tf_keras.__version__}")
ids = tf.constant([[3], [7], [11], [42]])
values = tf.constant([[-1.5, 1.0, 3.4, 0.5], [0.0, 3.0, 1.3, 0.0]])
build = {
    "Hashing": (lambda dtype: tf_keras.layers.Hashing(num_bins=5, dtype=dtype), ids),
    "Discretization": (lambda dtype: tf_keras.layers.Discretization(bin_boundaries=[0.0, 1.0, 2.0], dtype=dtype), values),
}
raised = 0
for name, (make, x) in build.items():
    for dtype in ("float16", "mixed_float16", "mixed_bfloat16", tf_keras.mixed_precision.Policy("mixed_float16")):
        try:
            out = make(dtype)(x)
            print(f"{name}(dtype={dtype!s:26}) -> {out.dtype.name} {np.asarray(out).ravel().tolist()}")
        except TypeError as exc:
            raised += str(dtype) != "float16"
            print(f"{name}(dtype={dtype!s:26}) raises TypeError: {exc}")
tf_keras.mixed_precision.set_global_policy("mixed_float16")
out = tf_keras.layers.Hashing(num_bins=5)(ids)
tf_keras.mixed_precision.set_global_policy("float32")
print(f"Hashing() under set_global_policy('mixed_float16') -> {out.dtype.name} {np.asarray(out).ravel().tolist()}")
print("documented: the same int64 bins for every policy")
raise SystemExit(0 if raised == 6 else 1)  # 0 while the divergence is there
