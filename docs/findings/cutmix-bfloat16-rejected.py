"""CutMix with dtype="bfloat16" cannot be called in training.

Layer: "dtype: The dtype of the layer's computations and weights"; CutMix: "CutMix data
augmentation technique", a preprocessing layer with no documented dtype restriction. Called with
training=True on a bfloat16 image batch, CutMix(dtype="bfloat16") raises ValueError "Tensor
conversion requested dtype float32 for Tensor with dtype bfloat16": the mixing ratio it draws is
combined with float32 values. float16 and float32 layers mix the same batch.

Exit status: 0 while the bfloat16 layer raises, 1 once it mixes.
"""
import numpy as np
import tensorflow as tf

print("tensorflow", tf.__version__)
images = np.random.default_rng(0).uniform(0.0, 255.0, (8, 7, 9, 3))
raised = False
for dtype in ("bfloat16", "mixed_bfloat16", "float16", "float32"):
    layer = tf.keras.layers.CutMix(dtype=dtype, seed=1)
    try:
        out = layer(tf.constant(images, dtype=layer.compute_dtype), training=True)
        print(f"CutMix {dtype:14}: mixed, output {out.dtype.name}")
    except Exception as exc:
        message = " ".join(str(exc).split())
        start = message.find("Tensor conversion")
        print(f"CutMix {dtype:14}: {type(exc).__name__}: {message[start:start + 90] if start >= 0 else message[:90]}")
        raised |= dtype == "bfloat16"
raise SystemExit(0 if raised else 1)
