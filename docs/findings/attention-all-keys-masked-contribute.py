"""Attention with every key masked lets the masked values contribute instead of ignoring them.

Documentation (keras.layers.Attention, keras/src/layers/attention/attention.py), call argument
mask:
    - `value_mask`: A boolean mask tensor of shape `(batch_size, Tv)`.
        If given, will apply the mask such that values at positions
         where `mask==False` do not contribute to the result.
When every key of a sequence is masked, nothing may contribute: the attention weights of that
row are 0 and the output is 0. tf.keras subtracts 1e9 from the masked scores and takes the
softmax anyway, so the weights still sum to 1 over the masked keys: in float32 the -1e9 swamps
the scores and every key gets 1/Tv (the output is the mean of the masked values); in float64
the scores survive the shift and the mask has no effect at all (the output equals the unmasked
attention, to about 1e-7). A partly masked sequence (batch 1 below) is right. MultiHeadAttention, whose
Softmax zeroes masked positions after the softmax, gives zero weights for the same mask.
(Only the private _apply_scores docstring says the mask "must contain at least one `True`
value in each line along the last dimension".)

Exit status: 0 while tf.keras still diverges from the documented result, 1 once it agrees.
Run: python docs/findings/attention-all-keys-masked-contribute.py
"""
import numpy as np
import tensorflow as tf

keras = tf.keras
print("tensorflow", tf.__version__, "keras", keras.__version__)
keras.utils.set_random_seed(0)  # fixes the layers' initial weights


def documented(q, v, value_mask):
    """Dot-product attention over the unmasked keys only; an empty set of keys gives 0."""
    s = q @ np.swapaxes(v, -1, -2)  # (B, Tq, Tv); key = value
    w = np.zeros_like(s)
    for b in range(s.shape[0]):
        keep = value_mask[b]
        if keep.any():
            e = np.exp(s[b][:, keep] - s[b][:, keep].max(-1, keepdims=True))
            w[b][:, keep] = e / e.sum(-1, keepdims=True)
    return w @ v, w


rng = np.random.default_rng(0)
q = rng.normal(0.3, 1.0, (2, 2, 3))
v = rng.normal(-0.4, 1.2, (2, 4, 3))
value_mask = np.array([[False, False, False, False],   # batch 0: every key masked
                       [True, False, True, True]])     # batch 1: one key masked
out_doc, w_doc = documented(q, v, value_mask)
_, w_unmasked = documented(q, v, np.ones_like(value_mask))

worst = 0.0
for dtype in ("float32", "float64"):
    layer = keras.layers.Attention(dtype=dtype)
    out, w = layer([q.astype(dtype), v.astype(dtype)], mask=[None, value_mask],
                   return_attention_scores=True)
    out, w = np.asarray(out, np.float64), np.asarray(w, np.float64)
    print(f"{dtype}: batch 0 (all keys masked), query 0")
    print("  tf.keras weights:  ", np.round(w[0, 0], 6), " documented:", w_doc[0, 0])
    print("  tf.keras output:   ", np.round(out[0, 0], 6), " documented:", out_doc[0, 0])
    print("  mean of the values:", np.round(v[0].mean(0), 6))
    print("  weights without any mask:", np.round(w_unmasked[0, 0], 6))
    d0 = np.abs(out[0] - out_doc[0]).max()
    d1 = np.abs(out[1] - out_doc[1]).max()
    print(f"  max |tf.keras - documented|: batch 0 {d0:.3e}, batch 1 (partly masked) {d1:.3e}")
    worst = max(worst, d0)

# MultiHeadAttention with the same mask: its Softmax zeroes the masked weights
mha = keras.layers.MultiHeadAttention(num_heads=1, key_dim=3, dtype="float64")
_, w_mha = mha(q, v, attention_mask=value_mask[:, None, :], return_attention_scores=True)
print("MultiHeadAttention weights, batch 0 query 0:", np.asarray(w_mha)[0, 0, 0])

raise SystemExit(0 if worst > 1e-6 else 1)
