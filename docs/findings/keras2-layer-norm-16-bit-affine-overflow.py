"""Keras 2's LayerNormalization with dtype="float16" returns NaN for a constant row of moderate
size: the documented formula gives beta there. The docstring computes
x_i_normalized = (x_i - mean_i) / sqrt(var_i + epsilon) and output_i = x_i_normalized * gamma +
beta; for a float16 (or bfloat16) layer Keras 2 computes the moments with tf.nn.moments and then
tf.nn.batch_normalization, which evaluates x * inv + (beta - mean * inv) with inv = gamma /
sqrt(var + epsilon). For a row of eight 100.0 and epsilon=1e-6, inv = 1000 and x * inv = 1e5 is
beyond float16's 65504: inf + (-inf) = NaN. The documented formula in float16 stays in range at
every step (sum 800, mean 100, x - mean = 0, 0 / 0.001 = 0) and gives beta exactly. In bfloat16
nothing overflows, but beta is lost beside mean * inv (1e5, an ulp of 512): the output is 0, not
beta. Under mixed_float16 / mixed_bfloat16 Keras 2 upcasts to float32 and is right; Keras 3's
LayerNormalization is right in every dtype.

Recorded as keras2-layer-norm-16-bit-affine-overflow for the tf_keras target.
"""
import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"  # tf.keras is Keras 2, the tf_keras package
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import tf_keras  # noqa: E402

print(f"tensorflow {tf.__version__}, tf_keras {tf_keras.__version__}")
x = np.array([[100.0] * 8, [-100.0] * 8, [0.5, -1.0, 2.0, 0.25, 1.5, -0.5, 1.0, 0.0]])
beta = np.array([0.5, -0.25, 0.75, 0.125, -0.5, 0.25, 1.0, -0.75])


def documented_float16(x, beta, epsilon=1e-6):
    """The docstring's formula, every step rounded to float16 (gamma = 1)."""
    h = np.float16
    out = []
    for row in x.astype(h):
        total = h(0)
        for v in row:
            total = h(total + v)
        mean = h(total / h(len(row)))
        var = h(0)
        for v in row:
            var = h(var + h(h(v - mean) * h(v - mean)))
        var = h(var / h(len(row)))
        out.append([h(h(h(v - mean) / h(np.sqrt(h(var + h(epsilon))))) * h(1) + h(b)) for v, b in zip(row, beta)])
    return np.array(out, dtype=np.float64)


print("documented formula in float16, rows 1-2:", documented_float16(x, beta)[:2].tolist())
nan_rows = 0
for dtype in ("float16", "bfloat16", "mixed_float16", "float32"):
    layer = tf.keras.layers.LayerNormalization(epsilon=1e-6, dtype=dtype)
    layer.build((None, 8))
    layer.beta.assign(beta)
    compute = "float16" if dtype == "mixed_float16" else dtype
    y = tf.cast(layer(tf.constant(x, dtype=compute)), "float64").numpy()
    print(f"{dtype:13s} row 1: {y[0].tolist()}")
    if dtype == "float16":
        nan_rows = int(np.isnan(y[:2]).all(axis=1).sum())
        print(f"{dtype:13s} row 3 (an ordinary row) max |error| vs the float16 formula:",
              float(np.abs(y[2] - documented_float16(x, beta)[2]).max()))
raise SystemExit(0 if nan_rows == 2 else 1)  # 0 while the divergence is there
