"""Under a mixed precision policy ReversibleEmbedding(...)(x, reverse=True) returns float32
logits, where its docstring says the reverse projection computes in the layer's compute dtype.

keras.layers.ReversibleEmbedding: "reverse_dtype: The dtype for the reverse projection
computation. Defaults to the `compute_dtype` of the layer." Under "mixed_float16" (compute dtype
float16) and "mixed_bfloat16" the layer's forward lookup returns the compute dtype, but the
reverse projection returns float32 (tied or untied weights, with or without logit_soft_cap).
Float32 logits are a reasonable choice for a softmax after them; the docstring says otherwise.

Exit status: 0 while the reverse call under mixed_float16 returns float32, 1 once it returns
the compute dtype.
"""
import numpy as np
import tensorflow as tf

print("tensorflow", tf.__version__)
hidden = tf.constant(np.random.default_rng(0).standard_normal((2, 3, 4)), dtype="float32")
ids = tf.constant([[0, 3, 6], [2, 5, 1]])
dtypes = {}
for policy in ("mixed_float16", "mixed_bfloat16"):
    for tie in (True, False):
        layer = tf.keras.layers.ReversibleEmbedding(7, 4, tie_weights=tie, dtype=policy)
        looked_up = layer(ids)
        logits = layer(hidden, reverse=True)
        dtypes[(policy, tie)] = logits.dtype.name
        print(f"{policy:15} tie_weights={tie!s:5} compute dtype {layer.compute_dtype}: lookup {looked_up.dtype.name}, "
              f"reverse {logits.dtype.name}")
raise SystemExit(0 if dtypes[("mixed_float16", True)] == "float32" else 1)
