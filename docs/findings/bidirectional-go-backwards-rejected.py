"""Bidirectional rejects a forward layer with go_backwards=True.

Documentation (keras.layers.Bidirectional, keras/src/layers/rnn/bidirectional.py):
    layer: `keras.layers.RNN` instance, such as
        `keras.layers.LSTM` or `keras.layers.GRU`.
    ...
    backward_layer: Optional `keras.layers.RNN`,
        or `keras.layers.Layer` instance to be used to handle
        backwards input processing.
        If `backward_layer` is not provided, the layer instance passed
        as the `layer` argument will be used to generate the backward layer
        automatically.
        Note that the provided `backward_layer` layer should have properties
        matching those of the `layer` argument, ... In addition, `backward_layer`
        and `layer` should have different `go_backwards` argument values.
        A `ValueError` will be raised if these requirements are not met.
The go_backwards requirement is stated for a *provided* backward_layer; nothing restricts
`layer` itself, and LSTM(go_backwards=True) is an RNN instance. tf.keras generates the backward
layer with go_backwards=True whatever `layer` has, and then raises its own ValueError because
the two are equal. Keras 2 (tf.keras before Keras 3) generated it with
config['go_backwards'] = not config['go_backwards'] and accepted such a layer. A forward
layer with go_backwards=True and an explicit backward_layer with go_backwards=False is accepted.

Exit status: 0 while tf.keras still raises, 1 once it accepts the layer.
Run: python docs/findings/bidirectional-go-backwards-rejected.py
"""
import numpy as np
import tensorflow as tf

keras = tf.keras
print("tensorflow", tf.__version__, "keras", keras.__version__)
keras.utils.set_random_seed(0)  # fixes the layers' initial weights

x = np.random.default_rng(0).normal(0.1, 1.0, (2, 5, 3)).astype("float32")

explicit = keras.layers.Bidirectional(keras.layers.LSTM(2, go_backwards=True),
                                      backward_layer=keras.layers.LSTM(2, go_backwards=False))
print("Bidirectional(LSTM(2, go_backwards=True), backward_layer=LSTM(2)): accepted, output shape",
      tuple(explicit(x).shape))

try:
    layer = keras.layers.Bidirectional(keras.layers.LSTM(2, go_backwards=True))
except Exception as e:  # noqa: BLE001 - any exception is the finding
    print(f"Bidirectional(LSTM(2, go_backwards=True)): raises {type(e).__name__}: {str(e).splitlines()[0]}")
    raise SystemExit(0)
print("Bidirectional(LSTM(2, go_backwards=True)): accepted; backward layer go_backwards =",
      layer.backward_layer.go_backwards, "; output shape", tuple(layer(x).shape))
raise SystemExit(1)
