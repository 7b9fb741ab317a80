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

Samples rounded to 16 bits (`drawn_in` float16 or bfloat16, a mixed policy computing in them, or a
float16 / bfloat16 array): the same bounds test, then the KS, mean and std tests against the
documented law pushed through the rounding (`rounded_tests`, the section "samples rounded to a
16-bit format" below says why and how): ties make the continuous cdf wrong for them (bfloat16
N(1.5, 0.05) has 0.0078 between neighbours, a sixth of sigma). `check_rounded_samples` judges the
same way values rounded after an offset or a scale (GaussianNoise's x + noise, GaussianDropout's
x * noise).

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

from reference_impl import rounding
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


def check_samples(samples, dist: Distribution, *, false_alarm: float = 1e-6, drawn_in: str | None = None) -> DistributionCheck:
    """Judge whether `samples` (any shape, real) are independent draws from `dist` (see the module docstring).

    Samples may be float64 copies of float32 weights: the bounds slack is never below float32 ulps and
    a constant may be matched as float32(value). `drawn_in`, the dtype the samples were drawn in
    (float16, bfloat16: handed over as float64 copies), widens the slack to that format's ulps: a
    sample rounded to the nearest bfloat16 lands up to half a bfloat16 ulp outside the support.

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
    if drawn_in:
        from conformance.catalogue.model import compute_dtype

        drawn_eps = 2 * rounding.format_of(compute_dtype(drawn_in)).unit_roundoff
    else:
        drawn_eps = 0.0
    slack = _bound_slack(lo, hi, max(float(np.finfo(dtype).eps), float(np.finfo(np.float32).eps), drawn_eps))
    x_min, x_max = float(x.min()), float(x.max())
    outside = int(np.count_nonzero((x < lo - slack) | (x > hi + slack)))
    metrics.update(min=x_min, max=x_max, support_lo=_bound(lo), support_hi=_bound(hi), bound_slack=slack,
                   n_outside=outside, false_alarm=false_alarm, level=level, z=z)

    failures = []
    if outside:
        failures.append(f"bounds test: {outside} of {n} samples are outside the support [{_g(lo)}, {_g(hi)}] "
                        f"(slack {slack:.3g}): min {_g(x_min)}, max {_g(x_max)}")
    fmt = rounded_format(drawn_in) or rounded_format(np.dtype(dtype).name)
    if fmt is not None and not two_point:
        # samples rounded to 16 bits: KS, mean and std against the law pushed through the rounding
        failures += rounded_tests(x, dist, fmt, level, metrics)
        failures = [f for f in failures if f]
        return DistributionCheck(not failures, "; ".join(failures), metrics)
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


# --- samples rounded to a 16-bit format --------------------------------------------------------
#
# A float16 or bfloat16 sample is the draw rounded to 11 or 8 significant bits: many samples tie,
# and the continuous cdf no longer describes them (bfloat16 N(1.5, 0.05): 0.0078 between
# neighbours, 0.16 sigma; the KS statistic against the continuous cdf then carries half a step's
# mass at every tie, 0.03 where n = 65,536 allows 0.011). The law of the samples is the documented
# law pushed through the rounding, and each test is taken against that law:
#
# - Each observed value y_i says that the value before the last rounding lay in y_i's rounding cell
#   (`rounding_cell`: the reals that round to y_i), so the draw X_i lies in a known interval
#   [lo_i, hi_i]. `censored_ks_statistic` gives D_min <= D, the KS statistic of the unseen draws,
#   from the cdf at those ends; rejecting when D_min exceeds the exact quantile of D keeps the level
#   (the same test as random_layers._censored_uniform). With the cells alone, D_min is exactly the
#   KS statistic of the discrete law of round(X) (the ecdf against P(round X <= y) at y and against
#   P(round X < y) just below y), and kstwo's p-value is conservative for a discrete law (Conover
#   1972): ties are handled by never charging a tie's mass against the sample.
# - The mean and the spread are judged against the moments of round(X) itself, per sample
#   (`rounded_moments`): a bfloat16 N(0.25, 1) input plus N(0, 0.1) noise adds the rounding variance
#   of the sum, up to 0.8% of sigma**2 where |x| nears 4, which the test must expect, not absorb.
# - A 16-bit implementation computes with its parameters in the format (TensorFlow converts mean and
#   stddev to the dtype before loc + stddev * z): each test accepts when the sample fits the law with
#   the documented parameters or with the parameters rounded to the format (`parameter_candidates`);
#   under either law the false-alarm rate stays at most the level.
# - The draw itself is made in the format before the last rounding: z rounded, stddev * z rounded
#   (and, where the draw then enters a formula, the draw rounded): up to u |X - mean| twice, and u |X|
#   (u = 2**-p, the unit roundoff). The cells are widened by that much (`intermediate_slack`), so the
#   KS keeps its level. For the moments these roundings are second order: each error is at most
#   u times a value and averages to zero to first order, moving the variance by O(u**2) (1.5e-5 in
#   bfloat16 against an interval of +-2.8% at n = 65,536), so the moments ignore them.
# - A uniform drawn in the format (TensorFlow: p - 1 random significand bits, min + k 2**(1-p) (max -
#   min)) lies on a grid of 2**(p-1) points and is floored to it, not rounded: the cells of a "uniform"
#   widen by that step and the mean test allows its bias, u (high - low).
#
# The power left: the std test, the one sized for a 3% scale error, compares the sample's second
# moment with the rounded law's: the rounding moves both alike, and the scale of X is measured as
# finely as in float32 (tests/test_distribution_check.py plants a 1.2x stddev in bfloat16).

SHEPPARD_MIN_RATIO = 1.0  # sigma / spacing above which the rounded law's moments may follow Sheppard
ENUMERATION_BUDGET = 1 << 22  # format values enumerated, over all distinct (offset, scale), before Sheppard


def rounded_format(dtype) -> rounding.Format | None:
    """The 16-bit format (float16, bfloat16) values of `dtype` are rounded to, a mixed precision
    policy's compute dtype included; None for float32, float64 or None (no quantization to account for)."""
    if dtype is None:
        return None
    from conformance.catalogue.model import compute_dtype

    fmt = rounding.FORMATS.get(compute_dtype(str(dtype)))
    return fmt if fmt is not None and fmt.precision <= 11 else None


