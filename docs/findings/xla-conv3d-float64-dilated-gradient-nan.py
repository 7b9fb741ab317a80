"""Under XLA (tf.function(jit_compile=True)), the gradient of a float64 Conv3D with
dilation_rate=(1, 2, 3) and padding="same" is NaN: every element of the kernel's gradient and
some of the input's (how many varies: memory read before it is written, so this script first
fills and frees memory with NaN), while the forward values are right, eager gives finite gradients, and
float32, padding="valid" and a uniform dilation (2, 2, 2) are fine. A float64 model with such a
layer cannot be trained under jit_compile.

Recorded in cases/conv3d.yaml (dilation_sweep) as xla-conv3d-float64-dilated-gradient-nan.
"""
import numpy as np
import tensorflow as tf

rng = np.random.default_rng(0)
print(f"tensorflow {tf.__version__}, keras {tf.keras.__version__}")
nans_where_documented_finite = 0
# The NaNs look like memory read before it is written: in a fresh process whose memory is still
# zero they may not show. Fill and free some memory with NaN first, as a process that has run
# other computations has it.
for _ in range(3):
    poison = tf.fill([4, 1 << 18], tf.constant(float("nan"), tf.float64))
    _ = tf.function(lambda t: t * 2.0, jit_compile=True)(poison).numpy()
    del poison
for dtype in ("float64", "float32"):
    x = tf.constant(rng.normal(0.25, 1.0, size=(2, 7, 6, 8, 5)).astype(dtype))
    for dilation, padding in [((1, 2, 3), "same"), ((1, 2, 3), "valid"), ((2, 2, 2), "same")]:
        layer = tf.keras.layers.Conv3D(4, 2, dilation_rate=dilation, padding=padding, dtype=dtype)
        layer.build(x.shape)
        v = tf.constant(rng.normal(size=layer(x).shape).astype(dtype))

        def vjp(x, v):
            with tf.GradientTape() as tape:
                tape.watch(x)
                projected = tf.reduce_sum(layer(x) * v)
            return tape.gradient(projected, [x, layer.kernel])

        for mode, fn in [("eager", vjp), ("xla", tf.function(vjp, jit_compile=True))]:
            gx, gk = (g.numpy() for g in fn(x, v))
            nans_where_documented_finite += int(np.isnan(gx).sum() + np.isnan(gk).sum())
            print(f"{dtype} dilation {dilation} {padding:5s} {mode:5s}: NaN in the input gradient "
                  f"{int(np.isnan(gx).sum())}/{gx.size}, in the kernel gradient {int(np.isnan(gk).sum())}/{gk.size}")
raise SystemExit(0 if nans_where_documented_finite else 1)  # 0 while the divergence is there
