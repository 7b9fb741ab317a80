"""Under XLA, the gradient of a bilinear resize in 16-bit floats holds NaN (finite eagerly).

Resizing(8, 4, interpolation="bilinear") and UpSampling2D(2, interpolation="bilinear"), in
float16 (and UpSampling2D in bfloat16): the vector-Jacobian product of a finite cotangent with
respect to the input is finite eagerly, and has NaN entries under jit_compile=True. float32 is
finite. The forward values agree with eager and with the reference.

Exit status: 0 while an XLA gradient in 16 bits holds NaN where the eager one does not, 1 otherwise.
Run: python docs/findings/xla-bilinear-resize-gradient-nan-float16.py
"""
import numpy as np
import tensorflow as tf

print("tensorflow", tf.__version__)
rng = np.random.default_rng(0)
x = rng.normal(0.25, 1.0, size=(2, 5, 7, 3))
layers = {
    "Resizing(8, 4, bilinear)": (lambda dtype: tf.keras.layers.Resizing(8, 4, interpolation="bilinear", dtype=dtype), (2, 8, 4, 3)),
    "UpSampling2D(2, bilinear)": (lambda dtype: tf.keras.layers.UpSampling2D(2, interpolation="bilinear", dtype=dtype), (2, 10, 14, 3)),
}
found = False
for name, (make, out_shape) in layers.items():
    v = rng.normal(size=out_shape)
    for dtype in ("float16", "bfloat16", "float32"):
        layer = make(dtype)
        xt, vt = tf.constant(x, dtype=dtype), tf.constant(v, dtype=dtype)

        def vjp(x_):
            with tf.GradientTape() as tape:
                tape.watch(x_)
                loss = tf.reduce_sum(layer(x_) * vt)
            return tape.gradient(loss, x_)

        eager = vjp(xt).numpy().astype(np.float64)
        xla = tf.function(vjp, jit_compile=True)(xt).numpy().astype(np.float64)
        print(f"{name:26} {dtype:9} NaN in the eager gradient: {int(np.isnan(eager).sum())}, "
              f"under XLA: {int(np.isnan(xla).sum())} of {xla.size}")
        found |= dtype != "float32" and np.isnan(xla).any() and not np.isnan(eager).any()
raise SystemExit(0 if found else 1)
