"""keras2-spectral-normalization-not-loadable: in Keras 2 (tf_keras), a model holding a
SpectralNormalization layer saves to a .keras file that load_model cannot read back.

tf_keras's Model.save saves `save_format="keras"` "in the native TF-Keras format (`.keras`)", which
tf.keras.models.load_model reads back. Sequential([Input((4,)), SpectralNormalization(Dense(3))]) saves, and
tf.keras.models.load_model raises TypeError "The added layer must be an instance of class Layer.
Received: layer=SpectralNormalization of type <class 'str'>": the loader does not find the class
tf_keras.layers.SpectralNormalization by the name the file gives it. The same model with the Dense
alone loads. (Keras 3 loads both.)

Runs TensorFlow with TF_USE_LEGACY_KERAS=1 (tf.keras is Keras 2); prints the versions and exits 0
while load_model raises, 1 once the model comes back with the same outputs.
"""
import os
import sys
import tempfile

os.environ["TF_USE_LEGACY_KERAS"] = "1"
from importlib import metadata  # noqa: E402

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

keras = tf.keras
print("tensorflow", tf.__version__, "tf_keras", metadata.version("tf_keras"), "(tf.keras is", keras.__name__ + ")")
x = np.arange(8, dtype="float32").reshape(2, 4) / 8.0


def round_trip(layer):
    model = keras.Sequential([keras.Input((4,)), layer])
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.keras")
        model.save(path)
        loaded = keras.models.load_model(path)
    return np.asarray(model(x)), np.asarray(loaded(x))


original, loaded = round_trip(keras.layers.Dense(3))
print("Sequential([Dense(3)]) comes back:", np.array_equal(original, loaded))
try:
    original, loaded = round_trip(keras.layers.SpectralNormalization(keras.layers.Dense(3)))
except TypeError as exc:
    print("Sequential([SpectralNormalization(Dense(3))]): load_model raised TypeError:", str(exc).splitlines()[0])
    sys.exit(0)
print("the model comes back; same outputs:", np.array_equal(original, loaded))
sys.exit(1)
