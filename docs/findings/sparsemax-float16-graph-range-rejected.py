"""keras.activations.sparsemax on float16 works eagerly but cannot be traced: inside tf.function
and under XLA it raises ValueError, because it builds tf.range(1, n + 1) in the input's dtype and
TensorFlow's graph Range op has no float16 type.

keras.activations.sparsemax: "Sparsemax activation function ... x: Input tensor. axis: int,
axis along which the sparsemax operation is applied." No dtype is excluded; float16 sparsemax
is computed eagerly, and every other activation traces in float16. A Dense or convolution layer
with activation="sparsemax" under dtype float16 or mixed_float16 cannot be used in a compiled
model (model.fit runs in tf.function). bfloat16 and float32 trace.

Exit status: 0 while the float16 trace raises, 1 once it computes.
"""
import numpy as np
import tensorflow as tf

print("tensorflow", tf.__version__)
keras = tf.keras
x = tf.constant(np.array([[0.5, -1.25, 2.0, 0.75]]), dtype="float16")
print("eager:", keras.activations.sparsemax(x).numpy().tolist())
raised = {}
for name, compiled in (("tf.function", tf.function(keras.activations.sparsemax)),
                       ("XLA", tf.function(keras.activations.sparsemax, jit_compile=True))):
    try:
        print(f"{name}:", compiled(x).numpy().tolist())
        raised[name] = False
    except Exception as exc:  # noqa: BLE001 - the point is what it raises
        raised[name] = True
        print(f"{name} raised {type(exc).__name__}:", str(exc).strip().splitlines()[-1][:160])
for dtype in ("bfloat16", "float32"):
    print(f"tf.function in {dtype}:", tf.function(keras.activations.sparsemax)(tf.cast(x, dtype)).numpy().tolist())
raise SystemExit(0 if raised["tf.function"] else 1)
