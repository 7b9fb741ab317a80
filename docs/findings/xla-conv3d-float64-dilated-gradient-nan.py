"""Under XLA (tf.function(jit_compile=True)), the gradient of a float64 Conv3D with
dilation_rate=(1, 2, 3) and padding="same" is NaN: every element of the kernel's gradient and
some of the input's (how many varies: memory read before it is written, so this script first
fills and frees memory with NaN, and tries again, up to ATTEMPTS times, when the compiled
gradient was handed fresh zero pages instead), while the forward values are right, eager gives
finite gradients, and float32, padding="valid" and a uniform dilation (2, 2, 2) are fine. A
float64 model with such a layer cannot be trained under jit_compile.

Recorded in cases/conv3d.yaml (dilation_sweep) as xla-conv3d-float64-dilated-gradient-nan.
"""
import numpy as np
import tensorflow as tf

rng = np.random.default_rng(0)
print(f"tensorflow {tf.__version__}, keras {tf.keras.__version__}")
# The NaNs look like memory read before it is written: in a fresh process whose memory is still
# zero they may not show. Fill and free memory with NaN first, as a process that has run other
# computations has it. Which freed block the compiled gradient gets depends on the allocator
# (glibc keeps an arena per thread), so an attempt may still meet zero pages: poison and retry.
ATTEMPTS = 8


def poison_memory():
    for size in (1 << 12, 1 << 15, 1 << 18, 1 << 20):
        filled = tf.fill([4, size], tf.constant(float("nan"), tf.float64))
        _ = tf.function(lambda t: t * 2.0, jit_compile=True)(filled).numpy()
        del filled


def nan_counts(x, dilation, padding, jit):
    """NaN counts of the input's and the kernel's gradient of sum(conv3d(x) * v)."""
    layer = tf.keras.layers.Conv3D(4, 2, dilation_rate=dilation, padding=padding, dtype=x.dtype)
    layer.build(x.shape)
    v = tf.constant(rng.normal(size=layer(x).shape).astype(x.dtype.name))

    def vjp(x, v):
        with tf.GradientTape() as tape:
            tape.watch(x)
            projected = tf.reduce_sum(layer(x) * v)
        return tape.gradient(projected, [x, layer.kernel])

    gx, gk = (g.numpy() for g in (tf.function(vjp, jit_compile=True) if jit else vjp)(x, v))
    return int(np.isnan(gx).sum()), gx.size, int(np.isnan(gk).sum()), gk.size


nans_where_documented_finite = 0
for attempt in range(1, ATTEMPTS + 1):
    poison_memory()
    print(f"attempt {attempt}")
    for dtype in ("float64", "float32"):
        x = tf.constant(rng.normal(0.25, 1.0, size=(2, 7, 6, 8, 5)).astype(dtype))
        for dilation, padding in [((1, 2, 3), "same"), ((1, 2, 3), "valid"), ((2, 2, 2), "same")]:
            for mode in ("eager", "xla"):
                nx, sx, nk, sk = nan_counts(x, dilation, padding, jit=mode == "xla")
                nans_where_documented_finite += nx + nk
                print(f"  {dtype} dilation {dilation} {padding:5s} {mode:5s}: NaN in the input gradient "
                      f"{nx}/{sx}, in the kernel gradient {nk}/{sk}")
    if nans_where_documented_finite:
        break
raise SystemExit(0 if nans_where_documented_finite else 1)  # 0 while the divergence is there
