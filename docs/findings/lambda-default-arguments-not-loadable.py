"""lambda-default-arguments-not-loadable: a Lambda layer whose Python function has default
arguments is saved to a .keras file, but load_model cannot read it back, in the same environment.

The Lambda docstring: "`Lambda` layers are saved by serializing the Python bytecode ... They
should only be loaded in the same environment where they were saved." get_config() keeps the
function's defaults as a tuple; the .keras file stores the config as JSON, which makes it a
list, and loading rebuilds the function with that list: TypeError "arg 4 (defaults) must be None
or tuple" (Python's FunctionType takes a tuple). get_config/from_config and
serialize_keras_object/deserialize_keras_object (no JSON in between) work. The same layer
without defaults (lambda x: x ** 2) saves and loads. safe_mode=False is passed, as the Lambda
error message says to for a Python lambda.

Prints the versions and exits 0 while load_model raises; 1 once the layer comes back with the
same outputs.
"""
import os
import sys
import tempfile

import numpy as np
import tensorflow as tf

print("tensorflow", tf.__version__, "keras", tf.keras.version())
keras = tf.keras
x = np.arange(6, dtype="float32").reshape(2, 3) / 4.0


def round_trip(function, **kwargs):
    layer = keras.layers.Lambda(function, **kwargs)
    model = keras.Sequential([keras.Input((3,)), layer])
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.keras")
        model.save(path)
        loaded = keras.models.load_model(path, safe_mode=False)
    return np.asarray(model(x)), np.asarray(loaded(x))


original, loaded = round_trip(lambda x: x ** 2)
print("lambda x: x ** 2 comes back:", np.array_equal(original, loaded))
try:
    original, loaded = round_trip(lambda x, scale=1.0, shift=0.0: x * scale + shift, arguments={"scale": -1.5, "shift": 0.25})
except TypeError as exc:
    print("lambda x, scale=1.0, shift=0.0: ... -> load_model raised TypeError:", str(exc).splitlines()[-1][-120:])
    sys.exit(0)
print("the layer with default arguments comes back; same outputs:", np.array_equal(original, loaded))
sys.exit(1)
