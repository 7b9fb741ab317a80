"""Rescaling(scale, offset, dtype="float64"): documented to multiply by `scale` and add `offset`
("Float, the scale to apply"); the layer's dtype is "the dtype of the layer's computations".
tf.keras rounds scale and offset to float32 first, so a float64 result carries float32 errors
in the factor (1/127.5 becomes 0.007843137718737125): about 6e-8 relative, where float64 gives 1e-16.

Recorded in cases/preprocessing_layers.yaml (rescaling).
"""
import sys

import numpy as np
import tensorflow as tf

print("tensorflow", tf.__version__)
x = np.linspace(-3.0, 3.0, 7)
worst = 0.0
for scale, offset in ((1 / 127.5, 0.0), (0.1, 0.3)):
    y = np.asarray(tf.keras.layers.Rescaling(scale, offset=offset, dtype="float64")(x))
    exact = x * scale + offset
    through_float32 = x * np.float64(np.float32(scale)) + np.float64(np.float32(offset))
    print(f"scale={scale!r} offset={offset!r}: output {y.dtype}, max |y - (x*scale + offset)| = {np.abs(y - exact).max():.3g},"
          f" max |y - float32 factors| = {np.abs(y - through_float32).max():.3g}")
    worst = max(worst, float(np.abs(y - exact).max()))
sys.exit(0 if worst > 1e-12 else 1)
