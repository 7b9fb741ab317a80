"""Attention(score_mode='concat', use_scale=True) applies the scale inside the tanh.

Documentation (keras.layers.Attention, keras/src/layers/attention/attention.py):
    use_scale: If `True`, will create a scalar variable to scale the
        attention scores.
    score_mode: ... `"concat"` refers to the hyperbolic tangent of the
        concatenation of the `query` and `key` vectors.
So with score_mode="concat" the attention scores are sum(tanh(q + k)) over the features, and
the scale multiplies them: weights = softmax(scale * sum(tanh(q + k))). tf.keras instead
computes softmax(sum(tanh(scale * (q + k)))) (times concat_score_weight, which starts at 1): the
scale goes inside the tanh, so it is no longer a factor on the scores. The two agree only for
scale == 1, the initial value; after the scale is trained (here: set) they differ.

Exit status: 0 while tf.keras still diverges from the documented formula, 1 once it agrees.
Run: python docs/findings/attention-concat-scale-inside-tanh.py
"""
import numpy as np
import tensorflow as tf

keras = tf.keras
print("tensorflow", tf.__version__, "keras", keras.__version__)


def softmax(s):
    e = np.exp(s - s.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def documented(q, k, v, scale):
    """scores = scale * sum_d tanh(q_i + k_j); weights = softmax(scores); out = weights @ v."""
    scores = scale * np.tanh(q[:, :, None, :] + k[:, None, :, :]).sum(-1)
    w = softmax(scores)
    return w @ v, w


def scale_inside_tanh(q, k, v, scale):
    """What the registry says tf.keras computes: softmax(sum_d tanh(scale * (q_i + k_j)))."""
    w = softmax(np.tanh(scale * (q[:, :, None, :] + k[:, None, :, :])).sum(-1))
    return w @ v, w


def keras_attention(q, v, k, scale):
    layer = keras.layers.Attention(use_scale=True, score_mode="concat", dtype="float64")
    layer([q, v, k])  # build
    layer.scale.assign(scale)  # a trained scale; concat_score_weight keeps its initial 1
    out, w = layer([q, v, k], return_attention_scores=True)
    return np.asarray(out), np.asarray(w)


# 1. the one-feature example: q = 1, keys [0, 1], scale 2
q, k = np.array([[[1.0]]]), np.array([[[0.0], [1.0]]])
_, w_keras = keras_attention(q, k, k, 2.0)
_, w_doc = documented(q, k, k, 2.0)
print("q = 1, k = [0, 1], scale = 2")
print("  tf.keras weights:              ", np.round(w_keras[0, 0], 4))
print("  documented softmax(2*tanh(q+k)):", np.round(w_doc[0, 0], 4))

# 2. batch 2, Tq = 3, Tv = 4, dim = 5, scale 1.7
rng = np.random.default_rng(0)
q = rng.normal(0.2, 0.8, (2, 3, 5))
v = rng.normal(-0.5, 1.0, (2, 4, 5))
k = rng.normal(0.0, 1.3, (2, 4, 5))
scale = 1.7
out_keras, w_keras = keras_attention(q, v, k, scale)
out_doc, w_doc = documented(q, k, v, scale)
out_inside, w_inside = scale_inside_tanh(q, k, v, scale)
print(f"batch 2, Tq 3, Tv 4, dim 5, float64, scale {scale}; weights of batch 0, query 0:")
print("  tf.keras:  ", np.round(w_keras[0, 0], 6))
print("  documented:", np.round(w_doc[0, 0], 6))
diff = np.abs(out_keras - out_doc).max()
print(f"  max |tf.keras - documented| output {diff:.3e}, weights {np.abs(w_keras - w_doc).max():.3e}")
print(f"  max |tf.keras - softmax(sum(tanh(scale*(q+k))))| output {np.abs(out_keras - out_inside).max():.3e}")

raise SystemExit(0 if diff > 1e-6 else 1)
