"""The training-mode checks of the random layers accept honest outputs and catch faults."""
import math

import numpy as np
import pytest

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


def test_spatial_dropout_in_16_bits_inputs_near_zero_decide_nothing():
    # float16's tolerance (atol 1e-3): a kept x of 2e-4 is as near 0 as a dropped one; such an
    # element must neither split its feature map nor count as a drop
    tol16 = {"rtol": 1e-3, "atol": 1e-3}
    x = rng.normal(size=(16, 6, 6, 32))
    x[:, 0, 0, :] = 2e-4
    y = honest_dropout(x, 0.4, (16, 1, 1, 32))
    y[:, 0, 0, :] = 0.0  # rounded away or dropped: indistinguishable
    ok, message, metrics = check("dropout", x, y, {"rate": 0.4}, "SpatialDropout2D", tol16)
    assert ok and metrics["mixed_mask_entries"] == 0, message
    x[:, :, :, :3] = 2e-4  # three feature maps of nothing but near-zeros: undecided, not counted
    ok, message, metrics = check("dropout", x, honest_dropout(x, 0.4, (16, 1, 1, 32)), {"rate": 0.4}, "SpatialDropout2D", tol16)
    assert metrics["undecided_mask_entries"] == 16 * 3 and metrics["n_mask"] == 16 * 29, message
    # a map dropped in part is still caught
    y = honest_dropout(x, 0.4, (16, 1, 1, 32))
    kept_map = int(np.argmax(np.abs(y[0, 2, 2, 3:]) > 0)) + 3
    y[0, 3, 3, kept_map] = 0.0
    ok, message, metrics = check("dropout", x, y, {"rate": 0.4}, "SpatialDropout2D", tol16)
    assert not ok and metrics["mixed_mask_entries"] == 1, message


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


# The random-layer judge shares the verdict ladder of every check (conformance.checks.verdict):
# an expected error's type and `match` count, and a target that raises where the reference
# accepts is a failure that names tf.keras.
from conformance.catalogue.model import Case  # noqa: E402
from conformance.checks.random_layers import judge  # noqa: E402
from conformance.ops import get_op  # noqa: E402
from conformance.outcome import SideOutcome, Timings  # noqa: E402


class RaisingTarget:
    """A target whose layer call raises the given error (no framework needed)."""

    def __init__(self, kind, message):
        self.error = {"type": kind, "bases": ["Exception"], "message": message, "phase": "call"}

    def run_layer(self, op, case, inputs, weights, calls, timings=None, cotangent=None):
        return SideOutcome(error=self.error)


def dropout_case(rate, expect=None):
    return Case(id="t::d", file="t", line=1, name="d", op="Dropout", params={"rate": rate}, dtype="float32",
                input_shape=(4, 8), call={"training": True}, expect=expect or {})


def test_an_expected_error_must_match_its_type_and_pattern():
    op = get_op("Dropout")
    wrong_text = judge(op, dropout_case(1.5, {"error": "ValueError", "match": "rate"}), RaisingTarget("ValueError", "boom"), Timings())
    assert wrong_text.status == "fail" and "expected ValueError matching 'rate'" in wrong_text.message
    wrong_type = judge(op, dropout_case(1.5, {"error": "ValueError"}), RaisingTarget("TypeError", "rate"), Timings())
    assert wrong_type.status == "fail" and "tf.keras raised TypeError during call: rate" in wrong_type.message
    right = judge(op, dropout_case(1.5, {"error": "ValueError", "match": "rate"}), RaisingTarget("ValueError", "bad rate"), Timings())
    assert right.status == "pass"


def test_a_target_raising_where_the_reference_accepts_fails_and_says_so():
    verdict = judge(get_op("Dropout"), dropout_case(0.5), RaisingTarget("ValueError", "boom"), Timings())
    assert verdict.status == "fail"
    assert verdict.message == "tf.keras raised ValueError during call: boom; the reference accepts these arguments"


def test_an_expected_error_the_reference_does_not_raise_is_the_harness_s_error():
    verdict = judge(get_op("Dropout"), dropout_case(0.5, {"error": "ValueError"}), RaisingTarget("ValueError", "x"), Timings())
    assert verdict.status == "error" and "the reference does not raise ValueError" in verdict.message


# GaussianNoise on a tiny input: the std test uses the exact chi-square law of s**2 for normal noise,
# so the false-alarm rate stays below FALSE_ALARM at every size, and a wrong stddev is still caught
# on a large input. (test_distribution_check.py simulates the rate at n = 2, 3, 6, 10.)


