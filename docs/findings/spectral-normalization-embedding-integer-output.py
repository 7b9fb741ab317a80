"""SpectralNormalization(Embedding(...)): the docstring names Embedding among the layers it wraps
("has either a `kernel` ... or an `embeddings` attribute (`Embedding` layer)"), and an Embedding
returns float vectors. Wrapped, the layer returns the vectors cast to the integer dtype of the ids
(int64), so every embedding with values in (-1, 1) comes out as 0, in training and at inference.

Recorded in cases/core_layers_more.yaml (spectral_normalization_embedding).
"""
import sys

import numpy as np
import tensorflow as tf

print("tensorflow", tf.__version__)
inner = tf.keras.layers.Embedding(6, 3)
layer = tf.keras.layers.SpectralNormalization(inner)
ids = np.array([[1, 2, 3, 0]], dtype=np.int32)
layer.build(ids.shape)
out = layer(ids, training=False)
documented = np.asarray(inner.embeddings)[ids]  # at inference: the wrapped Embedding with its weights
print("output dtype", out.dtype, "values", np.asarray(out)[0, 0].tolist(), "; the wrapped Embedding gives",
      documented.dtype, documented[0, 0].tolist())
sys.exit(0 if not out.dtype.is_floating else 1)
