"""Keras 2's NonNeg constraint ("Constrains the weights to be non-negative") cannot be applied
to float64 weights: it multiplies them by a mask cast to backend.floatx() (float32), so eagerly
it raises InvalidArgumentError ("cannot compute Mul as input #1 was expected to be a double
tensor but is a float tensor") and inside tf.function a TypeError. A float64 layer with
kernel_constraint="non_neg" fails at its first optimizer step. Keras 3 returns the projected
float64 weights. (The norm constraints, MaxNorm, MinMaxNorm and UnitNorm, accept float64.)

Recorded as keras2-non-neg-float64-rejected for the tf_keras target.
"""
import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"  # tf.keras is Keras 2, the tf_keras package
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import tf_keras  # noqa: E402

print(f"tensorflow {tf.__version__}, tf_keras {tf_keras.__version__}")
w = tf.constant(np.array([[0.5, -1.25], [2.0, -0.75]]))  # float64
raised = 0
for name, fn in [("eager", tf.keras.constraints.NonNeg()), ("tf.function", tf.function(tf.keras.constraints.NonNeg()))]:
    try:
        print(name, "->", np.asarray(fn(w)).tolist())
    except (tf.errors.InvalidArgumentError, TypeError) as exc:
        raised += 1
        print(name, "raises", type(exc).__name__ + ":", " ".join(str(exc).split())[:140])
print("documented: [[0.5, 0.0], [2.0, 0.0]]")
raise SystemExit(0 if raised == 2 else 1)  # 0 while the divergence is there
