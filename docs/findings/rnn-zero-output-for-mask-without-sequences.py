"""zero_output_for_mask zeroes the final output even with return_sequences=False.

Documentation (keras.layers.RNN, keras/src/layers/rnn/rnn.py):
    zero_output_for_mask: Boolean (default `False`).
        Whether the output should use zeros for the masked timesteps.
        Note that this field is only used when `return_sequences`
        is `True` and `mask` is provided.
So with return_sequences=False the flag must have no effect: the output is the output of the
last unmasked step (for SimpleRNN, the final state), as with zero_output_for_mask=False.
tf.keras still applies it: a sequence whose last step is masked gets an output of zeros (batch
0 below), with unroll=False and unroll=True; a sequence whose last step is kept is right
(batch 1). The final state returned by return_state is not zeroed.

Exit status: 0 while tf.keras still diverges from the documented result, 1 once it agrees.
Run: python docs/findings/rnn-zero-output-for-mask-without-sequences.py
"""
import numpy as np
import tensorflow as tf

keras = tf.keras
print("tensorflow", tf.__version__, "keras", keras.__version__)
keras.utils.set_random_seed(0)  # fixes the layers' initial weights


def documented(x, mask, kernel, recurrent_kernel, bias):
    """SimpleRNN; a masked step keeps the state; the output is the last unmasked step's output."""
    h = np.zeros((x.shape[0], kernel.shape[1]))
    for t in range(x.shape[1]):
        h = np.where(mask[:, t, None], np.tanh(x[:, t] @ kernel + h @ recurrent_kernel + bias), h)
    return h


rng = np.random.default_rng(0)
x = rng.normal(0.2, 1.0, (2, 4, 3))
mask = np.array([[True, True, True, False],    # last step masked
                 [True, False, True, True]])   # last step kept


def make(zero_output_for_mask, unroll=False):
    layer = keras.layers.RNN(keras.layers.SimpleRNNCell(2, dtype="float64"),
                             zero_output_for_mask=zero_output_for_mask, unroll=unroll,
                             return_state=True, dtype="float64")
    layer.build((None, 4, 3))
    return layer


weights = make(False).get_weights()
expected = documented(x, mask, *weights)
print("mask:", mask.astype(int).tolist(), " documented output:", np.round(expected, 6).tolist())
worst = 0.0
for zero_output_for_mask, unroll in ((False, False), (True, False), (True, True)):
    layer = make(zero_output_for_mask, unroll)
    layer.set_weights(weights)
    out, state = (np.asarray(t) for t in layer(x, mask=mask))
    d = np.abs(out - expected).max()
    print(f"zero_output_for_mask={zero_output_for_mask}, unroll={unroll}: output "
          f"{np.round(out, 6).tolist()}  final state {np.round(state, 6).tolist()}  max |diff| {d:.3e}")
    if zero_output_for_mask:
        worst = max(worst, d)

raise SystemExit(0 if worst > 1e-6 else 1)
