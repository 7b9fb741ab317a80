"""Adaptive pooling with output_size=1 ("regardless of the input length"): one bin over the
whole axis. Eagerly the average pool is right; inside tf.function and under XLA tf.keras
raises ValueError. (Eagerly the max pool dies of SIGFPE, so it is not called eagerly here.)

Recorded in cases/pooling_adaptive.yaml (output_size_one_in_a_graph).
"""
import numpy as np
import tensorflow as tf

x = np.random.default_rng(0).normal(0.25, 1.0, size=(2, 12, 3)).astype(np.float32)
for name, reduce in [("AdaptiveAveragePooling1D", np.mean), ("AdaptiveMaxPooling1D", np.max)]:
    layer = getattr(tf.keras.layers, name)(output_size=1)
    call = lambda t: layer(t)
    modes = [("function", tf.function(call)), ("xla", tf.function(call, jit_compile=True))]
    if name == "AdaptiveAveragePooling1D":
        modes.insert(0, ("eager", call))
    for mode, fn in modes:
        try:
            out = np.asarray(fn(tf.constant(x)))
            print(f"{name} {mode:9s} max|keras - reference| = {np.abs(out - reduce(x, axis=1, keepdims=True)).max():.3g}")
        except Exception as exc:
            why = next((line.strip() for line in str(exc).splitlines() if "Negative dimension" in line), str(exc))
            print(f"{name} {mode:9s} raised {type(exc).__name__}: {why[:100]}")
