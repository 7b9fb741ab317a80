"""An unrolled RNN going backwards with a mask and zero_output_for_mask applies the mask unreversed.

Documentation (keras.layers.RNN, keras/src/layers/rnn/rnn.py):
    go_backwards: Boolean (default `False`).
        If `True`, process the input sequence backwards and return the
        reversed sequence.
    unroll: Boolean (default `False`).
        If True, the network will be unrolled, else a symbolic loop will be
        used. ...
    zero_output_for_mask: Boolean (default `False`).
        Whether the output should use zeros for the masked timesteps.
    call argument mask: Binary tensor of shape `[batch_size, timesteps]`
        indicating whether a given timestep should be masked. ...
With go_backwards=True, position j of the returned (reversed) sequence is the output after
input step T-1-j, so it is zero exactly where mask[:, T-1-j] is False. unroll only chooses the
implementation. With unroll=True tf.keras zeroes position j where mask[:, j] is False (the
mask not reversed; keras/src/backend/tensorflow/rnn.py), so it zeroes real outputs and gives
masked ones the previous output. unroll=False gives the documented result. Bidirectional, which forces
zero_output_for_mask=True with return_sequences=True, inherits it in its backward half.

Exit status: 0 while tf.keras still diverges from the documented result, 1 once it agrees.
Run: python docs/findings/rnn-unroll-go-backwards-mask-unreversed.py
"""
import numpy as np
import tensorflow as tf

keras = tf.keras
print("tensorflow", tf.__version__, "keras", keras.__version__)
keras.utils.set_random_seed(0)  # fixes the layers' initial weights


def documented(x, mask, kernel, recurrent_kernel, bias):
    """SimpleRNN over x[:, T-1], ..., x[:, 0]; a masked step keeps the state and outputs 0."""
    h = np.zeros((x.shape[0], kernel.shape[1]))
    outputs = []
    for t in reversed(range(x.shape[1])):
        m = mask[:, t, None]
        h = np.where(m, np.tanh(x[:, t] @ kernel + h @ recurrent_kernel + bias), h)
        outputs.append(np.where(m, h, 0.0))
    return np.stack(outputs, 1)  # the reversed sequence: position j <-> input step T-1-j


rng = np.random.default_rng(0)
x = rng.normal(0.2, 1.0, (2, 4, 3))
mask = np.array([[True, True, True, False],
                 [True, False, True, True]])


def backward_rnn(unroll):
    layer = keras.layers.RNN(keras.layers.SimpleRNNCell(2, dtype="float64"), return_sequences=True,
                             go_backwards=True, unroll=unroll, zero_output_for_mask=True,
                             dtype="float64")
    layer.build((None, 4, 3))
    return layer


ref_layer = backward_rnn(unroll=False)
weights = ref_layer.get_weights()
expected = documented(x, mask, *weights)
print("mask:", mask.astype(int).tolist(), "-> zeros of the reversed sequence documented at",
      (~mask[:, ::-1]).astype(int).tolist())
worst = {}
for unroll in (False, True):
    layer = backward_rnn(unroll)
    layer.set_weights(weights)
    got = np.asarray(layer(x, mask=mask))
    worst[unroll] = np.abs(got - expected).max()
    print(f"unroll={unroll}: batch 1 output |h| per position {np.round(np.abs(got[1]).sum(1), 4)}"
          f"  documented {np.round(np.abs(expected[1]).sum(1), 4)}  max |diff| {worst[unroll]:.3e}")

# Bidirectional forces zero_output_for_mask=True: its backward half inherits the wrong zeros
bidi = {}
for unroll in (False, True):
    layer = keras.layers.Bidirectional(
        keras.layers.SimpleRNN(2, return_sequences=True, unroll=unroll, dtype="float64"),
        dtype="float64")
    layer.build((None, 4, 3))
    bidi[unroll] = layer
bidi[True].set_weights(bidi[False].get_weights())
b_false, b_true = (np.asarray(bidi[u](x, mask=mask)) for u in (False, True))
print(f"Bidirectional(SimpleRNN(2, return_sequences=True)): max |unroll=True - unroll=False| "
      f"{np.abs(b_true - b_false).max():.3e} (forward half {np.abs(b_true - b_false)[..., :2].max():.3e})")

raise SystemExit(0 if worst[True] > 1e-6 else 1)
