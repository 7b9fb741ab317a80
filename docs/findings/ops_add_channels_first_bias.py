"""keras.ops.add with a (1, C, 1) operand broadcasts wrongly on the TensorFlow backend when C
equals the other operand's last dimension (it becomes tf.nn.bias_add along the last axis):
the cause of the channels_first bias divergence of every convolution layer. Conv1D is right
inside a plain tf.function only because TensorFlow fuses the convolution with its BiasAdd; its
bias gradient is wrong there all the same (found by the gradient check).

Recorded in cases/values.yaml (channels_first_bias_reason).
"""
import numpy as np
import tensorflow as tf
from keras import ops

x = np.zeros((2, 4, 4), np.float32)
b = np.array([10, 20, 30, 40], np.float32).reshape(1, 4, 1)
print("numpy broadcasting     column 0:", (x + b)[0, :, 0], "(row i gets 10 (i + 1))")
for mode, fn in [("eager", ops.add), ("function", tf.function(ops.add)), ("xla", tf.function(ops.add, jit_compile=True))]:
    print(f"keras.ops.add {mode:9s} column 0:", np.asarray(fn(x, b))[0, :, 0])

rng = np.random.default_rng(0)
inputs = rng.normal(0.25, 1.0, size=(2, 3, 4)).astype(np.float32)  # channels_first, width 4
layer = tf.keras.layers.Conv1D(4, 3, padding="same", data_format="channels_first")
layer.build(inputs.shape)
kernel, bias = rng.normal(size=(3, 3, 4)).astype(np.float32), np.array([1, 2, 3, 4], np.float32)
layer.set_weights([kernel, bias])
no_bias = tf.keras.layers.Conv1D(4, 3, padding="same", data_format="channels_first", use_bias=False)
no_bias.build(inputs.shape)
no_bias.set_weights([kernel])
# XLA computes NCHW convolutions on every CPU; eager and tf.function need oneDNN for them (on
# a CPU without AVX512_VNNI or AMX, TensorFlow's own kernels take NHWC only)
expected = np.asarray(tf.function(no_bias, jit_compile=True)(inputs)) + bias[None, :, None]
print(f"tensorflow {tf.__version__}, keras {tf.keras.__version__}")
call = lambda t: layer(t)
worst = 0.0
for mode, fn in [("eager", call), ("function", tf.function(call)), ("xla", tf.function(call, jit_compile=True))]:
    try:
        error = float(np.abs(np.asarray(fn(inputs)) - expected).max())
    except tf.errors.UnimplementedError as exc:
        print(f"Conv1D channels_first {mode:9s} no CPU kernel here: {str(exc).strip().splitlines()[0][:100]}")
        continue
    worst = max(worst, error)
    print(f"Conv1D channels_first {mode:9s} max|keras - (conv + bias[c])| = {error:.3g}")

# The bias's gradient: d sum(v * out) / d bias[c] = sum of v over the batch and the width, per
# channel c. Inside tf.function, where the output is right, the gradient is summed wrongly.
v = rng.normal(size=expected.shape).astype(np.float32)


def bias_gradient():
    with tf.GradientTape() as tape:
        projected = tf.reduce_sum(layer(inputs) * v)
    return tape.gradient(projected, layer.bias)


documented = v.sum(axis=(0, 2))
for mode, fn in [("eager", bias_gradient), ("function", tf.function(bias_gradient)),
                 ("xla", tf.function(bias_gradient, jit_compile=True))]:
    try:
        error = float(np.abs(np.asarray(fn()) - documented).max())
    except tf.errors.UnimplementedError:
        print(f"Conv1D channels_first {mode:9s} bias gradient: no CPU kernel here")
        continue
    worst = max(worst, error)
    print(f"Conv1D channels_first {mode:9s} bias gradient max|keras - sum(v over batch, width)| = {error:.3g}")
raise SystemExit(0 if worst > 1e-3 else 1)  # 0 while the divergence is there
