"""Training-mode checks of the random layers, against what their documentation fixes
(reference_impl.regularization_layers). One call on a large input; each test at a level
that keeps the whole case's false-alarm probability below FALSE_ALARM.

- dropout (Dropout, SpatialDropout*): every element is 0 or x / (1 - rate); the mask is
  constant along the axes it is broadcast over (whole feature maps for the spatial ones);
  the number of dropped mask entries is Binomial(n, rate).
- gaussian_noise: y - x against normal(0, stddev) (conformance.checks.distribution).
- gaussian_dropout: y / x against normal(1, sqrt(rate / (1 - rate))).
  The noise is normal, so every statistical test of the check is exact at any input size (the std
  test uses the chi-square law of the sample variance): a tiny input keeps the FALSE_ALARM rate.
- alpha_dropout: every element is a x + b or a alpha' + b; the dropped count is Binomial.
- flip (RandomFlip; reference_impl.random_image_layers): every image is the input or one of the
  flips its mode allows; with one axis, the flipped count is Binomial(images, 1/2).
- brightness (RandomBrightness): y = clip(x + d, low, high) with one d per image; d / (high -
  low) against uniform(lower, upper) (conformance.checks.distribution).
- crop (RandomCrop, input at least the target's size): every image is the window of the target
  size at one location, the same for the whole batch.
- contrast (RandomContrast): y = clip((x - mean) * f + mean, low, high), mean per image and
  channel, one f per image; f against uniform(1 - lower, 1 + upper).
- grayscale (RandomGrayscale): every image is the input or gray (channels equal, between the
  pixel's channel minimum and maximum); the converted count is Binomial(images, factor).
- invert (RandomInvert): every image is the input or low + high - x; the inverted count is
  Binomial(images, midpoint of the factor's range).

The per-image values below are recovered from output and input, checked to explain every
element, and then tested against their documented law: uniform laws by `_per_image_uniform`
(bounds, KS, mean; not the std test, see there), an estimate within ESTIMATE_SLACK of a bound put
on it; a value known only to an interval by `_censored_uniform` (a conservative KS); counts by
exact binomial tests (`_exact_binomial`). The levels of a case's tests add up to at most
FALSE_ALARM / 2, or FALSE_ALARM for solarization's two laws.
- solarization (Solarization): y = low + high - z above a threshold, else z, z = clip(x + a),
  one a and one t per image. a is the addition every element agrees on (exact); t is known to
  lie between the largest z left alone and the smallest z mirrored. a / (high - low) against
  uniform on the addition range, t / (high - low) (censored) on the threshold range.
- posterization (RandomPosterization): each image is the input posterized to one number of bits,
  one of the factor's; with several allowed, each count ~ Binomial(images, 1 / len(allowed)).
- color_degeneration (RandomColorDegeneration): y = x + f (gray - x), gray a weighted mean of the
  pixel's channels; f = 1 - (y_c - y_d) / (x_c - x_d) for every pair of channels; f uniform.
- saturation (RandomSaturation): the HSV saturation times m, capped at 1, hue and value kept; m
  the median ratio of output to input saturation over the pixels below the cap;
  f = m / (1 + m) uniform.
- mixup (MixUp): y_i = lambda x_i + (1 - lambda) x_j, j the image of the batch that leaves no
  residual (least squares for lambda against each); the Beta(alpha, alpha) cdf of lambda
  uniform (censored: an unchanged image counts as [0, 1]).
- cutmix (CutMix): the changed pixels of an image span a rectangle that equals the same rectangle
  of another image of the batch (deterministic; the patch size's law is not judged).
- erasing (RandomErasing): the changed pixels span a rectangle filled with fill_value (None:
  changed everywhere inside); the erased count ~ Binomial(images, midpoint of the factor's range).
- gaussian_blur (RandomGaussianBlur, factor [1, 1]): on the pixels whose window is inside the
  image, the kernel fitted by least squares, its nearest separable kernel and each axis's sigma
  from the ratio of its centre taps; the image must be the isotropic blur of the mean sigma, and
  the sigmas of each axis follow the sigma range (a float: that constant).
- translation, rotation, zoom (RandomTranslation, RandomRotation, RandomZoom; interpolation
  "nearest", fill_mode "constant", a fill_value no pixel has): every output pixel is fill_value or
  a copy of one input pixel of its image (`_copied_pixels`); each copy pins the rounded source
  position, so the per-image parameter is known to an interval: exact per axis for the shift dy, dx
  and the zoom 1 + f (linear in it, `_linear_intervals`), by a grid with a slack that keeps every
  exact solution for the angle. An empty interval is an image no single shift, rotation about the
  centre or zoom about the centre explains; a fill pixel must be one the interval can put outside
  the image. The intervals, as fractions of the size, of a turn, or the zoom f, against their
  uniform laws by `_censored_uniform`: each axis at FALSE_ALARM / 4, the angle and a zoom that keeps
  the aspect ratio (both axes' intervals must meet) at FALSE_ALARM / 2.

In 16 bits (the case's dtype float16, bfloat16, or a mixed policy computing in one of them; `check`'s
`dtype`), the output is rounded to 11 or 8 significant bits, and the checks that read a continuous
quantity off it account for that rounding instead of a tolerance (the section "16 bits" below):
- gaussian_noise, gaussian_dropout: y = round(x + noise) or round(x * noise) against the documented
  normal pushed through the rounding, element by element (distribution.check_rounded_samples: KS on
  each noise's interval, mean and spread against the rounded law's moments);
- brightness, contrast, solarization, saturation, mixup: the per-image parameter bounded to an
  interval by every element (interval arithmetic over the output's rounding cell and the formula's
  roundings), the intervals intersected per image, and their law judged by `_censored_uniform`.
The other kinds compare copies, counts or exact values, which the tolerance `tol` already serves.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import stats

from conformance.checks.verdict import Verdict, decide
from conformance.outcome import SideOutcome, error_info
from conformance.runner.inputs import call_arguments, make_inputs
from reference_impl import random_image_layers as image_ref
from reference_impl import regularization_layers as ref
from reference_impl.initializers import Distribution

FALSE_ALARM = 1e-6


def _binomial_test(dropped: int, n: int, rate: float, metrics: dict, messages: list, level: float):
    """Two-sided normal approximation to Binomial(n, rate), at `level`."""
    z = float(stats.norm.isf(level / 2))
    mean, sd = n * rate, math.sqrt(n * rate * (1 - rate))
    metrics.update(n_mask=n, dropped=dropped, dropped_fraction=dropped / n, expected_rate=rate, z=z)
    if sd > 0 and abs(dropped - mean) > z * sd:
        messages.append(f"{dropped} of {n} dropped ({dropped / n:.4f}); rate {rate} allows {mean:.0f} +- {z * sd:.0f}")
    if sd == 0 and dropped != mean:
        messages.append(f"{dropped} of {n} dropped with rate {rate}")


def _mask_is_broadcast(kept: np.ndarray, dropped: np.ndarray, shape: tuple, metrics: dict, messages: list):
    """The keep-mask must be constant along every axis where the documented mask shape is 1:
    no entry has an element surely kept and another surely dropped. An element whose kept value
    is itself within the tolerance of the dropped one (x near 0: common in 16 bits) says nothing.
    Returns (the mask per entry, whether each entry is decided by some element)."""
    axes = tuple(i for i, (m, s) in enumerate(zip(shape, kept.shape)) if m == 1 and s > 1)
    if not axes:
        return kept, kept | dropped
    bad = int((kept.any(axis=axes) & dropped.any(axis=axes)).sum())
    metrics["mixed_mask_entries"] = bad
    if bad:
        messages.append(f"{bad} mask entries are dropped only in part along axes {list(axes)} (whole entries must drop together)")
    return kept.any(axis=axes, keepdims=True), (kept | dropped).any(axis=axes, keepdims=True)


def _check_flip(x, y, params, tol, metrics, messages):
    """Each image is the input or one of its mode's flips; one axis: Binomial(n, 1/2) flipped."""
    mode = params.get("mode") or "horizontal_and_vertical"
    candidates = image_ref.flip_candidates(x, mode)
    close = np.stack([np.all(np.abs(y - c) <= tol["atol"] + tol["rtol"] * np.abs(c), axis=(1, 2, 3)) for c in candidates])
    neither = ~close.any(axis=0)
    metrics.update(n_images=int(x.shape[0]), images_matching_nothing=int(neither.sum()))
    if neither.any():
        i = int(np.argmax(neither))
        worst = min(float(np.max(np.abs(y[i] - c[i]))) for c in candidates)
        messages.append(f"{int(neither.sum())} of {x.shape[0]} images are neither the input nor a {mode} flip of it "
                        f"(e.g. image {i}: max abs difference {worst:.4g} from the nearest)")
    if len(candidates) == 2:  # one axis: a fair coin per image; symmetric images tell nothing
        decided = close[0] != close[1]
        _binomial_test(int((close[1] & decided).sum()), int(decided.sum()), 0.5, metrics, messages, FALSE_ALARM / 2)


def _check_brightness(x, y, params, tol, metrics, messages):
    """y = clip(x + d, low, high), one d per image; d / (high - low) ~ uniform(lower, upper)."""
    low, high = image_ref.value_range_argument(params.get("value_range", (0, 255)))
    lower, upper = image_ref.brightness_range(params["factor"])
    slack = tol["atol"] + tol["rtol"] * max(abs(low), abs(high))
    inside = (y > low + slack) & (y < high - slack)
    deltas = np.array([np.median((y[i] - x[i])[inside[i]]) if inside[i].any() else np.nan for i in range(x.shape[0])])
    metrics.update(n_images=int(x.shape[0]), images_all_clipped=int(np.isnan(deltas).sum()))
    expected = image_ref.brightness(x, np.nan_to_num(deltas), (low, high))
    wrong = (np.abs(y - expected) > tol["atol"] + tol["rtol"] * np.abs(expected)) & ~np.isnan(deltas)[:, None, None, None]
    metrics["elements_off_one_delta_per_image"] = int(wrong.sum())
    if wrong.any():
        i = np.unravel_index(int(np.argmax(wrong)), x.shape)
        messages.append(f"{int(wrong.sum())} of {x.size} elements are not clip(x + d) with one d per image (e.g. at {list(i)}: "
                        f"x {x[i]!r}, y {y[i]!r}, the image's d {deltas[i[0]]!r})")
    # an image clipped whole bounds its d: all at high needs f >= (high - min x) / (high - low), all at low f <= ...
    for i in np.flatnonzero(np.isnan(deltas)):
        at_high, at_low = np.abs(y[i] - high) <= slack, np.abs(y[i] - low) <= slack
        need_up = (high - x[i].min()) / (high - low) if at_high.all() else -np.inf
        need_down = (low - x[i].max()) / (high - low) if at_low.all() else np.inf
        if not (at_high.all() or at_low.all()) or need_up > upper + 1e-12 or need_down < lower - 1e-12:
            metrics["inconsistent_clipped_images"] = metrics.get("inconsistent_clipped_images", 0) + 1
            messages.append(f"image {i} is clipped whole (to {y[i].min()!r}..{y[i].max()!r}), which no factor in "
                            f"[{lower}, {upper}] gives")
    _per_image_uniform(deltas[~np.isnan(deltas)] / (high - low), lower, upper, "brightness factor", metrics, messages)


