"""CosineSimilarity in float16 returns NaN for a zero vector, where its docstring promises 0.

keras.losses.CosineSimilarity: "If either `y_true` or `y_pred` is a zero vector, cosine similarity
will be 0 regardless of the proximity between predictions and targets." In float16 the
l2-normalization's floor of 1e-12 on the squared norm is below float16's range and becomes 0, so a
zero vector is normalized as 0 / sqrt(0) and the loss is NaN; float32 gives 0. The function form
(keras.losses.cosine_similarity) the same.

Exit status: 0 while the float16 loss of a zero vector is NaN, 1 once it is 0.
"""
import numpy as np
import tensorflow as tf

print("tensorflow", tf.__version__)
y_true = [[0.0, 0.0, 0.0]]
y_pred = [[0.3, -1.2, 0.7]]
results = {}
for dtype in ("float32", "float16", "bfloat16"):
    loss = tf.keras.losses.CosineSimilarity(dtype=dtype)(tf.constant(y_true, dtype), tf.constant(y_pred, dtype))
    function = tf.keras.losses.cosine_similarity(tf.constant(y_true, dtype), tf.constant(y_pred, dtype))
    results[dtype] = float(tf.cast(loss, tf.float32))
    print(f"{dtype:9} CosineSimilarity: {results[dtype]!r:8}  cosine_similarity: {np.asarray(tf.cast(function, tf.float32)).tolist()}  (documented: 0)")
raise SystemExit(0 if np.isnan(results["float16"]) else 1)
