"""In Keras 2, a Sequential model holding HashedCrossing, called on its integer features and
saved to a .keras file, cannot be loaded back.

tf_keras Model.save: save_format "keras" saves the model "in the native TF-Keras format
(`.keras`)"; tf_keras.models.load_model loads a model saved via model.save(). The file keeps the
model's build shapes but not the inputs' dtype: load_model rebuilds the model on float32
placeholders and HashedCrossing raises ValueError "All `HashedCrossing` inputs should have an
integer or string dtype". The same layer in a functional model with integer Inputs loads, and so
do Sequential models of Hashing or IntegerLookup called on integers (they accept the float
placeholders); Keras 3 loads the Sequential model. Found by the serialization check (the
.keras round trip puts the layer in a Sequential model).

Recorded as keras2-hashed-crossing-sequential-not-loadable for the tf_keras target
(cases/hashing_layers.yaml, hashed_crossing_compiled). Exits 0 while load_model raises, 1 once
the model comes back with the same outputs.
"""
import os
import sys
import tempfile

os.environ["TF_USE_LEGACY_KERAS"] = "1"  # tf.keras is Keras 2, the tf_keras package
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

keras = tf.keras
print("tensorflow", tf.__version__, "(tf.keras is", keras.__name__ + ")")
a, b = tf.constant([1, 2, 3]), tf.constant([4, 5, 6])


def round_trip(model, inputs):
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.keras")
        model.save(path)
        return np.asarray(keras.models.load_model(path)(inputs))


first, second = keras.Input((), dtype="int32"), keras.Input((), dtype="int32")
functional = keras.Model([first, second], keras.layers.HashedCrossing(num_bins=3, output_mode="one_hot")((first, second)))
print("functional model with int32 Inputs comes back:", np.array_equal(round_trip(functional, [a, b]), np.asarray(functional([a, b]))))
sequential = keras.Sequential([keras.layers.HashedCrossing(num_bins=3, output_mode="one_hot")])
original = np.asarray(sequential((a, b)))
try:
    loaded = round_trip(sequential, (a, b))
except ValueError as exc:
    print("Sequential([HashedCrossing]): load_model raised ValueError:", " ".join(str(exc).split())[:220])
    sys.exit(0)
print("Sequential([HashedCrossing]) comes back; same outputs:", np.array_equal(original, loaded))
sys.exit(1)