def _numpy_type(fmt: rounding.Format):
    if fmt.name == "bfloat16":
        import ml_dtypes

        return ml_dtypes.bfloat16
    return np.dtype(fmt.name).type


def to_format(values, fmt: rounding.Format) -> np.ndarray:
    """values rounded to nearest (ties to even) in `fmt`, as float64."""
    return np.asarray(values, dtype=np.float64).astype(_numpy_type(fmt)).astype(np.float64)


def format_values(fmt: rounding.Format) -> np.ndarray:
    """Every finite value of a 16-bit format, sorted, 0 once (computed once per format)."""
    if fmt.name not in _FORMAT_VALUES:
        _FORMAT_VALUES[fmt.name] = _all_values(fmt)
    return _FORMAT_VALUES[fmt.name]


_FORMAT_VALUES: dict = {}


def _all_values(fmt):
    bits = np.arange(1 << 16, dtype=np.uint16)
    with np.errstate(invalid="ignore"):
        values = bits.view(_numpy_type(fmt)).astype(np.float64)
    return np.unique(values[np.isfinite(values)])


def rounding_cell(y, fmt: rounding.Format) -> tuple[np.ndarray, np.ndarray]:
    """(lo, hi): the reals that round to nearest to y, a value of `fmt`: y minus half the gap below
    it, plus half the gap above it (the gap below a power of two is half the one above). 0's cell
    reaches the smallest normal on both sides: TensorFlow's CPU threads flush subnormal results to
    zero. Rounding to nearest never moves a value out of its cell; ties sit on the ends."""
    y = np.asarray(y, dtype=np.float64)
    magnitude = np.abs(y)
    away = rounding.ulp(magnitude, fmt)  # the gap away from zero
    toward = np.where((np.frexp(magnitude)[0] == 0.5) & (magnitude > fmt.smallest_normal), away / 2, away)
    lo = np.where(y > 0, y - toward / 2, y - away / 2)
    hi = np.where(y > 0, y + away / 2, y + toward / 2)
    zero = magnitude == 0
    return np.where(zero, -fmt.smallest_normal, lo), np.where(zero, fmt.smallest_normal, hi)


