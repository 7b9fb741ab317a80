"""The training-mode checks of the random layers accept honest outputs and catch faults."""
import numpy as np

from conformance.checks.random_layers import check
from reference_impl.regularization_layers import ALPHA_PRIME, alpha_dropout_affine

TOL = {"rtol": 1e-5, "atol": 1e-5}
rng = np.random.default_rng(11)
X = rng.normal(0.25, 1.0, size=(8, 32, 64))


def honest_dropout(x, rate, mask_shape):
    keep = rng.random(mask_shape) >= rate
    return x * np.broadcast_to(keep, x.shape) / (1 - rate)


def test_honest_dropout_passes_and_counts_drops():
    ok, message, metrics = check("dropout", X, honest_dropout(X, 0.3, X.shape), {"rate": 0.3}, "Dropout", TOL)
    assert ok, message
    assert metrics["n_mask"] == X.size and abs(metrics["dropped_fraction"] - 0.3) < 0.01


def test_unscaled_kept_values_are_caught():
    keep = rng.random(X.shape) >= 0.3
    ok, message, metrics = check("dropout", X, X * keep, {"rate": 0.3}, "Dropout", TOL)
    assert not ok and metrics["neither_kept_nor_dropped"] == int(keep.sum())


def test_a_wrong_rate_is_caught():
    ok, message, _ = check("dropout", X, honest_dropout(X, 0.36, X.shape), {"rate": 0.3}, "Dropout", TOL)
    assert not ok and "dropped" in message


def test_spatial_dropout_must_drop_whole_feature_maps():
    x = rng.normal(size=(16, 6, 6, 32))
    ok, message, _ = check("dropout", x, honest_dropout(x, 0.4, (16, 1, 1, 32)), {"rate": 0.4}, "SpatialDropout2D", TOL)
    assert ok, message
    ok, message, metrics = check("dropout", x, honest_dropout(x, 0.4, x.shape), {"rate": 0.4}, "SpatialDropout2D", TOL)
    assert not ok and metrics["mixed_mask_entries"] > 0


def test_gaussian_noise_with_the_wrong_stddev_is_caught():
    params = {"stddev": 0.7}
    ok, message, _ = check("gaussian_noise", X, X + rng.normal(0, 0.7, X.shape), params, "GaussianNoise", TOL)
    assert ok, message
    ok, message, _ = check("gaussian_noise", X, X + rng.normal(0, 0.7 * 1.05, X.shape), params, "GaussianNoise", TOL)
    assert not ok and "std" in message


def test_alpha_dropout_values_and_affine_correction():
    a, b = alpha_dropout_affine(0.2)
    keep = rng.random(X.shape) >= 0.2
    honest = np.where(keep, a * X + b, a * ALPHA_PRIME + b)
    ok, message, _ = check("alpha_dropout", X, honest, {"rate": 0.2}, "AlphaDropout", TOL)
    assert ok, message
    ok, message, _ = check("alpha_dropout", X, np.where(keep, X, ALPHA_PRIME), {"rate": 0.2}, "AlphaDropout", TOL)
    assert not ok and "neither" in message
    # hand check of the documented correction: mean 0, variance 1 preserved for a standard input
    p = 0.2
    mean = (1 - p) * 0 + p * ALPHA_PRIME
    var = (1 - p) * 1 + p * ALPHA_PRIME**2 - mean**2
    assert abs(a * mean + b) < 1e-12 and abs(a * a * var - 1) < 1e-12
