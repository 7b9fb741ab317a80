"""Under a mixed precision policy Keras 2's Normalization creates its adapted mean and variance
in the 16-bit compute dtype, not in the policy's variable dtype (float32): build() calls
add_weight(..., dtype=self.compute_dtype). tf_keras.mixed_precision.Policy: "variable_dtype:
The variable dtype of this policy. This is the dtype layers will create their variables in,
unless a layer explicitly chooses a different dtype."; "'mixed_float16' or 'mixed_bfloat16'
... causes the compute dtype to be float16 or bfloat16 and the variable dtype to be float32."
Normalization's docstring does not say it chooses another dtype. Under mixed_bfloat16 the model
then saves bfloat16 weights that load_model cannot read back (see
keras2-bfloat16-keras-file-not-loadable; tensorflow/tensorflow#62564). Keras 3 keeps float32.

Recorded as keras2-normalization-mixed-policy-statistics-compute-dtype (documentation-mismatch).
"""
import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"  # tf.keras is Keras 2, the tf_keras package
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import tf_keras  # noqa: E402

print(f"tensorflow {tf.__version__}, tf_keras {tf_keras.__version__}")
data = np.random.default_rng(1).normal(100.0, 0.25, (41, 3)).astype("float32")
wrong = 0
for policy in ("mixed_float16", "mixed_bfloat16"):
    layer = tf_keras.layers.Normalization(dtype=policy)
    layer.adapt(data)
    dtypes = {w.name.split("/")[-1].split(":")[0]: w.dtype.name for w in layer.weights}
    print(f"{policy}: variable_dtype {layer.dtype_policy.variable_dtype}, weights {dtypes}, "
          f"mean {np.asarray(tf.cast(layer.mean, tf.float64)).round(4).tolist()} (float64: {data.astype(np.float64).mean(0).round(4).tolist()})")
    wrong += any(d not in ("float32", "int64") for d in dtypes.values())
print("documented: float32 variables under a mixed policy (unless the layer says otherwise)")
raise SystemExit(0 if wrong == 2 else 1)  # 0 while the divergence is there
