"""Do samples drawn from a tf.keras initializer follow the distribution the reference predicts?

`check_samples(samples, dist, false_alarm=1e-6)` judges the flattened samples, as float64, against
`dist`, a `reference_impl.initializers.Distribution`:

0. finiteness: a nan or an inf fails at once; nothing else is run.
1. bounds: every sample inside `dist.support()`, up to a slack of BOUND_SLACK_ULPS float32 ulps
   (ulps of the samples' dtype if it is coarser, e.g. float16). Deterministic: a correct sampler
   never fails it.
2. goodness of fit: one-sample Kolmogorov-Smirnov against the reference's exact `dist.cdf`
   (`scipy.stats.kstest`, whose two-sided p-value is exact for a continuous cdf); fails if the
   p-value is below the level.
3. mean: fails if |mean - mu| > z sigma / sqrt(n), mu and sigma from `dist.mean()` / `dist.std()`.
4. standard deviation: s**2 the sample variance (ddof 1), judged as the ratio s**2 / sigma**2 against
   an interval [q_lo, q_hi] (`variance_ratio_interval`), reported as the interval for s it implies.
   - "normal": the exact law, (n - 1) s**2 / sigma**2 ~ chi2(n - 1), so q_lo and q_hi are its
     level / 2 quantiles divided by n - 1: the test rejects with probability exactly `level`, at
     every n >= 2.
   - other kinds: the central limit theorem, Var(s**2) ~ (mu4 - sigma**4) / n, mu4 the 4th central
     moment of `dist` (`kurtosis(dist) * sigma**4`): q = 1 -+ z sqrt((kurtosis - 1) / n).
   The normal approximation used to serve the normal too, and it is poor for small n: s**2 is skewed
   right (skewness sqrt(8 / (n - 1)) for a normal), so the upper end was far too low. At level 1e-6 / 3
   it rejected a correct normal with probability 1.4e-2 at n = 2, 1.4e-3 at n = 6, 1.1e-5 at n = 100,
   and still 3.4e-7 at n = 65,536 (GaussianNoise on 6 elements: "std 0.412 is outside [0, 0.397]").

Level: the statistical tests 2-4 share the false-alarm budget (Bonferroni): each runs at
level = false_alarm / (number of statistical tests run), z = norm.isf(level / 2) (two-sided), so
for independent samples from `dist` P(the check fails) <= false_alarm. For a normal this holds at
every n >= 2: the KS p-value is exact, the sample mean is exactly normal and the std interval comes
from the exact chi-square law. For the other kinds the mean and std intervals rest on the central
limit theorem, which is accurate at the sizes the harness uses (n >= a few thousand) and not for
small n: for a uniform at n = 6 the std interval rejects about 2.6 times its level at level 0.01
(s**2 is skewed right for these laws too, if less than for a normal, and the symmetric interval's
upper end is too low). The initializer cases pool draws up to `sample_size()` samples.

Kinds:
- "normal", "truncated_normal", "uniform": tests 0-4.
- "constant": every sample equals `value` rounded to the samples' float dtype (float32 for float32
  samples), exactly; float64 samples may instead all equal float32(value) (float32 weights passed as
  float64 copies). No statistics. (Also "orthogonal" with gain 0: every entry is 0.)
- "orthogonal": tests 0-4 on the entries against the marginal law of one entry, gain times a
  coordinate of a uniformly random unit vector of R^m, m = max(rows, cols). The entries of ONE matrix
  are not independent: every row (or column) has norm |gain| exactly. They are pairwise uncorrelated
  (flipping the sign of a row or of a column preserves the Haar law), so the mean test is exact even
  within a matrix; their squares are negatively correlated (the sum of squares is fixed), so within a
  matrix s**2 varies less than the independent formula says and the std test is conservative. The KS
  p-value assumes independent samples: it is valid (close enough) for entries pooled from many
  independently seeded matrices, which is what the harness passes. m = 1 (a 1x1 matrix): the entry
  is +-gain, a two-point law, so the check is "every |sample| equals |gain| exactly" plus the mean
  test (KS is invalid for a discrete law, and s**2 has zero asymptotic variance there).
- "identity": deterministic, not sampled: ValueError (compare against
  `reference_impl.initializers.identity_matrix` exactly instead).

Sample size: `samples_needed()` is the n at which the std test, the most sensitive of the tests to a
wrong scale, catches a 3% scale error with probability 0.999 at false_alarm 1e-6 (derivation in its
docstring; exact for the normal); `sample_size()` rounds it up to a power of two for the harness.

The reference's cdf costs about n * m / 2 flops for "orthogonal" (0.2 s at n = 65536, m = 4096).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import special, stats

from reference_impl.initializers import Distribution

# The statistical tests sharing the false-alarm budget (the bounds test is deterministic).
STATISTICAL_TESTS = ("ks", "mean", "std")

# Samples are made in float32 by default (and often handed over as float64 copies, so the slack
# does not shrink below float32 ulps for float64 samples); the reference bounds are float64.
# A float32 sampler computes e.g. minval + u * (maxval - minval) or mean + stddev * z in float32: the
# float32 bound itself is up to 1/2 ulp away from the float64 one, and each of the two or three
# roundings of the scale-and-shift adds up to 1/2 ulp of the result. So a correct float32 sample may
# sit 1-2 ulps (relative to the largest bound magnitude) outside the float64 support; 4 ulps leaves
# margin (tf.keras 3.15 stays within 0.125 ulp) and is 1e5 times smaller than the 3% scale errors
# this check is sized for.
BOUND_SLACK_ULPS = 4


@dataclass(frozen=True)
class DistributionCheck:
    """The verdict: `ok`, a `message` naming each failed test with its numbers ("" if ok), and
    `metrics`, JSON-able numbers (ints, floats; None for an unbounded support side)."""

    ok: bool
    message: str = ""
    metrics: dict = field(default_factory=dict)


# --- moments -----------------------------------------------------------------------------------


def _truncated_normal_kurtosis(a: float, b: float) -> float:
    """mu4 / mu2**2 of a standard normal conditioned on [a, b] (a < b, either may be infinite).

    Central moments C_k = E[(X - mu)**k], mu = E[X] = (phi(a) - phi(b)) / Z, Z = P(a <= N <= b).
    With x phi(x) = -phi'(x), integrating (x - mu)**(k-1) * x phi(x) by parts on [a, b]:
        E[(X - mu)**(k-1) X] = (k - 1) C_{k-2} + ((a - mu)**(k-1) phi(a) - (b - mu)**(k-1) phi(b)) / Z,
    and X = (X - mu) + mu, so
        C_k = (k - 1) C_{k-2} - mu C_{k-1} + ((a - mu)**(k-1) phi(a) - (b - mu)**(k-1) phi(b)) / Z,
    from C_0 = 1, C_1 = 0 (t**j phi(t) -> 0 at an infinite bound). For [-2, 2]: mu = 0,
    C_2 = 1 - 4 phi(2) / Z = 0.8796**2, C_4 = 3 C_2 - 16 phi(2) / Z, kurtosis 2.3655.
    Accurate to ~1e-12 while the interval holds a fair share of the mass (any Keras truncation).
    """
    mass = float(special.ndtr(-a) - special.ndtr(-b)) if a > 0 else float(special.ndtr(b) - special.ndtr(a))
    mu = float((stats.norm.pdf(a) - stats.norm.pdf(b)) / mass)

    def edge(j):  # ((a - mu)**j phi(a) - (b - mu)**j phi(b)) / Z
        def term(t):
            return (t - mu) ** j * stats.norm.pdf(t) if math.isfinite(t) else 0.0
        return (term(a) - term(b)) / mass

    c = [1.0, 0.0]
    for k in (2, 3, 4):
        c.append((k - 1) * c[k - 2] - mu * c[k - 1] + edge(k - 1))
    return c[4] / c[2] ** 2


def kurtosis(dist: Distribution) -> float:
    """mu4 / sigma**4 of one entry (3 for a normal; not the excess kurtosis).

    normal 3; uniform 9/5; truncated normal `_truncated_normal_kurtosis` (2.3655 at +-2 sigma);
    orthogonal 3 m / (m + 2): a coordinate U of a uniform unit vector of R^m has U**2 ~ Beta(1/2, (m-1)/2),
    E[U**2] = 1/m, E[U**4] = (1/2)(3/2) / ((m/2)(m/2 + 1)) = 3 / (m (m + 2)).
    """
    if dist.kind == "normal":
        return 3.0
    if dist.kind == "uniform":
        return 9.0 / 5.0
    if dist.kind == "truncated_normal":
        return _truncated_normal_kurtosis((dist.low - dist.loc) / dist.stddev, (dist.high - dist.loc) / dist.stddev)
    if dist.kind == "orthogonal" and dist.gain != 0:
        m = max(dist.rows, dist.cols)
        return 3.0 * m / (m + 2.0)
    raise ValueError(f"No kurtosis for a distribution without spread. Received: kind={dist.kind!r}, gain={dist.gain!r}")


# --- sample size -------------------------------------------------------------------------------


def _open_unit(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
        raise ValueError(f"`{name}` must be a number in (0, 1). Received: {name}={value!r}")
    return float(value)


def samples_needed(false_alarm: float = 1e-6, scale_error: float = 0.03, power: float = 0.999,
                   dist: Distribution | None = None) -> int:
    """Smallest n at which the std test catches a scale error of `scale_error` with probability `power`.

    The std test runs at level alpha = false_alarm / 3 (Bonferroni over the three statistical tests),
    z_a = norm.isf(alpha / 2). With c**2 = kurtosis - 1, s**2 ~ N(sigma**2, c**2 sigma**4 / n), so it
    passes iff |s**2 / sigma0**2 - 1| <= z_a c / sqrt(n). Samples of scale (1 + e) sigma0 have
    s**2 / sigma0**2 ~ N(r, c**2 r**2 / n), r = (1 + e)**2; they fail beyond the near end of the
    interval with probability Phi((|r - 1| sqrt(n) / c - z_a) / r) (the far end adds a negligible
    amount), which reaches `power` when
        n >= c**2 (z_a + z_b r)**2 / (r - 1)**2,   z_b = norm.isf(1 - power).
    The result is the larger n of e = +scale_error and e = -scale_error. `dist` gives its kurtosis;
    by default that of the normal (3), the largest among the laws of Keras' initializers (uniform 1.8,
    truncated normal at +-2 sigma 2.37, orthogonal 3 m / (m + 2) < 3), so the default n serves all of them.
    For the normal (the default) the test uses the exact chi-square interval, and the power is exact
    too: s**2 / sigma0**2 ~ r chi2(n - 1) / (n - 1), so the formula's n is only the starting point of
    a search for the smallest n whose exact power reaches `power` for both signs of e
    (`_normal_std_power`).
    Defaults: z_a = 5.1036, z_b = 3.0902; the formula gives n = 37,887 (e = +0.03; e = -0.03 needs
    36,749), the exact power n = 38,239 (at 37,887 the exact power against e = +0.03 is 0.99887).
    """
    false_alarm = _open_unit("false_alarm", false_alarm)
    scale_error = _open_unit("scale_error", scale_error)
    power = _open_unit("power", power)
    kurt = 3.0 if dist is None else kurtosis(dist)
    if not kurt > 1.0:
        raise ValueError(f"The sample variance of this distribution does not vary (kurtosis {kurt!r}): "
                         f"no sample size applies. Received: dist={dist!r}")
    level = false_alarm / len(STATISTICAL_TESTS)
    z_a = float(stats.norm.isf(level / 2.0))
    z_b = float(stats.norm.isf(1.0 - power))
    needed = 0
    for e in (scale_error, -scale_error):
        r = (1.0 + e) ** 2
        needed = max(needed, math.ceil((kurt - 1.0) * (z_a + z_b * r) ** 2 / (r - 1.0) ** 2))
    if dist is not None and dist.kind != "normal":
        return int(needed)

    def enough(n):
        return all(_normal_std_power(n, (1.0 + e) ** 2, level) >= power for e in (scale_error, -scale_error))

    # the exact power grows with n: bisect between a size that is not enough (1: no variance at all)
    # and one that is (the formula's n, doubled until it is)
    low, high = 1, max(2, needed)
    while not enough(high):
        low, high = high, 2 * high
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if enough(middle) else (middle, high)
    return int(high)


def _normal_std_power(n: int, r: float, level: float) -> float:
    """P(the std test fails) for n normal samples whose variance is r times the expected one:
    s**2 / sigma0**2 ~ r chi2(n - 1) / (n - 1), against the exact interval at `level`."""
    lo, hi = variance_ratio_interval("normal", n, 3.0, level)
    d = n - 1
    return float(stats.chi2.sf(d * hi / r, d) + stats.chi2.cdf(d * lo / r, d))


def sample_size(false_alarm: float = 1e-6, scale_error: float = 0.03, power: float = 0.999,
                dist: Distribution | None = None) -> int:
    """`samples_needed(...)` rounded up to a power of two: the number of samples the harness draws (65,536 by default)."""
    return 1 << (samples_needed(false_alarm, scale_error, power, dist) - 1).bit_length()


# --- the check ---------------------------------------------------------------------------------


def _bound_slack(lo: float, hi: float, eps: float) -> float:
    """BOUND_SLACK_ULPS ulps (of relative size eps) of the largest finite bound magnitude (see BOUND_SLACK_ULPS)."""
    finite = [abs(v) for v in (lo, hi) if math.isfinite(v)]
    return BOUND_SLACK_ULPS * eps * max(finite, default=0.0)


def _bound(v: float):
    return float(v) if math.isfinite(v) else None


def _g(v) -> str:
    return f"{float(v):.6g}"


def _check_constant(x, value: float, dtype, metrics: dict) -> DistributionCheck:
    """Every sample equals `value` rounded to `dtype` or, for float64 samples, every one float32(value)."""
    candidates = [(np.dtype(dtype).name, float(np.asarray(value, dtype=dtype)))]
    if np.dtype(dtype).itemsize > 4:
        candidates.append(("float32", float(np.float32(value))))
    # judge against the candidate most samples match
    counts = [int(np.count_nonzero(x != rounded)) for _, rounded in candidates]
    (name, rounded), different = min(zip(candidates, counts), key=lambda pair: pair[1])
    metrics.update(expected_value=rounded, n_different=different)
    if different == 0:
        return DistributionCheck(True, "", metrics)
    first = int(np.flatnonzero(x != rounded)[0])
    return DistributionCheck(False, f"constant: {different} of {x.size} samples differ from {_g(value)} "
                                    f"({name} {rounded!r}); the first, at index {first}, is {float(x[first])!r}",
                             metrics)


def _mean_test(x, mu, sigma, z, metrics):
    n = x.size
    mean = float(np.mean(x))
    half = z * sigma / math.sqrt(n)
    metrics.update(mean=mean, expected_mean=float(mu), mean_lo=mu - half, mean_hi=mu + half)
    if abs(mean - mu) <= half:
        return None
    return f"mean test: mean {_g(mean)} is outside [{_g(mu - half)}, {_g(mu + half)}] (expected {_g(mu)}, n={n})"


def variance_ratio_interval(kind: str, n: int, kurt: float, level: float) -> tuple[float, float]:
    """[q_lo, q_hi]: the std test accepts iff q_lo <= s**2 / sigma**2 <= q_hi, s**2 the sample variance
    (ddof 1) of n samples, at two-sided `level` (see the module docstring, test 4).

    "normal": the level / 2 quantiles of chi2(n - 1) / (n - 1), exact for every n >= 2 (at n = 6 and
    level 1e-6 / 3: [1.26e-3, 7.95], where the normal approximation gave [0, 3.95]). Other kinds:
    1 -+ z sqrt((kurt - 1) / n), z = norm.isf(level / 2), the lower end floored at 0."""
    if kind == "normal":
        d = n - 1
        return float(stats.chi2.ppf(level / 2.0, d)) / d, float(stats.chi2.isf(level / 2.0, d)) / d
    half = float(stats.norm.isf(level / 2.0)) * math.sqrt((kurt - 1.0) / n)
    return max(1.0 - half, 0.0), 1.0 + half


def _std_test(x, dist, sigma, kurt, level, metrics):
    n = x.size
    std = float(np.std(x, ddof=1))
    q_lo, q_hi = variance_ratio_interval(dist.kind, n, kurt, level)
    lo, hi = sigma * math.sqrt(q_lo), sigma * math.sqrt(q_hi)
    metrics.update(std=std, expected_std=float(sigma), kurtosis=float(kurt), std_lo=lo, std_hi=hi)
    if q_lo * sigma ** 2 <= std ** 2 <= q_hi * sigma ** 2:
        return None
    return f"std test: std {_g(std)} is outside [{_g(lo)}, {_g(hi)}] (expected {_g(sigma)}, n={n})"


def _ks_test(x, dist, level, metrics):
    result = stats.kstest(x, dist.cdf)
    statistic, pvalue = float(result.statistic), float(result.pvalue)
    metrics.update(ks_statistic=statistic, ks_pvalue=pvalue)
    if pvalue >= level:
        return None
    return (f"Kolmogorov-Smirnov test: p-value {pvalue:.3g} is below the level {level:.3g} "
            f"(statistic D={statistic:.4g} at x={float(result.statistic_location):.6g}, n={x.size})")


def check_samples(samples, dist: Distribution, *, false_alarm: float = 1e-6) -> DistributionCheck:
    """Judge whether `samples` (any shape, real) are independent draws from `dist` (see the module docstring).

    Samples may be float64 copies of float32 weights: the bounds slack is never below float32 ulps and
    a constant may be matched as float32(value).

    A failing check's message lists every failed test, separated by "; ". Raises ValueError for an
    "identity" dist, non-real samples, a false_alarm outside (0, 1), or fewer than 2 samples of a
    sampled kind; TypeError if dist is not a Distribution.
    """
    if not isinstance(dist, Distribution):
        raise TypeError(f"`dist` must be a reference_impl.initializers.Distribution. Received: {type(dist).__name__}")
    false_alarm = _open_unit("false_alarm", false_alarm)
    if dist.kind == "identity":
        raise ValueError("An 'identity' distribution is deterministic, not sampled: compare the values exactly "
                         f"with reference_impl.initializers.identity_matrix. Received: dist={dist!r}")
    array = np.asarray(samples)
    if array.dtype.kind not in "biuf":
        raise ValueError(f"`samples` must be an array of real numbers. Received: dtype={array.dtype}")
    dtype = array.dtype if array.dtype.kind == "f" else np.dtype(np.float32)
    x = array.astype(np.float64).ravel()
    n = int(x.size)
    metrics: dict = {"n": n}

    bad = np.flatnonzero(~np.isfinite(x))
    if bad.size:
        first = int(bad[0])
        metrics["n_nonfinite"] = int(bad.size)
        return DistributionCheck(False, f"finiteness: {bad.size} of {n} samples are not finite (the first, at index "
                                        f"{first}, is {float(x[first])!r}); the other tests were not run", metrics)

    if dist.kind == "constant" or (dist.kind == "orthogonal" and dist.gain == 0):
        value = float(np.asarray(dist.value if dist.kind == "constant" else 0.0, dtype=dtype))
        return _check_constant(x, value, dtype, metrics)

    if n < 2:
        raise ValueError(f"A {dist.kind} check needs at least 2 samples. Received: {n} samples")
    two_point = dist.kind == "orthogonal" and max(dist.rows, dist.cols) == 1
    tests = ("mean",) if two_point else STATISTICAL_TESTS
    level = false_alarm / len(tests)
    z = float(stats.norm.isf(level / 2.0))
    mu, sigma = float(dist.mean()), float(dist.std())
    lo, hi = dist.support()
    slack = _bound_slack(lo, hi, max(float(np.finfo(dtype).eps), float(np.finfo(np.float32).eps)))
    x_min, x_max = float(x.min()), float(x.max())
    outside = int(np.count_nonzero((x < lo - slack) | (x > hi + slack)))
    metrics.update(min=x_min, max=x_max, support_lo=_bound(lo), support_hi=_bound(hi), bound_slack=slack,
                   n_outside=outside, false_alarm=false_alarm, level=level, z=z)

    failures = []
    if outside:
        failures.append(f"bounds test: {outside} of {n} samples are outside the support [{_g(lo)}, {_g(hi)}] "
                        f"(slack {slack:.3g}): min {_g(x_min)}, max {_g(x_max)}")
    if two_point:
        magnitude = float(np.asarray(abs(dist.gain), dtype=dtype))
        differ = int(np.count_nonzero(np.abs(x) != magnitude))
        metrics["n_different"] = differ
        if differ:
            failures.append(f"two-point test: {differ} of {n} samples are not +-{_g(magnitude)} (a 1x1 orthogonal "
                            "matrix is +-gain)")
    else:
        failures.append(_ks_test(x, dist, level, metrics))
    failures.append(_mean_test(x, mu, sigma, z, metrics))
    if not two_point:
        failures.append(_std_test(x, dist, sigma, kurtosis(dist), level, metrics))
    failures = [f for f in failures if f]
    return DistributionCheck(not failures, "; ".join(failures), metrics)
