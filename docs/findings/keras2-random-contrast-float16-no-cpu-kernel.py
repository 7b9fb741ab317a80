"""Keras 2's RandomContrast cannot run in float16 on CPU in training: it calls
tf.image.adjust_contrast on the float16 images, and AdjustContrastv2 has no CPU kernel for
half (registered: CPU float only), so the call raises NotFoundError "Could not find device for
node: {{node AdjustContrastv2}} = AdjustContrastv2[T=DT_HALF]", with dtype="float16" and under
mixed_float16. bfloat16 (cast inside tf.image) and float32 work; Keras 3 computes the
contrast with its own ops in every dtype. Layer: "dtype: The dtype of the layer's computations
and weights"; RandomContrast: "Contrast is adjusted independently for each channel of each
image during training."

Recorded as keras2-random-contrast-float16-no-cpu-kernel for the tf_keras target.
"""
import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"  # tf.keras is Keras 2, the tf_keras package
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import tf_keras  # noqa: E402

print(f"tensorflow {tf.__version__}, tf_keras {tf_keras.__version__}")
x = np.random.default_rng(0).random((4, 6, 7, 3))
raised = {}
for dtype, compute in (("float16", "float16"), ("mixed_float16", "float16"), ("bfloat16", "bfloat16"), ("float32", "float32")):
    layer = tf_keras.layers.RandomContrast(0.4, seed=1, dtype=dtype)
    try:
        y = layer(tf.constant(x, compute), training=True)
        print(f"{dtype:14}: returns {y.dtype.name} {tuple(y.shape)}")
        raised[dtype] = False
    except tf.errors.NotFoundError as exc:
        print(f"{dtype:14}: raises NotFoundError: {' '.join(str(exc).split())[70:170]}")
        raised[dtype] = True
print("documented: contrast-adjusted images in the layer's dtype")
raise SystemExit(0 if raised["float16"] and raised["mixed_float16"] else 1)  # 0 while the divergence is there
