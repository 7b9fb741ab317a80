"""keras2-lambda-builtin-function-not-deserializable: in Keras 2 (tf_keras), Lambda(abs), a Python
built-in function as the layer's function, cannot be re-created from its own config.

tf_keras's Layer.from_config: "This method is the reverse of `get_config`, capable of
instantiating the same layer from the config dictionary." Lambda(abs).get_config() gives
function 'abs' with function_type 'function' and module 'builtins'; Lambda.from_config raises
TypeError "unsupported callable", and so does deserialize_keras_object(serialize_keras_object(...)).
Lambda(lambda x: abs(x)) round-trips. (Keras 3 fails the same way with another message:
lambda-builtin-function-not-deserializable.)

Runs TensorFlow with TF_USE_LEGACY_KERAS=1 (tf.keras is Keras 2); prints the versions and exits 0
while from_config raises, 1 once the copy comes back with the same outputs.
"""
import os
import sys

os.environ["TF_USE_LEGACY_KERAS"] = "1"
from importlib import metadata  # noqa: E402

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

keras = tf.keras
print("tensorflow", tf.__version__, "tf_keras", metadata.version("tf_keras"), "(tf.keras is", keras.__name__ + ")")
x = np.array([[-1.5, 0.25, 2.0]], dtype="float32")

wrapped = keras.layers.Lambda(lambda x: abs(x))
copy = keras.layers.Lambda.from_config(wrapped.get_config())
print("Lambda(lambda x: abs(x)) comes back:", np.array_equal(np.asarray(wrapped(x)), np.asarray(copy(x))))

layer = keras.layers.Lambda(abs)
config = layer.get_config()
print("Lambda(abs).get_config():", {k: config[k] for k in ("function", "function_type", "module")})
try:
    copy = keras.layers.Lambda.from_config(config)
except TypeError as exc:
    print("Lambda.from_config raised TypeError:", exc)
    sys.exit(0)
print("Lambda(abs) comes back; same outputs:", np.array_equal(np.asarray(layer(x)), np.asarray(copy(x))))
sys.exit(1)
