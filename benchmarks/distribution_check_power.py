"""Simulate `conformance.checks.distribution.check_samples`: false-alarm rate and power, per law.

    python3 benchmarks/distribution_check_power.py [--trials 300] [--n N] [--seed 0]

For each law, `trials` independent samples of n values (default n = sample_size(), the harness's
size) are drawn with NumPy from the exact law and judged at false_alarm = 1e-6 (the harness's level;
expect 0 failures) and at 0.05 (a calibration check that can show failures: expect at most 5%, at
least about 0.05 / 3 from the KS test alone). Then samples with the scale multiplied by 1.03 and by
0.97 are judged at 1e-6 (power: expect ~1; "std" is the share caught by the std test). The
orthogonal laws are judged on independent coordinates of uniform unit vectors ("marginal"), on the
entries of many independently drawn Haar matrices pooled (what the harness passes) and, to show
the effect of within-matrix dependence, on the entries of one single matrix.
Times: ms per check at 1e-6 (of exact samples), ms per draw.

A second table takes the normal law at small n (2 to 1000: GaussianNoise and GaussianDropout judge
their noise on whatever input the case gives): the std test's false-alarm rate at 1e-6 computed
exactly from the interval the check applies ((n - 1) s**2 / sigma**2 ~ chi2(n - 1); its level is
3.3e-7), the whole check's simulated false-alarm share at 0.05 (expect at most 0.05), and its
simulated power at 1e-6 against a stddev 1.5 times too large.

A third table takes the uniform law at the sizes of a batch of images (64, 128: the per-image
factors of conformance.checks.random_layers): how often the std test's central-limit interval
rejects exact uniform samples, relative to its level, for each tail (`--uniform-draws` sample
variances per n). The ratio grows as the level falls, which is why the image checks leave the std
test out.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
from scipy import stats

from conformance.checks.distribution import check_samples, sample_size, samples_needed
from reference_impl.initializers import expected_distribution


def marginal_sampler(dist):
    """n float32 draws from dist's law, spread multiplied by `scale` about the centre."""
    def draw(n, rng, scale=1.0):
        if dist.kind == "normal":
            x = rng.normal(dist.loc, dist.stddev * scale, n)
        elif dist.kind == "truncated_normal":
            a, b = (dist.low - dist.loc) / dist.stddev, (dist.high - dist.loc) / dist.stddev
            x = stats.truncnorm(a, b, loc=dist.loc, scale=dist.stddev * scale).rvs(n, random_state=rng)
        elif dist.kind == "uniform":
            centre, half = (dist.low + dist.high) / 2, (dist.high - dist.low) / 2
            x = rng.uniform(centre - half * scale, centre + half * scale, n)
        else:  # orthogonal: gain * a coordinate of a uniform unit vector of R^m, U**2 ~ Beta(1/2, (m - 1) / 2)
            m = max(dist.rows, dist.cols)
            x = abs(dist.gain) * scale * rng.choice([-1.0, 1.0], n) * np.sqrt(rng.beta(0.5, (m - 1) / 2, n))
        return x.astype(np.float32)
    return draw


