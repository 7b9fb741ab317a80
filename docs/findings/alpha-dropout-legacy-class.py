"""tf.keras.layers.AlphaDropout is the legacy class, which does not validate `rate` and fails on None in noise_shape.

Documentation (keras.layers.AlphaDropout, keras/src/layers/regularization/alpha_dropout.py):
    rate: Float between 0 and 1. The multiplicative noise will have
        standard deviation `sqrt(rate / (1 - rate))`.
    noise_shape: 1D integer tensor representing the shape of the
        binary alpha dropout mask that will be multiplied with the input.
        For instance, if your inputs have shape
        `(batch_size, timesteps, features)` and
        you want the alpha dropout mask to be the same for all timesteps,
        you can use `noise_shape=(batch_size, 1, features)`.
keras.layers.AlphaDropout enforces the rate range (ValueError outside [0, 1]) and resolves None
entries of noise_shape to the input's size (Keras's alpha_dropout_test.py asserts both:
test_alpha_dropout_negative_rate, _rate_greater_than_one, _partial_noise_shape_dynamic).
But tf.keras.layers.AlphaDropout (keras/_tf_keras/keras/layers/__init__.py) is
keras.src.legacy.layers.AlphaDropout, whose whole docstring is "DEPRECATED.", and which
  1. accepts rate=-0.5 and in training returns the input unchanged (its `if rate > 0` skips
     the dropout);
  2. accepts rate=1.5 and raises TypeError only when called in training (a negative number
     to the power -1/2 makes the affine factors complex);
  3. raises ValueError in training for noise_shape=(None, 1, None) (None is passed to the
     random op), where keras.layers.AlphaDropout drops whole rows along axis 1;
  4. leaves noise_shape out of get_config, so serialization (saving, clone_model) drops it.
The Keras 3 class is reached below through tf.keras.layers.deserialize with
module "keras.layers". RandomHeight, RandomWidth and ThresholdedReLU under tf.keras.layers
are legacy classes too, but keras.layers has no counterpart of them.

Exit status: 0 while tf.keras.layers.AlphaDropout still shows the legacy behaviour, 1 otherwise.
Run: python docs/findings/alpha-dropout-legacy-class.py
"""
import numpy as np
import tensorflow as tf

keras = tf.keras
print("tensorflow", tf.__version__, "keras", keras.__version__)
keras.utils.set_random_seed(0)

Legacy = keras.layers.AlphaDropout
Keras3 = type(keras.layers.deserialize(
    {"module": "keras.layers", "class_name": "AlphaDropout", "config": {"rate": 0.5}}))
print(f"tf.keras.layers.AlphaDropout: {Legacy.__module__}.{Legacy.__name__}, docstring {Legacy.__doc__!r}")
print(f"keras.layers.AlphaDropout:    {Keras3.__module__}.{Keras3.__name__}")
for name in ("RandomHeight", "RandomWidth", "ThresholdedReLU"):
    print(f"tf.keras.layers.{name}: {getattr(keras.layers, name).__module__}")

x = np.random.default_rng(0).normal(0.2, 1.0, (4, 6, 5)).astype("float32")
alpha_p = -1.6732632423543772848170429916717 * 1.0507009873554804934193349852946  # -alpha * scale


def attempt(cls, *args, **kwargs):
    """Construct, then call in training; return the output or a one-line description of the error."""
    try:
        layer = cls(*args, **kwargs)
    except Exception as e:  # noqa: BLE001
        return f"constructor raises {type(e).__name__}"
    try:
        return np.asarray(layer(x, training=True))
    except Exception as e:  # noqa: BLE001
        msg = [ln for ln in str(e).replace("\x1b[1m", "").replace("\x1b[0m", "").splitlines() if ln.strip()]
        return f"call raises {type(e).__name__}: {msg[1] if len(msg) > 1 else msg[0]}"


def describe(result):
    if isinstance(result, str):
        return result
    return f"accepted, max |output - input| {np.abs(result - x).max():.3g}"


legacy = {}
for label, args, kwargs in (("rate=-0.5", (-0.5,), {}), ("rate=1.5", (1.5,), {}),
                            ("rate=0.5, noise_shape=(None, 1, None)", (0.5,), {"noise_shape": (None, 1, None)})):
    legacy[label] = attempt(Legacy, *args, **kwargs)
    print(f"{label}\n  tf.keras.layers.AlphaDropout: {describe(legacy[label])}"
          f"\n  keras.layers.AlphaDropout:    {describe(attempt(Keras3, *args, **kwargs))}")

# the documented result for noise_shape=(None, 1, None), checked in NumPy on the Keras 3 class:
# y = a * (x * kept + alpha_p * (1 - kept)) + b with kept constant along axis 1
rate = 0.5
a = ((1 - rate) * (1 + rate * alpha_p**2)) ** -0.5
b = -a * alpha_p * rate
y = np.asarray(Keras3(rate, noise_shape=(None, 1, None))(x, training=True), np.float64)
kept = np.abs(y - (a * x + b)) < 1e-5
dropped = np.abs(y - (a * alpha_p + b)) < 1e-5
print(f"keras.layers.AlphaDropout(0.5, noise_shape=(None, 1, None)): every entry kept or dropped per the formula: "
      f"{bool((kept | dropped).all())}; mask constant along axis 1: {bool((kept == kept[:, :1]).all())}; "
      f"kept fraction {kept.mean():.2f}")

config = Legacy(0.3, noise_shape=(4, 1, 5)).get_config()
print("tf.keras.layers.AlphaDropout(0.3, noise_shape=(4, 1, 5)).get_config():",
      {k: v for k, v in config.items() if k in ("rate", "seed", "noise_shape")},
      "-> from_config noise_shape:", Legacy.from_config(config).noise_shape)

def constructed(result):
    return not (isinstance(result, str) and result.startswith("constructor"))


diverges = (constructed(legacy["rate=-0.5"]) or constructed(legacy["rate=1.5"])  # rate not validated
            or isinstance(legacy["rate=0.5, noise_shape=(None, 1, None)"], str))  # None entries fail
raise SystemExit(0 if diverges else 1)
