"""Keras 2's Conv1DTranspose documents "Raises: ValueError: if `padding` is "causal"." (and
padding: 'one of "valid" or "same"'), but Conv1DTranspose(2, 3, padding="causal") is
constructed without an error and the first call fails with a bare AssertionError from
tf_keras.src.utils.conv_utils.deconv_output_length (`assert padding in {"same", "valid",
"full"}`), eagerly and inside tf.function: the documented ValueError never comes (under
`python -O`, assertions stripped, the call fails with UnboundLocalError instead). Keras 3
raises the ValueError in the constructor.

Recorded as keras2-conv1d-transpose-causal-assertion-error for the tf_keras target.
"""
import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"  # tf.keras is Keras 2, the tf_keras package
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

print("tensorflow", tf.__version__)
try:
    layer = tf.keras.layers.Conv1DTranspose(2, 3, padding="causal")
    print("constructor: no error")
except ValueError as exc:
    print("constructor raises ValueError (as documented):", exc)
    raise SystemExit(1)
x = np.ones((1, 6, 2), np.float32)
errors = []
for name, fn in [("eager", layer), ("tf.function", tf.function(layer))]:
    try:
        fn(x)
        errors.append(None)
        print(name, "-> no error")
    except Exception as exc:  # noqa: BLE001 - the point is which type comes
        errors.append(type(exc).__name__)
        print(name, "raises", type(exc).__name__ + ":", " ".join(str(exc).split())[:120])
print('documented: "Raises: ValueError: if `padding` is "causal"."')
raise SystemExit(0 if all(e is not None and e != "ValueError" for e in errors) else 1)
