"""Keras 2's side of resize-scale-translate-gradient-16-bit-no-kernel: the gradient of
UpSampling2D with interpolation "lanczos3", "lanczos5", "gaussian" or "mitchellcubic" (the
resizes TensorFlow computes by ScaleAndTranslate) cannot be taken in float16 or bfloat16, nor
under the mixed policies: InvalidArgumentError "cannot compute ScaleAndTranslateGrad as input
#1(zero-based) was expected to be a float tensor but is a half tensor" eagerly, TypeError "Input
'original_image' of 'ScaleAndTranslateGrad' Op has type float16 that does not match type float32
of argument 'grads'" inside tf.function. The forward pass computes (in float32, see
keras2-upsampling-bilinear-mixed-output-float32). float32 gives the gradient. tf_keras
UpSampling2D interpolation: "A string, one of `"area"`, `"bicubic"`, `"bilinear"`, `"gaussian"`,
`"lanczos3"`, `"lanczos5"`, `"mitchellcubic"`, `"nearest"`."

Part of resize-scale-translate-gradient-16-bit-no-kernel (tf.keras and tf_keras).
"""
import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"  # tf.keras is Keras 2, the tf_keras package
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import tf_keras  # noqa: E402

print(f"tensorflow {tf.__version__}, tf_keras {tf_keras.__version__}")
x32 = np.random.default_rng(0).normal(size=(2, 3, 4, 3)).astype(np.float32)
weights = tf.constant(np.arange(2 * 6 * 8 * 3).reshape(2, 6, 8, 3) % 7, dtype=tf.float32)
raised = 0
for interpolation in ("lanczos3", "lanczos5", "gaussian", "mitchellcubic"):
    for dtype in ("float16", "bfloat16", "mixed_float16", "float32"):
        layer = tf_keras.layers.UpSampling2D(2, interpolation=interpolation, dtype=dtype)
        x = tf.constant(x32) if dtype.startswith("mixed") else tf.constant(x32, dtype=dtype)
        try:
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = layer(x)
                loss = tf.reduce_sum(tf.cast(y, tf.float32) * weights)
            g = tape.gradient(loss, x)
            print(f"{interpolation:13} {dtype:13} output {y.dtype.name}, gradient sum {float(tf.reduce_sum(tf.cast(g, tf.float32))):.2f}")
        except tf.errors.InvalidArgumentError as exc:
            raised += dtype != "float32"
            print(f"{interpolation:13} {dtype:13} gradient raises InvalidArgumentError: {' '.join(str(exc).split())[:80]}")
raise SystemExit(0 if raised == 12 else 1)  # 0 while the divergence is there
