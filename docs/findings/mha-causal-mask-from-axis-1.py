"""MultiHeadAttention with attention_axes=(2,) and use_causal_mask builds the causal mask from axis 1.

Documentation (keras.layers.MultiHeadAttention, keras/src/layers/attention/multi_head_attention.py):
    attention_axes: axes over which the attention is applied. `None` means
        attention over all axes, but batch, heads, and features.
    use_causal_mask: A boolean to indicate whether to apply a causal mask to
        prevent tokens from attending to future tokens (e.g., used in a
        decoder Transformer).
With attention over axis 2 of a (batch, A1, A2, features) input, the tokens are along axis 2,
so the causal mask is (A2, A2) lower-triangular. tf.keras's _compute_causal_mask always uses
axis 1 (ops.shape(query)[1]): it builds an (A1, A1) mask, and its Softmax raises ValueError
("The `mask` must be broadcastable to `inputs`") unless A1 == A2. When A1 == A2 the mask
happens to be right, and tf.keras agrees with the NumPy reference below.

Exit status: 0 while tf.keras still raises, 1 once it accepts the call.
Run: python docs/findings/mha-causal-mask-from-axis-1.py
"""
import numpy as np
import tensorflow as tf

keras = tf.keras
print("tensorflow", tf.__version__, "keras", keras.__version__)
keras.utils.set_random_seed(0)  # fixes the layers' initial weights


def reference(layer, x):
    """Self-attention over axis 2 of x (B, A1, A2, D), causal along axis 2, float64 NumPy."""
    wq, bq, wk, bk, wv, bv, wo, bo = (w.astype(np.float64) for w in layer.get_weights())
    q, k, v = (np.einsum("bxtd,dnh->bxtnh", x, w) + b for w, b in ((wq, bq), (wk, bk), (wv, bv)))
    s = np.einsum("bxtnh,bxsnh->bxnts", q, k) / np.sqrt(q.shape[-1])
    t = s.shape[-1]
    s = np.where(np.tril(np.ones((t, t), bool)), s, -np.inf)  # token t attends to s <= t
    p = np.exp(s - s.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    return np.einsum("bxtnh,nhd->bxtd", np.einsum("bxnts,bxsnh->bxtnh", p, v), wo) + bo


rng = np.random.default_rng(0)

# A1 == A2: accepted, and equal to the reference (the mask from axis 1 happens to fit)
x = rng.normal(0.1, 1.0, (2, 4, 4, 3))
layer = keras.layers.MultiHeadAttention(num_heads=2, key_dim=2, attention_axes=(2,))
got = np.asarray(layer(x.astype("float32"), x.astype("float32"), use_causal_mask=True), np.float64)
print(f"input (2, 4, 4, 3): max |tf.keras - reference| {np.abs(got - reference(layer, x)).max():.2e}")

# A1 = 3, A2 = 5: the documented result exists, tf.keras raises
x = rng.normal(0.1, 1.0, (2, 3, 5, 3))
layer = keras.layers.MultiHeadAttention(num_heads=2, key_dim=2, attention_axes=(2,))
try:
    out = layer(x.astype("float32"), x.astype("float32"), use_causal_mask=True)
except Exception as e:  # noqa: BLE001 - any exception is the finding
    lines = [ln.strip() for ln in str(e).replace("\x1b[1m", "").replace("\x1b[0m", "").splitlines() if ln.strip()]
    print(f"input (2, 3, 5, 3): tf.keras raises {type(e).__name__}: {lines[0]}")
    print("  ", next((ln for ln in lines if "mask" in ln and "shape" in ln), lines[-1]))
    expected = reference(layer, x)  # the layer was built before the call failed
    print(f"  documented result (NumPy): shape {expected.shape}, out[0, 0, :, 0] = {np.round(expected[0, 0, :, 0], 6)}")
    raise SystemExit(0)
expected = reference(layer, x)
print(f"input (2, 3, 5, 3): accepted; max |tf.keras - reference| {np.abs(np.asarray(out, np.float64) - expected).max():.2e}")
raise SystemExit(1)
