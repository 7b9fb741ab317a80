"""Keras 2's NonNeg constraint ("Constrains the weights to be non-negative") multiplies the
weights by a 0/1 mask (w * cast(w >= 0, floatx())) instead of clamping them: a weight of -inf
becomes -inf * 0 = NaN eagerly and inside tf.function, which is not non-negative. Under XLA the
product is simplified to a select, so there -inf gives 0 but a NaN weight gives 0 where the
other modes (and Keras 3's maximum(w, 0)) keep NaN: the result depends on the mode.

Recorded as keras2-non-neg-nonfinite-weights for the tf_keras target.
"""
import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"  # tf.keras is Keras 2, the tf_keras package
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

print(f"tensorflow {tf.__version__}")
constraint = tf.keras.constraints.NonNeg()
w = tf.constant([[-np.inf, np.nan, -2.5, 0.75]], tf.float32)
results = {}
for name, fn in [("eager", constraint), ("tf.function", tf.function(constraint)),
                 ("xla", tf.function(constraint, jit_compile=True))]:
    results[name] = np.asarray(fn(w))[0]
    print(f"{name:12s} NonNeg({w.numpy()[0].tolist()}) -> {results[name].tolist()}")
print("documented (non-negative weights; the projection max(w, 0)): [0.0, nan, 0.0, 0.75]")
minus_inf_nan = any(np.isnan(r[0]) for r in results.values())
nan_zeroed = any(r[1] == 0.0 for r in results.values())
raise SystemExit(0 if (minus_inf_nan or nan_zeroed) else 1)  # 0 while the divergence is there
