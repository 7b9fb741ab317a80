"""RandomCrop at inference returns its input unchanged instead of a (height, width) image.

Documentation (keras.layers.RandomCrop, keras/src/layers/preprocessing/image_preprocessing/random_crop.py):
    At inference time, and during training if an input image is smaller than the
    target size, the input will be resized and cropped so as to return the
    largest possible window in the image that matches the target aspect ratio.
    Output shape: 3D (unbatched) or 4D (batched) tensor with shape:
    `(..., target_height, target_width, channels)`.
Called with training=False, RandomCrop(3, 4) on (2, 10, 8, 3) images returns the (2, 10, 8, 3)
input itself, although compute_output_shape says (2, 3, 4, 3). transform_images only crops or
resizes `if training:`; get_random_transformation computes the centred window for inference,
and nothing uses it. In training the output is (2, 3, 4, 3).

Exit status: 0 while the inference output keeps the input's shape, 1 once it is (height, width).
Run: python docs/findings/random-crop-inference-returns-input.py
"""
import numpy as np
import tensorflow as tf

keras = tf.keras
print("tensorflow", tf.__version__, "keras", keras.__version__)

x = np.random.default_rng(0).normal(127.5, 30.0, (2, 10, 8, 3)).astype("float32")
layer = keras.layers.RandomCrop(3, 4, seed=1)
inference = np.asarray(layer(x, training=False))
training = np.asarray(layer(x, training=True))
print(f"input {x.shape}; compute_output_shape {layer.compute_output_shape(x.shape)}")
print(f"training=True -> {training.shape}; training=False -> {inference.shape}, "
      f"equal to the input: {inference.shape == x.shape and np.array_equal(inference, x)}")
# the documented window: aspect 3:4 in 10 x 8 is the centred 6 x 8 (rows 2..7), halved by bilinear resize
expected = x[:, 2:8].reshape(2, 3, 2, 4, 2, 3).mean(axis=(2, 4))
if inference.shape != expected.shape:
    raise SystemExit(0)
print(f"max abs difference from the documented crop and resize: {np.max(np.abs(inference - expected)):.3g}")
raise SystemExit(1)
