"""conformance.checks.distribution: exact samples pass, planted faults fail, the false-alarm rate holds.

Samples are drawn with NumPy / SciPy (fixed seeds) from the exact laws, or from deliberately wrong
ones, and cast to float32 like tf.keras weights.
"""
import json
import math

import numpy as np
import pytest
from scipy import stats

from conformance.checks.distribution import (BOUND_SLACK_ULPS, DistributionCheck, check_samples, kurtosis,
                                             sample_size, samples_needed)
from reference_impl.initializers import TRUNCATED_STD_FACTOR, Distribution, expected_distribution

N = samples_needed()

DISTS = {
    "normal": expected_distribution("RandomNormal", (8,), mean=0.1, stddev=0.05),
    "truncated_normal": expected_distribution("GlorotNormal", (256, 128)),  # with the 0.8796 correction
    "truncated_normal_plain": expected_distribution("TruncatedNormal", (8,), mean=-0.2, stddev=0.05),
    "uniform": expected_distribution("RandomUniform", (8,), minval=-0.02, maxval=0.07),
    "glorot_uniform": expected_distribution("GlorotUniform", (256, 128)),
    "orthogonal": expected_distribution("Orthogonal", (64, 32), gain=1.5),  # marginal: m = 64
}


def draw(dist, n, rng, scale=1.0, shift=0.0):
    """n float32 draws from `dist` with its spread multiplied by `scale` (stddev, truncation bounds and
    uniform limits alike, about the centre) and its location moved by `shift` standard deviations."""
    if dist.kind == "normal":
        x = rng.normal(dist.loc, dist.stddev * scale, n)
    elif dist.kind == "truncated_normal":
        a, b = (dist.low - dist.loc) / dist.stddev, (dist.high - dist.loc) / dist.stddev
        x = stats.truncnorm(a, b, loc=dist.loc, scale=dist.stddev * scale).rvs(n, random_state=rng)
    elif dist.kind == "uniform":
        centre, half = (dist.low + dist.high) / 2, (dist.high - dist.low) / 2
        x = rng.uniform(centre - half * scale, centre + half * scale, n)
    elif dist.kind == "orthogonal":  # a coordinate of a uniform unit vector of R^m: U**2 ~ Beta(1/2, (m - 1)/2)
        m = max(dist.rows, dist.cols)
        x = abs(dist.gain) * scale * rng.choice([-1.0, 1.0], n) * np.sqrt(rng.beta(0.5, (m - 1) / 2, n))
    else:
        raise AssertionError(dist.kind)
    return (x + shift * dist.std()).astype(np.float32)


