"""A [batch_size] sample_weight is broadcast against the last axis of the per-sample losses, not the batch.

Documentation (keras.io, Losses, "Standalone usage of losses"):
    If `sample_weight` is a tensor of size `[batch_size]`, then the total loss for each sample of
    the batch is rescaled by the corresponding element in the `sample_weight` vector.
For (batch, steps, features) inputs the per-sample losses are (batch, steps). tf.keras multiplies
them by the vector with NumPy broadcasting, which aligns it with the last axis (steps): with
batch != steps it raises (Incompatible shapes), with batch == steps it silently weighs the steps
instead of the samples.

Exit status: 0 while tf.keras still diverges, 1 once it agrees.
Run: python docs/findings/loss-sample-weight-vector-on-last-axis.py
"""
import numpy as np
import tensorflow as tf

keras = tf.keras
print("tensorflow", tf.__version__, "keras", keras.__version__)

rng = np.random.default_rng(0)
y_true, y_pred = rng.normal(size=(2, 4, 4, 3))
weight = np.array([0.5, 2.0, 0.0, 1.25])               # one per sample (batch of 4, 4 steps)
losses = ((y_true - y_pred) ** 2).mean(axis=-1)          # (4, 4) per-sample losses
documented = (losses * weight[:, None]).sum()
got = float(keras.losses.MeanSquaredError(reduction="sum", dtype="float64")(y_true, y_pred, sample_weight=weight))
print(f"4 samples x 4 steps: tf.keras {got:.8f}; documented (each sample's losses rescaled) {documented:.8f}; "
      f"weights along the steps instead {(losses * weight[None, :]).sum():.8f}")
diverges = abs(got - documented) > 1e-6
try:
    keras.losses.MeanSquaredError(reduction="sum")(y_true[:3], y_pred[:3], sample_weight=weight[:3])
    print("3 samples x 4 steps: accepted")
except (ValueError, tf.errors.InvalidArgumentError) as exc:
    print("3 samples x 4 steps: tf.keras raises", type(exc).__name__, str(exc).strip().splitlines()[-1][:100])
    diverges = True
raise SystemExit(0 if diverges else 1)
