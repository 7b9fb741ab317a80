"""Muon's docstring: a variable that is not 2-D (or is named by `exclude_layers`) takes "the
AdamW step", with `adam_lr_ratio` "the ratio of the learning rate when using Adam to the main
learning rate" and `adam_weight_decay` the weight decay "applied when using the Adam
optimizer". AdamW's decoupled decay is scaled by the learning rate of its step
(w <- w - lr * weight_decay * w before the Adam update, as tf.keras's own AdamW does), so the
AdamW step at the Adam learning rate lr * adam_lr_ratio decays by lr * adam_lr_ratio *
adam_weight_decay: Muon's AdamW step should equal
AdamW(learning_rate=lr * adam_lr_ratio, weight_decay=adam_weight_decay, beta_1=adam_beta_1, ...).

tf.keras's Muon scales the Adam update by lr * adam_lr_ratio but decays by the main
learning rate: lr * adam_weight_decay. One step of a 1-D variable w = [0.5, -1.25, 2.0] with
lr = 0.25, adam_lr_ratio = 0.5, adam_weight_decay = 0.5, epsilon = 0 (betas exact in float32),
gradient [0.75, -1.5, 0.25]: AdamW(learning_rate=0.125, weight_decay=0.5) gives
w - 0.0625 w - 0.125 sign(g) = [0.34375, -1.046875, 1.75]; Muon gives w - 0.125 w - 0.125 sign(g)
= [0.3125, -0.96875, 1.625]. With adam_lr_ratio = 1 the two agree.

Exit 0 while the divergence exists, 1 otherwise.
"""
import numpy as np
import tensorflow as tf

print(f"tensorflow {tf.__version__}, keras {tf.keras.__version__}")
lr, ratio, wd = 0.25, 0.5, 0.5
b1, b2 = 0.875, 0.9990234375  # exact in float32 (tf.keras rounds betas to float32 in parts of the step)
w0 = np.array([0.5, -1.25, 2.0])
g = np.array([0.75, -1.5, 0.25])


def one_step(optimizer):
    w = tf.keras.Variable(initializer=w0, dtype="float64", name="bias")
    optimizer.build([w])
    optimizer.apply_gradients([(tf.constant(g), w)])
    return w.numpy()


muon = one_step(tf.keras.optimizers.Muon(learning_rate=lr, adam_lr_ratio=ratio, adam_weight_decay=wd,
                                         adam_beta_1=b1, adam_beta_2=b2, epsilon=0.0))
adamw = one_step(tf.keras.optimizers.AdamW(learning_rate=lr * ratio, weight_decay=wd, beta_1=b1, beta_2=b2, epsilon=0.0))
documented = w0 - lr * ratio * wd * w0 - lr * ratio * np.sign(g)  # one Adam step from zero moments: lr * sign(g)
print("Muon, a 1-D variable (the AdamW step)       ", muon)
print("AdamW(learning_rate=lr * adam_lr_ratio, ...)", adamw)
print("by hand, decay by lr * adam_lr_ratio        ", documented)
print("by hand, decay by the main lr               ", w0 - lr * wd * w0 - lr * ratio * np.sign(g))
raise SystemExit(0 if np.max(np.abs(muon - documented)) > 1e-6 else 1)