def censored_ks_statistic(cdf_lo, cdf_hi) -> float:
    """D_min: a lower bound of the one-sample KS statistic of draws X_i known only to lie in
    [lo_i, hi_i], from F(lo_i) and F(hi_i). The sorted true values satisfy u_lo(k) <= F(X)(k) <=
    u_hi(k) (order statistics are monotone), so D = max_k max(k/n - F(X)(k), F(X)(k) - (k-1)/n) is
    at least max_k max(k/n - u_hi(k), u_lo(k) - (k-1)/n, 0). Point intervals give the plain D."""
    u_lo, u_hi = np.sort(np.asarray(cdf_lo, np.float64)), np.sort(np.asarray(cdf_hi, np.float64))
    n = u_lo.size
    k = np.arange(1, n + 1)
    return float(max(0.0, np.max(k / n - u_hi), np.max(u_lo - (k - 1) / n)))


def parameter_candidates(dist: Distribution, fmt: rounding.Format) -> list[Distribution]:
    """The laws a correct implementation in `fmt` draws from: `dist`, and `dist` with its parameters
    converted to the format as TensorFlow does (mean and stddev, the truncation kept at the same
    number of stddevs; minval and maxval - minval; the gain). One entry when rounding changes nothing."""
    from dataclasses import replace

    r = lambda v: float(to_format(v, fmt)) if math.isfinite(v) else v
    if dist.kind == "normal":
        rounded = replace(dist, loc=r(dist.loc), stddev=r(dist.stddev))
    elif dist.kind == "truncated_normal":
        a, b = dist._alpha_beta()
        loc, stddev = r(dist.loc), r(dist.stddev)
        rounded = replace(dist, loc=loc, stddev=stddev, low=loc + a * stddev, high=loc + b * stddev)
    elif dist.kind == "uniform":
        low = r(dist.low)
        rounded = replace(dist, low=low, high=low + r(r(dist.high) - low))
    elif dist.kind == "orthogonal":
        rounded = replace(dist, gain=r(dist.gain))
    else:
        rounded = dist
    return [dist] if rounded == dist else [dist, rounded]


def _window(dist: Distribution) -> tuple[float, float]:
    """An interval of X holding all but a negligible mass (below 1e-32): the support, or 12 sigma."""
    lo, hi = dist.support()
    if dist.kind == "normal":
        lo, hi = dist.loc - 12 * dist.stddev, dist.loc + 12 * dist.stddev
    return float(lo), float(hi)


def _law_cdf(dist, t, c, s):
    """P(c + s X <= t) (continuous), for arrays broadcasting together."""
    f = dist.cdf((t - c) / s)
    return np.where(s > 0, f, 1.0 - f)


