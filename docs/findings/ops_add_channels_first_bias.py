"""keras.ops.add with a (1, C, 1) operand broadcasts wrongly on the TensorFlow backend when C
equals the other operand's last dimension (it becomes tf.nn.bias_add along the last axis):
the cause of the channels_first bias divergence of every convolution layer. Conv1D is right
inside a plain tf.function only because TensorFlow fuses the convolution with its BiasAdd.

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
expected = np.asarray(no_bias(inputs)) + bias[None, :, None]
call = lambda t: layer(t)
for mode, fn in [("eager", call), ("function", tf.function(call)), ("xla", tf.function(call, jit_compile=True))]:
    print(f"Conv1D channels_first {mode:9s} max|keras - (conv + bias[c])| = {np.abs(np.asarray(fn(inputs)) - expected).max():.3g}")
