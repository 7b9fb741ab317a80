"""MultiHeadAttention and GroupQueryAttention in float64 scale the scores by 1/sqrt(key_dim) rounded to float32.

Documentation (keras/src/layers/layer.py, the `dtype` of every layer):
    dtype: The dtype of the layer's computations and weights.
and keras.layers.MultiHeadAttention (keras/src/layers/attention/multi_head_attention.py):
    This is an implementation of multi-headed attention as described in the
    paper "Attention is all you Need"
    [Vaswani et al., 2017](https://arxiv.org/abs/1706.03762).
    ...
    Then, the query and key tensors are dot-producted and scaled.
(GroupQueryAttention: "Then, the `query` is scaled and dot-producted with `key` tensors.")
The docstrings do not name the factor; the paper's is 1/sqrt(d_k), which the layers store as
the Python float 1.0 / math.sqrt(key_dim) (head_dim for GroupQueryAttention). In float64 the
layers multiply by ops.cast(that float, "float64"), which on the TensorFlow backend is
tf.cast(python float) = float32 conversion first: 1/sqrt(3) becomes 0.57735025882720947
instead of 0.57735026918962573. Every output is then off by ~1e-7 relative whenever
1/sqrt(key_dim) is not exact in float32 (key_dim 2, 3); key_dim 4 agrees to ~1e-16. A float64
reference that uses the float32-rounded factor agrees with tf.keras to ~1e-16.

Exit status: 0 while tf.keras still diverges from the float64 computation, 1 once it agrees.
Run: python docs/findings/attention-float64-scale-rounded.py
"""
import numpy as np
import tensorflow as tf

keras = tf.keras
print("tensorflow", tf.__version__, "keras", keras.__version__)
keras.utils.set_random_seed(0)  # fixes the layers' initial weights


def softmax(s):
    e = np.exp(s - s.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def reference(layer, query, value, scale):
    """Scaled dot-product attention with the layer's own projections, in float64 NumPy."""
    wq, bq, wk, bk, wv, bv, wo, bo = layer.get_weights()
    q = np.einsum("btd,dnh->btnh", query, wq) + bq
    k = np.einsum("bsd,dnh->bsnh", value, wk) + bk
    v = np.einsum("bsd,dnh->bsnh", value, wv) + bv
    repeats = q.shape[2] // k.shape[2]  # GroupQueryAttention: query head i uses kv head i // repeats
    k, v = np.repeat(k, repeats, axis=2), np.repeat(v, repeats, axis=2)
    p = softmax(scale * np.einsum("btnh,bsnh->bnts", q, k))
    return np.einsum("btnh,nhd->btd", np.einsum("bnts,bsnh->btnh", p, v), wo) + bo


rng = np.random.default_rng(0)
query = rng.normal(0.1, 1.0, (2, 4, 6))
value = rng.normal(0.5, 1.0, (2, 5, 6))
print("1/sqrt(3) in float64:", repr(float(1 / np.sqrt(3.0))),
      " tf.cast(1/sqrt(3), float64):", repr(float(tf.cast(float(1 / np.sqrt(3.0)), tf.float64))))

worst = 0.0
layers = [("MultiHeadAttention", d, keras.layers.MultiHeadAttention(num_heads=2, key_dim=d, dtype="float64"))
          for d in (2, 3, 4)]
layers.append(("GroupQueryAttention", 3, keras.layers.GroupQueryAttention(
    head_dim=3, num_query_heads=4, num_key_value_heads=2, dtype="float64")))
for name, d, layer in layers:
    layer(query, value)  # build
    exact = reference(layer, query, value, 1 / np.sqrt(d))
    rounded = reference(layer, query, value, float(np.float32(1 / np.sqrt(d))))
    for scores in (False, True):  # two code paths: fused dot_product_attention / explicit scores
        got = layer(query, value, return_attention_scores=scores)
        got = np.asarray(got[0] if scores else got)
        diff = np.abs(got - exact).max()
        rel = (np.abs(got - exact) / np.abs(exact)).max()
        print(f"{name} dim {d}, return_attention_scores={scores}: max |tf.keras - float64| {diff:.2e}"
              f" (relative {rel:.2e}); vs 1/sqrt({d}) rounded to float32: {np.abs(got - rounded).max():.2e}")
        if d != 4:
            worst = max(worst, diff)

raise SystemExit(0 if worst > 1e-12 else 1)
