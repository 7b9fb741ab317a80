"""An adapted Normalization's weights, set on another Normalization (from its config, or built
fresh), are not used: the copy normalizes with mean 0 and variance 1.

Layer.set_weights: "Sets the values of the weights of the layer, from NumPy arrays."; Layer.from_config:
"the same layer from the config dictionary"; get_weights gives Normalization's mean, variance and
count. Exit 0 while the copy's output differs from the adapted layer's, 1 once it is the same.
"""
import numpy as np
import tensorflow as tf

print("tensorflow", tf.__version__, "keras", tf.keras.__version__)
data = np.random.default_rng(1).normal(2.5, 3.0, size=(41, 3))
x = np.array([[0.3, -1.2, 2.5], [-2.0, -1.5, 0.75]], dtype="float32")
layer = tf.keras.layers.Normalization(axis=-1)
layer.adapt(data)
copy = tf.keras.layers.Normalization.from_config(layer.get_config())
copy.build((None, 3))
copy.set_weights(layer.get_weights())
print("weights equal:", all(np.array_equal(a, b) for a, b in zip(layer.get_weights(), copy.get_weights())))
print("adapted layer:", np.asarray(layer(x)).round(4).tolist())
print("its copy:     ", np.asarray(copy(x)).round(4).tolist(), "(x itself:", x.tolist(), ")")
difference = float(np.abs(np.asarray(copy(x)) - np.asarray(layer(x))).max())
print("max difference", difference)
raise SystemExit(0 if difference > 1e-6 else 1)
