"""AveragePooling3D and MaxPooling3D in float16 have no CPU kernel (eager and tf.function).

Layer: "dtype: The dtype of the layer's computations and weights." AveragePooling3D,
MaxPooling3D and the adaptive 3-D poolings with dtype="float16" raise NotFoundError ("Could not
find device for node: {{node AvgPool3D}} ... device='CPU'; T in [DT_BFLOAT16] ... [DT_FLOAT]"):
TensorFlow registers AvgPool3D and MaxPool3D on CPU for float32 and bfloat16 only. Under XLA, and
the 1-D and 2-D poolings in float16, work.

Exit status: 0 while float16 3-D pooling raises eagerly, 1 once it runs.
"""
import numpy as np
import tensorflow as tf

print("tensorflow", tf.__version__)
x = tf.constant(np.random.default_rng(0).normal(size=(2, 4, 5, 6, 3)), dtype=tf.float16)
raised = False
for name in ("AveragePooling3D", "MaxPooling3D"):
    layer = getattr(tf.keras.layers, name)(pool_size=2, dtype="float16")
    for mode, call in (("eager", layer), ("xla", tf.function(layer, jit_compile=True))):
        try:
            out = call(x)
            print(f"{name:17} {mode:6} float16: output {tuple(out.shape)}")
        except Exception as exc:
            print(f"{name:17} {mode:6} float16: {type(exc).__name__}: {str(exc).strip().splitlines()[0][:90]}")
            raised |= mode == "eager"
raise SystemExit(0 if raised else 1)
