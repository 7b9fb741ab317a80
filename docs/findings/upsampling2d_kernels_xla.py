"""UpSampling2D with interpolation bicubic / lanczos3 / lanczos5 under XLA (jit_compile=True):
eager and tf.function run; XLA refuses to compile (no XLA kernel for ResizeBicubic /
ScaleAndTranslate). bilinear and nearest compile."""
import numpy as np
import tensorflow as tf

x = tf.constant(np.random.default_rng(0).normal(0.25, 1.0, size=(2, 3, 4, 3)).astype(np.float32))
for method in ("nearest", "bilinear", "bicubic", "lanczos3", "lanczos5"):
    layer = tf.keras.layers.UpSampling2D(size=2, interpolation=method)
    for mode, fn in [("eager", layer), ("function", tf.function(layer)), ("xla", tf.function(layer, jit_compile=True))]:
        try:
            print(f"{method:9s} {mode:9s} ok {tuple(fn(x).shape)}")
        except Exception as e:
            print(f"{method:9s} {mode:9s} {type(e).__name__}: {str(e).splitlines()[0][:230]}")
