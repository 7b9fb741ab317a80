"""RandomShear cannot be re-created from its own config.

Documentation (Layer.from_config): "This method is the reverse of get_config, capable of
instantiating the same layer from the config dictionary."
RandomShear(x_factor=0.3).get_config() stores x_factor as the range (-0.3, 0.3) it samples
from, and the constructor refuses negative numbers: from_config raises TypeError (wrapping
ValueError "The `factor` argument should be a number (or a list of two numbers) in the range
[0, 1.0]. Received: input_number=-0.3"). The same happens through
serialize/deserialize_keras_object, and for any nonzero factor; RandomShear() (factors 0) loads.

Exit status: 0 while from_config(get_config()) raises, 1 once it round-trips.
Run: python docs/findings/random-shear-config-not-loadable.py
"""
import tensorflow as tf

keras = tf.keras
print("tensorflow", tf.__version__, "keras", keras.__version__)

config = keras.layers.RandomShear(x_factor=0.3).get_config()
print(f"get_config(): x_factor {config['x_factor']}, y_factor {config['y_factor']}")
try:
    keras.layers.RandomShear.from_config(config)
except Exception as e:  # noqa: BLE001 - any exception is the finding
    print(f"from_config: raises {type(e).__name__}: {str(e).splitlines()[-1]}")
    raise SystemExit(0)
print("from_config: round-trips")
raise SystemExit(1)
