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
"""
from __future__ import annotations

import math

import numpy as np
from scipy import stats

from conformance.checks.verdict import Verdict, decide
from conformance.outcome import SideOutcome, error_info
from conformance.runner.inputs import call_arguments, make_inputs
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


def check(kind: str, x: np.ndarray, y: np.ndarray, params: dict, layer: str, tol: dict):
    """(ok, message, metrics) for one training-mode output y of input x."""
    messages, metrics = [], {"n_elements": int(x.size)}
    if kind in ("dropout", "alpha_dropout"):
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
            ref.mask_shape(op.keras_class, x.shape, noise_shape=case.params.get("noise_shape"))
            if "rate" in case.params:
                ref.dropout_scale(float(case.params["rate"]))
            reference = SideOutcome(output=np.empty(x.shape))
        except ValueError as exc:
            reference = SideOutcome(error=error_info(exc, "arguments"))
    keras = target.run_layer(op, case, [x], None, [call], timings)

    def compare():
        ok, message, metrics = check(op.stochastic, x, keras.output, case.params, op.keras_class, case.effective_tolerance)
        return ([] if ok else [message]), metrics

    with timings("judge"):
        return decide(case, reference, keras, compare)
