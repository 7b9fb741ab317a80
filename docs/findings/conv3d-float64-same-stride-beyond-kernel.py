"""Conv3D with padding="same" in float64 returns wrong values when an axis's length is a
multiple of a stride that exceeds the kernel size by 2 or more (kernel 1, stride 3 here):
'same' then pads nothing along that axis (the documented output length ceil(n / s), windows
starting at 0), and float32, Conv1D and Conv2D get it right. Every output element is off.
The gradient of Conv3DTranspose with respect to its input runs the same float64 Conv3D, so it
is wrong too (kernel (2, 3, 1), strides (1, 2, 3), 'same').

Recorded in cases/conv3d.yaml (same_stride_beyond_kernel) and cases/conv3d_transpose.yaml
(padding_strides_sweep) as conv3d-float64-same-stride-beyond-kernel.
"""
import numpy as np
import tensorflow as tf

rng = np.random.default_rng(1)
x = rng.normal(0.25, 1.0, size=(2, 5, 4, 9, 3))
kernel = rng.normal(size=(1, 1, 1, 3, 4))


def reference(x, kernel, strides):
    """A 1x1x1 kernel: 'same' with these sizes pads nothing, so the output is the input sampled
    at every stride-th position, times the kernel."""
    sampled = x[:, ::strides[0], ::strides[1], ::strides[2], :]
    return np.einsum("bdhwc,co->bdhwo", sampled, kernel[0, 0, 0])


print(f"tensorflow {tf.__version__}, keras {tf.keras.__version__}")
worst = 0.0
for dtype in ("float32", "float64"):
    for strides in [(1, 1, 3), (1, 1, 2)]:
        layer = tf.keras.layers.Conv3D(4, 1, strides=strides, padding="same", use_bias=False, dtype=dtype)
        layer.build(x.shape)
        layer.kernel.assign(kernel.astype(dtype))
        y = np.asarray(layer(tf.constant(x.astype(dtype))), dtype=np.float64)
        error = float(np.abs(y - reference(x, kernel, strides)).max())
        worst = max(worst, error if dtype == "float64" else 0.0)
        print(f"{dtype} strides {strides}: output {y.shape}, max|keras - reference| = {error:.3g}")

# the gradient of Conv3DTranspose with respect to its input, against its own forward pass
layer = tf.keras.layers.Conv3DTranspose(7, (2, 3, 1), strides=(1, 2, 3), padding="same", dtype="float64")
xt = tf.constant(rng.normal(size=(2, 3, 4, 5, 2)))
layer.build(xt.shape)
v = tf.constant(rng.normal(size=layer(xt).shape))
with tf.GradientTape() as tape:
    tape.watch(xt)
    projected = tf.reduce_sum(layer(xt) * v)
u = rng.normal(size=xt.shape)
h = 1e-5
f = lambda t: float(tf.reduce_sum(layer(xt + t * u) * v))
print("Conv3DTranspose float64: <gradient, u> =", float(np.sum(tape.gradient(projected, xt).numpy() * u)),
      " central difference of its own forward =", (f(h) - f(-h)) / (2 * h))
raise SystemExit(0 if worst > 1e-3 else 1)  # 0 while the divergence is there
