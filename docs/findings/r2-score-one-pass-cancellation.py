"""R2Score loses its digits on targets whose mean is large against their spread. Documented:
sum_squares_residuals = sum((y_true - y_pred) ** 2); sum_squares = sum((y_true - mean(y_true)) ** 2);
R2 = 1 - sum_squares_residuals / sum_squares. tf.keras keeps running sums of y_true and
y_true ** 2 and forms sum_squares as sum(y_true ** 2) - sum(y_true) ** 2 / count (equal in exact
arithmetic), which cancels sum(y_true ** 2): for 1000 float32 targets 2000 +- 1 (years, say)
sum(y_true ** 2) is 4e9, where a float32 unit in the last place is 256, against a spread of
about 1000. The documented formula evaluated in float32 is right to 8 digits; tf.keras is off
in the first digit, and the result moves with the order of the batches.

Recorded as r2-score-one-pass-cancellation.
"""
import numpy as np
import tensorflow as tf

import keras

print(f"tensorflow {tf.__version__}, keras {keras.__version__}")
rng = np.random.default_rng(0)
wrong = 0
for offset, spread in ((0.0, 1.0), (2000.0, 1.0), (1.0e4, 10.0)):
    y_true = (offset + spread * rng.normal(size=(1000, 1))).astype(np.float32)
    y_pred = (y_true + 0.5 * spread * rng.normal(size=y_true.shape)).astype(np.float32)
    metric = keras.metrics.R2Score()
    metric.update_state(y_true, y_pred)
    got = float(metric.result())
    t, p = y_true.astype(np.float64), y_pred.astype(np.float64)
    exact = 1 - np.sum((t - p) ** 2) / np.sum((t - t.mean()) ** 2)
    # the documented formula, every step in float32
    mean32 = np.sum(y_true, dtype=np.float32) / np.float32(y_true.size)
    documented32 = np.float32(1) - np.sum((y_true - y_pred) ** 2, dtype=np.float32) / np.sum(
        (y_true - mean32) ** 2, dtype=np.float32)
    wrong += abs(got - exact) > 0.01
    print(f"y_true {offset:g} +- {spread:g}: tf.keras {got:.6f}, exact {exact:.6f}, "
          f"documented formula in float32 {float(documented32):.6f}")
raise SystemExit(0 if wrong else 1)  # 0 while the divergence is there