def _per_image_uniform(values, lower, upper, name, metrics, messages, level=None):
    """values (one per image) against uniform(lower, upper), or the constant when they are equal;
    at `level` (default FALSE_ALARM / 2, read at the call).

    conformance.checks.distribution.check_samples runs the bounds, KS, mean and std tests; the std
    test's verdict is left out here. Its interval for a uniform rests on the central limit theorem,
    and at the tens of values a batch gives it is too narrow at the top: simulated at level 1e-5,
    its upper end rejects 3.4 to 4 times its share at n = 64 (2.6 to 3.2 times at n = 128), more
    the smaller the level (benchmarks/distribution_check_power.py, third table).
    The KS p-value is exact and the mean's normal interval is conservative for a uniform (the sum of
    uniforms has lighter tails than the normal), so the remaining tests keep the level; a wrong
    range, a shared draw or a wrong law moves the KS statistic or the bounds first."""
    from conformance.checks.distribution import check_samples

    level = FALSE_ALARM / 2 if level is None else level
    if values.size < 2:
        return
    dist = Distribution("constant", value=lower) if lower == upper else Distribution("uniform", low=lower, high=upper)
    result = check_samples(values, dist, false_alarm=level)
    metrics.update({f"{name}_{k}": v for k, v in result.metrics.items()})
    failures = [f for f in result.message.split("; ") if f and not f.startswith("std test")]
    if failures:
        messages.append(f"the per-image {name}s: {'; '.join(failures)}")


def _check_contrast(x, y, params, tol, metrics, messages):
    """y = clip((x - mean) * f + mean, low, high): mean per image and channel, one f per image."""
    low, high = image_ref.value_range_argument(params.get("value_range", (0, 255)))
    lower, upper = image_ref.contrast_range(params["factor"])
    slack = tol["atol"] + tol["rtol"] * max(abs(low), abs(high))
    mean = x.mean(axis=(1, 2), keepdims=True)
    spread = np.abs(x - mean)
    usable = (y > low + slack) & (y < high - slack) & (spread > 0.25 * spread.std(axis=(1, 2, 3), keepdims=True))
    ratio = (y - mean) / np.where(spread > 0, x - mean, 1.0)
    factors = np.array([np.median(ratio[i][usable[i]]) if usable[i].any() else np.nan for i in range(x.shape[0])])
    metrics.update(n_images=int(x.shape[0]), images_without_estimate=int(np.isnan(factors).sum()))
    expected = image_ref.contrast(x, np.nan_to_num(factors, nan=1.0), (low, high))
    wrong = (np.abs(y - expected) > tol["atol"] + tol["rtol"] * np.abs(expected)) & ~np.isnan(factors)[:, None, None, None]
    metrics["elements_off_one_factor_per_image"] = int(wrong.sum())
    if wrong.any():
        i = np.unravel_index(int(np.argmax(wrong)), x.shape)
        messages.append(f"{int(wrong.sum())} of {x.size} elements are not clip((x - mean) * f + mean) with one f per image "
                        f"(e.g. at {list(i)}: x {x[i]!r}, y {y[i]!r}, expected {expected[i]!r} with f {factors[i[0]]!r})")
    _per_image_uniform(factors[~np.isnan(factors)], lower, upper, "contrast factor", metrics, messages)


def _either(x, y, other, probability, what, tol, metrics, messages):
    """Each image is x or `other` (a boolean per image for other, if callable); count ~ Binomial."""
    same = np.all(np.abs(y - x) <= tol["atol"] + tol["rtol"] * np.abs(x), axis=(1, 2, 3))
    changed = other(y) if callable(other) else np.all(np.abs(y - other) <= tol["atol"] + tol["rtol"] * np.abs(other), axis=(1, 2, 3))
    neither = ~same & ~changed
    metrics.update(n_images=int(x.shape[0]), images_matching_nothing=int(neither.sum()))
    if neither.any():
        i = int(np.argmax(neither))
        messages.append(f"{int(neither.sum())} of {x.shape[0]} images are neither the input nor {what} "
                        f"(e.g. image {i}: max abs difference from the input {float(np.max(np.abs(y[i] - x[i]))):.4g})")
    decided = same != changed
    _binomial_test(int((changed & decided).sum()), int(decided.sum()), probability, metrics, messages, FALSE_ALARM / 2)


def _check_grayscale(x, y, params, tol, metrics, messages):
    def gray(out):
        slack = tol["atol"] + tol["rtol"] * np.abs(out)
        equal = np.all(np.abs(out - out[..., :1]) <= slack, axis=-1)
        g = out[..., 0]
        between = (g >= x.min(axis=-1) - slack[..., 0]) & (g <= x.max(axis=-1) + slack[..., 0])
        return np.all(equal & between, axis=(1, 2))

    _either(x, y, gray, image_ref.grayscale_probability(params.get("factor", 0.5)),
            "a gray image (equal channels, a weighted mean of the pixel's)", tol, metrics, messages)


def _check_invert(x, y, params, tol, metrics, messages):
    value_range = params.get("value_range", (0, 255))
    _either(x, y, image_ref.invert(x, value_range), image_ref.invert_probability(params.get("factor", 1.0)),
            "its complement low + high - x", tol, metrics, messages)


def _check_crop(x, y, params, tol, metrics, messages):
    """y is x[:, t:t + height, l:l + width] for one (t, l) shared by the batch."""
    height, width = int(params["height"]), int(params["width"])
    if y.shape != (x.shape[0], height, width, x.shape[3]):
        messages.append(f"output shape {list(y.shape)}, documented {[x.shape[0], height, width, x.shape[3]]}")
        return
    matches = [(t, l) for t, l in image_ref.crop_locations(x.shape[1], x.shape[2], height, width)
               if np.all(np.abs(y - x[:, t:t + height, l:l + width]) <= tol["atol"] + tol["rtol"] * np.abs(y))]
    metrics.update(n_images=int(x.shape[0]), n_locations=(x.shape[1] - height + 1) * (x.shape[2] - width + 1),
                   n_matching_locations=len(matches), location=str(list(matches[0])) if matches else None)
    if not matches:
        per_image = sum(any(np.all(np.abs(y[i] - x[i, t:t + height, l:l + width]) <= tol["atol"] + tol["rtol"] * np.abs(y[i]))
                            for t, l in image_ref.crop_locations(x.shape[1], x.shape[2], height, width))
                        for i in range(x.shape[0]))
        messages.append(f"no single crop location gives the whole batch ({per_image} of {x.shape[0]} images are a "
                        f"{height} x {width} window of their input on their own)")


# --- the kinds whose per-image parameter is recovered from the output ---------------------------

# Estimates from float32 outputs carry errors of order 1e-6 (in the parameter's unit: a fraction of
# value_range, a blend factor, a standard deviation in pixels); an estimate this close outside its
# documented range is put on the bound before the statistics (`_on_the_bounds`). The faults the
# checks look for move parameters by 1e-2 or more.
ESTIMATE_SLACK = 1e-4


def _close(a, b, tol):
    return np.abs(a - b) <= tol["atol"] + tol["rtol"] * np.abs(b)


def _range_slack(low, high, tol):
    return tol["atol"] + tol["rtol"] * max(abs(low), abs(high))


def _on_the_bounds(values, lower, upper, name, metrics):
    """values within ESTIMATE_SLACK (relative to the bounds' scale) outside [lower, upper] moved onto them."""
    slack = ESTIMATE_SLACK * max(1.0, abs(lower), abs(upper))
    near = ((values < lower) & (values >= lower - slack)) | ((values > upper) & (values <= upper + slack))
    metrics[f"{name}_estimates_put_on_a_bound"] = int(near.sum())
    return np.where(near, np.clip(values, lower, upper), values)


def _per_image_law(values, lower, upper, name, metrics, messages, level=None):
    """Estimated per-image values against uniform(lower, upper); equal bounds: every value is that
    constant within ESTIMATE_SLACK (no statistics)."""
    values = _on_the_bounds(np.asarray(values, np.float64), lower, upper, name, metrics)
    metrics.update({f"{name}_min": float(values.min()) if values.size else None,
                    f"{name}_max": float(values.max()) if values.size else None})
    if lower == upper:
        off = np.abs(values - lower) > ESTIMATE_SLACK * max(1.0, abs(lower))
        if off.any():
            messages.append(f"{int(off.sum())} of {values.size} per-image {name}s differ from the constant {lower} "
                            f"(e.g. {float(values[np.argmax(off)])!r})")
        return
    _per_image_uniform(values, lower, upper, name, metrics, messages, level)


