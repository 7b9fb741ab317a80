"""PReLU(shared_axes=0): `shared_axes` names axes of the input, batch first (the docstring's
example shares height and width of (batch, height, width, channels) with [1, 2]); the batch axis
has no parameters to share. tf.keras accepts 0 and, indexing the parameter shape with 0 - 1,
shares along the last axis (the channels) instead. Found by `conformance fuzz all` (seed 0).

Recorded in cases/activation_layers.yaml (prelu_shared_axes_batch_is_rejected).
"""
import numpy as np
import tensorflow as tf

for shared_axes in ([0], [2]):
    layer = tf.keras.layers.PReLU(shared_axes=shared_axes)
    layer.build((2, 4, 3))
    print(f"shared_axes={shared_axes}: alpha shape {tuple(layer.alpha.shape)}")
# both give alpha of shape (4, 1): [0] silently means the last axis
x = np.array([[-1.0, -2.0, -3.0], [1.0, -1.0, 2.0]], np.float32)
layer = tf.keras.layers.PReLU(shared_axes=0)
print("PReLU(shared_axes=0) on (2, 3): alpha shape", tuple(layer(x).shape), "->", tuple(layer.alpha.shape))
