"""keras.layers.Softmax with a list of axes does not evaluate its documented formula
exp_x = exp(x - max(x)); f(x) = exp_x / sum(exp_x): for several axes it computes
exp(x - logsumexp(x)), whose rounding of logsumexp (about u |logsumexp|) scales every output
of a slice by a common factor. With logits near 1000 the float32 result is off by 1.8e-5
relative (single axis: 1.2e-7) and the float16 result by up to 0.098 absolute, and a slice no
longer sums to 1 (float16: 0.92 and 0.86).

Recorded in cases/activation_layers.yaml (softmax_layer_large_offset) as
softmax-multiple-axes-logsumexp.
"""
import numpy as np
import tensorflow as tf

print(f"tensorflow {tf.__version__}, keras {tf.keras.__version__}")
rng = np.random.default_rng(0)
x64 = rng.normal(1000.0, 4.0, size=(2, 3, 5))
worst = {}
for dtype in ("float32", "float16"):
    x = x64.astype(dtype)
    exact = np.exp(x.astype(np.float64) - x.astype(np.float64).max(axis=(1, 2), keepdims=True))
    exact /= exact.sum(axis=(1, 2), keepdims=True)
    # the documented formula evaluated in the dtype: exp(x - max(x)) / sum
    shifted = np.exp(x - x.max(axis=(1, 2), keepdims=True))
    documented = (shifted / shifted.sum(axis=(1, 2), keepdims=True)).astype(np.float64)
    several = np.asarray(tf.keras.layers.Softmax(axis=[1, 2], dtype=dtype)(x), dtype=np.float64)
    single = np.asarray(tf.keras.layers.Softmax(axis=-1, dtype=dtype)(x.reshape(2, 15)), dtype=np.float64).reshape(2, 3, 5)
    err = lambda y: float(np.max(np.abs(y - exact)))
    worst[dtype] = (err(several), err(documented))
    print(f"{dtype}: max |error|: Softmax(axis=[1, 2]) {err(several):.3g}, the same softmax over one flattened "
          f"axis {err(single):.3g}, the documented formula in NumPy in {dtype} {err(documented):.3g}; the slices "
          f"sum to {several.sum(axis=(1, 2)).round(6)} (documented formula: {documented.sum(axis=(1, 2)).round(6)})")
# 0 while a list of axes is 30 times worse than the documented formula evaluated in the same dtype
raise SystemExit(0 if all(a > 30 * max(b, np.finfo(d).eps) for d, (a, b) in worst.items()) else 1)