def _censored_uniform(lo, hi, lower, upper, name, metrics, messages, level=None):
    """Per-image values known only to lie in [lo_i, hi_i] (censored: a threshold between two pixel
    values) against uniform(lower, upper).

    Bounds: every interval must meet [lower, upper]. Statistics: a conservative Kolmogorov-Smirnov
    test. With u = (v - lower) / (upper - lower), the sorted true values satisfy u_lo(k) <= u(k) <=
    u_hi(k) (order statistics are monotone), so D = max_k max(k/n - u(k), u(k) - (k-1)/n) is at least
    D_min = max_k max(k/n - u_hi(k), u_lo(k) - (k-1)/n, 0); rejecting when D_min exceeds the exact
    level quantile of D (scipy.stats.kstwo) has a false-alarm rate at most `level` however wide the
    intervals are. Narrow intervals make it the plain KS test."""
    level = FALSE_ALARM / 2 if level is None else level
    lo, hi = np.asarray(lo, np.float64), np.asarray(hi, np.float64)
    slack = ESTIMATE_SLACK * max(1.0, abs(lower), abs(upper))
    outside = (hi < lower - slack) | (lo > upper + slack)
    n = int(lo.size)
    widths = np.clip(hi, lower, upper) - np.clip(lo, lower, upper)
    metrics.update({f"{name}_n": n, f"{name}_images_outside_range": int(outside.sum()),
                    f"{name}_median_interval_width": float(np.median(widths)) if n else None})
    if outside.any():
        i = int(np.argmax(outside))
        where = (f"below {hi[i]:.6g}" if lo[i] == -np.inf else f"above {lo[i]:.6g}" if hi[i] == np.inf
                 else f"between {lo[i]:.6g} and {hi[i]:.6g}")
        messages.append(f"{int(outside.sum())} of {n} images need a {name} outside the documented [{lower}, {upper}] "
                        f"(e.g. image {i}: {where})")
    if lower == upper or n == 0:
        return
    from conformance.checks.distribution import censored_ks_statistic

    d_min = censored_ks_statistic(np.clip((lo - lower) / (upper - lower), 0, 1), np.clip((hi - lower) / (upper - lower), 0, 1))
    critical = float(stats.kstwo.isf(level, n))
    metrics.update({f"{name}_ks_lower_bound": d_min, f"{name}_ks_critical": critical, f"{name}_level": level})
    if d_min > critical:
        messages.append(f"the per-image {name}s: Kolmogorov-Smirnov statistic at least {d_min:.4g} against "
                        f"uniform({lower}, {upper}), above {critical:.4g} (level {level:.3g}, n={n})")


def _exact_binomial(count: int, n: int, p: float, what: str, metrics: dict, messages: list, level: float):
    """count ~ Binomial(n, p), exact two-sided test (scipy.stats.binomtest)."""
    if n == 0:
        return
    pvalue = float(stats.binomtest(count, n, p).pvalue) if 0 < p < 1 else float(count == n * p)
    metrics.update({f"{what}_count": count, f"{what}_n": n, f"{what}_probability": p, f"{what}_pvalue": pvalue})
    if pvalue < level:
        messages.append(f"{count} of {n} images {what} ({count / n:.3f}); probability {p:.4g} gives p-value "
                        f"{pvalue:.3g}, below the level {level:.3g}")


def _check_solarization(x, y, params, tol, metrics, messages):
    """z = clip(x + a (high - low)), y = low + high - z where z > low + t (high - low), else z;
    one a and one t per image: a recovered exactly, t to within the pixel values around it."""
    low, high = image_ref.value_range_argument(params.get("value_range", (0, 255)))
    span, mirror = high - low, low + high
    (a0, a1), (t0, t1) = image_ref.solarization_ranges(params.get("addition_factor", 0.0), params.get("threshold_factor", 0.0))
    slack = _range_slack(low, high, tol)
    n = x.shape[0]
    additions, t_lo, t_hi, unexplained = np.full(n, np.nan), np.full(n, -np.inf), np.full(n, np.inf), []
    for i in range(n):
        xi, yi = x[i].ravel(), y[i].ravel()
        candidates = np.concatenate([yi - xi, mirror - yi - xi])
        z = np.clip(xi + candidates[:, None], low, high)
        fits = (np.abs(yi - z) <= slack) | (np.abs(yi - (mirror - z)) <= slack)
        score = fits.sum(axis=1)
        if score.max() < xi.size:
            unexplained.append(i)
            continue
        additions[i] = np.median(candidates[score == score.max()])
        z = np.clip(xi + additions[i], low, high)
        kept = np.abs(yi - z) <= slack
        solarized = np.abs(yi - (mirror - z)) <= slack
        decided = kept != solarized  # z at the middle of the range is both
        if (kept & decided).any():
            t_lo[i] = z[kept & decided].max()
        if (solarized & decided).any():
            t_hi[i] = z[solarized & decided].min()
        if t_lo[i] > t_hi[i] + slack:
            unexplained.append(i)
    metrics.update(n_images=n, images_not_solarized_by_one_rule=len(unexplained))
    if unexplained:
        i = unexplained[0]
        messages.append(f"{len(unexplained)} of {n} images are not clip(x + a) solarized above one threshold, with one "
                        f"addition a per image (e.g. image {i}: max abs difference from the input "
                        f"{float(np.max(np.abs(y[i] - x[i]))):.4g})")
    good = np.setdiff1d(np.arange(n), unexplained)
    _per_image_law(additions[good] / span, a0, a1, "addition", metrics, messages)
    lo, hi = (t_lo[good] - low) / span, (t_hi[good] - low) / span
    _censored_uniform(lo, hi, t0, t1, "threshold", metrics, messages)


def _check_posterization(x, y, params, tol, metrics, messages):
    """Each image is x posterized to b bits (one b per image, among posterization_bits(factor));
    several allowed b: the count of each ~ Binomial(images, 1 / len(allowed)), exact tests."""
    low, high = image_ref.value_range_argument(params.get("value_range", (0, 255)))
    allowed = image_ref.posterization_bits(params["factor"])
    slack = _range_slack(low, high, tol)
    # a value within rounding of an integer level may be floored either way
    below, above = x - slack, x + slack
    n = x.shape[0]
    bits = np.full(n, -1)
    for i in range(n):
        fits = [b for b in range(1, 9)
                if np.all(_close(y[i], image_ref.posterize(below[i:i + 1], [b], (low, high))[0], tol)
                          | _close(y[i], image_ref.posterize(above[i:i + 1], [b], (low, high))[0], tol))]
        bits[i] = fits[0] if len(fits) == 1 else (-1 if not fits else 0)  # 0: ambiguous
    counts = {b: int((bits == b).sum()) for b in range(1, 9) if (bits == b).any()}
    metrics.update(n_images=n, images_not_posterized=int((bits == -1).sum()), images_ambiguous=int((bits == 0).sum()),
                   bits_counts=str(counts), allowed_bits=str(list(allowed)))
    if (bits == -1).any():
        i = int(np.argmax(bits == -1))
        messages.append(f"{int((bits == -1).sum())} of {n} images are not their input posterized to any number of bits "
                        f"(e.g. image {i})")
    wrong = {b: c for b, c in counts.items() if b not in allowed}
    if wrong:
        messages.append(f"images keep bits the factor does not allow: counts {counts}, allowed {list(allowed)}")
    decided = int(sum(c for b, c in counts.items()))
    if len(allowed) > 1:
        for b in allowed:
            _exact_binomial(counts.get(b, 0), decided, 1 / len(allowed), f"keep {b} bits", metrics, messages,
                            FALSE_ALARM / 2 / len(allowed))


def _check_color_degeneration(x, y, params, tol, metrics, messages):
    """y = x + f (gray - x), gray a weighted mean of the pixel's channels, one f per image:
    every difference of two channels is scaled by 1 - f, whatever the gray weights."""
    lower, upper = image_ref.zero_based_range(params["factor"])
    low, high = image_ref.value_range_argument(params.get("value_range", (0, 255)))
    slack = 2 * _range_slack(low, high, tol)
    pairs = [(c, d) for c in range(x.shape[3]) for d in range(c + 1, x.shape[3])]
    dx = np.stack([x[..., c] - x[..., d] for c, d in pairs], axis=-1)
    dy = np.stack([y[..., c] - y[..., d] for c, d in pairs], axis=-1)
    usable = np.abs(dx) > 0.25 * np.abs(dx).std(axis=(1, 2, 3), keepdims=True)
    ratio = dy / np.where(dx == 0, 1.0, dx)
    factors = np.array([1 - np.median(ratio[i][usable[i]]) if usable[i].any() else np.nan for i in range(x.shape[0])])
    f = np.nan_to_num(factors)[:, None, None, None]
    off = (np.abs(dy - (1 - f) * dx) > slack) & ~np.isnan(factors)[:, None, None, None]
    # y_c - (1 - f) x_c = f gray, the same for every channel, with gray between the channels' min and max
    blend = y - (1 - f) * x
    lo, hi = np.minimum(f * x.min(-1, keepdims=True), f * x.max(-1, keepdims=True)), np.maximum(
        f * x.min(-1, keepdims=True), f * x.max(-1, keepdims=True))
    not_gray = ((blend < lo - slack) | (blend > hi + slack)).any(axis=-1) & ~np.isnan(factors)[:, None, None]
    metrics.update(n_images=int(x.shape[0]), images_without_estimate=int(np.isnan(factors).sum()),
                   channel_differences_off_one_factor=int(off.sum()), pixels_not_towards_a_gray=int(not_gray.sum()))
    if off.any():
        i = np.unravel_index(int(np.argmax(off)), off.shape)
        messages.append(f"{int(off.sum())} channel differences are not (1 - f) times the input's, one f per image "
                        f"(e.g. image {int(i[0])}, pixel {[int(v) for v in i[1:3]]}: f {factors[i[0]]:.6g})")
    if not_gray.any():
        messages.append(f"{int(not_gray.sum())} pixels move towards no weighted mean of their channels")
    _per_image_law(factors[~np.isnan(factors)], lower, upper, "degeneration factor", metrics, messages)


def _check_saturation(x, y, params, tol, metrics, messages):
    """HSV saturation multiplied by m = f / (1 - f) and capped at 1, hue and value kept, one f per
    image; f against uniform(lower, upper)."""
    lower, upper = image_ref.zero_based_range(params["factor"])
    _, sx, _ = image_ref.rgb_to_hsv(x)
    _, sy, _ = image_ref.rgb_to_hsv(y)
    usable = (sx > 0.05) & (sy < 1 - 1e-3)
    ratio = sy / np.where(sx > 0, sx, 1.0)
    multipliers = np.array([np.median(ratio[i][usable[i]]) if usable[i].any() else np.nan for i in range(x.shape[0])])
    known = ~np.isnan(multipliers)
    expected = image_ref.saturate(x, np.nan_to_num(multipliers))
    wrong = ~_close(y, expected, tol) & known[:, None, None, None]
    metrics.update(n_images=int(x.shape[0]), images_without_estimate=int((~known).sum()),
                   elements_off_one_multiplier_per_image=int(wrong.sum()),
                   images_fully_gray=int((sy.max(axis=(1, 2)) <= 1e-6).sum()))
    if wrong.any():
        i = np.unravel_index(int(np.argmax(wrong)), x.shape)
        messages.append(f"{int(wrong.sum())} of {x.size} elements are not the input with its saturation multiplied by "
                        f"one m per image and capped at 1 (e.g. at {[int(v) for v in i]}: x {x[i[:3]].round(4).tolist()}, "
                        f"y {y[i[:3]].round(4).tolist()}, expected {expected[i[:3]].round(4).tolist()} with m "
                        f"{multipliers[i[0]]:.6g})")
    m = multipliers[known]
    _per_image_law(m / (1 + m), lower, upper, "saturation factor", metrics, messages)


