"""UpSampling2D and Resizing with interpolation="bicubic" pass no gradient to their input in
float16 or bfloat16: the gradient is silently missing (None, taken as zero), not an error.

Layer: "dtype: The dtype of the layer's computations and weights"; UpSampling2D interpolation:
"A string, one of "bicubic", "bilinear", ...". Bicubic interpolation is linear in the input, so
the gradient of sum(output) with respect to each input element is the sum of its weights (432 in
all for this input and size, as float32 gives). In float16 and bfloat16 GradientTape returns None
for the input: TensorFlow's gradient of its bicubic resize is defined for float32 and float64
inputs only and is None otherwise, so a 16-bit model trains nothing below this layer, silently.
Bilinear and nearest pass their gradient in 16 bits.

Exit status: 0 while the float16 gradient is missing, 1 once it is there.
"""
import numpy as np
import tensorflow as tf

print("tensorflow", tf.__version__)
x0 = np.random.default_rng(0).normal(0.25, 1.0, (2, 3, 4, 3))
missing = False
for dtype in ("float16", "bfloat16", "float32"):
    for name, make in (("UpSampling2D(bicubic)", lambda: tf.keras.layers.UpSampling2D(size=(2, 3), interpolation="bicubic", dtype=dtype)),
                       ("Resizing(bicubic)", lambda: tf.keras.layers.Resizing(6, 12, interpolation="bicubic", dtype=dtype)),
                       ("UpSampling2D(bilinear)", lambda: tf.keras.layers.UpSampling2D(size=(2, 3), interpolation="bilinear", dtype=dtype))):
        layer = make()
        x = tf.constant(x0, dtype=dtype)
        with tf.GradientTape() as tape:
            tape.watch(x)
            total = tf.reduce_sum(tf.cast(layer(x), tf.float32))
        grad = tape.gradient(total, x)
        shown = "None (no gradient)" if grad is None else f"{float(tf.reduce_sum(tf.cast(grad, tf.float32))):g}"
        print(f"{dtype:9} {name:23}: sum of d sum(y) / dx = {shown}")
        missing |= grad is None and dtype == "float16" and "bicubic" in name
raise SystemExit(0 if missing else 1)