def haar(rows, cols, rng, gain=1.0):
    """A uniformly random (rows, cols) matrix with orthonormal rows or columns, as Keras' Orthogonal makes it:
    QR of a normal matrix, the columns of Q times the signs of R's diagonal."""
    a = rng.normal(size=(max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(a)
    q = q * np.sign(np.diag(r))
    return (gain * (q if rows >= cols else q.T)).astype(np.float32)


def assert_jsonable(metrics):
    assert all(isinstance(v, (int, float)) or v is None for v in metrics.values()), metrics
    json.dumps(metrics, allow_nan=False)


# --- exact samples pass ------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(DISTS))
def test_exact_samples_pass(name):
    dist = DISTS[name]
    check = check_samples(draw(dist, N, np.random.default_rng(1)), dist)
    assert isinstance(check, DistributionCheck)
    assert check.ok and check.message == "", check.message
    assert check.metrics["n"] == N and check.metrics["ks_pvalue"] > check.metrics["level"]
    assert check.metrics["level"] == pytest.approx(1e-6 / 3)
    assert_jsonable(check.metrics)


def test_pooled_haar_matrices_pass():
    # What the harness passes for Orthogonal: the entries of many independently seeded matrices.
    rng = np.random.default_rng(2)
    dist = expected_distribution("Orthogonal", (64, 32), gain=1.5)
    entries = np.concatenate([haar(64, 32, rng, 1.5).ravel() for _ in range(-(-N // 2048))])
    check = check_samples(entries, dist)
    assert check.ok, check.message
    wide = expected_distribution("Orthogonal", (16, 48))  # orthonormal rows, m = 48
    entries = np.concatenate([haar(16, 48, rng).ravel() for _ in range(-(-N // 768))])
    assert check_samples(entries, wide).ok


def test_metrics_of_an_unbounded_normal():
    dist = DISTS["normal"]
    check = check_samples(draw(dist, 4096, np.random.default_rng(3)), dist)
    assert check.metrics["support_lo"] is None and check.metrics["support_hi"] is None
    assert check.metrics["expected_std"] == 0.05 and check.metrics["kurtosis"] == 3.0
    assert_jsonable(check.metrics)


# --- planted faults fail -----------------------------------------------------------------------


@pytest.mark.parametrize("factor", [1.03, 0.97])
@pytest.mark.parametrize("name", sorted(DISTS))
def test_three_percent_scale_error_fails(name, factor):
    dist = DISTS[name]
    for seed in range(3):
        check = check_samples(draw(dist, N, np.random.default_rng(seed), scale=factor), dist)
        assert not check.ok and "std test: std" in check.message, (seed, check.message)


@pytest.mark.parametrize("name", sorted(DISTS))
def test_mean_shift_of_a_tenth_sigma_fails(name):
    dist = DISTS[name]
    check = check_samples(draw(dist, N, np.random.default_rng(4), shift=0.1), dist)
    assert not check.ok and "mean test: mean" in check.message, check.message


def test_untruncated_normal_fails_the_bounds_test():
    dist = DISTS["truncated_normal_plain"]
    x = np.random.default_rng(5).normal(dist.loc, dist.stddev, N).astype(np.float32)
    check = check_samples(x, dist)
    assert not check.ok and check.message.startswith("bounds test: "), check.message
    assert check.metrics["n_outside"] > 0.04 * N  # P(|Z| > 2) = 4.55%


def test_missing_truncation_correction_fails():
    # GlorotNormal promises std sqrt(1 / fan_avg) after truncation: sigma = sqrt(1 / fan_avg) / 0.8796.
    # A sampler that forgets the division is off by a factor 0.8796 in scale.
    dist = DISTS["truncated_normal"]
    wrong = Distribution("truncated_normal", stddev=dist.stddev * TRUNCATED_STD_FACTOR,
                         low=dist.low * TRUNCATED_STD_FACTOR, high=dist.high * TRUNCATED_STD_FACTOR)
    check = check_samples(draw(wrong, N, np.random.default_rng(6)), dist)
    assert not check.ok and "std test" in check.message and "bounds" not in check.message, check.message
    # TruncatedNormal promises no correction: sampling with it (stddev / 0.8796) fails too.
    plain = DISTS["truncated_normal_plain"]
    check = check_samples(draw(plain, N, np.random.default_rng(7), scale=1 / TRUNCATED_STD_FACTOR), plain)
    assert not check.ok and "std test" in check.message and "bounds test" in check.message, check.message


def test_uniform_instead_of_normal_fails_only_the_ks_test():
    # Same mean and std: only the shape differs, which only the Kolmogorov-Smirnov test sees.
    normal = Distribution("normal", loc=0.0, stddev=0.05)
    limit = 0.05 * math.sqrt(3)
    x = np.random.default_rng(8).uniform(-limit, limit, N).astype(np.float32)
    check = check_samples(x, normal)
    assert not check.ok and check.message.startswith("Kolmogorov-Smirnov test: p-value"), check.message
    assert ";" not in check.message
    # The other way round the normal also leaves the uniform's support.
    uniform = Distribution("uniform", low=-limit, high=limit)
    check = check_samples(np.random.default_rng(9).normal(0, 0.05, N).astype(np.float32), uniform)
    assert not check.ok and "Kolmogorov-Smirnov" in check.message and "bounds test" in check.message


def test_bounds_slack_is_a_few_float32_ulps():
    dist = Distribution("uniform", low=-0.05, high=0.05)
    x = draw(dist, 4096, np.random.default_rng(10))
    top = np.float32(0.05)  # 0.05000000074505806 > 0.05: float32 rounding alone
    x[0] = np.nextafter(top, np.float32(1))
    assert check_samples(x, dist).ok
    slack = check_samples(x, dist).metrics["bound_slack"]
    assert slack == BOUND_SLACK_ULPS * np.finfo(np.float32).eps * 0.05
    x[0] = np.float32(0.05 * (1 + 1e-5))
    check = check_samples(x, dist)
    assert not check.ok and check.message.startswith("bounds test: 1 of 4096 samples are outside"), check.message
    x[0] = top
    assert check_samples(x.astype(np.float64), dist).ok  # float64 copies of float32 samples: float32 ulps still
    assert check_samples(x.astype(np.float16), dist).metrics["bound_slack"] > 1000 * slack  # coarser: its own ulps


def test_samples_drawn_in_bfloat16_may_round_half_an_ulp_outside_the_support():
    import ml_dtypes

    dist = Distribution("uniform", low=-0.3, high=0.7)
    x = draw(dist, 4096, np.random.default_rng(11))
    # -0.3 lies between the bfloat16 numbers -0.30078125 and -0.298828125, nearer the first: a draw
    # just above -0.3 rounds to it, 0.00078 outside the support, and is handed over as float64
    x[0] = float(np.asarray(-0.2999, dtype=ml_dtypes.bfloat16))
    assert x[0] == -0.30078125
    assert not check_samples(x, dist).ok  # float32 ulps: outside
    drawn = check_samples(x, dist, drawn_in="bfloat16")
    assert drawn.ok and drawn.metrics["bound_slack"] == BOUND_SLACK_ULPS * 2.0**-7 * 0.7  # bfloat16 ulps of 0.7
    x[0] = -0.3 - 1.5 * drawn.metrics["bound_slack"]  # beyond the bfloat16 slack: caught still
    check = check_samples(x, dist, drawn_in="bfloat16")
    assert not check.ok and check.message.startswith("bounds test: 1 of 4096"), check.message


# --- constants, non-finite values, misuse ------------------------------------------------------


def test_constant_must_match_exactly():
    dist = expected_distribution("Constant", (8,), value=0.1)
    x = np.full((64, 32), 0.1, dtype=np.float32)
    assert check_samples(x, dist).ok  # 0.1 rounded to float32
    assert check_samples(x.astype(np.float64), dist).ok  # float64 copies of float32 weights
    assert check_samples(np.full(7, 0.1), dist).ok  # float64 samples: 0.1 itself
    mixed = np.array([0.1, np.float32(0.1)])  # but one constant or the other, not both
    check = check_samples(mixed, dist)
    assert not check.ok and "1 of 2 samples differ" in check.message, check.message
    x[3, 5] = np.nextafter(np.float32(0.1), np.float32(1))
    check = check_samples(x, dist)
    assert not check.ok and check.message.startswith("constant: 1 of 2048 samples differ from 0.1"), check.message
    assert "index 101" in check.message and check.metrics["n_different"] == 1
    assert check_samples(np.zeros(10, np.float32), expected_distribution("Zeros", (10,))).ok
    assert check_samples(np.ones(10, np.int32), expected_distribution("Ones", (10,))).ok
    assert check_samples(np.zeros((3, 3), np.float32), expected_distribution("Orthogonal", (3, 3), gain=0.0)).ok


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_samples_fail_at_once(bad):
    x = draw(DISTS["normal"], 4096, np.random.default_rng(11))
    x[17] = bad
    check = check_samples(x, DISTS["normal"])
    assert not check.ok
    assert check.message == (f"finiteness: 1 of 4096 samples are not finite (the first, at index 17, is {float(bad)!r}); "
                             "the other tests were not run")
    assert check.metrics == {"n": 4096, "n_nonfinite": 1}
    assert not check_samples(np.array([0.1, np.nan], np.float32), expected_distribution("Constant", (), value=0.1)).ok


def test_one_by_one_orthogonal_is_plus_or_minus_gain():
    dist = expected_distribution("Orthogonal", (1, 1), gain=2.0)
    signs = np.random.default_rng(12).choice([-2.0, 2.0], 4096).astype(np.float32)
    check = check_samples(signs, dist)
    assert check.ok, check.message
    assert check.metrics["level"] == 1e-6 and "ks_pvalue" not in check.metrics
    signs[0] = 1.5
    check = check_samples(signs, dist)
    assert not check.ok and check.message.startswith("two-point test: 1 of 4096"), check.message
    check = check_samples(np.full(4096, 2.0, np.float32), dist)
    assert not check.ok and check.message.startswith("mean test"), check.message


def test_misuse_raises():
    with pytest.raises(ValueError, match="identity_matrix"):
        check_samples(np.eye(3), expected_distribution("Identity", (3, 3)))
    with pytest.raises(ValueError, match="dtype=complex128"):
        check_samples(np.ones(3, complex), DISTS["normal"])
    with pytest.raises(ValueError, match="at least 2 samples. Received: 1"):
        check_samples(np.zeros(1), DISTS["normal"])
    with pytest.raises(ValueError, match="false_alarm=0"):
        check_samples(np.zeros(8), DISTS["normal"], false_alarm=0)
    with pytest.raises(TypeError, match="Distribution"):
        check_samples(np.zeros(8), "normal")


# --- moments and sample size -------------------------------------------------------------------


def test_kurtosis_against_scipy():
    assert kurtosis(Distribution("normal", stddev=2.0)) == 3.0
    assert kurtosis(Distribution("uniform", low=-1, high=3)) == pytest.approx(stats.uniform.stats(moments="k") + 3)
    for a, b in [(-2, 2), (0.5, 3), (-4, -1.5), (-2, math.inf), (0, math.inf), (-1, 2.5)]:
        dist = Distribution("truncated_normal", loc=0.3, stddev=0.7, low=0.3 + 0.7 * a, high=0.3 + 0.7 * b)
        assert kurtosis(dist) == pytest.approx(float(stats.truncnorm.stats(a, b, moments="k")) + 3, rel=1e-12)
    assert kurtosis(DISTS["truncated_normal"]) == pytest.approx(2.3655367171296, rel=1e-12)
    for rows, cols in [(2, 1), (3, 5), (64, 32), (4096, 10)]:
        m = max(rows, cols)  # E[U**4] / E[U**2]**2 with U**2 ~ Beta(1/2, (m - 1)/2)
        beta = stats.beta(0.5, (m - 1) / 2)
        want = beta.moment(2) / beta.moment(1) ** 2
        assert kurtosis(Distribution("orthogonal", gain=-3.0, rows=rows, cols=cols)) == pytest.approx(want, rel=1e-12)
    with pytest.raises(ValueError, match="without spread"):
        kurtosis(Distribution("constant", value=1.0))


def test_samples_needed_from_its_formula():
    z_a, z_b = stats.norm.isf(1e-6 / 3 / 2), stats.norm.isf(0.001)
    formula = max(math.ceil(2 * (z_a + z_b * r) ** 2 / (r - 1) ** 2) for r in (1.03 ** 2, 0.97 ** 2))
    assert formula == 37887
    # for the normal, the smallest n whose exact power (chi-square law) reaches 0.999 for e = +-0.03
    assert samples_needed() == N == 38239
    assert all(exact_std_power(N, r) >= 0.999 for r in (1.03 ** 2, 0.97 ** 2))
    assert exact_std_power(N - 1, 1.03 ** 2) < 0.999
    assert sample_size() == 65536
    # the other laws keep the normal-approximation formula, with their own kurtosis
    c2 = kurtosis(DISTS["uniform"]) - 1
    assert samples_needed(dist=DISTS["uniform"]) == max(math.ceil(c2 * (z_a + z_b * r) ** 2 / (r - 1) ** 2)
                                                         for r in (1.03 ** 2, 0.97 ** 2))
    assert samples_needed(scale_error=0.01) > 8 * samples_needed()  # ~ 1 / e**2
    assert samples_needed(false_alarm=1e-9) > samples_needed() > samples_needed(power=0.9)
    assert samples_needed(dist=DISTS["uniform"]) < samples_needed(dist=DISTS["truncated_normal"]) < samples_needed()
    for bad in [dict(false_alarm=0), dict(scale_error=1.5), dict(power=True)]:
        with pytest.raises(ValueError, match=f"{next(iter(bad))}="):
            samples_needed(**bad)


def exact_std_power(n, r, level=1e-6 / 3):
    """P(the check's std interval for a normal rejects) when the true variance is r times the expected:
    (n - 1) s**2 / sigma0**2 ~ r chi2(n - 1), against the interval check_samples reports."""
    check = check_samples(np.random.default_rng(0).normal(0.0, 1.0, n), Distribution("normal", stddev=1.0))
    lo, hi, d = check.metrics["std_lo"] ** 2, check.metrics["std_hi"] ** 2, n - 1
    assert check.metrics["level"] == pytest.approx(level)
    return stats.chi2.sf(d * hi / r, d) + stats.chi2.cdf(d * lo / r, d)


def test_std_test_power_at_the_threshold_size():
    # At n = samples_needed(), a normal of scale 1.03 or 0.97 fails the std test with probability at
    # least 0.999, computed from the interval the check applies and the exact law of s**2.
    assert exact_std_power(N, 1.03 ** 2) == pytest.approx(0.999, abs=2e-6)
    assert exact_std_power(N, 0.97 ** 2) > 0.999
    assert exact_std_power(sample_size(), 1.03 ** 2) > 1 - 1e-7


# --- the false-alarm rate ----------------------------------------------------------------------


def test_false_alarm_rate_is_controlled():
    # 200 exact samples of n = 4096 per law at false_alarm = 0.05. Each of the three tests runs at
    # 0.05 / 3, so the whole check fails with probability in [0.05 / 3, 0.05] (at least the KS test's
    # exact rate, at most the Bonferroni sum). Bounds at 1e-3 one-sided binomial tails.
    trials, n, false_alarm = 200, 4096, 0.05
    rng = np.random.default_rng(14)
    names = ["normal", "truncated_normal", "uniform", "orthogonal"]
    failures = {name: 0 for name in names}
    per_test = {"Kolmogorov-Smirnov": 0, "mean test": 0, "std test": 0}
    for name in names:
        for _ in range(trials):
            check = check_samples(draw(DISTS[name], n, rng), DISTS[name], false_alarm=false_alarm)
            failures[name] += not check.ok
            for test in per_test:
                per_test[test] += test in check.message
            assert "bounds" not in check.message
    upper = stats.binom.ppf(0.999, trials, false_alarm)
    assert all(count <= upper for count in failures.values()), (failures, upper)
    total = sum(failures.values())
    assert stats.binom.ppf(0.001, 4 * trials, false_alarm / 3) <= total <= stats.binom.ppf(0.999, 4 * trials, false_alarm)
    # each test alone rejects at its level 0.05 / 3 (asymptotically for mean and std)
    low, high = stats.binom.ppf([0.001, 0.999], 4 * trials, false_alarm / 3)
    assert all(low <= count <= high for count in per_test.values()), per_test


# --- small samples (the Gaussian layers on a tiny input) ----------------------------------------


SMALL_N = (2, 3, 6, 10)


def simulated_false_alarms(n, draws, false_alarm, rng):
    """Failures of the mean and std tests of check_samples over `draws` exact normal samples of size n,
    vectorized: the intervals are the ones the check reports for this n and level (they depend on n,
    sigma and the level only; test_the_reported_std_interval_is_the_one_applied ties them to the
    verdict). The KS test's p-value is exact, so it adds its level and is not simulated."""
    dist = Distribution("normal", loc=0.0, stddev=0.2)
    metrics = check_samples(rng.normal(0.0, 0.2, n), dist, false_alarm=false_alarm).metrics
    x = rng.normal(0.0, 0.2, (draws, n))
    mean, std = x.mean(axis=1), x.std(axis=1, ddof=1)
    mean_out = (mean < metrics["mean_lo"]) | (mean > metrics["mean_hi"])
    std_out = (std < metrics["std_lo"]) | (std > metrics["std_hi"])
    return int(mean_out.sum()), int(std_out.sum()), int((mean_out | std_out).sum())


def test_small_normal_samples_keep_the_documented_false_alarm_rate():
    # 500,000 exact samples per n at the harness's false_alarm = 1e-6 (mean and std tests at 3.3e-7
    # each). The old normal approximation of s**2 failed 1.4e-2 (n = 2), 5.7e-3, 1.4e-3 (n = 6) and
    # 5.3e-4 (n = 10) of them: 260 to 6,800 here. Expected now: 0.33 failures per n, and 6 or more has
    # probability 1.4e-6; at most 5 shows the rate below 3.3e-5 (99.9% upper bound), 16 times below
    # the old rate at n = 10 and 400 times below it at n = 2.
    rng = np.random.default_rng(21)
    for n in SMALL_N:
        _, _, failed = simulated_false_alarms(n, 500_000, 1e-6, rng)
        assert failed <= 5, (n, failed)


def test_small_normal_samples_are_calibrated_at_a_visible_level():
    # At false_alarm = 0.05 each test runs at 1/60: the std test must reject close to that rate at
    # every n, not 2-4 times more as the normal approximation did (0.065 at n = 2, 0.036 at n = 6).
    rng = np.random.default_rng(22)
    draws, level = 100_000, 0.05 / 3
    low, high = stats.binom.ppf([1e-4, 1 - 1e-4], draws, level)
    for n in SMALL_N:
        mean_fails, std_fails, _ = simulated_false_alarms(n, draws, 0.05, rng)
        assert low <= mean_fails <= high and low <= std_fails <= high, (n, mean_fails, std_fails, low, high)


def test_the_reported_std_interval_is_the_one_applied():
    # samples of n = 6 whose std sits just inside, then just outside, the reported interval
    dist = Distribution("normal", loc=0.0, stddev=0.2)
    base = np.random.default_rng(23).normal(0.0, 1.0, 6)
    base = (base - base.mean()) / base.std(ddof=1)  # mean 0, std 1 exactly (up to rounding)
    metrics = check_samples(base * 0.2, dist).metrics
    for bound, inside, outside in [("std_hi", 1 - 1e-6, 1 + 1e-6), ("std_lo", 1 + 1e-6, 1 - 1e-6)]:
        assert "std test" not in check_samples(base * metrics[bound] * inside, dist).message
        assert "std test" in check_samples(base * metrics[bound] * outside, dist).message
    # the interval is the chi-square one: (n - 1) s**2 / sigma**2 between its quantiles at 1e-6 / 6
    q = stats.chi2.ppf([1e-6 / 6, 1 - 1e-6 / 6], 5) / 5
    np.testing.assert_allclose([metrics["std_lo"], metrics["std_hi"]], 0.2 * np.sqrt(q), rtol=1e-9)


# --- samples rounded to 16 bits (drawn_in float16 / bfloat16) -----------------------------------

from conformance.checks.distribution import (censored_ks_statistic, check_rounded_samples,  # noqa: E402
                                             parameter_candidates, rounded_format, rounded_moments, rounding_cell,
                                             to_format)
from reference_impl import rounding  # noqa: E402

BF16, F16 = rounding.FORMATS["bfloat16"], rounding.FORMATS["float16"]


def tf_draw(dist, n, fmt, rng, scale=1.0):
    """n draws of `dist` as TensorFlow makes them in a 16-bit format: the standard draw in float32
    rounded to the format, then stddev * z and + mean, each rounded, with stddev and mean converted
    to the format first (tf.random.stateless_normal); a uniform from p - 1 random bits, k 2**(1-p),
    then * (maxval - minval) + minval (tf.random.stateless_uniform). `scale` plants a wrong spread."""
    r = lambda v: to_format(v, fmt)
    if dist.kind == "uniform":
        centre, half = (dist.low + dist.high) / 2, (dist.high - dist.low) / 2 * scale
        low, high = r(centre - half), r(centre + half)
        k = rng.integers(0, 2 ** (fmt.precision - 1), n) * 2.0 ** (1 - fmt.precision)
        return r(r(k * r(high - low)) + low)
    if dist.kind == "normal":
        z = rng.standard_normal(n)
    else:
        a, b = (dist.low - dist.loc) / dist.stddev, (dist.high - dist.loc) / dist.stddev
        z = stats.truncnorm(a, b).rvs(n, random_state=rng)
    z = r(z.astype(np.float32))
    return r(r(z * r(dist.stddev * scale)) + r(dist.loc))


def test_rounding_cell_is_half_the_gap_on_each_side():
    # bfloat16 at 1.5: neighbours 1.4921875 and 1.5078125; at 1.0 the gap below is half the one above
    lo, hi = rounding_cell([1.5, 1.0, -1.0, 0.0, 200.0], BF16)
    np.testing.assert_array_equal(lo[:3], [1.5 - 2**-8, 1.0 - 2**-9, -1.0 - 2**-8])
    np.testing.assert_array_equal(hi[:3], [1.5 + 2**-8, 1.0 + 2**-8, -1.0 + 2**-9])
    assert (lo[3], hi[3]) == (-BF16.smallest_normal, BF16.smallest_normal)  # flush to zero
    assert (lo[4], hi[4]) == (199.5, 200.5)
    # every float64 value of the cell rounds to the value, and nothing beyond it
    rng = np.random.default_rng(40)
    for fmt in (BF16, F16):
        y = to_format(rng.normal(0, 100, 1000), fmt)
        lo, hi = rounding_cell(y, fmt)
        inner = lo + (hi - lo) * rng.uniform(0.001, 0.999, y.size)
        np.testing.assert_array_equal(to_format(inner, fmt), y)
        assert np.all(to_format(np.nextafter(hi, np.inf) + (hi - lo) * 1e-3, fmt) != y)


def test_censored_ks_of_point_intervals_is_the_plain_statistic():
    x = np.random.default_rng(41).normal(size=500)
    f = stats.norm.cdf(x)
    assert censored_ks_statistic(f, f) == pytest.approx(stats.kstest(x, "norm").statistic, abs=1e-12)
    # wider intervals only lower it
    assert censored_ks_statistic(stats.norm.cdf(x - 0.1), stats.norm.cdf(x + 0.1)) < censored_ks_statistic(f, f)


def test_rounded_format_of_dtypes():
    assert rounded_format("bfloat16") is BF16 and rounded_format("mixed_float16") is F16
    assert rounded_format("float32") is None and rounded_format("float64") is None and rounded_format(None) is None


def test_parameter_candidates_are_the_documented_and_the_rounded_law():
    dist = Distribution("normal", loc=1.5, stddev=0.05)  # 0.05 is 0.050048828125 in bfloat16
    assert [d.stddev for d in parameter_candidates(dist, BF16)] == [0.05, 0.050048828125]
    assert parameter_candidates(Distribution("normal", loc=1.0, stddev=0.125), BF16) == [Distribution("normal", loc=1.0, stddev=0.125)]


@pytest.mark.parametrize("fmt", [BF16, F16], ids=lambda f: f.name)
def test_rounded_moments_follow_the_exact_enumeration(fmt):
    # Sheppard's moments (used beyond the enumeration budget) against the enumerated law of the
    # rounded value: the mean within 1e-4 sigma, the variance within 1e-5 of itself, for normals;
    # a uniform's jumps at its ends cost more (the enumeration serves every single law)
    from conformance.checks import distribution as module

    for dist in (Distribution("normal", loc=0.0, stddev=0.1), Distribution("normal", loc=1.5, stddev=0.05)):
        offsets, scales = np.array([0.0, 1.0, -3.2, 0.7, 0.0]), np.array([1.0, 1.0, 1.0, 1.3, -2.0])
        exact = np.stack(rounded_moments(dist, fmt, offsets, scales), axis=1)
        lo, hi = module._window(dist)
        ends = np.stack([offsets + scales * lo, offsets + scales * hi], axis=1)
        sheppard = module._sheppard_moments(dist, fmt, offsets, scales, np.abs(ends).max(axis=1), np.abs(scales) * dist.std())
        np.testing.assert_allclose(sheppard[:, 0], exact[:, 0], atol=1e-4 * dist.std())
        np.testing.assert_allclose(sheppard[:, 1], exact[:, 1], rtol=1e-5)
    # the rounded law's variance exceeds the continuous one by about gap**2 / 12
    m, v, _ = rounded_moments(Distribution("normal", loc=1.5, stddev=0.05), BF16)
    assert float(m) == pytest.approx(1.5, abs=1e-12)
    assert float(v) == pytest.approx(0.05**2 + (2**-7) ** 2 / 12, rel=1e-6)


@pytest.mark.parametrize("fmt", [BF16, F16], ids=lambda f: f.name)
@pytest.mark.parametrize("dist", [Distribution("normal", loc=1.5, stddev=0.05), Distribution("normal", loc=0.0, stddev=0.05),
                                  Distribution("truncated_normal", loc=-1.0, stddev=0.05, low=-1.1, high=-0.9),
                                  Distribution("normal", loc=1.0, stddev=0.1), Distribution("uniform", low=1.0, high=3.5)],
                         ids=["normal_1.5", "normal_0", "truncated_-1", "gamma_1", "uniform_offset"])
def test_16_bit_draws_pass_and_a_wrong_scale_is_caught(fmt, dist):
    rng = np.random.default_rng(42)
    n = sample_size(dist=dist)
    honest = tf_draw(dist, n, fmt, rng)
    check = check_samples(honest, dist, drawn_in=fmt.name)
    assert check.ok, check.message
    assert check.metrics["rounded_to"] == fmt.name
    # the scale error the sample size is chosen for (3%), and the brief's 1.2x stddev
    for scale in (0.97, 1.03, 1.2):
        wrong = check_samples(tf_draw(dist, n, fmt, rng, scale=scale), dist, drawn_in=fmt.name)
        assert not wrong.ok, (scale, wrong.metrics)
    # a mean a tenth of a standard deviation off
    assert not check_samples(honest + to_format(0.1 * dist.std(), fmt), dist, drawn_in=fmt.name).ok


def test_bfloat16_ties_fail_the_continuous_ks_but_not_the_rounded_law():
    # the catalogue's failing case: RandomNormal(1.5, 0.05) in bfloat16, 0.0078 between neighbours
    dist = Distribution("normal", loc=1.5, stddev=0.05)
    x = tf_draw(dist, 65536, BF16, np.random.default_rng(43))
    assert np.unique(x).size < 80
    assert stats.kstest(x, dist.cdf).pvalue < 1e-20  # the continuous cdf: every tie charged
    check = check_samples(x, dist, drawn_in="bfloat16")
    assert check.ok and check.metrics["ks_pvalue"] > 1e-3, check.message


def test_rounded_false_alarm_rate_is_controlled():
    # 60 honest 16-bit samples of n = 4096 per law at false_alarm = 0.05: the KS test is conservative,
    # the mean and std tests match the rounded law's moments; failures at most the binomial's 0.999
    # quantile of the level
    trials, n, false_alarm = 60, 4096, 0.05
    rng = np.random.default_rng(44)
    laws = [(Distribution("normal", loc=1.5, stddev=0.05), BF16), (Distribution("uniform", low=-0.05, high=0.05), BF16),
            (Distribution("truncated_normal", loc=-1.0, stddev=0.05, low=-1.1, high=-0.9), F16)]
    upper = stats.binom.ppf(0.999, trials, false_alarm)
    for dist, fmt in laws:
        failures = sum(not check_samples(tf_draw(dist, n, fmt, rng), dist, drawn_in=fmt.name, false_alarm=false_alarm).ok
                       for _ in range(trials))
        assert failures <= upper, (dist, fmt.name, failures, upper)


def test_gaussian_noise_on_16_bit_inputs_is_judged_per_element():
    # y = round(x + noise): each element's own rounding; the offsets make per-element laws
    rng = np.random.default_rng(45)
    for fmt in (BF16, F16):
        x = to_format(rng.normal(0.25, 1.0, 65536), fmt)
        dist = Distribution("normal", loc=0.0, stddev=0.1)
        noise = lambda s: to_format(to_format(to_format(rng.standard_normal(x.size).astype(np.float32), fmt) * to_format(s, fmt), fmt), fmt)
        check = check_rounded_samples(to_format(x + noise(0.1), fmt), dist, fmt, offset=x)
        assert check.ok, check.message
        assert not check_rounded_samples(to_format(x + noise(0.103), fmt), dist, fmt, offset=x).ok
        with pytest.raises(ValueError):
            check_rounded_samples(np.array([1.0]), dist, fmt)
