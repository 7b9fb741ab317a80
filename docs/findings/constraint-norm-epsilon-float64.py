"""MaxNorm, MinMaxNorm and UnitNorm in float64 divide by the norm plus 1e-7, so every rescaled
weight is off by about 1e-7 / norm relative.

Documentation (keras.constraints, keras/src/constraints/constraints.py; keras.io/api/layers/constraints):
    UnitNorm: "Constrains the weights incident to each hidden unit to have unit norm."
    MaxNorm: "Constrains the weights incident to each hidden unit to have a norm less than or
        equal to a desired value."
    MinMaxNorm: "weights will be rescaled to yield
        `(1 - rate) * norm + rate * norm.clip(min_value, max_value)`."
No epsilon is documented. tf.keras divides by keras.config.epsilon() + norm, epsilon = 1e-7, a
float32-sized fuzz factor that it applies in float64 too: a float64 UnitNorm column of norm 4
comes back with norm 0.999999975 (2.5e-8 short of 1, some 1e8 float64 ulps), and MaxNorm shrinks
a column within its limit by the same factor, where it must leave it as it is. In float32 the
same factor is within a few ulps for ordinary norms (see constraint-small-norm-epsilon for small
ones).

Exit status: 0 while tf.keras still diverges from the documented rescaling, 1 once it agrees.
Run: python docs/findings/constraint-norm-epsilon-float64.py
"""
import numpy as np
import tensorflow as tf

keras = tf.keras
print("tensorflow", tf.__version__, "keras", keras.__version__)

w = np.array([[1.5, 0.75, -0.125],
              [2.0, 1.5, 0.5],
              [0.0, 1.5, -1.0]])            # exact column norms 2.5, 2.25, 1.125 (axis 0)
norm = np.sqrt((w * w).sum(0, keepdims=True))
documented = {
    "UnitNorm()": w / norm,
    "MaxNorm(max_value=3)": w * np.minimum(norm, 3.0) / norm,   # every column within the limit: unchanged
    "MinMaxNorm(1.5, 2.25, rate=0.5)": w * (0.5 * np.clip(norm, 1.5, 2.25) + 0.5 * norm) / norm,
}
make = {
    "UnitNorm()": lambda: keras.constraints.UnitNorm(axis=0),
    "MaxNorm(max_value=3)": lambda: keras.constraints.MaxNorm(max_value=3, axis=0),
    "MinMaxNorm(1.5, 2.25, rate=0.5)": lambda: keras.constraints.MinMaxNorm(1.5, 2.25, rate=0.5, axis=0),
}
worst = 0.0
for name, want in documented.items():
    got = np.asarray(make[name]()(tf.constant(w, dtype=tf.float64)), np.float64)
    nz = want != 0
    rel = np.abs(got - want)[nz] / np.abs(want)[nz]
    print(f"float64 {name:32s} column norms: tf.keras {np.array2string(np.sqrt((got * got).sum(0)), precision=12)}"
          f"  documented {np.array2string(np.sqrt((want * want).sum(0)), precision=12)}  max rel error {rel.max():.2e}")
    worst = max(worst, rel.max())
print(f"max relative error: {worst:.2e} (float64 tolerance 1e-10)")

raise SystemExit(0 if worst > 1e-9 else 1)
