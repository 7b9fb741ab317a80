"""CategoricalCrossentropy(from_logits=True) with a negative axis other than -1 raises.

Documentation (keras.losses.CategoricalCrossentropy, categorical_crossentropy):
    axis: The axis along which to compute crossentropy (the features axis). Defaults to `-1`.
With from_logits=True and axis=-2 (the same axis as 1 for rank 3) tf.keras raises
InvalidArgumentError "Requires start <= limit when delta > 0: 0/-2" eagerly (ValueError when
traced); axis=1 works, and so does axis=-2 with probabilities.

Exit status: 0 while tf.keras still raises, 1 once it computes the documented loss.
Run: python docs/findings/categorical-crossentropy-negative-axis-logits-rejected.py
"""
import numpy as np
import tensorflow as tf

keras = tf.keras
print("tensorflow", tf.__version__, "keras", keras.__version__)

rng = np.random.default_rng(0)
logits = rng.normal(size=(2, 4, 3)).astype("float32")
labels = np.eye(4, dtype="float32")[[[0, 3, 1], [2, 2, 0]]].transpose(0, 2, 1)  # one-hot along axis 1
log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
documented = -(labels * log_p).sum(axis=1)
print("axis=1 :", np.round(np.asarray(keras.losses.categorical_crossentropy(labels, logits, from_logits=True, axis=1)), 5).tolist())
try:
    got = keras.losses.categorical_crossentropy(labels, logits, from_logits=True, axis=-2)
except (ValueError, tf.errors.InvalidArgumentError) as exc:
    print("axis=-2: tf.keras raises", type(exc).__name__, str(exc).strip().splitlines()[-1][:120])
    print("documented:", np.round(documented, 5).tolist())
    raise SystemExit(0)
raise SystemExit(0 if not np.allclose(got, documented, rtol=1e-5) else 1)
