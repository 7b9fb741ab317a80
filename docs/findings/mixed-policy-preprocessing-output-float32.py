"""Under a mixed precision policy CategoryEncoding, Hashing (counting outputs), CenterCrop and
RandomCrop at inference (called eagerly) return float32, where Resizing and Rescaling return the
compute dtype.

keras.DTypePolicy: "compute_dtype: The compute dtype of this policy. This is the dtype layers will
do their computations in ... Typically layers output tensors with the compute dtype as well."
Under "mixed_float16" these four layers output float32; Resizing and Rescaling, preprocessing
layers too, output float16. "Typically" leaves room, so this is recorded as a documentation
mismatch: a mixed model gets float32 from them and float16 from their neighbours.

Exit status: 0 while CenterCrop under mixed_float16 returns float32, 1 once it returns float16.
"""
import numpy as np
import tensorflow as tf

print("tensorflow", tf.__version__)
images = tf.constant(np.random.default_rng(0).uniform(0, 255, (1, 4, 5, 3)), dtype="float32")
layers = {
    "CategoryEncoding(count)": (tf.keras.layers.CategoryEncoding(num_tokens=4, output_mode="count", dtype="mixed_float16"), tf.constant([[0, 1, 1]]), {}),
    "Hashing(count)": (tf.keras.layers.Hashing(num_bins=4, output_mode="count", dtype="mixed_float16"), tf.constant([[3, 5, 9]]), {}),
    "CenterCrop": (tf.keras.layers.CenterCrop(8, 9, dtype="mixed_float16"), images, {}),
    "RandomCrop(training=False)": (tf.keras.layers.RandomCrop(4, 5, seed=3, dtype="mixed_float16"), images, {"training": False}),
    "RandomCrop(training=True)": (tf.keras.layers.RandomCrop(4, 5, seed=3, dtype="mixed_float16"), images, {"training": True}),
    "Resizing": (tf.keras.layers.Resizing(8, 9, dtype="mixed_float16"), images, {}),
    "Rescaling": (tf.keras.layers.Rescaling(0.5, dtype="mixed_float16"), images, {}),
}
outputs = {}
for name, (layer, x, call) in layers.items():
    outputs[name] = layer(x, **call).dtype.name
    print(f"{name:27} compute dtype {layer.compute_dtype}, output {outputs[name]}")
raise SystemExit(0 if outputs["CenterCrop"] == "float32" else 1)
