"""Keras 2's Nadam inside tf.function: its momentum-cache product (the running product of
mu_t, which the update divides by as 1 - prod mu) is advanced once per step under a tf.cond
whose predicate compares a Python counter (_u_product_counter, mutated while tracing) with
the step number. Traced, each variable's cond bakes in another value of the counter, so with
several variables the product is multiplied again for some of them within one step, and
their updates differ from eager ones (documented: "Optimizer that implements the Nadam
algorithm. Much like Adam is essentially RMSprop with momentum, Nadam is Adam with Nesterov
momentum." -- the same update whatever the execution mode). Where the optimizer is built
inside the function (the usual custom training loop: its first apply_gradients creates the
slots, so tf.function traces twice), the counter is off by one more: a single variable takes
the cached product 1 and divides by 1 - 1 = 0, and becomes +-inf at the first step.

Recorded as keras2-nadam-traced-u-product-counter for the tf_keras target.
"""
import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"  # tf.keras is Keras 2, the tf_keras package
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import tf_keras  # noqa: E402

print(f"tensorflow {tf.__version__}, tf_keras {tf_keras.__version__}")
rng = np.random.default_rng(0)
start = [rng.normal(size=(4,)).astype(np.float32) for _ in range(3)]
grads = [rng.normal(size=(4,)).astype(np.float32) for _ in range(3)]


def train(compiled, build_first, count=3):
    variables = [tf.Variable(w) for w in start[:count]]
    optimizer = tf.keras.optimizers.Nadam(learning_rate=0.1)
    if build_first:
        optimizer.build(variables)

    def step():
        optimizer.apply_gradients(zip([tf.constant(g) for g in grads[:count]], variables))
    step = tf.function(step) if compiled else step
    for _ in range(2):
        step()
    return [v.numpy() for v in variables]


eager = train(False, True)
built_first = train(True, True)
built_inside = train(True, False, count=1)
gaps = [float(np.abs(a - b).max()) for a, b in zip(built_first, eager)]
print("optimizer built before: max |tf.function - eager| per variable after 2 steps:", np.round(gaps, 4))
print("one variable, optimizer built by the first step inside tf.function:", built_inside[0])
wrong = max(gaps) > 1e-3 and not np.all(np.isfinite(built_inside[0]))
raise SystemExit(0 if wrong else 1)  # 0 while the divergence is there
