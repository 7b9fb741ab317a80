"""Add (and the other elementwise merging layers) broadcast inputs documented to have the same shape.

Documentation (keras.layers.Add, keras/src/layers/merging/add.py; Multiply, Average, Maximum
and Minimum say the same):
    It takes as input a list of tensors, all of the same shape,
    and returns a single tensor (also of the same shape).
and keras.layers.Subtract (keras/src/layers/merging/subtract.py):
    It takes as input a list of tensors of size 2 both of the
    same shape, and returns a single tensor (inputs[0] - inputs[1])
    of same shape.
tf.keras accepts inputs of different shapes and broadcasts them: (2, 3, 4) with (2, 1, 4)
gives (2, 3, 4), the NumPy broadcast result, for all six layers; an input of lower rank is
expanded at axis 1 ((2, 4) with (2, 3, 4) also gives (2, 3, 4)). Broadcasting is deliberate
(keras/src/layers/merging/base_merge.py computes a broadcast output shape) and a reasonable
extension; the docstrings describe only equal shapes. This is a documentation mismatch.

Exit status: 0 while tf.keras still accepts different shapes, 1 once it rejects them.
Run: python docs/findings/merging-broadcasts-shapes.py
"""
import numpy as np
import tensorflow as tf

keras = tf.keras
print("tensorflow", tf.__version__, "keras", keras.__version__)

rng = np.random.default_rng(0)
a = rng.normal(0.3, 1.0, (2, 3, 4))
b = rng.normal(-0.2, 1.5, (2, 1, 4))
c = rng.normal(0.1, 0.7, (2, 4))
numpy_ops = {"Add": np.add, "Subtract": np.subtract, "Multiply": np.multiply,
             "Average": lambda x, y: (x + y) / 2, "Maximum": np.maximum, "Minimum": np.minimum}

accepted = 0
for name, op in numpy_ops.items():
    for second, label in ((b, "(2, 1, 4)"), (c, "(2, 4)")):
        expected = op(a, second if second.ndim == 3 else second[:, None, :])  # broadcast, rank expanded at axis 1
        try:
            got = np.asarray(getattr(keras.layers, name)(dtype="float64")([a, second]))
        except Exception as e:  # noqa: BLE001
            print(f"{name}([(2, 3, 4), {label}]): rejected, {type(e).__name__}: {str(e).splitlines()[0]}")
            continue
        accepted += 1
        print(f"{name}([(2, 3, 4), {label}]): accepted, output {got.shape}, "
              f"max |tf.keras - NumPy broadcast| {np.abs(got - expected).max():.1e}")

raise SystemExit(0 if accepted else 1)
