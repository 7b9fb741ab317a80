"""Keras 2 saves a model with bfloat16 weights to a .keras file that load_model cannot read back:
h5py stores each bfloat16 weight as an opaque 2-byte void (|V2), and Layer.load_own_variables
assigns that array to the bfloat16 variable, which raises ValueError "No cast function
available". Model.save documents the format ("save_format ... 'keras' ... saves the model in
the native TF-Keras format (`.keras`)") and load_model loads "a model saved via `model.save()`";
the layer documents bfloat16 as a dtype ("dtype: the dtype of the layer's computations and
weights"). The same model in float16, or under mixed_bfloat16 (float32 weights), loads; Keras 3
stores bfloat16 and reads the void arrays back as bfloat16 (keras-team/keras#19091).

Recorded as keras2-bfloat16-keras-file-not-loadable for the tf_keras target.
"""
import os
import tempfile

os.environ["TF_USE_LEGACY_KERAS"] = "1"  # tf.keras is Keras 2, the tf_keras package
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import tf_keras  # noqa: E402

print(f"tensorflow {tf.__version__}, tf_keras {tf_keras.__version__}")
x = np.random.default_rng(0).normal(0.25, 1.0, (3, 4, 6))
failed = {}
for dtype in ("bfloat16", "float16", "mixed_bfloat16"):
    for name, make in (("Dense(4)", lambda: tf_keras.layers.Dense(4, dtype=dtype)),
                       ("TimeDistributed(Dense(4))", lambda: tf_keras.layers.TimeDistributed(tf_keras.layers.Dense(4, dtype=dtype), dtype=dtype))):
        model = tf_keras.Sequential([make()])
        inputs = tf.constant(x, "float32" if dtype.startswith("mixed") else dtype)
        y = model(inputs)
        path = os.path.join(tempfile.mkdtemp(), "model.keras")
        model.save(path)
        try:
            loaded = tf_keras.models.load_model(path)
            diff = float(tf.reduce_max(tf.abs(tf.cast(loaded(inputs), tf.float32) - tf.cast(y, tf.float32))))
            print(f"{dtype:15} {name:26}: loads, outputs equal: {diff == 0.0}")
            failed[(dtype, name)] = False
        except ValueError as exc:
            print(f"{dtype:15} {name:26}: load_model raises ValueError: {' '.join(str(exc).split())[:80]}")
            failed[(dtype, name)] = True
print("documented: a model saved with model.save() loads with load_model")
raise SystemExit(0 if failed[("bfloat16", "Dense(4)")] else 1)  # 0 while the divergence is there
