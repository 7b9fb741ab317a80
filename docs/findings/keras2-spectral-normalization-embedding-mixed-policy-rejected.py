"""Keras 2's SpectralNormalization around an Embedding under the mixed_float16 policy raises
at the first training call: InvalidArgumentError "cannot compute MatMul as input #1(zero-based)
was expected to be a half tensor but is a float tensor". The wrapper's vector_u is an
autocast variable, read as float16 inside the call, while Embedding creates its embeddings with
experimental_autocast=False, so the power iteration multiplies float16 by float32. The
docstring accepts "A `keras.layers.Layer` instance that has either a `kernel` (e.g. `Conv2D`,
`Dense`...) or an `embeddings` attribute (`Embedding` layer)", and the mixed precision guide
says a layer under mixed_float16 computes in float16. Inference (training=False), Dense under
mixed_float16, and Embedding under mixed_bfloat16, float16 or float32 work.

Recorded as keras2-spectral-normalization-embedding-mixed-policy-rejected for the tf_keras
target.
"""
import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"  # tf.keras is Keras 2, the tf_keras package
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import tf_keras  # noqa: E402

print(f"tensorflow {tf.__version__}, tf_keras {tf_keras.__version__}")
ids = np.array([[0, 3, 5, 1], [2, 2, 4, 0], [5, 1, 0, 3]], dtype="int32")
raised = 0
for policy, make in [("mixed_float16", lambda: tf.keras.layers.Embedding(6, 3)),
                     ("mixed_bfloat16", lambda: tf.keras.layers.Embedding(6, 3)),
                     ("float32", lambda: tf.keras.layers.Embedding(6, 3))]:
    layer = tf.keras.layers.SpectralNormalization(make(), dtype=policy)
    try:
        y = layer(ids, training=True)
        print(f"{policy:14s} SpectralNormalization(Embedding(6, 3)), training=True -> {y.dtype.name}, shape {y.shape}")
    except tf.errors.InvalidArgumentError as exc:
        raised += policy == "mixed_float16"
        print(f"{policy:14s} SpectralNormalization(Embedding(6, 3)), training=True raises InvalidArgumentError:",
              " ".join(str(exc).split()).split("Call arguments")[0][-110:])
raise SystemExit(0 if raised == 1 else 1)  # 0 while the divergence is there
