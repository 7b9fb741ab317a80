"""AdditiveAttention's scale is a vector of one factor per feature, documented as a scalar.

Documentation (keras.layers.AdditiveAttention, keras/src/layers/attention/additive_attention.py):
    1. Calculate attention scores using `query` and `key` with shape
        `(batch_size, Tq, Tv)` as a non-linear sum
        `scores = reduce_sum(tanh(query + key), axis=-1)`.
    ...
    use_scale: If `True`, will create a scalar variable to scale the
        attention scores.
tf.keras creates `scale` with shape (dim,) (initializer glorot_uniform) and computes
scores = reduce_sum(scale * tanh(query + key), axis=-1): one factor per feature inside the
sum, as in Bahdanau attention (v^T tanh(...)), not a scalar on the scores. The outputs follow
that per-feature formula to ~1e-16; the documented form (a scalar times the sum) cannot
represent them unless all factors are equal. This is a documentation mismatch.

Exit status: 0 while the scale is not a scalar, 1 once it is one.
Run: python docs/findings/additive-attention-scale-per-feature.py
"""
import numpy as np
import tensorflow as tf

keras = tf.keras
print("tensorflow", tf.__version__, "keras", keras.__version__)
keras.utils.set_random_seed(0)  # fixes the scale's glorot_uniform initial value


def softmax(s):
    e = np.exp(s - s.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


rng = np.random.default_rng(0)
q = rng.normal(0.2, 1.0, (2, 3, 4))
v = rng.normal(-0.5, 1.0, (2, 5, 4))
k = rng.normal(0.0, 1.2, (2, 5, 4))

layer = keras.layers.AdditiveAttention(use_scale=True, dtype="float64")
out, w = (np.asarray(t) for t in layer([q, v, k], return_attention_scores=True))
scale = layer.scale.numpy()
print("scale variable: shape", scale.shape, "(documented: a scalar, shape ()); values", np.round(scale, 6))

t = np.tanh(q[:, :, None, :] + k[:, None, :, :])  # (B, Tq, Tv, dim)
w_feature = softmax((scale * t).sum(-1))          # what tf.keras computes
w_scalar = softmax(scale.mean() * t.sum(-1))      # the documented form, with a scalar of the same mean
print(f"max |tf.keras - softmax(sum(scale_d * tanh(q + k)))| weights {np.abs(w - w_feature).max():.2e}, "
      f"output {np.abs(out - w_feature @ v).max():.2e}")
print(f"max |tf.keras - softmax(s * sum(tanh(q + k)))| with scalar s = mean(scale) = {scale.mean():.6f}: "
      f"weights {np.abs(w - w_scalar).max():.2e}")

raise SystemExit(0 if scale.shape != () else 1)
