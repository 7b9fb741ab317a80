"""RandomGaussianBlur blurs the whole batch with one sigma per axis, drawn once, not one sigma per image.

Documentation (keras.layers.RandomGaussianBlur):
    Applies random Gaussian blur to images for data augmentation.
    sigma: Float or tuple of two floats. Standard deviation of the Gaussian
        kernel. Controls the intensity of the blur. If a tuple is provided,
        a value is sampled between the two for each image. Default is 1.0.
With factor=(1, 1) every image is blurred. With sigma=(0.3, 0.9) each image should get its own
standard deviation, the same along both axes (a Gaussian kernel of one standard deviation). The
3 x 3 kernel fitted to each image's interior pixels (least squares, then its nearest separable
kernel) shows one sigma along the height and another along the width, identical for every image
of the batch: get_random_transformation draws uniform(shape=(2,)) once and passes the pair to
ops.image.gaussian_blur as (sigma_y, sigma_x). A float sigma=0.8 should be that standard
deviation; the layer stores it as the range (0, 0.8) and draws the pair from it.

Exit status: 0 while the batch shares one anisotropic kernel, 1 otherwise.
Run: python docs/findings/gaussian-blur-one-sigma-pair-per-batch.py
"""
import numpy as np
import tensorflow as tf

keras = tf.keras
print("tensorflow", tf.__version__, "keras", keras.__version__)

x = np.random.default_rng(0).normal(127.5, 30.0, (32, 9, 10, 3)).clip(0, 255).astype("float32")


def fitted_sigmas(y):
    """(sigma along the height, sigma along the width) of each image's fitted 3 x 3 kernel."""
    out = []
    for i in range(len(x)):
        design = np.stack([x[i, a:a + 7, b:b + 8].ravel() for a in range(3) for b in range(3)], axis=1).astype(np.float64)
        kernel = np.linalg.lstsq(design, y[i, 1:8, 1:9].ravel(), rcond=None)[0].reshape(3, 3)
        u, s, vt = np.linalg.svd(kernel)
        pair = []
        for g in (u[:, 0], vt[0]):
            g = g / g.sum()  # g = [e, 1, e] / (1 + 2 e), e = exp(-1 / (2 sigma**2))
            pair.append(np.sqrt(-1.0 / (2.0 * np.log(g[2] / g[1]))))
        out.append(pair)
    return np.array(out)


layer = keras.layers.RandomGaussianBlur(factor=(1.0, 1.0), sigma=(0.3, 0.9), seed=1)
sigmas = fitted_sigmas(np.asarray(layer(x, training=True)).astype(np.float64))
print(f"sigma=(0.3, 0.9): sigma along the height in [{sigmas[:, 0].min():.5f}, {sigmas[:, 0].max():.5f}], "
      f"along the width in [{sigmas[:, 1].min():.5f}, {sigmas[:, 1].max():.5f}] over {len(x)} images "
      "(documented: one sigma per image, spread over [0.3, 0.9], the same along both axes)")
spread = float(np.ptp(sigmas, axis=0).max())
anisotropic = float(np.abs(sigmas[0, 0] - sigmas[0, 1]))
raise SystemExit(0 if spread < 1e-3 and anisotropic > 1e-2 else 1)
