"""SimpleRNN(activity_regularizer=...): documented as "Regularizer function applied to the output
of the layer (its "activation")", an activity penalty (sum over the output, divided by the batch
size) in layer.losses. SimpleRNN adds none; LSTM and GRU do. Found by `conformance fuzz` (seed 0).

Recorded in cases/recurrent_layers.yaml (activity_regularized).
"""
import numpy as np
import tensorflow as tf

x = np.random.default_rng(0).normal(size=(2, 3, 2)).astype(np.float32)
for name in ("SimpleRNN", "LSTM", "GRU"):
    layer = getattr(tf.keras.layers, name)(2, activity_regularizer="l1")
    out = np.asarray(layer(x))
    documented = 0.01 * np.abs(out).sum() / x.shape[0]
    print(f"{name:9s} layer.losses = {[round(float(v), 6) for v in layer.losses]}, documented l1 penalty {documented:.6f}")