def haar_sampler(rows, cols, gain=1.0):
    """Entries of ceil(n / (rows * cols)) Haar matrices (QR of a normal matrix, sign-corrected, as Keras)."""
    def draw(n, rng, scale=1.0):
        count = -(-n // (rows * cols))
        a = rng.normal(size=(count, max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q = q * np.sign(np.diagonal(r, axis1=1, axis2=2))[:, None, :]
        q = q if rows >= cols else np.swapaxes(q, 1, 2)
        return (gain * scale * q).astype(np.float32).ravel()[:n]
    return draw


def laws():
    glorot_normal = expected_distribution("GlorotNormal", (256, 128))
    orth = expected_distribution("Orthogonal", (256, 256))
    return [
        ("normal  RandomNormal(0, 0.05)", expected_distribution("RandomNormal", (8,)), None),
        ("trunc   GlorotNormal (256, 128)", glorot_normal, None),
        ("trunc   TruncatedNormal(0, 0.05)", expected_distribution("TruncatedNormal", (8,)), None),
        ("uniform GlorotUniform (256, 128)", expected_distribution("GlorotUniform", (256, 128)), None),
        ("orth    marginal, m = 256", orth, None),
        ("orth    pooled 64x64 Haar", expected_distribution("Orthogonal", (64, 64)), haar_sampler(64, 64)),
        ("orth    pooled 128x16 Haar", expected_distribution("Orthogonal", (128, 16)), haar_sampler(128, 16)),
        ("orth    one 256x256 matrix", orth, haar_sampler(256, 256)),
    ]


def simulate(dist, draw, n, trials, rng):
    row = {"fa6": 0, "fa05": 0, "up": 0, "down": 0, "std": 0, "check_s": 0.0, "draw_s": 0.0}
    for _ in range(trials):
        started = time.perf_counter()
        x = draw(n, rng)
        row["draw_s"] += time.perf_counter() - started
        started = time.perf_counter()
        row["fa6"] += not check_samples(x, dist).ok
        row["check_s"] += time.perf_counter() - started
        row["fa05"] += not check_samples(x, dist, false_alarm=0.05).ok
        for key, scale in (("up", 1.03), ("down", 0.97)):
            check = check_samples(draw(n, rng, scale), dist)
            row[key] += not check.ok
            row["std"] += "std test" in check.message
    return row


SMALL_N = (2, 3, 6, 10, 60, 1000)


def small_n_rows(trials, rng):
    """(n, exact std-test false alarm at 1e-6, simulated false-alarm share at 0.05, power vs x1.5)."""
    dist = expected_distribution("RandomNormal", (8,), mean=0.0, stddev=0.2)
    for n in SMALL_N:
        metrics = check_samples(rng.normal(0.0, 0.2, n), dist).metrics
        d = n - 1
        lo, hi = (metrics["std_lo"] / 0.2) ** 2, (metrics["std_hi"] / 0.2) ** 2
        exact = stats.chi2.sf(d * hi, d) + stats.chi2.cdf(d * lo, d)
        fa05 = sum(not check_samples(rng.normal(0.0, 0.2, n), dist, false_alarm=0.05).ok for _ in range(trials))
        caught = sum(not check_samples(rng.normal(0.0, 0.3, n), dist).ok for _ in range(trials))
        yield n, exact, fa05 / trials, caught / trials


def uniform_std_rows(draws, rng, sizes=(64, 128), levels=(1e-3, 1e-4, 1e-5)):
    """(n, level, rejections / level, low tail / (level / 2), high tail / (level / 2)) of the std test
    on `draws` exact uniform samples of n (its interval from variance_ratio_interval, kurtosis 9/5)."""
    from conformance.checks.distribution import variance_ratio_interval

    for n in sizes:
        ratio = np.concatenate([rng.random((min(100_000, draws - k), n)).var(axis=1, ddof=1) * 12
                                for k in range(0, draws, 100_000)])
        for level in levels:
            lo, hi = variance_ratio_interval("uniform", n, 9.0 / 5.0, level)
            low, high = float((ratio < lo).mean()), float((ratio > hi).mean())
            yield n, level, (low + high) / level, low / (level / 2), high / (level / 2)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=300)
    parser.add_argument("--n", type=int, default=None, help="samples per check (default: sample_size())")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--uniform-draws", type=int, default=1_000_000, help="sample variances per n, third table")
    args = parser.parse_args()
    n = args.n or sample_size()
    rng = np.random.default_rng(args.seed)
    print(f"samples_needed() = {samples_needed()}, n = {n}, trials = {args.trials}; "
          "failures out of trials (false alarms at 1e-6 and 0.05; power at 1e-6 against scale x1.03, x0.97)")
    header = f"{'law':34} {'FA@1e-6':>8} {'FA@0.05':>8} {'x1.03':>7} {'x0.97':>7} {'by std':>7} {'ms/check':>9} {'ms/draw':>8}"
    print(header)
    print("-" * len(header))
    total_started = time.perf_counter()
    for label, dist, draw in laws():
        row = simulate(dist, draw or marginal_sampler(dist), n, args.trials, rng)
        t = args.trials
        print(f"{label:34} {row['fa6']:>8} {row['fa05'] / t:>8.3f} {row['up'] / t:>7.3f} {row['down'] / t:>7.3f} "
              f"{row['std'] / (2 * t):>7.3f} {1e3 * row['check_s'] / t:>9.1f} {1e3 * row['draw_s'] / t:>8.1f}",
              flush=True)
    print()
    print(f"normal(0, 0.2) at small n, trials = {args.trials}: the std test's false alarm at 1e-6 (exact, its level "
          "is 3.3e-7), the check's false alarms at 0.05 (simulated), power at 1e-6 against stddev 0.3")
    header = f"{'n':>6} {'std FA@1e-6':>12} {'FA@0.05':>8} {'x1.5':>7}"
    print(header)
    print("-" * len(header))
    for n, exact, fa05, power in small_n_rows(args.trials, rng):
        print(f"{n:>6} {exact:>12.3g} {fa05:>8.3f} {power:>7.3f}", flush=True)
    print()
    print(f"uniform at a batch's size, {args.uniform_draws} samples per n: the std test's rejections relative to its level")
    header = f"{'n':>6} {'level':>8} {'both':>6} {'low':>6} {'high':>6}"
    print(header)
    print("-" * len(header))
    for n, level, both, low, high in uniform_std_rows(args.uniform_draws, rng):
        print(f"{n:>6} {level:>8.0e} {both:>6.2f} {low:>6.2f} {high:>6.2f}", flush=True)
    print(f"total {time.perf_counter() - total_started:.0f} s")


if __name__ == "__main__":
    main()
