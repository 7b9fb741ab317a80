"""MixUp cannot be compiled with XLA, even at inference: its Gamma sampler has no XLA kernel.

Documentation (keras.layers.MixUp): a preprocessing layer (Layer.__call__ under
tf.function(jit_compile=True) is a documented way to run any layer); at inference MixUp is a
data augmentation that leaves images unchanged. MixUp draws its mixing weights from a Beta
distribution (two Gamma draws) in get_random_transformation whether or not training is set,
and StatelessRandomGammaV3 has no XLA_CPU_JIT kernel, so
tf.function(lambda x: layer(x, training=False), jit_compile=True) raises
InvalidArgumentError "Detected unsupported operations ... StatelessRandomGammaV3". Eagerly and in
tf.function without XLA the inference output is the input.

Exit status: 0 while the XLA call raises, 1 once it compiles.
Run: python docs/findings/mixup-xla-gamma-sampler-missing.py
"""
import numpy as np
import tensorflow as tf

keras = tf.keras
print("tensorflow", tf.__version__, "keras", keras.__version__)

x = np.random.default_rng(0).normal(127.5, 30.0, (2, 7, 8, 3)).astype("float32")
layer = keras.layers.MixUp()
eager = np.asarray(layer(x, training=False))
print(f"eager, training=False: output equals the input: {np.array_equal(eager, x)}")
try:
    y = tf.function(lambda t: layer(t, training=False), jit_compile=True)(x)
except tf.errors.InvalidArgumentError as e:
    line = next((l for l in str(e).splitlines() if "unsupported" in l), str(e).splitlines()[0])
    print(f"XLA, training=False: raises InvalidArgumentError: {line[:240]}")
    raise SystemExit(0)
print(f"XLA, training=False: output equals the input: {np.array_equal(np.asarray(y), x)}")
raise SystemExit(1)
