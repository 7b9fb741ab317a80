"""CTC in float64 is accurate only to float32: the loss comes back off by about 1e-7 relative.

Documentation (keras.losses.CTC / ctc): the CTC loss of integer labels (0 the blank) against
(batch, steps, classes) logits; the loss's dtype is "the dtype of the loss's computations". With
dtype float64 and float64 logits tf.keras's result differs from the exact negative
log-likelihood (the forward recursion of Graves et al. 2006, here by enumerating every
alignment) by about 1e-8 to 1e-7 relative, the accuracy of float32.

Exit status: 0 while tf.keras still diverges, 1 once it agrees.
Run: python docs/findings/ctc-float64-through-float32.py
"""
import itertools

import numpy as np
import tensorflow as tf

keras = tf.keras
print("tensorflow", tf.__version__, "keras", keras.__version__)

rng = np.random.default_rng(0)
logits = rng.normal(size=(1, 5, 3))
labels = np.array([[1, 2]])
log_p = logits[0] - np.log(np.exp(logits[0]).sum(axis=-1, keepdims=True))


def collapse(path):
    out = [k for k, _ in itertools.groupby(path)]
    return [k for k in out if k != 0]


total = sum(np.exp(sum(log_p[t, k] for t, k in enumerate(path)))
            for path in itertools.product(range(3), repeat=5) if collapse(path) == [1, 2])
documented = -np.log(total)
got = float(keras.losses.ctc(labels, logits)[0])
print(f"ctc float64: tf.keras {got:.15f}; documented {documented:.15f}; relative {abs(got - documented) / documented:.2e}")
raise SystemExit(0 if abs(got - documented) / documented > 1e-12 else 1)
