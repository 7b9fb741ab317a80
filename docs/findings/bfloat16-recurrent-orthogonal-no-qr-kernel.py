"""SimpleRNN, LSTM and GRU with dtype="bfloat16" cannot be built on CPU: their default
recurrent_initializer, "orthogonal", needs a QR decomposition, which has no bfloat16 kernel.
Under the mixed_bfloat16 policy (float32 variables) they build and run."""
import numpy as np
import tensorflow as tf

print("tensorflow", tf.__version__)
x = tf.constant(np.random.default_rng(0).normal(size=(3, 7, 5)), dtype=tf.bfloat16)
raised = []
for name in ("SimpleRNN", "LSTM", "GRU"):
    try:
        getattr(tf.keras.layers, name)(4, dtype="bfloat16")(x)
        print(name, "built")
    except Exception as exc:  # the missing kernel
        print(name, type(exc).__name__, str(exc).splitlines()[0][:120])
        raised.append(name)
    getattr(tf.keras.layers, name)(4, dtype="mixed_bfloat16")(tf.cast(x, tf.float32))
    print(name, "under mixed_bfloat16: built")
raise SystemExit(0 if raised else 1)
