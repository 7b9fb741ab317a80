"""Keras 2's UpSampling2D(interpolation="bilinear") under a mixed precision policy returns float32.

Documentation (tf_keras.mixed_precision.Policy, Keras 2.21): "compute_dtype: The compute dtype of
this policy. This is the dtype layers will do their computations in. Typically layers output
tensors with the compute dtype as well." Under "mixed_float16" the layer should compute in, and
return, float16, as it does with interpolation="nearest" and as Keras 3 does for both; with
"bilinear" Keras 2 returns float32 (the resize computes in float32 and the result is not cast
back). Its values agree with the reference. "Typically" makes this a documentation mismatch:
the next layer gets float32 where a mixed model expects float16. With dtype="float16" ("The
dtype of the layer's computations and weights") the bilinear output is float32 as well, and
with dtype="float64" too (a float64 input).

Exit status: 0 while the bilinear output is float32, 1 once it is the compute dtype.
Run: python docs/findings/keras2-upsampling-bilinear-mixed-output-float32.py
"""
import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

keras = tf.keras
print("tensorflow", tf.__version__)
x = tf.constant(np.random.default_rng(0).normal(size=(2, 5, 4, 3)), dtype=tf.float32)
dtypes = {}
for policy in ("mixed_float16", "mixed_bfloat16", "float16", "float64"):
    for interpolation in ("nearest", "bilinear"):
        given = tf.cast(x, "float64") if policy == "float64" else x
        y = keras.layers.UpSampling2D(2, interpolation=interpolation, dtype=policy)(given)
        dtypes[policy, interpolation] = y.dtype.name
        print(f"{policy:15} {interpolation:9} output {y.dtype.name}")
raise SystemExit(0 if dtypes["mixed_float16", "bilinear"] == "float32" else 1)