def test_gaussian_noise_on_six_elements_is_not_a_false_alarm():
    # the replay's case: 6 elements, stddev 0.2, sample std 0.412 (ratio s**2 / sigma**2 = 4.2, which
    # chi2(5) / 5 exceeds with probability 7e-4, far above 1e-6 / 3 but well below 1). The normal
    # approximation's interval was [0, 0.397]; the exact one is [0.0071, 0.564].
    x = np.random.default_rng(31).normal(0.25, 1.0, 6)
    noise = np.random.default_rng(32).normal(0.0, 1.0, 6)
    noise = (noise - noise.mean()) / noise.std(ddof=1) * 0.412067
    ok, message, metrics = check("gaussian_noise", x, x + noise, {"stddev": 0.2}, "GaussianNoise", TOL)
    assert ok, message
    assert metrics["std_hi"] > 0.55 and metrics["std"] == pytest.approx(0.412067, rel=1e-9)


def test_small_honest_gaussian_noise_passes_and_large_wrong_stddev_is_caught():
    rng = np.random.default_rng(33)
    for n in (2, 3, 6, 10):  # a few honest tiny inputs: each passes (a false alarm here has p < 1e-6)
        for _ in range(20):
            x = rng.normal(0.25, 1.0, n)
            ok, message, _ = check("gaussian_noise", x, x + rng.normal(0, 0.2, n), {"stddev": 0.2}, "GaussianNoise", TOL)
            assert ok, (n, message)
    # power kept for a large input: stddev 0.3 instead of 0.2 on 10,000 elements
    x = rng.normal(0.25, 1.0, (100, 100))
    ok, message, _ = check("gaussian_noise", x, x + rng.normal(0, 0.3, x.shape), {"stddev": 0.2}, "GaussianNoise", TOL)
    assert not ok and "std test" in message
    # and a 5% error on 65,536 elements
    x = rng.normal(0.25, 1.0, 65536)
    ok, message, _ = check("gaussian_noise", x, x + rng.normal(0, 0.21, x.shape), {"stddev": 0.2}, "GaussianNoise", TOL)
    assert not ok and "std test" in message


def r16(values, fmt):
    import ml_dtypes

    return np.asarray(values, np.float64).astype({"float16": np.float16, "bfloat16": ml_dtypes.bfloat16}[fmt]).astype(np.float64)


def noise16(shape, stddev, mean, fmt, gen):
    """normal(mean, stddev) as TensorFlow draws it in the format: z from float32, then z * stddev and
    + mean, each rounded, with mean and stddev converted to the format first."""
    z = r16(gen.standard_normal(shape).astype(np.float32), fmt)
    return r16(r16(z * r16(stddev, fmt), fmt) + r16(mean, fmt), fmt)


@pytest.mark.parametrize("fmt", ["float16", "bfloat16", "mixed_bfloat16"])
def test_gaussian_noise_and_dropout_in_16_bits(fmt):
    # the catalogue's shape: x ~ normal(0.25, 1) in the format, y = round(x + noise) or round(x * noise);
    # the continuous check fails the honest bfloat16 output (its KS charged every tie of y - x), the
    # check of the rounded law passes it and still catches a 3% error in the stddev
    gen = np.random.default_rng(60)
    compute = fmt.replace("mixed_", "")
    tol16 = {"rtol": 1.6e-2, "atol": 1e-2}
    x = r16(gen.normal(0.25, 1.0, size=(8, 64, 128)), compute)
    for stddev in (0.1, 1.0):
        params = {"stddev": stddev}
        y = r16(x + noise16(x.shape, stddev, 0.0, compute, gen), compute)
        ok, message, metrics = check("gaussian_noise", x, y, params, "GaussianNoise", tol16, fmt)
        assert ok and metrics["rounded_to"] == compute, message
        for wrong in (0.97, 1.03, 1.1):
            y = r16(x + noise16(x.shape, stddev * wrong, 0.0, compute, gen), compute)
            ok, message, _ = check("gaussian_noise", x, y, params, "GaussianNoise", tol16, fmt)
            assert not ok and ("std test" in message or "Kolmogorov" in message), (stddev, wrong)
    if compute == "bfloat16":
        y = r16(x + noise16(x.shape, 0.1, 0.0, compute, gen), compute)
        assert not check("gaussian_noise", x, y, {"stddev": 0.1}, "GaussianNoise", tol16)[0]  # the float32 check
    for rate in (0.1, 0.5):
        stddev = math.sqrt(rate / (1 - rate))
        y = r16(x * noise16(x.shape, stddev, 1.0, compute, gen), compute)
        ok, message, _ = check("gaussian_dropout", x, y, {"rate": rate}, "GaussianDropout", tol16, fmt)
        assert ok, message
        # the rate 10% off: 0.11 for 0.1, 0.55 for 0.5
        wrong = math.sqrt(1.1 * rate / (1 - 1.1 * rate))
        y = r16(x * noise16(x.shape, wrong, 1.0, compute, gen), compute)
        assert not check("gaussian_dropout", x, y, {"rate": rate}, "GaussianDropout", tol16, fmt)[0]
