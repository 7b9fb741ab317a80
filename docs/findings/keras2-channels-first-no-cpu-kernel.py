"""Keras 2 (tf_keras) documents data_format="channels_first" for DepthwiseConv1D,
SeparableConv1D/2D, MaxPooling2D and AveragePooling2D ("channels_first corresponds to inputs
with shape (batch, channels, ...)") and a layer's dtype for its computations, with no word
about devices or dtypes (unlike its Conv1D/2D/3D, which say "the channels_first format is
currently not supported by TensorFlow on CPU"). On a CPU, in float64, these layers raise:
Keras 2 hands the NCHW layout straight to TensorFlow, whose float64 CPU kernels exist only
for NHWC (float32 forward passes go through oneDNN, which takes NCHW, where TensorFlow turns
oneDNN on). MaxPooling2D's gradient raises in float32 too, and without oneDNN its forward pass. Keras 3 computes all of them.

Recorded as keras2-channels-first-no-cpu-kernel for the tf_keras target.
"""
import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"  # tf.keras is Keras 2, the tf_keras package
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import tf_keras  # noqa: E402

print(f"tensorflow {tf.__version__}, tf_keras {tf_keras.__version__}")
layers = tf.keras.layers
x4 = np.random.default_rng(0).normal(size=(2, 3, 6, 5))  # float64, channels first
cases = [
    ("DepthwiseConv1D", layers.DepthwiseConv1D(2, data_format="channels_first", dtype="float64"), x4[:, :, :, 0]),
    ("SeparableConv1D", layers.SeparableConv1D(2, 2, data_format="channels_first", dtype="float64"), x4[:, :, :, 0]),
    ("SeparableConv2D", layers.SeparableConv2D(2, 2, data_format="channels_first", dtype="float64"), x4),
    ("MaxPooling2D", layers.MaxPooling2D(2, data_format="channels_first", dtype="float64"), x4),
    ("AveragePooling2D", layers.AveragePooling2D(2, data_format="channels_first", dtype="float64"), x4),
]


def first_line(exc):
    lines = [line for line in str(exc).splitlines() if "NHWC" in line or "only supports" in line]
    return (lines[0] if lines else str(exc).splitlines()[0]).strip()[:120]


raised = 0
for name, layer, x in cases:
    try:
        layer(x)
        print(f"{name} (float64): computed")
    except (tf.errors.UnimplementedError, tf.errors.InvalidArgumentError) as exc:
        raised += 1
        print(f"{name} (float64): raised {type(exc).__name__}: {first_line(exc)}")
x32 = tf.constant(x4.astype("float32"))
try:
    # where oneDNN is off (a CPU without AVX512_VNNI or AMX) the float32 forward pass raises
    # already; with oneDNN it computes and the gradient raises
    with tf.GradientTape() as tape:
        tape.watch(x32)
        y = layers.MaxPooling2D(2, data_format="channels_first")(x32)
    tape.gradient(y, x32)
    print("MaxPooling2D gradient (float32): computed")
except (tf.errors.UnimplementedError, tf.errors.InvalidArgumentError) as exc:
    raised += 1
    print(f"MaxPooling2D gradient (float32): raised {type(exc).__name__}: {first_line(exc)}")
raise SystemExit(0 if raised == len(cases) + 1 else 1)  # 0 while the divergence is there