def rounded_moments(dist: Distribution, fmt: rounding.Format, offset=0.0, scale=1.0):
    """(mean, variance, 4th central moment) of r = (round(c + s X) - c) / s, X ~ dist, round to
    nearest in `fmt`, per element of the broadcast (c, s) (s != 0).

    Exact where it is affordable (at most ENUMERATION_BUDGET format values over all distinct (c, s):
    one law, an initializer's, always is): the law of round(c + s X) enumerated value by value, each
    value's probability the cdf's increase over its cell. Beyond the budget (GaussianNoise on 65,536
    float16 inputs of ~10,000 distinct values), wherever the spacing g of the format is small against
    the spread of c + s X (sigma_y = |s| std(X) >= SHEPPARD_MIN_RATIO g at the far end of the window),
    Sheppard's corrections (Kendall and Stuart, vol. 1, 3.18): the rounding error e is uniform on
    [-g/2, g/2] and uncorrelated with X, up to terms of order exp(-2 pi**2 sigma_y**2 / g**2) < 3e-9
    for a smooth density, plus each cell where the spacing doubles at a power of two, or where a
    bounded density jumps (a uniform's ends), off by about the density there times g**2: E[r] = E[X],
    Var r = Var X + E[g**2] / (12 s**2), mu4 = mu4(X) + 6 Var X E[g**2] / (12 s**2) + E[g**4] / (80 s**4),
    E[g**k] summed binade by binade. Against the enumeration (tests/test_distribution_check.py), for
    a normal: the mean within 1e-4 sigma_y, the variance within 1e-5 of itself, a small share of the
    tests' intervals (z sigma / sqrt(n) = 0.02 sigma at n = 65,536); the coarse (c, s) are enumerated."""
    c, s = np.broadcast_arrays(np.asarray(offset, np.float64), np.asarray(scale, np.float64))
    shape = c.shape
    pairs, inverse = np.unique(np.stack([c.ravel(), s.ravel()], axis=1), axis=0, return_inverse=True)
    inverse = inverse.ravel()
    pc, ps = pairs[:, 0], pairs[:, 1]
    q_lo, q_hi = _window(dist)
    ends = np.stack([pc + ps * q_lo, pc + ps * q_hi], axis=1)
    far = np.max(np.abs(ends), axis=1)
    sigma_y = np.abs(ps) * float(dist.std())
    grid = format_values(fmt)
    values = np.searchsorted(grid, ends.max(axis=1), side="right") - np.searchsorted(grid, ends.min(axis=1)) + 2
    fine = sigma_y >= SHEPPARD_MIN_RATIO * rounding.ulp(far, fmt)
    if int(np.sum(values)) <= ENUMERATION_BUDGET:
        fine[:] = False
    moments = np.zeros((pairs.shape[0], 3))
    if fine.any():
        moments[fine] = _sheppard_moments(dist, fmt, pc[fine], ps[fine], far[fine], sigma_y[fine])
    coarse = np.flatnonzero(~fine)
    coarse = coarse[np.argsort(values[coarse], kind="stable")]  # chunks of similar widths: little padding
    at = 0
    while at < coarse.size:
        width = int(values[coarse[min(coarse.size - 1, at + 255)]])
        take = coarse[at:at + max(1, min(256, ENUMERATION_BUDGET // max(width, 1)))]
        moments[take] = _enumerated_moments(dist, fmt, pc[take], ps[take], ends[take])
        at += take.size
    return tuple(moments[inverse, j].reshape(shape) for j in range(3))


def _sheppard_moments(dist, fmt, c, s, far, sigma_y):
    var, mu4 = float(dist.std()) ** 2, kurtosis(dist) * float(dist.std()) ** 4
    # binades [2**e, 2**(e+1)) of |c + s X| from 2**40 below sigma_y (their spacing**2 is below
    # 2**-80 sigma_y**2: all of them together count as one cell of the lowest spacing) up to the far end
    e_lo = max(fmt.min_exponent, int(np.floor(np.log2(np.min(sigma_y)))) - 40)
    e_hi = max(e_lo, int(np.floor(np.log2(np.max(far)))) + 1)
    exponents = np.arange(e_lo, e_hi + 2)
    edges = np.exp2(exponents.astype(np.float64))
    inside = np.abs(_law_cdf(dist, edges[None, :], c[:, None], s[:, None])
                    - _law_cdf(dist, -edges[None, :], c[:, None], s[:, None]))  # P(|V| < 2**e)
    mass = np.diff(np.concatenate([np.zeros((c.size, 1)), inside, np.ones((c.size, 1))], axis=1), axis=1)
    mass = np.clip(mass, 0.0, None)
    spacing = np.exp2((np.maximum(np.concatenate([[e_lo], exponents]), fmt.min_exponent) - fmt.precision + 1).astype(np.float64))
    g2, g4 = mass @ spacing ** 2, mass @ spacing ** 4
    e2 = g2 / (12 * s ** 2)
    return np.stack([np.full(c.size, float(dist.mean())), var + e2, mu4 + 6 * var * e2 + g4 / (80 * s ** 4)], axis=1)


def _enumerated_moments(dist, fmt, c, s, ends):
    grid = format_values(fmt)
    lo_y, hi_y = ends.min(axis=1), ends.max(axis=1)
    first = np.clip(np.searchsorted(grid, lo_y, side="left") - 1, 0, grid.size - 1)
    last = np.clip(np.searchsorted(grid, hi_y, side="right"), 0, grid.size - 1)
    count = int(np.max(last - first)) + 1
    index = first[:, None] + np.arange(count)[None, :]
    valid = index <= last[:, None]
    index = np.minimum(index, grid.size - 1)
    atoms = grid[index]
    below = np.where(index > 0, (atoms + grid[np.maximum(index - 1, 0)]) / 2, -np.inf)
    above = np.where(index < grid.size - 1, (atoms + grid[np.minimum(index + 1, grid.size - 1)]) / 2, np.inf)
    below = np.where(index == first[:, None], -np.inf, below)  # the end atoms take the tails
    above = np.where(index == last[:, None], np.inf, above)
    cc, ss = c[:, None], s[:, None]
    p = np.where(valid, np.abs(_law_cdf(dist, above, cc, ss) - _law_cdf(dist, below, cc, ss)), 0.0)
    p = p / p.sum(axis=1, keepdims=True)
    r = np.where(valid, (atoms - cc) / ss, 0.0)
    mean = np.sum(p * r, axis=1)
    d = r - mean[:, None]
    return np.stack([mean, np.sum(p * d ** 2, axis=1), np.sum(p * d ** 4, axis=1)], axis=1)


def intermediate_slack(r, dist: Distribution, fmt: rounding.Format, entered: bool) -> np.ndarray:
    """How far the draw may be from the one rounded last, in units of X: the draw loc + stddev * z
    made in the format rounds z and stddev * z, up to u |X - mean| each; `entered` (the draw then
    enters a formula: x + noise, x * noise) adds the rounding of the draw itself, u |X|. A uniform
    drawn in the format lies on a grid of step 2**(1-p) (high - low), floored to it (module notes)."""
    u = fmt.unit_roundoff
    r = np.asarray(r, np.float64)
    slack = 2.0 * u * np.abs(r - float(dist.mean())) + (u * np.abs(r) if entered else 0.0)
    if dist.kind == "uniform":
        slack = slack + 2.0 * u * (dist.high - dist.low)
    return slack * (1.0 + 4.0 * u)


def check_rounded_samples(y, dist: Distribution, fmt: rounding.Format, *, offset=0.0, scale=1.0,
                          false_alarm: float = 1e-6) -> DistributionCheck:
    """Judge values y of `fmt` as y_i = round(c_i + s_i X_i), X_i ~ dist independent (GaussianNoise:
    c = x, s = 1; GaussianDropout: c = 0, s = x): finiteness, then `rounded_tests` (KS, mean, std)
    sharing `false_alarm` (Bonferroni, as `check_samples`)."""
    false_alarm = _open_unit("false_alarm", false_alarm)
    y = np.asarray(y, np.float64)
    metrics: dict = {"n": int(y.size)}
    bad = np.flatnonzero(~np.isfinite(y.ravel()))
    if bad.size:
        metrics["n_nonfinite"] = int(bad.size)
        return DistributionCheck(False, f"finiteness: {bad.size} of {y.size} values are not finite (the first, at "
                                        f"index {int(bad[0])}); the other tests were not run", metrics)
    if y.size < 2:
        raise ValueError(f"A {dist.kind} check needs at least 2 samples. Received: {y.size} samples")
    metrics["false_alarm"] = false_alarm
    failures = [f for f in rounded_tests(y, dist, fmt, false_alarm / len(STATISTICAL_TESTS), metrics,
                                         offset=offset, scale=scale) if f]
    return DistributionCheck(not failures, "; ".join(failures), metrics)


def rounded_tests(y, dist: Distribution, fmt: rounding.Format, level: float, metrics: dict, *, offset=0.0,
                  scale=1.0) -> list:
    """The KS, mean and std tests (at `level` each) of values y_i = round(c_i + s_i X_i) of `fmt`,
    X_i ~ dist independent (see the notes above); r_i = (y_i - c_i) / s_i is the sample reported.
    Returns the failure messages (None for a test passed); `metrics` gets the numbers.

    - KS: `censored_ks_statistic` on the cells (in units of X) widened by `intermediate_slack`, the
      cdf's lowest value over the candidates at the lower ends and its highest at the upper ends;
      rejected when D_min exceeds kstwo's level quantile (the p-value reported is an upper bound).
    - mean: with m_i, v_i the rounded law's per-element mean and variance (`rounded_moments`),
      sum(r_i - m_i) / sqrt(sum v_i) is a standard normal by the central limit theorem; a uniform's
      interval is widened by its grid's bias.
    - std: Q = sum (r_i - m_i)**2, E[Q] = sum v_i, Var Q = sum (mu4_i - v_i**2), with the known means
      (the documented mean, rounded), judged as g chi2(nu) with the mean and variance of Q
      (Satterthwaite: nu = 2 E[Q]**2 / Var Q, g = Var Q / (2 E[Q])). Unrounded normal draws give
      g = sigma**2 and nu = n, the exact chi-square law of Q, at every n; the rounding shrinks the
      kurtosis a little, and the matched chi-square keeps the skewness that a normal approximation
      of Q drops (at n = 65,536 that approximation doubles the upper tail's rate, module docstring).
      Reported as the root mean square deviation sqrt(Q / n) against sqrt(g chi2 quantile / n).
    Each test passes if it passes for one of `parameter_candidates`."""
    y = np.asarray(y, np.float64)
    c, s = (np.broadcast_to(np.asarray(v, np.float64), y.shape).ravel() for v in (offset, scale))
    y = y.ravel()
    n = y.size
    r = (y - c) / s
    entered = bool(np.any(c != 0) or np.any(s != 1))
    candidates = parameter_candidates(dist, fmt)
    z = float(stats.norm.isf(level / 2.0))
    metrics.update(rounded_to=fmt.name, parameter_candidates=len(candidates), level=level, z=z)

    # KS against the rounded law: each draw known to its cell, widened by the intermediate roundings
    cell_lo, cell_hi = rounding_cell(y, fmt)
    a, b = (cell_lo - c) / s, (cell_hi - c) / s
    slack = intermediate_slack(r, dist, fmt, entered)
    lo, hi = np.minimum(a, b) - slack, np.maximum(a, b) + slack
    ends, where = np.unique(np.concatenate([lo, hi]), return_inverse=True)
    cdfs = np.stack([d.cdf(ends) for d in candidates])
    f_lo, f_hi = cdfs.min(axis=0)[where[:n]], cdfs.max(axis=0)[where[n:]]
    d_min = censored_ks_statistic(f_lo, f_hi)
    critical = float(stats.kstwo.isf(level, n))
    pvalue = float(stats.kstwo.sf(d_min, n))
    metrics.update(ks_statistic=d_min, ks_pvalue=pvalue, ks_critical=critical,
                   median_cell_width=float(np.median(hi - lo)))
    failures = []
    if d_min > critical:
        failures.append(f"Kolmogorov-Smirnov test against the law rounded to {fmt.name}: statistic at least "
                        f"{d_min:.4g}, above {critical:.4g} (p-value at most {pvalue:.3g}, level {level:.3g}, n={n})")

    # mean and second moment against the rounded law's, per element, for each candidate
    sample_mean = float(np.mean(r))
    mean_ok, std_ok, mean_ranges, std_ranges, expected, rms = False, False, [], [], [], None
    for d in candidates:
        m, v, k4 = rounded_moments(d, fmt, c, s)
        bias = (fmt.unit_roundoff * (d.high - d.low)) if d.kind == "uniform" else 0.0
        centre, half = float(np.mean(m)), z * math.sqrt(float(np.sum(v))) / n + bias
        mean_ranges.append((centre - half, centre + half))
        mean_ok |= abs(sample_mean - centre) <= half
        q, eq, var_q = float(np.sum((r - m) ** 2)), float(np.sum(v)), float(np.sum(k4 - v ** 2))
        expected.append((centre, math.sqrt(eq / n)))
        rms = math.sqrt(q / n) if rms is None else rms
        if var_q <= 0 or eq <= 0:
            std_ok |= q == eq
            std_ranges.append((math.sqrt(eq / n), math.sqrt(eq / n)))
            continue
        g, nu = var_q / (2 * eq), 2 * eq ** 2 / var_q  # Q ~ g chi2(nu), matching mean and variance
        q_lo, q_hi = g * float(stats.chi2.ppf(level / 2, nu)), g * float(stats.chi2.isf(level / 2, nu))
        std_ranges.append((math.sqrt(q_lo / n), math.sqrt(q_hi / n)))
        std_ok |= q_lo <= q <= q_hi
    mean_lo, mean_hi = min(lo for lo, _ in mean_ranges), max(hi for _, hi in mean_ranges)
    std_lo, std_hi = min(lo for lo, _ in std_ranges), max(hi for _, hi in std_ranges)
    metrics.update(mean=sample_mean, expected_mean=expected[0][0], mean_lo=mean_lo, mean_hi=mean_hi,
                   std=rms, expected_std=expected[0][1], std_lo=std_lo, std_hi=std_hi)
    if not mean_ok:
        failures.append(f"mean test: mean {_g(sample_mean)} is outside [{_g(mean_lo)}, {_g(mean_hi)}] (expected "
                        f"{_g(expected[0][0])} after rounding to {fmt.name}, n={n})")
    if not std_ok:
        failures.append(f"std test: root mean square deviation {_g(rms)} is outside [{_g(std_lo)}, {_g(std_hi)}] "
                        f"(expected {_g(expected[0][1])} after rounding to {fmt.name}, n={n})")
    return failures
