"""LoRA factors of a float64 layer are float32 variables, so the layer computes below its dtype.

The `dtype` of a layer is "the dtype of the layer's computations and weights"; a float64
Dense(lora_rank=2) stores lora_kernel_a and lora_kernel_b as float32 (keras-team/keras#22559
made LoRA weights float32 to protect float16/bfloat16 training, for every dtype). A float64
update assigned to them is rounded to float32 and the output is off by ~1e-7 relative.
Run: python docs/findings/lora_factors_float32_in_float64_layer.py
"""
import numpy as np
import tensorflow as tf

keras = tf.keras
print(f"tensorflow {tf.__version__}, keras {keras.__version__}")
rng = np.random.default_rng(0)
x = rng.standard_normal((4, 6))
layer = keras.layers.Dense(3, lora_rank=2, dtype="float64")
layer.build((None, 6))
print("variable dtypes:", {v.path.split("/")[-1]: v.dtype for v in layer.weights})
kernel = layer.kernel.numpy()  # lora_kernel_b starts at zero, so this is the frozen kernel
a, b = rng.standard_normal((6, 2)), rng.standard_normal((2, 3))
layer.lora_kernel_a.assign(a)
layer.lora_kernel_b.assign(b)
expected = x @ (kernel + a @ b) + layer.bias.numpy()  # lora_alpha / lora_rank = 1
got = layer(x).numpy()
print("output dtype:", got.dtype)
print("max |tf.keras - float64 formula|:", np.abs(got - expected).max())  # ~1e-7, float64 would give ~1e-15
error = np.abs(got - expected).max()
raise SystemExit(0 if error > 1e-12 else 1)  # 0 while the divergence is there