def _check_mixup(x, y, params, tol, metrics, messages):
    """y_i = lambda_i x_i + (1 - lambda_i) x_j, j another image of the batch; lambda ~ Beta(alpha,
    alpha): its cdf values against uniform(0, 1) (`_censored_uniform`: an output equal to its input,
    whose partner is itself or whose lambda is within rounding of 1, counts as the interval [0, 1])."""
    alpha = image_ref.mixup_alpha(params.get("alpha", 0.2))
    n = x.shape[0]
    flat, out = x.reshape(n, -1), y.reshape(n, -1)
    weights, partners, unmixed, unexplained = np.full(n, np.nan), np.full(n, -1), 0, []
    for i in range(n):
        if np.all(_close(out[i], flat[i], tol)):
            unmixed += 1
            continue
        d, r = flat[i] - flat, out[i] - flat  # y_i - x_j = lambda (x_i - x_j)
        norm = np.einsum("jp,jp->j", d, d)
        lam = np.einsum("jp,jp->j", d, r) / np.where(norm > 0, norm, 1.0)
        residual = np.max(np.abs(r - lam[:, None] * d), axis=1)
        residual[i] = np.inf
        j = int(np.argmin(residual))
        if not np.all(_close(out[i], lam[j] * flat[i] + (1 - lam[j]) * flat[j], tol)):
            unexplained.append(i)
            continue
        weights[i], partners[i] = lam[j], j
    metrics.update(n_images=n, images_unmixed=unmixed, images_not_a_mix_of_two=len(unexplained))
    if unexplained:
        messages.append(f"{len(unexplained)} of {n} images are no mix lambda x_i + (1 - lambda) x_j of their input and "
                        f"another image of the batch (e.g. image {unexplained[0]})")
    w = _on_the_bounds(weights[~np.isnan(weights)], 0.0, 1.0, "mixing weight", metrics)
    outside = (w < 0) | (w > 1)
    if outside.any():
        messages.append(f"{int(outside.sum())} mixing weights are outside [0, 1] (e.g. {float(w[np.argmax(outside)])!r})")
    metrics["mixing_weight_mean"] = float(w.mean()) if w.size else None
    # an unmixed image's lambda is anywhere in [0, 1] (its partner is itself) or within rounding of
    # 1: leaving those images out would cut the top of the law, so each counts as the interval [0, 1]
    u = image_ref.mixup_weight_cdf(w[~outside], alpha)
    lo, hi = np.concatenate([u, np.zeros(unmixed)]), np.concatenate([u, np.ones(unmixed)])
    _censored_uniform(lo, hi, 0.0, 1.0, f"Beta({alpha}, {alpha}) cdf of the mixing weight", metrics, messages)


def _changed_box(changed):
    """(top, left, bottom, right) of the changed pixels of one image, bottom and right excluded."""
    rows, cols = np.flatnonzero(changed.any(axis=1)), np.flatnonzero(changed.any(axis=0))
    return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1


def _changed_images(x, y, tol):
    """(i, changed pixels, their box) of every image the layer changed."""
    for i in range(x.shape[0]):
        changed = ~np.all(_close(y[i], x[i], tol), axis=-1)
        if changed.any():
            yield i, changed, _changed_box(changed)


def _check_cutmix(x, y, params, tol, metrics, messages):
    """Each image is its input with one rectangle replaced by the same rectangle of another image
    of the batch (or unchanged). The patch's size law is not judged (module docstring)."""
    n, h, w = x.shape[:3]
    pasted, unexplained, areas = 0, [], []
    for i, changed, (top, left, bottom, right) in _changed_images(x, y, tol):
        patch = y[i, top:bottom, left:right]
        sources = [j for j in range(n) if j != i and np.all(_close(patch, x[j, top:bottom, left:right], tol))]
        if not sources:
            unexplained.append((i, (top, left, bottom, right)))
            continue
        pasted += 1
        areas.append((bottom - top) * (right - left) / (h * w))
    metrics.update(n_images=n, images_pasted=pasted, images_unchanged=n - pasted - len(unexplained),
                   images_not_one_pasted_rectangle=len(unexplained), mean_patch_area=float(np.mean(areas)) if areas else None)
    if unexplained:
        i, box = unexplained[0]
        messages.append(f"{len(unexplained)} of {n} images are not their input with one rectangle taken from the same "
                        f"place of another image of the batch (e.g. image {i}: the changed pixels span rows "
                        f"{box[0]}..{box[2] - 1}, columns {box[1]}..{box[3] - 1})")


def _check_erasing(x, y, params, tol, metrics, messages):
    """Each image is its input or its input with one rectangle erased (set to fill_value, or to
    any values when fill_value is None); the erased count ~ Binomial(images, the midpoint of the
    factor's range). The rectangle's size is not judged (module docstring)."""
    p = image_ref.erasing_probability(params.get("factor", 1.0))
    fill = params.get("fill_value")
    n = x.shape[0]
    erased, unexplained = 0, []
    for i, changed, (top, left, bottom, right) in _changed_images(x, y, tol):
        region = y[i, top:bottom, left:right]
        ok = changed[top:bottom, left:right].all() if fill is None else np.all(_close(region, np.float64(fill), tol))
        if ok:
            erased += 1
        else:
            unexplained.append(i)
    metrics.update(n_images=n, images_erased=erased, images_not_one_erased_rectangle=len(unexplained))
    if unexplained:
        what = "changed everywhere inside" if fill is None else f"filled with {fill}"
        messages.append(f"{len(unexplained)} of {n} images are not their input with one rectangle {what} "
                        f"(e.g. image {unexplained[0]})")
    _exact_binomial(erased, n - len(unexplained), p, "erased", metrics, messages, FALSE_ALARM / 2)


def _blur_sigmas(x, y, k):
    """Per image, (sigma along height, sigma along width): the k x k kernel fitted by least squares
    on the interior pixels, its nearest separable (rank-one) kernel, and each 1-D kernel's ratio
    g[c + 1] / g[c] = exp(-1 / (2 sigma**2)) at its centre c."""
    n, h, w, c = x.shape
    out_h, out_w, r = h - k + 1, w - k + 1, k // 2
    sigmas = np.full((n, 2), np.nan)
    for i in range(n):
        design = np.stack([x[i, a:a + out_h, b:b + out_w].ravel() for a in range(k) for b in range(k)], axis=1)
        target = y[i, r:r + out_h, r:r + out_w].ravel()
        kernel = np.linalg.lstsq(design, target, rcond=None)[0].reshape(k, k)
        u, s, vt = np.linalg.svd(kernel)
        for axis, g in enumerate((u[:, 0], vt[0])):
            g = g / g.sum()
            ratio = g[r + 1] / g[r] if k > 1 else 0.0
            if 0 < ratio < 1:
                sigmas[i, axis] = math.sqrt(-1.0 / (2.0 * math.log(ratio)))
    return sigmas


def _check_gaussian_blur(x, y, params, tol, metrics, messages):
    """At the pixels whose window lies inside the image (the border is not documented), each image
    is its blur by the normalized sampled Gaussian of one standard deviation sigma_i, the same
    along both axes; the sigma fitted along each axis against uniform on the sigma range (a float:
    that sigma), each at half the level."""
    k = image_ref.blur_kernel_size(params.get("kernel_size", 3))
    lower, upper = image_ref.blur_sigma_range(params.get("sigma", 1.0))
    r = k // 2
    sigmas = _blur_sigmas(x, y, k)
    known = ~np.isnan(sigmas).any(axis=1)
    sigma = np.nan_to_num(sigmas.mean(axis=1), nan=1.0)
    expected = image_ref.gaussian_blur_interior(x, sigma, k)
    interior = y[:, r:y.shape[1] - r, r:y.shape[2] - r]
    wrong = ~_close(interior, expected, tol)
    bad = wrong.any(axis=(1, 2, 3)) | ~known
    metrics.update(n_images=int(x.shape[0]), images_not_one_isotropic_blur=int(bad.sum()), images_without_fit=int((~known).sum()),
                   largest_axis_sigma_difference=float(np.nanmax(np.abs(sigmas[:, 0] - sigmas[:, 1]))) if known.any() else None)
    if bad.any():
        i = int(np.argmax(bad))
        messages.append(f"{int(bad.sum())} of {x.shape[0]} images are not their input blurred by one Gaussian of the same "
                        f"sigma along both axes (e.g. image {i}: fitted sigma {sigmas[i, 0]:.4g} along the height, "
                        f"{sigmas[i, 1]:.4g} along the width; max abs difference "
                        f"{float(np.max(np.abs(interior[i] - expected[i]))):.4g} from the isotropic blur)")
    for axis, name in enumerate(("height", "width")):
        _per_image_law(sigmas[known, axis], lower, upper, f"{name} sigma", metrics, messages, FALSE_ALARM / 4)



# --- the geometric kinds: which input pixel each output pixel copies ------------------------------

# slack, in pixels, on a source coordinate computed in float32 (tf.keras's transforms are float32:
# coordinates up to ~50 carry errors of order 1e-5); a rounding boundary this close counts both ways
COORDINATE_SLACK = 1e-3


