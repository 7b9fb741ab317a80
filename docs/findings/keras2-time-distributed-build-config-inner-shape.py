"""keras2-time-distributed-build-config-inner-shape: in Keras 2 (tf_keras), a TimeDistributed
layer built with build(input_shape) records the wrapped layer's input shape (without the time
axis) as its own build config, so deserialize_keras_object(serialize_keras_object(layer)) raises.

Keras 2's serialize_keras_object stores a built layer's get_build_config() and
deserialize_keras_object rebuilds the layer from it. TimeDistributed(Dense(4)).build((2, 3, 6))
reports get_build_config() == {'input_shape': (2, 6)} (the shape its Dense was built on), and
the round trip fails: ValueError "`TimeDistributed` Layer should be passed an `input_shape` with
at least 3 dimensions, received: (2, 6)". The same layer built by calling it reports (2, 3, 6)
and round-trips; Keras 3 round-trips both.

Runs TensorFlow with TF_USE_LEGACY_KERAS=1 (tf.keras is Keras 2); prints the versions and exits 0
while the round trip raises, 1 once it gives the layer back.
"""
import os
import sys

os.environ["TF_USE_LEGACY_KERAS"] = "1"
from importlib import metadata  # noqa: E402

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

keras = tf.keras
print("tensorflow", tf.__version__, "tf_keras", metadata.version("tf_keras"), "(tf.keras is", keras.__name__ + ")")

called = keras.layers.TimeDistributed(keras.layers.Dense(4))
called(np.zeros((2, 3, 6), "float32"))
print("built by a call: build config", called.get_build_config())

layer = keras.layers.TimeDistributed(keras.layers.Dense(4))
layer.build((2, 3, 6))
print("built by build((2, 3, 6)): build config", layer.get_build_config())
try:
    copy = keras.utils.deserialize_keras_object(keras.utils.serialize_keras_object(layer))
except ValueError as exc:
    print("deserialize_keras_object(serialize_keras_object(layer)) raised ValueError:", str(exc).splitlines()[0])
    sys.exit(0)
print("the layer comes back, built:", copy.built)
sys.exit(1)
