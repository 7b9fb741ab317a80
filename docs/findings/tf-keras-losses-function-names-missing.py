"""tf.keras.losses lacks six function names that keras.losses documents (mean_squared_error, ...).

Documentation (keras.io, Losses; keras.losses): the function forms keras.losses.mean_squared_error,
mean_absolute_error, mean_absolute_percentage_error, mean_squared_logarithmic_error, kl_divergence
and log_cosh. tf.keras.losses (Keras 3 through TensorFlow) has none of these attributes; it has the
Keras 2 names mse, mae, mape, msle, kld / kullback_leibler_divergence and logcosh, which are the
same functions.

Exit status: 0 while a documented name is missing, 1 once all are there.
Run: python docs/findings/tf-keras-losses-function-names-missing.py
"""
import tensorflow as tf

keras = tf.keras
print("tensorflow", tf.__version__, "keras", keras.__version__)

documented = ["mean_squared_error", "mean_absolute_error", "mean_absolute_percentage_error",
              "mean_squared_logarithmic_error", "kl_divergence", "log_cosh"]
missing = [n for n in documented if not hasattr(keras.losses, n)]
print("missing from tf.keras.losses:", missing)
print("present instead:", [n for n in ("mse", "mae", "mape", "msle", "kld", "logcosh") if hasattr(keras.losses, n)])
raise SystemExit(0 if missing else 1)
