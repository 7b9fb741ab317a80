"""MultiHeadAttention on rank-5 inputs with one attention axis fails in TensorFlow's Softmax (float32).

Documentation (keras.layers.MultiHeadAttention, keras/src/layers/attention/multi_head_attention.py):
    attention_axes: axes over which the attention is applied. `None` means
        attention over all axes, but batch, heads, and features.
No rank limit is documented. For a (batch, A1, A2, T, features) input and attention_axes=(3,),
the attention scores have shape (batch, A1, A2, heads, T, T), rank 6, and the layer's softmax
over the last axis goes to TensorFlow's Softmax op; in float32 on CPU that runs the oneDNN
kernel, which rejects it ("Input dims must be <= 5 and >=1", AbortedError), eagerly and inside
tf.function. The same layer in float64, and in float32 under XLA (jit_compile=True), computes
the documented result (it also does with TF_ENABLE_ONEDNN_OPTS=0 set before TensorFlow starts).

Exit status: 0 while tf.keras still raises in float32, 1 once it accepts the call.
Run: python docs/findings/mha-rank5-softmax-rejected.py
"""
import numpy as np
import tensorflow as tf

keras = tf.keras
print("tensorflow", tf.__version__, "keras", keras.__version__)
keras.utils.set_random_seed(0)  # fixes the layers' initial weights


def reference(layer, x):
    """Self-attention over axis 3 of x (B, A1, A2, T, D), float64 NumPy."""
    wq, bq, wk, bk, wv, bv, wo, bo = (w.astype(np.float64) for w in layer.get_weights())
    q, k, v = (np.einsum("bxytd,dnh->bxytnh", x, w) + b for w, b in ((wq, bq), (wk, bk), (wv, bv)))
    s = np.einsum("bxytnh,bxysnh->bxynts", q, k) / np.sqrt(q.shape[-1])
    p = np.exp(s - s.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    return np.einsum("bxytnh,nhd->bxytd", np.einsum("bxynts,bxysnh->bxytnh", p, v), wo) + bo


def first_lines(e):
    lines = [ln.strip() for ln in str(e).replace("\x1b[1m", "").replace("\x1b[0m", "").splitlines() if ln.strip()]
    return lines[0], next((ln for ln in lines if "dims" in ln), "")


x = np.random.default_rng(0).normal(0.1, 1.0, (2, 2, 2, 3, 4))

# float64 and XLA compute the documented result: the arguments are valid
layer64 = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4, attention_axes=(3,), dtype="float64")
got = np.asarray(layer64(x, x))
print(f"float64 eager: shape {got.shape}, max |tf.keras - reference| {np.abs(got - reference(layer64, x)).max():.2e}")

layer = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4, attention_axes=(3,))
x32 = tf.constant(x.astype("float32"))
got = np.asarray(tf.function(lambda a: layer(a, a), jit_compile=True)(x32), np.float64)  # builds it
expected = reference(layer, x)
print(f"float32 under XLA: max |tf.keras - reference| {np.abs(got - expected).max():.2e}")

raised = False
for name, call in (("float32 eager", lambda b: layer(b, b)),
                   ("float32 tf.function", tf.function(lambda c: layer(c, c)))):
    try:
        out = call(x32)
        print(f"{name}: accepted, max |tf.keras - reference| {np.abs(np.asarray(out, np.float64) - expected).max():.2e}")
    except Exception as e:  # noqa: BLE001 - any exception is the finding
        first, dims = first_lines(e)
        print(f"{name}: raises {type(e).__name__}: {first}" + (f"\n    {dims}" if dims != first else ""))
        raised = raised or name == "float32 eager"

raise SystemExit(0 if raised else 1)
