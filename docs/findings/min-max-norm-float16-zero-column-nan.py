"""MinMaxNorm in float16 turns a zero column into NaN (float32 and float64 keep it 0).

Documentation (keras.constraints.MinMaxNorm): "Constrains the weights incident to each hidden unit
to have the norm between a lower bound and an upper bound ... weights will be rescaled to yield
(1 - rate) * norm + rate * norm.clip(min_value, max_value)". Rescaling a zero column gives a zero
column, whatever the factor. tf.keras multiplies w by desired / (epsilon + norm) with epsilon =
1e-7: in float16, 1.5 / 1.2e-7 overflows to inf and 0 * inf is NaN. UnitNorm and MaxNorm (whose
desired norm of a zero column is 0) keep it 0. The constraint runs on the variables of a float16
(not a mixed precision) model after each optimizer step, so one all-zero unit makes its weights
NaN from then on.

Exit status: 0 while the float16 column is NaN, 1 once it is finite.
Run: python docs/findings/min-max-norm-float16-zero-column-nan.py
"""
import numpy as np
import tensorflow as tf

print("tensorflow", tf.__version__)
w = np.array([[0.0, 1.0, 3.0], [0.0, 2.0, -4.0], [0.0, 2.0, 0.0]])
nan_in_float16 = False
for dtype in ("float16", "bfloat16", "float32", "float64"):
    constraint = tf.keras.constraints.MinMaxNorm(min_value=1.5, max_value=2.25, rate=1.0, axis=0)
    out = np.asarray(constraint(tf.constant(w, dtype=dtype)), dtype=np.float64)
    print(f"{dtype:9} zero column -> {out[:, 0].tolist()}, column norms {np.linalg.norm(out, axis=0).round(3).tolist()}")
    nan_in_float16 |= dtype == "float16" and bool(np.isnan(out[:, 0]).any())
raise SystemExit(0 if nan_in_float16 else 1)