def _copied_pixels(x, y, fill, tol):
    """(rows, cols, is_fill, unexplained), each (batch, H, W): the input pixel of the same image each
    output pixel copies (all channels; -1 where none, or where several pixels hold its values), whether it is fill_value in every channel, and
    whether it is neither. Candidates are the input pixels of the image with the nearest first
    channels (sorted, each image's values shifted apart from the others'; as many as share one
    value, and three more each side), the nearest in every channel chosen and compared."""
    n, h, w, channels = x.shape
    flat, out = x.reshape(n * h * w, channels), y.reshape(n * h * w, channels)
    image = np.repeat(np.arange(n), h * w)
    low, span = float(np.min(x[..., 0])), float(np.ptp(x[..., 0])) + 1.0
    keys = x[..., 0].ravel() - low + image * span
    order = np.argsort(keys, kind="stable")
    wanted = np.clip(out[:, 0] - low, -0.5, span - 0.5) + image * span
    # every input pixel sharing the nearest first channel is a candidate: in 16 bits many do (a
    # bfloat16 image of 0..255 has 128 values above 128)
    reach = int(np.unique(keys, return_counts=True)[1].max()) + 3
    near = order[np.clip(np.searchsorted(keys[order], wanted)[:, None] + np.arange(-reach, reach), 0, keys.size - 1)]
    distance = np.max(np.abs(flat[near] - out[:, None]), axis=-1)
    source = near[np.arange(near.shape[0]), np.argmin(distance, axis=1)]
    is_fill = np.all(_close(y, np.float64(fill), tol), axis=-1)
    copied = (np.all(_close(out, flat[source], tol), axis=-1) & (source // (h * w) == image)).reshape(n, h, w) & ~is_fill
    # a copy of a value that several pixels of the image hold (common in 16 bits) says nothing of
    # where it came from: copied, but left out of the parameter intervals (row and column -1)
    tied = (distance == distance.min(axis=1, keepdims=True)) & (near != source[:, None]) & (near // (h * w) == image[:, None])
    placed = copied & ~tied.any(axis=1).reshape(n, h, w)
    pixel = (source % (h * w)).reshape(n, h, w)
    rows, cols = np.where(placed, pixel // w, -1), np.where(placed, pixel % w, -1)
    return rows, cols, is_fill, ~copied & ~is_fill


def _linear_intervals(g, h, k, copied):
    """Per image, the interval [lo, hi] of a parameter p with s = h + g p rounding to the copied
    source k at every copied pixel (|s - k| <= 1/2 + COORDINATE_SLACK); g, h broadcast to k's (batch,
    H, W). Empty (lo > hi) when no p explains every copied pixel."""
    g, h = np.broadcast_to(g, k.shape), np.broadcast_to(h, k.shape)
    e = 0.5 + COORDINATE_SLACK
    safe = np.where(g == 0, 1.0, g)
    a, b = (k - e - h) / safe, (k + e - h) / safe
    lo, hi = np.where(g > 0, a, b), np.where(g > 0, b, a)
    flat = np.abs(h - k) <= e  # g = 0: s = h whatever p
    lo = np.where(g == 0, np.where(flat, -np.inf, np.inf), lo)
    hi = np.where(g == 0, np.where(flat, np.inf, -np.inf), hi)
    axes = tuple(range(1, k.ndim))
    return np.where(copied, lo, -np.inf).max(axis=axes), np.where(copied, hi, np.inf).min(axis=axes)


def _may_fall_outside(s_lo, s_hi, size):
    """Whether a source coordinate ranging over [s_lo, s_hi] can round outside 0..size - 1."""
    return (s_lo < -0.5 + COORDINATE_SLACK) | (s_hi > size - 0.5 - COORDINATE_SLACK)


def _axis_parameters(kind, rows, cols, is_fill):
    """Translation and zoom act on each axis alone, s = h + g p with one p per axis: per image and axis
    the interval of p every copied pixel allows ((batch, 2) lo and hi: the shift in pixels, the zoom
    1 + f), and the fill pixels that no p of the intervals puts outside the image."""
    n, height, width = rows.shape
    centre = image_ref.image_centre(height, width)
    r, c = np.meshgrid(np.arange(height, dtype=np.float64), np.arange(width, dtype=np.float64), indexing="ij")
    lo, hi, outside = np.full((n, 2), -np.inf), np.full((n, 2), np.inf), np.zeros(rows.shape, bool)
    for axis, (q, k, size) in enumerate(((r, rows, height), (c, cols, width))):
        g, h = (-1.0, q) if kind == "translation" else (q - centre[axis], centre[axis])
        lo[:, axis], hi[:, axis] = _linear_intervals(g, np.asarray(h, np.float64)[None], k, k >= 0)
        g = np.broadcast_to(g, q.shape)[None]
        ends = [h + g * np.where(np.isfinite(v), v, 0.0)[:, axis, None, None] for v in (lo, hi)]
        outside |= _may_fall_outside(np.minimum(*ends), np.maximum(*ends), size)
    return lo, hi, is_fill & ~outside


def _rotation_parameters(rows, cols, is_fill, window=0.25, steps=(101, 201), chunk=16):
    """Per image the interval of the angle (radians) every copied pixel allows, and the fill pixels
    no angle of it puts outside the image. A grid of angles within +-window of the least-squares
    angle of the copied offsets (w_in ~ e^{ia} w_out, w = column + i row about the centre; rounding
    biases it towards 0 by less than the window), each angle checked against every copied pixel with
    a slack of half a grid step at the largest radius, so that no exact solution is missed; then a
    finer grid over the angles that passed. The interval returned contains every exact solution;
    nan where no angle passes. Vectorized over `chunk` images at a time."""
    n, height, width = rows.shape
    cy, cx = image_ref.image_centre(height, width)
    r, c = np.meshgrid(np.arange(height, dtype=np.float64) - cy, np.arange(width, dtype=np.float64) - cx, indexing="ij")
    w_out, radius = (c + 1j * r).ravel(), float(np.hypot(r, c).max())
    copied, fills = (rows >= 0).reshape(n, -1), is_fill.reshape(n, -1)
    w_in = np.where(copied, ((cols - cx) + 1j * (rows - cy)).reshape(n, -1), 0)
    centre = np.angle(np.sum(w_in * np.conj(w_out), axis=1))
    lo, hi, unexplained_fill = np.full(n, np.nan), np.full(n, np.nan), np.zeros((n, w_out.size), bool)
    for at in range(0, n, chunk):
        part = slice(at, min(at + chunk, n))
        grid = centre[part, None] + np.linspace(-window, window, steps[0])
        for count in steps:  # (images, angles)
            step = grid[:, 1:2] - grid[:, :1]
            slack = (0.5 + COORDINATE_SLACK + step / 2 * radius)[..., None]
            turned = np.exp(1j * grid)[..., None] * w_out  # (images, angles, pixels)
            off = np.maximum(np.abs(turned.real - w_in[part, None].real), np.abs(turned.imag - w_in[part, None].imag))
            ok = np.all((off <= slack) | ~copied[part, None], axis=2)
            some = ok.any(axis=1)
            first = np.where(some, np.nanmin(np.where(ok, grid, np.nan), axis=1, initial=np.inf), 0.0)
            last = np.where(some, np.nanmax(np.where(ok, grid, np.nan), axis=1, initial=-np.inf), 0.0)
            if count != steps[-1]:
                grid = np.linspace(first - step[:, 0], last + step[:, 0], steps[-1], axis=1)
        lo[part] = np.where(some, first - step[:, 0] / 2, np.nan)
        hi[part] = np.where(some, last + step[:, 0] / 2, np.nan)
        # a fill pixel must fall outside the image for one of the angles that passed, with the same slack
        e = (slack - 0.5)
        source_r, source_c = turned.imag + cy, turned.real + cx
        outside = (_may_fall_outside(source_r - e, source_r + e, height) | _may_fall_outside(source_c - e, source_c + e, width))
        unexplained_fill[part] = fills[part] & ~np.any(outside & ok[..., None], axis=1) & some[:, None]
    return lo, hi, unexplained_fill.reshape(rows.shape)


def _check_geometric(kind, x, y, params, tol, metrics, messages):
    """Nearest interpolation, constant fill: every output pixel is fill_value or a copy of one input
    pixel of its image, and one per-image parameter (a shift per axis, an angle, a zoom per axis) must
    explain every copy and every fill; each parameter is known to an interval (the copies are rounded
    source positions), tested against its documented uniform law (`_censored_uniform`)."""
    n, height, width = x.shape[:3]
    fill = float(params.get("fill_value", 0.0))
    rows, cols, is_fill, unexplained = _copied_pixels(x, y, fill, tol)
    if kind == "rotation":
        lo, hi, bad_fill = _rotation_parameters(rows, cols, is_fill)
        inconsistent = np.isnan(lo)
    else:
        lo, hi, bad_fill = _axis_parameters(kind, rows, cols, is_fill)
        inconsistent = np.any(lo > hi, axis=1)
    what = {"translation": "one shift per image", "rotation": "one rotation about the centre per image",
            "zoom": "one zoom about the centre per image"}[kind]
    bad_fill &= ~inconsistent[:, None, None]
    metrics.update(n_images=n, pixels_not_copied_nor_fill=int(unexplained.sum()), fill_pixels=int(is_fill.sum()),
                   images_not_one_parameter=int(inconsistent.sum()), fill_pixels_inside_the_image=int(bad_fill.sum()))
    if unexplained.any():
        i = np.unravel_index(int(np.argmax(unexplained)), unexplained.shape)
        messages.append(f"{int(unexplained.sum())} of {unexplained.size} output pixels are neither fill_value {fill} nor "
                        f"a copy of an input pixel of their image (nearest interpolation; e.g. image {i[0]}, pixel "
                        f"{[int(v) for v in i[1:]]}: {y[i].round(4).tolist()})")
    if inconsistent.any():
        messages.append(f"{int(inconsistent.sum())} of {n} images copy their pixels from places no {what} gives "
                        f"(e.g. image {int(np.argmax(inconsistent))})")
    if bad_fill.any():
        i = np.unravel_index(int(np.argmax(bad_fill)), bad_fill.shape)
        messages.append(f"{int(bad_fill.sum())} fill pixels lie where the image's {kind} samples inside the input "
                        f"(e.g. image {i[0]}, pixel {[int(v) for v in i[1:]]})")
    good = ~inconsistent
    if kind == "translation":
        ranges = image_ref.translation_ranges(params["height_factor"], params["width_factor"])
        for axis, (name, size) in enumerate((("vertical shift", height), ("horizontal shift", width))):
            _censored_uniform(lo[good, axis] / size, hi[good, axis] / size, *ranges[axis], name, metrics, messages,
                              FALSE_ALARM / 4)
    elif kind == "rotation":
        lower, upper = image_ref.rotation_range(params["factor"])
        _censored_uniform(lo[good] / (2 * np.pi), hi[good] / (2 * np.pi), lower, upper, "rotation", metrics, messages)
    else:
        height_range, width_range = image_ref.zoom_ranges(params["height_factor"], params.get("width_factor"))
        f_lo, f_hi = lo[good] - 1, hi[good] - 1
        if width_range is None:  # one zoom for both axes: both intervals must meet
            f_lo, f_hi = f_lo.max(axis=1), f_hi.min(axis=1)
            apart = f_lo > f_hi + ESTIMATE_SLACK
            metrics["images_with_two_zooms"] = int(apart.sum())
            if apart.any():
                messages.append(f"{int(apart.sum())} of {int(good.sum())} images are zoomed by different amounts along "
                                f"the height and the width (width_factor None: the aspect ratio is kept)")
            _censored_uniform(f_lo[~apart], f_hi[~apart], *height_range, "zoom", metrics, messages)
        else:
            for axis, (name, law) in enumerate((("vertical zoom", height_range), ("horizontal zoom", width_range))):
                _censored_uniform(f_lo[:, axis], f_hi[:, axis], *law, name, metrics, messages, FALSE_ALARM / 4)


# --- 16 bits: outputs rounded to float16 or bfloat16 ------------------------------------------------
#
# A float16 output carries 11 significant bits and a bfloat16 one 8 (0.5 between neighbours at 128):
# the tolerance-based recovery above (a median of per-element estimates, compared back within rtol)
# mistakes that rounding for a second parameter. In 16 bits each element is judged by interval
# arithmetic instead. A value y of the format stands for every real that rounds to it, its cell
# (distribution.rounding_cell: y minus half the gap below, plus half the gap above); every other
# rounding of the documented formula, evaluated in the format, moves its result by at most u times
# its magnitude (u = 2**-p, Higham's model; `_rounding_error`). So each element bounds the image's
# parameter to an interval, exactly; the image's interval is their intersection (empty: no single
# parameter explains the image, the fault the float32 check calls "not one d per image"); and the
# parameter's documented law is tested on those intervals with the conservative KS test of
# `_censored_uniform` (a parameter known to an interval, as the geometric kinds'), never on a point
# estimate that carries the rounding. Before the law, each interval is widened to hold the draw it
# came from (`_drawn_interval`): a parameter rounded to the format (one ulp at either end) or drawn in
# it (a uniform of p - 1 random bits, floored to a grid of step 2**(1-p) of its range).
# Nothing is widened by a tolerance: a wrong factor, a parameter per channel or per pixel, or the
# wrong law shows as in float32 (tests/test_stochastic_images.py plants them in both formats).


def _rounding_error(value, fmt):
    """A bound on the error of one rounding to the format of a result of magnitude |value|: u |value|,
    or below the smallest normal (subnormals flushed to zero) the smallest normal itself."""
    return fmt.unit_roundoff * np.abs(value) + fmt.smallest_normal


def _to_format(value, fmt):
    from conformance.checks.distribution import to_format

    return float(to_format(value, fmt))


def _drawn_interval(lo, hi, lower, upper, fmt, unit=1.0):
    """[lo, hi] (a parameter in `unit`s as the format computed it) widened to the interval of the
    draw it was made from, as a fraction of `unit`: the computed parameter is the draw rounded to the
    format (within an ulp), or drawn in it on a grid of step 2u (upper - lower), floored (module notes)."""
    from reference_impl import rounding

    lo, hi = np.asarray(lo, np.float64), np.asarray(hi, np.float64)
    grid = 2.0 * fmt.unit_roundoff * (upper - lower)
    return ((lo - rounding.ulp(lo, fmt)) / unit - grid, (hi + rounding.ulp(hi, fmt)) / unit + grid)


def _interval_of_images(lower_bounds, upper_bounds):
    """Per image (axis 0), the intersection of the element intervals."""
    axes = tuple(range(1, np.ndim(lower_bounds)))
    return np.max(lower_bounds, axis=axes), np.min(upper_bounds, axis=axes)


def _report_images_without_parameter(bad, lo_e, hi_e, what, metrics, messages):
    """Message for the images whose element intervals do not meet, naming two that conflict."""
    metrics[f"images_not_{what['key']}"] = int(bad.sum())
    if not bad.any():
        return
    i = int(np.argmax(bad))
    low_at = np.unravel_index(int(np.argmax(lo_e[i])), lo_e[i].shape)
    high_at = np.unravel_index(int(np.argmin(hi_e[i])), hi_e[i].shape)
    messages.append(f"{int(bad.sum())} of {bad.size} images are not {what['rule']} within the rounding of "
                    f"{what['format']} (e.g. image {i}: the element at {[int(v) for v in low_at]} needs "
                    f"{what['name']} >= {float(lo_e[i][low_at]):.6g}, the one at {[int(v) for v in high_at]} "
                    f"{what['name']} <= {float(hi_e[i][high_at]):.6g})")


def _check_brightness_rounded(x, y, params, fmt, metrics, messages):
    """y = clip(round(x + d), low, high), d one value of the format per image: an element strictly
    inside value_range puts x + d in y's cell, one clipped to high (low) puts it at or above (below)
    the cell's end; d / (high - low) against uniform(lower, upper)."""
    from conformance.checks.distribution import rounding_cell

    low, high = image_ref.value_range_argument(params.get("value_range", (0, 255)))
    lower, upper = image_ref.brightness_range(params["factor"])
    top, bottom = _to_format(high, fmt), _to_format(low, fmt)
    cell_lo, cell_hi = rounding_cell(y, fmt)
    d_lo = np.where(y <= bottom, -np.inf, cell_lo - x)
    d_hi = np.where(y >= top, np.inf, cell_hi - x)
    lo, hi = _interval_of_images(d_lo, d_hi)
    outside = ((y < bottom) | (y > top)).any(axis=(1, 2, 3))
    bad = (lo > hi) | outside
    metrics.update(n_images=int(x.shape[0]), images_all_clipped=int(np.all((y <= bottom) | (y >= top), axis=(1, 2, 3)).sum()),
                   images_outside_value_range=int(outside.sum()))
    _report_images_without_parameter(lo > hi, d_lo, d_hi, {"key": "one_delta", "rule": "clip(x + d) with one d per image",
                                                            "format": fmt.name, "name": "d"}, metrics, messages)
    if outside.any():
        messages.append(f"{int(outside.sum())} of {x.shape[0]} images have values outside value_range [{low}, {high}]")
    f_lo, f_hi = _drawn_interval(lo[~bad], hi[~bad], lower, upper, fmt, unit=high - low)
    _censored_uniform(f_lo, f_hi, lower, upper, "brightness factor", metrics, messages)


def _check_contrast_rounded(x, y, params, fmt, metrics, messages):
    """y = clip(round((x - m) f + m), low, high), m the image's channel mean as the format computes
    it, one f per image. The rounded subtraction and product move the value before the last rounding
    by at most u |f| |x - m| each, and the computed mean m may be off the exact one by the rounding of
    a sum of H then W terms, gamma_(H + W + 2) max |x| (Higham Lemma 3.1, any order): each element
    bounds f x + (1 - f) m to [L, U], y's cell widened by that error (one-sided where clipped). For a
    common intercept (1 - f) m to exist in a channel, f (x_j - x_i) <= U_j - L_i for every pair of its
    elements: that is exactly the condition, so the pairs give the interval of f each channel allows,
    and the image's is their intersection over the channels."""
    from conformance.checks.distribution import rounding_cell
    from reference_impl import rounding

    low, high = image_ref.value_range_argument(params.get("value_range", (0, 255)))
    lower, upper = image_ref.contrast_range(params["factor"])
    top, bottom = _to_format(high, fmt), _to_format(low, fmt)
    n, h, w, c = x.shape
    f_max = max(abs(lower), abs(upper)) * (1 + 4 * fmt.unit_roundoff) + 2 * fmt.unit_roundoff * (upper - lower)
    mean_error = float(rounding.gamma(h + w + 2, fmt.unit_roundoff)) * float(np.max(np.abs(x)))
    spread = np.abs(x - x.mean(axis=(1, 2), keepdims=True)) + mean_error
    error = 2.0 * _rounding_error(f_max * spread, fmt)
    cell_lo, cell_hi = rounding_cell(y, fmt)
    big_l = np.where(y <= bottom, -np.inf, cell_lo - error).reshape(n, h * w, c)
    big_u = np.where(y >= top, np.inf, cell_hi + error).reshape(n, h * w, c)
    xs = x.reshape(n, h * w, c)
    dx = xs[:, None, :, :] - xs[:, :, None, :]  # [n, i, j, c]: x_j - x_i
    upper_pair = big_u[:, None, :, :] - big_l[:, :, None, :]  # U_j - L_i
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = upper_pair / np.where(dx == 0, 1.0, dx)
    f_hi = np.min(np.where(dx > 0, ratio, np.inf), axis=(1, 2, 3))
    f_lo = np.max(np.where(dx < 0, ratio, -np.inf), axis=(1, 2, 3))
    tied = np.any((dx == 0) & (upper_pair < 0), axis=(1, 2, 3))  # equal inputs, disjoint outputs
    outside = ((y < bottom) | (y > top)).any(axis=(1, 2, 3))
    bad = (f_lo > f_hi) | tied | outside
    metrics.update(n_images=n, images_not_one_factor=int(bad.sum()), images_outside_value_range=int(outside.sum()),
                   contrast_mean_error_bound=mean_error)
    if bad.any():
        i = int(np.argmax(bad))
        messages.append(f"{int(bad.sum())} of {n} images are not clip((x - mean) * f + mean) with one f per image within "
                        f"the rounding of {fmt.name} (e.g. image {i}: its elements need f >= {f_lo[i]:.6g} and "
                        f"f <= {f_hi[i]:.6g})")
    lo, hi = _drawn_interval(f_lo[~bad], f_hi[~bad], lower, upper, fmt)
    _censored_uniform(lo, hi, lower, upper, "contrast factor", metrics, messages)


def _check_solarization_rounded(x, y, params, fmt, metrics, messages):
    """z = clip(x + a (high - low)), y = low + high - z above a threshold, else z, evaluated in the
    format: x mapped to 0..255, a added, the mirror 255 - z, mapped back, each rounding within u of its
    result (`_rounding_error`: E per element). An element kept puts z within E of y's cell, one
    solarized puts low + high - z there; at the image's most supported addition each element is
    classified (kept, solarized, or both: left out), and each classified element bounds a to an
    interval (one-sided where z is clipped); the image's a is their intersection, its threshold lies
    between the kept z and the solarized z (each within E), both tested as intervals."""
    from conformance.checks.distribution import rounding_cell

    low, high = image_ref.value_range_argument(params.get("value_range", (0, 255)))
    span, mirror = high - low, low + high
    (a0, a1), (t0, t1) = image_ref.solarization_ranges(params.get("addition_factor", 0.0), params.get("threshold_factor", 0.0))
    n = x.shape[0]
    cell_lo, cell_hi = rounding_cell(y, fmt)
    # the chain in 0..255 units, u times each result: x mapped to 0..255 (two roundings), + a, then
    # z mapped back (kept) or 255 - z and that mapped back (solarized); the last rounding is y's cell.
    # First with z and 255 - z at their largest, 255, to classify; then with the element's own z.
    px = (x - low) / span * 255
    a_max = max(abs(a0), abs(a1)) * 255
    to_value = span / 255
    base = 2 * _rounding_error(px, fmt) + _rounding_error(np.abs(px) + a_max, fmt)
    error = (base + 2 * _rounding_error(255.0, fmt)) * to_value
    additions, a_lo, a_hi = np.full(n, np.nan), np.full(n, -np.inf), np.full(n, np.inf)
    t_lo, t_hi, unexplained = np.full(n, -np.inf), np.full(n, np.inf), []
    for i in range(n):
        xi, lo_i, hi_i, e = x[i].ravel(), (cell_lo[i].ravel()), (cell_hi[i].ravel()), error[i].ravel()
        yi = y[i].ravel()

        def fits(z, e=e, e_mirror=e):  # (kept, solarized) for sums z, per element
            return ((z >= lo_i - e) & (z <= hi_i + e)), ((mirror - z >= lo_i - e_mirror) & (mirror - z <= hi_i + e_mirror))

        candidates = np.concatenate([yi - xi, mirror - yi - xi])
        z = np.clip(xi + candidates[:, None], low, high)
        kept, solarized = fits(z)
        score = (kept | solarized).sum(axis=1)
        if score.max() < xi.size:
            unexplained.append(i)
            continue
        additions[i] = np.median(candidates[score == score.max()])
        z = np.clip(xi + additions[i], low, high)
        z_px = (z - low) / to_value
        e_kept = (base[i].ravel() + _rounding_error(z_px, fmt)) * to_value
        e_solarized = (base[i].ravel() + 2 * _rounding_error(255.0 - z_px, fmt)) * to_value
        kept, solarized = fits(z, e_kept, e_solarized)
        only_kept, only_solarized = kept & ~solarized, solarized & ~kept
        e = np.where(only_kept, e_kept, e_solarized)
        # the interval of a: z = clip(x + a) within [zl, zu] for each classified element
        zl = np.where(only_kept, lo_i - e, mirror - hi_i - e)
        zu = np.where(only_kept, hi_i + e, mirror - lo_i + e)
        classified = only_kept | only_solarized
        lower_a = np.where(classified & (zl > low), zl - xi, -np.inf)
        upper_a = np.where(classified & (zu < high), zu - xi, np.inf)
        a_lo[i], a_hi[i] = lower_a.max(), upper_a.min()
        if a_lo[i] > a_hi[i]:
            unexplained.append(i)
            continue
        # the threshold: above every kept z, at or below every solarized z (z over the interval of a)
        z_low, z_high = np.clip(xi + a_lo[i], low, high), np.clip(xi + a_hi[i], low, high)
        if only_kept.any():
            t_lo[i] = np.max((z_low - e)[only_kept])
        if only_solarized.any():
            t_hi[i] = np.min((z_high + e)[only_solarized])
        if t_lo[i] > t_hi[i]:
            unexplained.append(i)
    metrics.update(n_images=n, images_not_solarized_by_one_rule=len(unexplained))
    if unexplained:
        i = unexplained[0]
        messages.append(f"{len(unexplained)} of {n} images are not clip(x + a) solarized above one threshold, with one "
                        f"addition a per image, within the rounding of {fmt.name} (e.g. image {i}: max abs difference "
                        f"from the input {float(np.max(np.abs(y[i] - x[i]))):.4g})")
    good = np.setdiff1d(np.arange(n), unexplained)
    lo, hi = _drawn_interval(a_lo[good], a_hi[good], a0, a1, fmt, unit=span)
    _censored_uniform(lo, hi, a0, a1, "addition", metrics, messages)
    lo, hi = _drawn_interval(t_lo[good] - low, t_hi[good] - low, t0, t1, fmt, unit=span)
    _censored_uniform(lo, hi, t0, t1, "threshold", metrics, messages)


# the ramp of hsv_to_rgb (the share of S taken off a channel) as TensorFlow computes it in the
# format: the hue rounded (u), 6 h (6 u + 6 u), minus a sector's offset (up to 4 u), the absolute
# value minus 1 or 2 (2 u): below 20 u; 26 u leaves room for a hue computed in the format
HUE_RAMP_ULPS = 26.0


def _check_saturation_rounded(x, y, params, fmt, metrics, messages):
    """HSV saturation times m (= f / (1 - f)), hue and value kept, evaluated in the format: a channel
    is V (1 - S' c), S' the new saturation, c in [0, 1] the channel's ramp from the hue (1 for the
    smallest channel, 0 for the largest). The smallest channel is round(round(1 - S') V) while its
    ramp stays exactly 1 (its unclipped value is off 1 by more than HUE_RAMP_ULPS u, i.e. the channel
    does not nearly tie the middle one; else S' c may also be short by that much): so its cell gives
    S' to an interval, and S' = round(S m), S = (V - min) / V rounded twice, gives m to an interval;
    the image's m is their intersection over the pixels below the cap (smallest channel above 0).
    Then each channel must meet V (1 - S' c), c within HUE_RAMP_ULPS u (clipped to [0, 1]), S' over
    the interval, within 6 u V (the roundings of 1 - S', S' c, the sum and the product by V).
    f = m / (1 + m) against uniform(lower, upper), m widened by an ulp (rounded to the format)."""
    from conformance.checks.distribution import rounding_cell

    lower, upper = image_ref.zero_based_range(params["factor"])
    u = fmt.unit_roundoff
    ramp_error = HUE_RAMP_ULPS * u
    n = x.shape[0]
    hue, sx, v = image_ref.rgb_to_hsv(x)
    ramp = 1.0 - image_ref.hsv_to_rgb(hue, np.ones_like(hue), np.ones_like(hue))  # c per channel
    ordered = np.sort(x, axis=-1)
    spread = ordered[..., 2] - ordered[..., 0]
    apart = (ordered[..., 1] - ordered[..., 0]) > 1.5 * ramp_error * spread  # the smallest channel's ramp is 1
    y_min = np.take_along_axis(y, np.argmin(x, axis=-1)[..., None], axis=-1)[..., 0]
    cell_lo, cell_hi = rounding_cell(y_min, fmt)
    usable = (sx > 0.05) & (cell_lo > 0) & (v > 0)
    safe_v, safe_s = np.where(v > 0, v, 1.0), np.where(sx > 0, sx, 1.0)
    # 1 - S' in [cell_lo / (V (1 + u)**2) - ramp slack, cell_hi / (V (1 - u)**2)]; S' = S m (1 + d)**3
    s_lo = 1 - cell_hi / (safe_v * (1 - u) ** 2)
    s_hi = 1 - cell_lo / (safe_v * (1 + u) ** 2) + np.where(apart, 0.0, ramp_error)
    m_lo = np.where(usable, s_lo / (safe_s * (1 + u) ** 3), -np.inf)
    m_hi = np.where(usable, s_hi / (safe_s * (1 - u) ** 3), np.inf)
    lo, hi = _interval_of_images(m_lo, m_hi)
    known = np.isfinite(lo) & np.isfinite(hi)
    inconsistent = lo > hi
    checked = known & ~inconsistent
    # every channel against V (1 - S' c) over the interval of m and the ramp's error
    m_ends = [np.where(checked, m, 0.0)[:, None, None] for m in (np.maximum(lo, 0.0), hi)]
    s_new = [np.clip(sx * m * (1 + sign * 3 * u), 0.0, 1.0)[..., None] for m, sign in zip(m_ends, (-1, 1))]
    vv = v[..., None]
    expected_lo = vv * (1 - s_new[1] * np.minimum(1.0, ramp + ramp_error)) - 6 * u * vv
    expected_hi = vv * (1 - s_new[0] * np.maximum(0.0, ramp - ramp_error)) + 6 * u * vv
    y_lo, y_hi = rounding_cell(y, fmt)
    wrong = ((y_hi < expected_lo) | (y_lo > expected_hi)) & checked[:, None, None, None]
    metrics.update(n_images=n, images_without_estimate=int((~known).sum()), images_not_one_multiplier=int(inconsistent.sum()),
                   elements_off_one_multiplier_per_image=int(wrong.sum()))
    if inconsistent.any():
        i = int(np.argmax(inconsistent))
        messages.append(f"{int(inconsistent.sum())} of {n} images have their saturation multiplied by no single m within "
                        f"the rounding of {fmt.name} (e.g. image {i}: its pixels need m >= {lo[i]:.6g} and m <= {hi[i]:.6g})")
    if wrong.any():
        i = np.unravel_index(int(np.argmax(wrong)), x.shape)
        messages.append(f"{int(wrong.sum())} of {x.size} elements are not the input with its saturation multiplied by one "
                        f"m per image and capped at 1, within the rounding of {fmt.name} (e.g. at {[int(v) for v in i]}: x "
                        f"{x[i[:3]].round(4).tolist()}, y {y[i[:3]].round(4).tolist()}, expected between "
                        f"{expected_lo[i[:3]].round(4).tolist()} and {expected_hi[i[:3]].round(4).tolist()} for m in "
                        f"[{lo[i[0]]:.6g}, {hi[i[0]]:.6g}])")
    m_lo, m_hi = _drawn_interval(lo[checked], hi[checked], 0.0, 0.0, fmt)  # m rounded to the format
    m_lo = np.maximum(m_lo, 0.0)
    f_lo, f_hi = m_lo / (1 + m_lo), m_hi / (1 + m_hi)
    _censored_uniform(f_lo - 2 * u * (upper - lower), f_hi + 2 * u * (upper - lower), lower, upper, "saturation factor",
                      metrics, messages)


def _check_mixup_rounded(x, y, params, fmt, metrics, messages):
    """y_i = round(w x_i + (1 - w) x_j) in the format: w rounded to it, 1 - w, both products and the
    sum each within u of their results, so w (x_i - x_j) lies in y's cell minus x_j, widened by
    E = u (w |x_i| + 2 (1 - w) |x_j|) (w at most 1 on a first pass, then the interval's own ends).
    Each element with x_i != x_j bounds w; the partner is the image whose elements all agree; an image
    whose output is its input within E counts as [0, 1] (its partner may be itself, or w within
    rounding of 1), as in float32. The Beta(alpha, alpha) cdf of each interval, widened by an ulp at
    either end (w rounded to the format), against uniform(0, 1) (`_censored_uniform`)."""
    from conformance.checks.distribution import rounding_cell

    alpha = image_ref.mixup_alpha(params.get("alpha", 0.2))
    u = fmt.unit_roundoff
    n = x.shape[0]
    flat, out = x.reshape(n, -1), y.reshape(n, -1)
    cell_lo, cell_hi = (c.reshape(n, -1) for c in rounding_cell(y, fmt))
    w_lo, w_hi, unmixed, unexplained = np.full(n, np.nan), np.full(n, np.nan), 0, []
    for i in range(n):
        if np.all((flat[i] >= cell_lo[i] - 3.01 * _rounding_error(flat[i], fmt))
                  & (flat[i] <= cell_hi[i] + 3.01 * _rounding_error(flat[i], fmt))):
            unmixed += 1
            continue
        d = flat[i][None, :] - flat  # x_i - x_j, per partner j
        lo_j, hi_j = np.full(n, 0.0), np.full(n, 1.0)
        for _ in range(2):  # the error bound from w's interval, twice
            e = (1.01 * u * (hi_j[:, None] * np.abs(flat[i])[None, :] + 2 * (1 - lo_j[:, None]) * np.abs(flat))
                 + 3 * fmt.smallest_normal)
            a, b = cell_lo[i][None, :] - flat - e, cell_hi[i][None, :] - flat + e  # w d in [a, b]
            with np.errstate(divide="ignore", invalid="ignore"):
                low_w = np.where(d > 0, a / d, np.where(d < 0, b / d, -np.inf))
                high_w = np.where(d > 0, b / d, np.where(d < 0, a / d, np.inf))
            possible = np.all((d != 0) | ((a <= 0) & (b >= 0)), axis=1)  # x_i = x_j: y must be x_j
            lo_j = np.where(possible, np.maximum(low_w.max(axis=1), 0.0), np.inf)
            hi_j = np.where(possible, np.minimum(high_w.min(axis=1), 1.0), -np.inf)
        lo_j[i], hi_j[i] = np.inf, -np.inf
        partners = np.flatnonzero(lo_j <= hi_j)
        if partners.size == 0:
            unexplained.append(i)
            continue
        w_lo[i], w_hi[i] = lo_j[partners].min(), hi_j[partners].max()
    metrics.update(n_images=n, images_unmixed=unmixed, images_not_a_mix_of_two=len(unexplained))
    if unexplained:
        messages.append(f"{len(unexplained)} of {n} images are no mix lambda x_i + (1 - lambda) x_j of their input and "
                        f"another image of the batch within the rounding of {fmt.name} (e.g. image {unexplained[0]})")
    mixed = ~np.isnan(w_lo)
    lo, hi = _drawn_interval(w_lo[mixed], w_hi[mixed], 0.0, 0.0, fmt)
    metrics["mixing_weight_mean"] = float(np.mean((w_lo[mixed] + w_hi[mixed]) / 2)) if mixed.any() else None
    u_lo = np.concatenate([image_ref.mixup_weight_cdf(np.clip(lo, 0, 1), alpha), np.zeros(unmixed)])
    u_hi = np.concatenate([image_ref.mixup_weight_cdf(np.clip(hi, 0, 1), alpha), np.ones(unmixed)])
    _censored_uniform(u_lo, u_hi, 0.0, 1.0, f"Beta({alpha}, {alpha}) cdf of the mixing weight", metrics, messages)


ROUNDED_IMAGE_KINDS = {"brightness": _check_brightness_rounded, "contrast": _check_contrast_rounded,
                       "solarization": _check_solarization_rounded, "saturation": _check_saturation_rounded,
                       "mixup": _check_mixup_rounded}


def _shape_kept(kind):
    return kind != "crop"


IMAGE_KINDS = {"crop": _check_crop, "flip": _check_flip, "brightness": _check_brightness, "contrast": _check_contrast,
               "grayscale": _check_grayscale, "invert": _check_invert, "solarization": _check_solarization,
               "posterization": _check_posterization, "color_degeneration": _check_color_degeneration,
               "saturation": _check_saturation, "mixup": _check_mixup, "cutmix": _check_cutmix, "erasing": _check_erasing,
               "gaussian_blur": _check_gaussian_blur,
               **{kind: (lambda kind: lambda *a: _check_geometric(kind, *a))(kind) for kind in image_ref.SOURCES}}


def _image_arguments(op, case, x):
    """The reference's argument rules of an image augmentation layer (ValueError if rejected)."""
    image_ref.output_shape(op.keras_class, x.shape, **case.params)


def _dropout_arguments(op, case, x):
    ref.mask_shape(op.keras_class, x.shape, noise_shape=case.params.get("noise_shape"))
    if "rate" in case.params:
        ref.dropout_scale(float(case.params["rate"]))


def check(kind: str, x: np.ndarray, y: np.ndarray, params: dict, layer: str, tol: dict, dtype: str | None = None):
    """(ok, message, metrics) for one training-mode output y of input x, computed in `dtype` (the
    case's: float16, bfloat16 or a mixed policy computing in them selects the checks that account
    for the rounding of the output, module docstring; None, float32, float64: the tolerance `tol`)."""
    from conformance.checks.distribution import rounded_format

    fmt = rounded_format(dtype)
    messages, metrics = [], {"n_elements": int(x.size)}
    if fmt is not None:
        metrics["rounded_to"] = fmt.name
    if kind in IMAGE_KINDS:
        if _shape_kept(kind) and y.shape != x.shape:
            return False, f"output shape {list(y.shape)}, input shape {list(x.shape)}: the layer keeps the shape", metrics
        x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
        if fmt is not None and kind in ROUNDED_IMAGE_KINDS:
            ROUNDED_IMAGE_KINDS[kind](x, y, params, fmt, metrics, messages)
        else:
            IMAGE_KINDS[kind](x, y, params, tol, metrics, messages)
    elif kind in ("dropout", "alpha_dropout"):
        rate = float(params["rate"])
        shape = ref.mask_shape(layer, x.shape, noise_shape=params.get("noise_shape"), data_format=params.get("data_format") or "channels_last")
        if kind == "dropout":
            kept_value, dropped_value = x * ref.dropout_scale(rate), np.zeros_like(x)
        else:
            a, b = ref.alpha_dropout_affine(rate)
            kept_value, dropped_value = a * x + b, np.full_like(x, a * ref.ALPHA_PRIME + b)
            metrics.update(a=a, b=b)
        close = lambda target: np.abs(y - target) <= tol["atol"] + tol["rtol"] * np.abs(target)
        near_kept, near_dropped = close(kept_value), close(dropped_value)
        # surely kept, surely dropped; an element near both (a kept value within the tolerance of
        # the dropped one) is either
        kept, dropped = near_kept & ~near_dropped, near_dropped & ~near_kept
        neither = int((~near_kept & ~near_dropped).sum())
        metrics["neither_kept_nor_dropped"] = neither
        if neither:
            i = np.unravel_index(int(np.argmax(~near_kept & ~near_dropped)), x.shape)
            messages.append(f"{neither} elements are neither the kept value nor the dropped one (e.g. at {list(i)}: "
                            f"x {x[i]!r}, y {y[i]!r}, kept would be {kept_value[i]!r})")
        mask, decided = _mask_is_broadcast(kept, dropped, shape, metrics, messages)
        metrics["undecided_mask_entries"] = int((~decided).sum())
        _binomial_test(int((~mask & decided).sum()), int(decided.sum()), rate, metrics, messages, FALSE_ALARM / 2)
    else:
        from conformance.checks.distribution import check_rounded_samples, check_samples

        if kind == "gaussian_noise":
            samples, dist = y - x, Distribution("normal", loc=0.0, stddev=float(params["stddev"]))
        else:
            samples, dist = y / x, Distribution("normal", loc=1.0, stddev=ref.gaussian_dropout_stddev(float(params["rate"])))
        if fmt is None:
            result = check_samples(samples, dist, false_alarm=FALSE_ALARM)
        elif kind == "gaussian_noise":  # y = round(x + noise): the noise known to y's rounding cell
            result = check_rounded_samples(y, dist, fmt, offset=x, false_alarm=FALSE_ALARM)
        else:  # y = round(x * noise); x = 0 says nothing of the noise
            informative = x != 0
            result = check_rounded_samples(y[informative], dist, fmt, scale=x[informative], false_alarm=FALSE_ALARM)
        metrics.update(result.metrics)
        if not result.ok:
            messages.append(result.message)
    return not messages, "; ".join(messages), metrics


def judge(op, case, target, timings) -> Verdict:
    """One training call on one input, judged statistically. The reference side is the
    documented rule's argument checks (a mask shape, a rate), so a case that expects an
    error is judged by the same ladder as every other check."""
    (x,) = make_inputs(case, op)[:1]
    call = call_arguments(case)
    with timings("reference"):
        try:
            (_image_arguments if op.stochastic in IMAGE_KINDS else _dropout_arguments)(op, case, x)
            reference = SideOutcome(output=np.empty(x.shape))
        except ValueError as exc:
            reference = SideOutcome(error=error_info(exc, "arguments"))
    keras = target.run_layer(op, case, [x], None, [call], timings)

    def compare():
        ok, message, metrics = check(op.stochastic, x, keras.output, case.params, op.keras_class, case.effective_tolerance,
                                     case.dtype)
        return ([] if ok else [message]), metrics

    with timings("judge"):
        return decide(case, reference, keras, compare)
