"""Constant(value) in float64 rounds the value to float32 first.

Documentation (keras.initializers.Constant, keras/src/initializers/constant_initializers.py):
    Initializer that generates tensors with constant values.

    Only scalar values are allowed.
    The constant value provided must be convertible to the dtype requested
    when calling the initializer.
    ...
    Args:
        value: A Python scalar.
A float64 tensor filled with the Python float 0.1 holds 0.1 (0x1.999999999999ap-4).
Constant.__call__ computes ops.cast(value, dtype) * ops.ones(shape, dtype); on the TensorFlow
backend ops.cast is tf.cast, which converts the Python float to a float32 tensor before casting
it, so the float64 tensor holds 0.10000000149011612 (0x1.99999a0000000p-4), and so does the
kernel of a float64 layer initialized with it. Values exact in float32 (-2.5) agree.

Exit status: 0 while tf.keras still rounds, 1 once it fills the exact value.
Run: python docs/findings/constant-initializer-float64-rounded.py
"""
import numpy as np
import tensorflow as tf

keras = tf.keras
print("tensorflow", tf.__version__, "keras", keras.__version__)

worst = 0.0
for value in (0.1, 1 / 3, -2.5):
    documented = np.full((2, 3), value, dtype=np.float64)
    got = np.asarray(keras.initializers.Constant(value)(shape=(2, 3), dtype="float64"))
    diff = np.abs(got - documented).max()
    print(f"Constant({value!r}) float64: got {float(got[0, 0])!r} ({float(got[0, 0]).hex()}), "
          f"documented {value!r} ({value.hex()}), max |diff| {diff:.3e}")
    worst = max(worst, diff)

layer = keras.layers.Dense(2, kernel_initializer=keras.initializers.Constant(0.1), dtype="float64")
x = np.array([[0.5, -1.25, 2.0], [1.5, 0.75, -0.3]])
out = np.asarray(layer(x))
print(f"Dense(2, kernel_initializer=Constant(0.1), dtype='float64'): kernel[0, 0] = {float(layer.kernel.numpy()[0, 0])!r}, "
      f"max |output - x @ full(0.1)| {np.abs(out - x @ np.full((3, 2), 0.1)).max():.3e}")
print("cause: tf.cast(0.1, tf.float64) =", repr(float(tf.cast(0.1, tf.float64))))

raise SystemExit(0 if worst > 0 else 1)
