"""Keras 2's side of keras2-upsampling-bilinear-mixed-output-float32 for every interpolation:
UpSampling2D resizes with tf.image.resize, which returns float32 for every method but "nearest",
and Keras 2 does not cast back. So under the mixed_float16 and mixed_bfloat16 policies (and with
dtype "float16" or "bfloat16") UpSampling2D with interpolation "bilinear", "bicubic", "lanczos3",
"lanczos5", "area", "gaussian" or "mitchellcubic" returns float32; "nearest" returns the compute
dtype, as Keras 3 does for all. tf_keras.mixed_precision.Policy: "compute_dtype: The compute dtype
of this policy. This is the dtype layers will do their computations in. Typically layers output
tensors with the compute dtype as well."

Part of keras2-upsampling-bilinear-mixed-output-float32 (tf_keras).
"""
import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"  # tf.keras is Keras 2, the tf_keras package
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import tf_keras  # noqa: E402

print(f"tensorflow {tf.__version__}, tf_keras {tf_keras.__version__}")
x = tf.constant(np.random.default_rng(0).normal(size=(2, 3, 4, 3)).astype(np.float32))
out = {}
for interpolation in ("nearest", "bilinear", "bicubic", "lanczos3", "lanczos5", "area", "gaussian", "mitchellcubic"):
    for policy in ("mixed_float16", "mixed_bfloat16"):
        out[interpolation, policy] = tf_keras.layers.UpSampling2D(2, interpolation=interpolation, dtype=policy)(x).dtype.name
    print(f"{interpolation:13} mixed_float16 -> {out[interpolation, 'mixed_float16']:8} mixed_bfloat16 -> {out[interpolation, 'mixed_bfloat16']}")
print("documented (typically): the compute dtype, float16 and bfloat16")
float32 = [k for k, v in out.items() if v == "float32"]
raise SystemExit(0 if len(float32) == 14 else 1)  # 0 while the divergence is there
