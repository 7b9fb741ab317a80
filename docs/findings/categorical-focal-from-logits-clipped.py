"""CategoricalFocalCrossentropy(from_logits=True) turns logits into clipped probabilities, capping each loss at -log(1e-7).

Documentation (keras.losses.CategoricalFocalCrossentropy): "FL(p_t) = alpha * (1 - p_t) ** gamma *
CategoricalCE(y_true, y_pred)", from_logits: "Whether output is expected to be a logits tensor".
With logits, p = softmax(logits) and -log p = logsumexp(logits) - logit: finite for any finite
logits. tf.keras takes the softmax, clips it to [1e-7, 1 - 1e-7] and takes the log, so a logit
120 below the largest costs 0.25 * 16.12 = 4.03 instead of 0.25 * 120 = 30 (CategoricalCrossentropy
with from_logits=True gives the right 120).

Exit status: 0 while tf.keras still diverges, 1 once it agrees.
Run: python docs/findings/categorical-focal-from-logits-clipped.py
"""
import numpy as np
import tensorflow as tf

keras = tf.keras
print("tensorflow", tf.__version__, "keras", keras.__version__)

t = np.array([[0.0, 1.0, 0.0]])
z = np.array([[60.0, -60.0, 3.5]])
log_p = z - np.log(np.exp(z - z.max()).sum()) - z.max()
p = np.exp(log_p)
documented = float(-(0.25 * (1 - p) ** 2 * t * log_p).sum())
got = float(keras.losses.categorical_focal_crossentropy(t, z, from_logits=True)[0])
cce = float(keras.losses.categorical_crossentropy(t, z, from_logits=True)[0])
print(f"categorical_focal_crossentropy: tf.keras {got:.6f}; documented {documented:.6f} "
      f"(categorical_crossentropy from logits: {cce:.6f})")
raise SystemExit(0 if abs(got - documented) > 1e-3 else 1)
