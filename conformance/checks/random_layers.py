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


def _mask_is_broadcast(kept: np.ndarray, shape: tuple, metrics: dict, messages: list):
    """The keep-mask must be constant along every axis where the documented mask shape is 1."""
    axes = tuple(i for i, (m, s) in enumerate(zip(shape, kept.shape)) if m == 1 and s > 1)
    if not axes:
        return kept
    per_entry = kept.all(axis=axes) | ~kept.any(axis=axes)
    bad = int((~per_entry).sum())
    metrics["mixed_mask_entries"] = bad
    if bad:
        messages.append(f"{bad} mask entries are dropped only in part along axes {list(axes)} (whole entries must drop together)")
    return kept.any(axis=axes, keepdims=True)


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


def _per_image_uniform(values, lower, upper, name, metrics, messages):
    """values (one per image) against uniform(lower, upper), or the constant when they are equal."""
    from conformance.checks.distribution import check_samples

    if values.size < 2:
        return
    dist = Distribution("constant", value=lower) if lower == upper else Distribution("uniform", low=lower, high=upper)
    result = check_samples(values, dist, false_alarm=FALSE_ALARM / 2)
    metrics.update({f"{name}_{k}": v for k, v in result.metrics.items()})
    if not result.ok:
        messages.append(f"the per-image {name}s: {result.message}")


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


def _shape_kept(kind):
    return kind != "crop"


IMAGE_KINDS = {"crop": _check_crop, "flip": _check_flip, "brightness": _check_brightness, "contrast": _check_contrast,
               "grayscale": _check_grayscale, "invert": _check_invert}


def _image_arguments(op, case, x):
    """The reference's argument rules of an image augmentation layer (ValueError if rejected)."""
    image_ref.output_shape(op.keras_class, x.shape, **case.params)


def _dropout_arguments(op, case, x):
    ref.mask_shape(op.keras_class, x.shape, noise_shape=case.params.get("noise_shape"))
    if "rate" in case.params:
        ref.dropout_scale(float(case.params["rate"]))


def check(kind: str, x: np.ndarray, y: np.ndarray, params: dict, layer: str, tol: dict):
    """(ok, message, metrics) for one training-mode output y of input x."""
    messages, metrics = [], {"n_elements": int(x.size)}
    if kind in IMAGE_KINDS:
        if _shape_kept(kind) and y.shape != x.shape:
            return False, f"output shape {list(y.shape)}, input shape {list(x.shape)}: the layer keeps the shape", metrics
        IMAGE_KINDS[kind](np.asarray(x, np.float64), np.asarray(y, np.float64), params, tol, metrics, messages)
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
        kept, dropped = close(kept_value), close(dropped_value) & ~close(kept_value)
        neither = int((~kept & ~dropped).sum())
        metrics["neither_kept_nor_dropped"] = neither
        if neither:
            i = np.unravel_index(int(np.argmax(~kept & ~dropped)), x.shape)
            messages.append(f"{neither} elements are neither the kept value nor the dropped one (e.g. at {list(i)}: "
                            f"x {x[i]!r}, y {y[i]!r}, kept would be {kept_value[i]!r})")
        mask = _mask_is_broadcast(kept, shape, metrics, messages)
        _binomial_test(int((~mask).sum()), int(mask.size), rate, metrics, messages, FALSE_ALARM / 2)
    else:
        from conformance.checks.distribution import check_samples

        if kind == "gaussian_noise":
            samples, dist = y - x, Distribution("normal", loc=0.0, stddev=float(params["stddev"]))
        else:
            samples, dist = y / x, Distribution("normal", loc=1.0, stddev=ref.gaussian_dropout_stddev(float(params["rate"])))
        result = check_samples(samples, dist, false_alarm=FALSE_ALARM)
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
        ok, message, metrics = check(op.stochastic, x, keras.output, case.params, op.keras_class, case.effective_tolerance)
        return ([] if ok else [message]), metrics

    with timings("judge"):
        return decide(case, reference, keras, compare)
