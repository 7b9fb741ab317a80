"""tf.keras.metrics lacks six function names that keras.metrics documents (mean_squared_error, ...).

Documentation (keras.io, Metrics; keras.metrics): the functions keras.metrics.mean_squared_error,
mean_absolute_error, mean_absolute_percentage_error, mean_squared_logarithmic_error, kl_divergence
and log_cosh, e.g. for MeanMetricWrapper(fn=...). tf.keras.metrics (Keras 3 through TensorFlow) has
none of these attributes; it has the Keras 2 names mse, mae, mape, msle, kld /
kullback_leibler_divergence and logcosh for the same functions.

Exit status: 0 while a documented name is missing, 1 once all are there.
Run: python docs/findings/tf-keras-metrics-function-names-missing.py
"""
import tensorflow as tf

keras = tf.keras
print("tensorflow", tf.__version__, "keras", keras.__version__)

documented = ["mean_squared_error", "mean_absolute_error", "mean_absolute_percentage_error",
              "mean_squared_logarithmic_error", "kl_divergence", "log_cosh"]
missing = [n for n in documented if not hasattr(keras.metrics, n)]
print("missing from tf.keras.metrics:", missing)
print("present instead:", [n for n in ("mse", "mae", "mape", "msle", "kld", "logcosh") if hasattr(keras.metrics, n)])
raise SystemExit(0 if missing else 1)
