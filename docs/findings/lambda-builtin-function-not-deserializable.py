"""lambda-builtin-function-not-deserializable: Lambda(abs), a Python built-in function as the
layer's function, cannot be re-created from its own config.

get_config() "Returns the config of the object. An object config is a Python dictionary
(serializable) containing the information needed to re-instantiate it", and from_config "is the
reverse of get_config, capable of instantiating the same layer from the config dictionary" (the
tf.keras API documentation); the Lambda docstring says Lambda layers are saved by serializing
the Python bytecode, to be loaded in the same environment. For `abs` (a builtin, which has no
bytecode) get_config() writes {'module': 'builtins', 'class_name': 'builtin_function_or_method',
'config': 'abs', ...}, and Lambda.from_config raises TypeError ("Expected 'config' to be a dict
for builtin_function_or_method"); serialize_keras_object/deserialize_keras_object and a .keras
file fail the same way. A Python lambda doing the same (lambda x: abs(x)) round-trips.

Prints the versions and exits 0 while from_config raises; 1 once the copy comes back with the
same outputs.
"""
import sys

import numpy as np
import tensorflow as tf

print("tensorflow", tf.__version__, "keras", tf.keras.version())
keras = tf.keras
x = np.array([[-1.5, 0.25, 2.0]], dtype="float32")

wrapped = keras.layers.Lambda(lambda x: abs(x))
copy = keras.layers.Lambda.from_config(wrapped.get_config(), safe_mode=False)
print("Lambda(lambda x: abs(x)) comes back:", np.array_equal(np.asarray(wrapped(x)), np.asarray(copy(x))))

layer = keras.layers.Lambda(abs)
config = layer.get_config()
print("Lambda(abs).get_config()['function'] =", config["function"])
try:
    copy = keras.layers.Lambda.from_config(config, safe_mode=False)
except TypeError as exc:
    print("Lambda.from_config raised TypeError:", str(exc).splitlines()[0])
    sys.exit(0)
print("Lambda(abs) comes back; same outputs:", np.array_equal(np.asarray(layer(x)), np.asarray(copy(x))))
sys.exit(1)
