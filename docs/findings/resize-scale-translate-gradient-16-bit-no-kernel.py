"""The gradient of an antialiased or lanczos/bicubic resize in float16, bfloat16 or float64 cannot be taken.

Resizing's interpolation: "Supports "bilinear", "nearest", "bicubic", "lanczos3", "lanczos5""; and
antialias; UpSampling2D takes the same interpolations. In float16 or bfloat16, the forward pass of
Resizing(interpolation="bicubic", antialias=True) (or "lanczos3") works, and its gradient raises
InvalidArgumentError ("cannot compute ScaleAndTranslateGrad as input #1(zero-based) was expected to
be a float tensor but is a half tensor"): that gradient kernel takes float32 only. A model with the
layer cannot be trained in 16 bits. float32 works. float64 is refused the same way ("... but is a
double tensor"): there the forward computes through float32 (a precision divergence of its own).

Exit status: 0 while the float16 and the float64 gradients raise, 1 once either is computed.
"""
import numpy as np
import tensorflow as tf

print("tensorflow", tf.__version__)
x0 = np.random.default_rng(0).normal(size=(2, 9, 8, 3))
raised = set()
for dtype in ("float16", "bfloat16", "float64", "float32"):
    layer = tf.keras.layers.Resizing(4, 5, interpolation="bicubic", antialias=True, dtype=dtype)
    x = tf.constant(x0, dtype=dtype)
    try:
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x)
            loss = tf.reduce_sum(y)
        g = tape.gradient(loss, x)
        print(f"{dtype:9}: forward {tuple(y.shape)}, gradient {tuple(g.shape)}")
    except Exception as exc:
        print(f"{dtype:9}: forward works; gradient {type(exc).__name__}: {str(exc).strip().splitlines()[0][:100]}")
        raised.add(dtype)
raise SystemExit(0 if {"float16", "float64"} <= raised else 1)
