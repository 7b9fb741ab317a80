"""Tversky(alpha, beta) weighs false negatives by alpha and false positives by beta, the reverse of its docstring.

Documentation (keras.losses.Tversky and keras.losses.tversky, Keras 3.15):
    alpha: The coefficient controlling incidence of false positives.
    beta: The coefficient controlling incidence of false negatives.
and the cited paper (Salehi et al. 2017): T = TP / (TP + alpha FP + beta FN), loss 1 - T, with
TP = sum(t p), FP = sum((1 - t) p), FN = sum(t (1 - p)). tf.keras gives 1 - TP / (TP + alpha FN +
beta FP): the documented loss with alpha and beta exchanged. Invisible at the default
alpha = beta = 0.5 (Dice).

Exit status: 0 while tf.keras still diverges, 1 once it agrees.
Run: python docs/findings/tversky-alpha-beta-swapped.py
"""
import numpy as np
import tensorflow as tf

keras = tf.keras
print("tensorflow", tf.__version__, "keras", keras.__version__)

t = np.array([[1.0, 1.0, 0.0, 0.0, 1.0, 0.0]])
p = np.array([[0.9, 0.2, 0.7, 0.1, 0.6, 0.3]])


def documented(alpha, beta):
    tp, fp, fn = (t * p).sum(), ((1 - t) * p).sum(), (t * (1 - p)).sum()
    return 1 - tp / (tp + alpha * fp + beta * fn)


alpha, beta = 0.9, 0.2
got = float(keras.losses.Tversky(alpha=alpha, beta=beta, dtype="float64")(t, p))
print(f"Tversky(alpha={alpha}, beta={beta}): tf.keras {got:.10f}; documented {documented(alpha, beta):.10f}; "
      f"documented with alpha and beta exchanged {documented(beta, alpha):.10f}")
raise SystemExit(0 if abs(got - documented(alpha, beta)) > 1e-3 else 1)
