"""In bfloat16 the default beta_2 = 0.999 rounds to 1, so the bias correction 1 - beta_2^t is 0 and
the Adam family's documented step divides by it.

bfloat16 has 8 significant bits: the numbers next to 1 are 1 - 2^-9 = 0.99805 and 1, and 0.999
rounds to 1. An optimizer that evaluates its formula in the variable's dtype therefore gets
1 - beta_2^t = 0 at every step:
- Adam and AdamW: step = lr sqrt(1 - beta_2^t) / (1 - beta_1^t) * m / (sqrt(v) + epsilon) has the
  factor sqrt(0): no step ever (also the formula's limit as beta_2 -> 1, which the reference gives).
- Lamb: v_hat = v / (1 - beta_2^t) = v / 0 = inf (tf.keras computes 1 - beta_2 = 0.001 from the
  Python float, so v is not 0), r = m_hat / (sqrt(v_hat) + epsilon) = 0, and w - lr * trust * r
  leaves w as it was: no step ever. The formula's limit as beta_2 -> 1 is v_hat = the mean of g^2,
  a full step (the reference).
- Nadam: the same v_hat, NaN weights at the first step (tf.keras computes its v_hat as
  v / (1 - beta_2^t) with both in bfloat16).
- ScheduleFreeAdamW: gamma_t = lr sqrt(1 - beta_2^t) = 0 and its averaging weight
  c = gamma_t^2 / sum gamma_i^2 = 0 / 0: NaN weights at the first step (the limit is no step).
The documentation promises the formulas, not their value where beta_2 is not below 1, so this is
recorded as an IEEE edge (not counted against tf.keras). It is a hazard all the same: a model whose
weights are bfloat16 (dtype="bfloat16", not the mixed_bfloat16 policy, whose variables are
float32) does not train with these optimizers' defaults. keras#21238 proposed capping Lamb's
beta_2 under bfloat16 (closed unmerged); keras-hub#2629 reports Adam making no updates to bfloat16
LoRA weights.

Exit status: 0 while Lamb leaves a bfloat16 variable unchanged and Nadam makes it NaN, 1 otherwise.
"""
import numpy as np
import tensorflow as tf

print("tensorflow", tf.__version__)
keras = tf.keras
print("float(bfloat16(0.999)) =", float(tf.cast(0.999, tf.bfloat16)))

start = np.array([[0.5, -1.25], [2.0, 0.75]])
gradient = np.array([[0.3, -0.2], [0.1, 0.4]])
after = {}
for name in ("Adam", "Lamb", "Nadam", "ScheduleFreeAdamW", "RMSprop"):
    for dtype in ("float32", "bfloat16"):
        optimizer = getattr(keras.optimizers, name)(learning_rate=0.1)
        variable = keras.Variable(start, dtype=dtype)
        optimizer.apply_gradients([(tf.constant(gradient, dtype=dtype), variable)])
        after[name, dtype] = np.asarray(variable.numpy(), np.float64)
        print(f"{name:18} {dtype:9} after one step: {after[name, dtype].ravel()}")

lamb_still = np.array_equal(after["Lamb", "bfloat16"], start)
nadam_nan = np.isnan(after["Nadam", "bfloat16"]).all()
print("Lamb leaves the bfloat16 variable unchanged:", lamb_still, "; Nadam gives NaN:", nadam_nan)
raise SystemExit(0 if lamb_still and nadam_nan else 1)
