"""The SparseCategoricalCrossentropy metric counts the entries of ignore_class in its mean.

Documentation (keras.metrics.SparseCategoricalCrossentropy): "ignore_class: (Optional) Integer.
Class to ignore. If `None`, no class is ignored." (the loss: "The ID of a class to be ignored
during loss computation"). The metric gives an ignored entry a crossentropy of 0 but keeps it in
the count it divides by, so the result shrinks with the share of ignored entries: on three
samples, one of them labelled with the ignored class, it returns 2/3 of the mean over the other
two. The loss class SparseCategoricalCrossentropy(ignore_class=...) leaves them out.

Exit status: 0 while the ignored entries are counted, 1 once they are left out.
Run: python docs/findings/sparse-crossentropy-metric-counts-ignored.py
"""
import numpy as np
import tensorflow as tf

print("tensorflow", tf.__version__, "keras", tf.keras.__version__)
y_true = np.array([0, 1, 2])
y_pred = np.array([[0.7, 0.2, 0.1], [0.3, 0.6, 0.1], [0.2, 0.2, 0.6]])
metric = tf.keras.metrics.SparseCategoricalCrossentropy(ignore_class=1, dtype="float64")
metric.update_state(y_true, y_pred)
got = float(metric.result())
loss = float(tf.keras.losses.SparseCategoricalCrossentropy(ignore_class=1, dtype="float64")(y_true, y_pred))
documented = -(np.log(0.7) + np.log(0.6)) / 2  # samples 0 and 2; sample 1 is ignored
print("metric:", got, "loss class:", loss, "mean over the kept samples:", documented, "over all 3:", documented * 2 / 3)
raise SystemExit(0 if abs(got - documented) > 1e-6 else 1)
