"""Under XLA, the gradient of a bilinear resize of a 16-bit or float64 tensor is built in float32:
returned, it is garbage (NaN, inf, values off by up to 1e37, or 1e281 in float64); used by another
operation, XLA rejects it.

Resizing(8, 4, interpolation="bilinear") and UpSampling2D(2, interpolation="bilinear") in float16
and bfloat16: the vector-Jacobian product of a finite cotangent with respect to the input is right
eagerly and in tf.function, and under jit_compile=True it holds NaN, inf and huge values. The
cause shows when the gradient flows into another operation (here the product of the input with a
float16 weight): XLA refuses the program with InternalError "Seen floating point types of
different precisions in ... multiply(..., ResizeBilinearGrad) ... but mixed precision is
disallowed": XLA's ResizeBilinearGrad gives float32 for a 16-bit image, so a float16 or bfloat16
model with a bilinear resize inside cannot train under jit_compile=True. A float32 input cast to
16 bits before the resize (a mixed precision policy's first layer) gets the right gradient; float32
is right; the forward values agree with the reference. In float64 the gradient under XLA is
wrong in every entry too (the forward goes through float32, a precision divergence of its own).

Exit status: 0 while the XLA gradient in float16 is not finite where the eager one is, the one in
float64 is wrong (beyond 1e-3 of the eager one) in most entries, and the weight's gradient raises
the mixed-precision InternalError; 1 otherwise.
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
garbage, wrong_float64 = False, True
for name, (make, out_shape) in layers.items():
    v = rng.normal(size=out_shape)
    for dtype in ("float16", "bfloat16", "float64", "float32"):
        layer = make(dtype)
        xt, vt = tf.constant(x, dtype=dtype), tf.constant(v, dtype=dtype)

        def vjp(x_):
            with tf.GradientTape() as tape:
                tape.watch(x_)
                loss = tf.reduce_sum(layer(x_) * vt)
            return tape.gradient(loss, x_)

        eager = vjp(xt).numpy().astype(np.float64)
        xla = tf.function(vjp, jit_compile=True)(xt).numpy().astype(np.float64)
        with np.errstate(invalid="ignore", over="ignore"):
            allowed = (1e-3 if dtype == "float64" else 0.05) * (1 + np.abs(eager))
            wrong = ~np.isfinite(xla) | (np.abs(xla - eager) > allowed)
        print(f"{name:26} {dtype:9} eager gradient finite: {np.isfinite(eager).all()}, under XLA {int(wrong.sum())} of "
              f"{xla.size} entries wrong (largest |value| {np.nanmax(np.abs(xla[np.isfinite(xla)])):.3g}, eager's "
              f"{np.abs(eager).max():.3g})")
        garbage |= dtype == "float16" and not np.isfinite(xla).all() and np.isfinite(eager).all()
        wrong_float64 = wrong_float64 and (dtype != "float64" or wrong.sum() > xla.size // 2)

# the same resize after a float16 weight: the gradient must flow on, and XLA sees its dtype
weight = tf.Variable(np.array([0.5, -1.25, 2.0]), dtype="float16")
layer = tf.keras.layers.UpSampling2D(2, interpolation="bilinear", dtype="float16")
xt, vt = tf.constant(x, "float16"), tf.constant(rng.normal(size=(2, 10, 14, 3)), "float16")


def weight_gradient(x_):
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(x_ * weight) * vt)
    return tape.gradient(loss, weight)


print("weight gradient in tf.function:", weight_gradient(xt).numpy())
try:
    print("weight gradient under XLA:", tf.function(weight_gradient, jit_compile=True)(xt).numpy())
    rejected = False
except tf.errors.InternalError as error:
    rejected = "different precisions" in str(error)
    print("weight gradient under XLA: InternalError:", str(error).split("[Op:")[0].strip()[:300])
raise SystemExit(0 if garbage and wrong_float64 and rejected else 1)
