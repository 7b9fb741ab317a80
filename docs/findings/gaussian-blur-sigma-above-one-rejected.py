"""RandomGaussianBlur rejects a Gaussian standard deviation (sigma) above 1.

Documentation (keras.layers.RandomGaussianBlur):
    sigma: Float or tuple of two floats. Standard deviation of the Gaussian
        kernel. Controls the intensity of the blur. If a tuple is provided,
        a value is sampled between the two for each image. Default is 1.0.
A standard deviation is any positive number; the docstring sets no upper bound. The
constructor raises ValueError "The `sigma` argument should be a number (or a list of two
numbers) in the range [0, 1]. Received: factor=1.5" (the message even names `factor`).
sigma <= 1 is accepted.

Exit status: 0 while sigma=1.5 raises, 1 once it is accepted.
Run: python docs/findings/gaussian-blur-sigma-above-one-rejected.py
"""
import tensorflow as tf

keras = tf.keras
print("tensorflow", tf.__version__, "keras", keras.__version__)

keras.layers.RandomGaussianBlur(sigma=1.0)
print("RandomGaussianBlur(sigma=1.0): accepted")
try:
    keras.layers.RandomGaussianBlur(sigma=1.5)
except ValueError as e:
    print(f"RandomGaussianBlur(sigma=1.5): raises ValueError: {str(e).splitlines()[0]}")
    raise SystemExit(0)
print("RandomGaussianBlur(sigma=1.5): accepted")
raise SystemExit(1)
