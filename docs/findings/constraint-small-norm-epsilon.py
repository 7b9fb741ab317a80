"""MaxNorm, MinMaxNorm and UnitNorm divide by the norm plus 1e-7, so slices of small norm are
rescaled wrongly.

Documentation (keras.constraints, keras/src/constraints/constraints.py; keras.io/api/layers/constraints):
    MaxNorm: "Constrains the weights incident to each hidden unit to have a norm less than or
        equal to a desired value."
    UnitNorm: "Constrains the weights incident to each hidden unit to have unit norm."
    MinMaxNorm: "weights will be rescaled to yield
        `(1 - rate) * norm + rate * norm.clip(min_value, max_value)`."
No epsilon is documented. tf.keras computes w * desired / (keras.config.epsilon() + norm) with
epsilon = 1e-7 (w / (epsilon + norm) for UnitNorm), so a slice whose norm is not large beside
1e-7 is scaled by norm / (norm + 1e-7) on top of the documented factor: the column
(3e-8, -4e-8), of norm 5e-8, is within MaxNorm's limit 2 and must be left as it is, but comes
back at a third of its size; UnitNorm gives it norm 1/3 instead of 1. A column of norm 1e-3 is
off by 1e-4 relative, beyond float32's tolerance. Both in float32 and float64.

Exit status: 0 while tf.keras still diverges from the documented rescaling, 1 once it agrees.
Run: python docs/findings/constraint-small-norm-epsilon.py
"""
import numpy as np
import tensorflow as tf

keras = tf.keras
print("tensorflow", tf.__version__, "keras", keras.__version__)
print("keras.config.epsilon() =", keras.config.epsilon())

w = np.array([[3.0e-8, 1.0e-3, 1.5],
              [-4.0e-8, 2.0e-3, 2.0]])           # column norms 5e-8, 2.236e-3, 2.5 (axis 0)
norm = np.sqrt((w * w).sum(0, keepdims=True))
documented = {
    "MaxNorm(max_value=2)": w * np.minimum(norm, 2.0) / norm,
    "UnitNorm()": w / norm,
    "MinMaxNorm(0.5, 1.0, rate=1)": w * np.clip(norm, 0.5, 1.0) / norm,
}
make = {
    "MaxNorm(max_value=2)": lambda: keras.constraints.MaxNorm(max_value=2, axis=0),
    "UnitNorm()": lambda: keras.constraints.UnitNorm(axis=0),
    "MinMaxNorm(0.5, 1.0, rate=1)": lambda: keras.constraints.MinMaxNorm(0.5, 1.0, rate=1.0, axis=0),
}
worst = 0.0
for dtype in ("float32", "float64"):
    for name, want in documented.items():
        got = np.asarray(make[name]()(tf.constant(w.astype(dtype))), np.float64)
        rel = np.abs(got - want) / np.abs(want)
        got_norms = np.sqrt((got * got).sum(0))
        print(f"{dtype} {name:30s} column norms: tf.keras {np.array2string(got_norms, precision=8)}"
              f"  documented {np.array2string(np.sqrt((want * want).sum(0)), precision=8)}"
              f"  max rel error per column {np.array2string(rel.max(0), precision=2)}")
        worst = max(worst, rel[:, 0].max())
print(f"worst relative error on the column of norm 5e-8: {worst:.3f}")

raise SystemExit(0 if worst > 0.1 else 1)
