"""The error bound (conformance.ops.bounds) against the flat tolerance: how tight, how often it
raises a false alarm on correct float evaluations, and how often it catches planted faults.

    python3 benchmarks/error_bound.py [--trials 200] [--seed 0] [--only softmax,layernorm,lstm,...]

--only runs a subset of the parts: tightness, conv, dense, tanh, softmax, sparsemax, layernorm,
rmsnorm, lstm, loss, auc (default: all; about two minutes on one core).

Part 1, tightness on the catalogue: for every float32 eager case of the convolution family
(cases/conv*.yaml, depthwise_*, separable_*), the reference's output and the op's bound on the
case's own inputs and weights; the median, over all elements, of the error the flat tolerance
allows (atol + rtol |y|, 1e-5 each) and of the bound, and their ratio.

Part 2, false alarms and power. A trial evaluates the op in NumPy in the case's dtype, one way
or another, and judges it against the float64 reference as the harness does
(compare_arrays(..., bound=...), every output of the op) and by the flat tolerance, the
harness's default for the dtype (rtol = atol = 1e-5 in float32, 1e-3 in float16). Inputs and
weights are drawn as the harness draws them (conformance.runner.inputs: inputs normal(0.25, 1),
weights normal(0.05, 0.5), rounded to the dtype; a loss's inputs mapped into its domain by
conformance.ops.losses). Correct evaluations measure false alarms (expect 0); planted faults
measure power (the share caught). Rows whose label says "not the documented formula" or "a
divergence" are arrangements outside what the bound claims to cover, shown for what the bound
makes of them.

- Conv2D (3 x 3 kernels, C_in in {3, 16, 64}: K = 28 to 577), Dense (d_in in {5, 33, 257}) and
  tanh, float32: correct: products rounded, sums in a random order of the terms; the same with
  float64 accumulation rounded once (as oneDNN's or an FMA chain); pairwise summation (NumPy's
  float32 sum). Faults: accumulation in float16; a scale 1 + 1e-4 (a constant rounded to float32
  twice, or an epsilon added); a scale 1 + 1e-3; the bias dropped from one output channel; tanh
  evaluated in float16 or with 1e-6 added.
- softmax along the last axis (activations.softmax; reference_impl.activations.
  softmax_error_bound), (4, n) with n in {8, 64}, float32 and float16, and float32 with the
  logits offset by 1000: correct: exp(x - max) or exp(x) (not at offset 1000, where it
  overflows), the sum in a random order or pairwise, a division or a reciprocal and a product.
  Faults (float32): exp evaluated in float16; the normalizer missing one term per row; a scale
  1 + 1e-3; exp(x - logsumexp(x)), logsumexp = m + log(sum(exp(x - m))) in float32 (tf.keras's
  softmax over a list of axes), which rounds m + log S and at offset 1000 carries u * 1000 into
  every exponent.
- LayerNormalization and RMSNormalization over the last axis (reference_impl.normalization.
  error_bound), (8, n) with n in {5, 64}, float32 and float16, and LayerNormalization's
  ill-conditioned float32 rows of layer_normalization.yaml (n = 32, mean 1e4, std 0.01): correct:
  the documented two-pass variance mean((x - mean)^2) with sums in a random order, pairwise, or
  float64-accumulated; the scale applied as gamma (x - mean) / sqrt(var + eps) + beta or
  distributed as x a + (beta - mean a), a = gamma / sqrt(var + eps) (tf.keras's); RMSNorm's
  mean of squares likewise, divided by the root or times its reciprocal. Faults (float32): the
  variance (mean of squares) computed in float16, the missing upcast; epsilon dropped; a scale
  1 + 1e-2; E[x^2] - E[x]^2 (not the documented formula, which the bound does not claim to cover:
  Keras 2's XLA evaluation, a recorded divergence; in float16 too).
- LSTM (units 4 over (3, 7, 5), return_sequences and return_state: the output sequence and the
  states h and c each judged by its own bound, reference_impl.recurrent.error_bound), float32 and
  float16: correct: the documented recurrence with each pre-activation a sum of the rounded
  products in a random order, pairwise, or float64-accumulated; sigmoid as 1 / (1 + exp(-z)).
  Faults (float32): the recurrent kernel scaled by 1 + 1e-3; the forget gate computed in
  float16; the pre-activations accumulated in float16.
- CategoricalCrossentropy (the class, sum_over_batch_size; reference_impl.losses.
  class_error_bound) on (6, 5) float32, probabilities and logits: correct: probabilities as
  given or divided by their sum (tf.keras's), clipped to [1e-7, 1 - 1e-7] where that clip changes
  nothing (the harness's draws); log-softmax shifted, unshifted, or as z - (m + log S); sums over
  the classes and the batch in a random order, pairwise or float64-accumulated. Faults: a scale
  1 + 1e-3; the sums accumulated in float16; the clip at 1e-4 instead of 1e-7, on the harness's
  draws (probabilities above 1e-3: the clip changes nothing) and on y_pred drawn with std 4,
  where probabilities below 1e-4 are common (and below 1e-7 in some trials, where tf.keras's own
  clip at 1e-7 is the recorded divergence crossentropy-probabilities-clipped).
- sparsemax along the last axis (reference_impl.activations.sparsemax_error_bound), (4, n) with
  n in {8, 64}, float32 and float16: correct: the sparsemax paper's algorithm (z = x - max sorted,
  running sums S_k in order or float64-accumulated, the largest k with 1 + k z_k > S_k, tau =
  (S_k - 1) / k). Faults: computed in float16 (float32 rows); a scale 1 + 1e-3; tau over one
  element more than the support.
- AUC (ROC, interpolation, 200 thresholds; reference_impl.metrics, the area also summed by
  parts) on n weighted predictions (weights uniform in [0.1, 3]), n in {40, 200} in float32 and
  40 in float16: correct: the weighted counts summed in order, pairwise or float64-accumulated,
  the rates, widths, heights and the area's sum in the dtype. Faults: the counts summed in
  float16 (float32 rows); a scale 1 + 1e-3; one middle threshold's counts replaced by its
  neighbour's.
For these ops a trial draws one case, computes the reference and the bound once, and judges
every evaluation of its section on it; ms/trial is that shared cost plus the row's own.
The times of the conv, Dense rows are per judgement (the bound's cost is the reference run once
more on |x| and |w|).
"""
from __future__ import annotations

import argparse
import time
import zlib

import numpy as np

from conformance.catalogue.loader import load_paths
from conformance.catalogue.model import DEFAULT_TOLERANCE
from conformance.compare import compare_arrays
from conformance.ops import LayerOp, get_op
from conformance.runner.inputs import layer_feeds, make_weights
from conformance.catalogue.model import input_shapes
from reference_impl import rounding

F32 = rounding.format_of("float32")
FLAT = {"rtol": 1e-5, "atol": 1e-5}
NUMPY = {"float32": np.float32, "float16": np.float16}
OP_WIDTH, WAY_WIDTH = 27, 48  # the table's first two columns
CONV_FILES = ["cases/conv1d.yaml", "cases/conv2d.yaml", "cases/conv3d.yaml", "cases/conv1d_transpose.yaml",
              "cases/conv2d_transpose.yaml", "cases/conv3d_transpose.yaml", "cases/depthwise_conv1d.yaml",
              "cases/depthwise_conv2d.yaml", "cases/separable_conv1d.yaml", "cases/separable_conv2d.yaml"]


def tightness() -> None:
    cases, errors = load_paths(CONV_FILES)
    flat, bound, n_cases, skipped = [], [], 0, 0
    for case in cases:
        if case.mode != "eager" or case.dtype != "float32" or case.expect.get("error") or case.tolerance:
            continue
        op = get_op(case.op)
        try:
            inputs, calls = layer_feeds(case, op)
            weights = make_weights(op.predict_weights(case.params, input_shapes(op, case)), case.dtype, case.seed)
            y = op.compute(inputs[0], weights, case.params, calls[0])
            b = op.error_bound(inputs[0], weights, case.params, calls[0], F32, output=y)
        except (ValueError, TypeError, NotImplementedError):
            skipped += 1
            continue
        if b is None:  # an axis activation (softmax): judged by the flat tolerance
            skipped += 1
            continue
        n_cases += 1
        flat.append((FLAT["atol"] + FLAT["rtol"] * np.abs(y)).ravel())
        bound.append(np.broadcast_to(b, y.shape).ravel())
    flat, bound = np.concatenate(flat), np.concatenate(bound)
    print(f"Part 1: the convolution family's float32 eager cases ({n_cases} cases with a bound, {skipped} without; "
          f"{flat.size} output elements)")
    print(f"  median allowed error: flat tolerance {np.median(flat):.3g}, bound {np.median(bound):.3g} "
          f"({np.median(flat) / np.median(bound):.0f} times tighter); 90th percentile: flat {np.percentile(flat, 90):.3g}, "
          f"bound {np.percentile(bound, 90):.3g}; the bound is below the flat tolerance for "
          f"{np.mean(bound < flat):.1%} of the elements")


# --- part 2 ------------------------------------------------------------------------------------

def _windows(x, k):
    """(batch, out_h, out_w, k * k * C) patches of a valid k x k convolution."""
    w = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(1, 2))
    return np.moveaxis(w, 3, -1).reshape(*w.shape[:3], -1)


def _sum(terms, how, rng):
    """Sum the last-but-one axis of float32 `terms` (..., K, out)."""
    if how == "pairwise":
        return np.sum(terms, axis=-2, dtype=np.float32)
    if how == "float64":
        return np.sum(terms.astype(np.float64), axis=-2).astype(np.float32)
    accumulate = np.float16 if how == "float16" else np.float32
    total = np.zeros(terms.shape[:-2] + terms.shape[-1:], dtype=accumulate)
    for i in rng.permutation(terms.shape[-2]):
        total = (total + terms[..., i, :].astype(accumulate)).astype(accumulate)
    return total.astype(np.float32)


def linear_trial(kind, size, way, rng):
    """(judged by the bound ok, judged flat ok) of one float32 evaluation `way` of a layer."""
    if kind == "Conv2D":
        op, params = get_op("Conv2D"), {"filters": 4, "kernel_size": 3}
        x = rng.normal(0.25, 1.0, (2, 7, 6, size)).astype(np.float32).astype(np.float64)
        weights = {"kernel": rng.normal(0.05, 0.5, (3, 3, size, 4)), "bias": rng.normal(0.5, 0.5, 4)}
        patches, kernel = _windows(x, 3), None
    else:
        op, params = get_op("Dense"), {"units": 6}
        x = rng.normal(0.25, 1.0, (4, size)).astype(np.float32).astype(np.float64)
        weights = {"kernel": rng.normal(0.05, 0.5, (size, 6)), "bias": rng.normal(0.5, 0.5, 6)}
        patches = x
    weights = {k: v.astype(np.float32).astype(np.float64) for k, v in weights.items()}
    kernel = weights["kernel"].reshape(-1, weights["kernel"].shape[-1])
    exact = op.compute(x, weights, params, {})
    bound = op.error_bound(x, weights, params, {}, F32, output=exact)
    terms = (patches.astype(np.float32)[..., :, None] * kernel.astype(np.float32)).astype(np.float32)
    how = {"random order": "random", "float64 accumulation": "float64", "pairwise": "pairwise",
           "float16 accumulation": "float16"}.get(way, "random")
    y = (_sum(terms, how, rng) + weights["bias"].astype(np.float32)).astype(np.float64)
    if way == "scale 1 + 1e-4":
        y = y * (1 + 1e-4)
    elif way == "scale 1 + 1e-3":
        y = y * (1 + 1e-3)
    elif way == "bias dropped in one channel":
        y[..., 0] -= weights["bias"][0]
    return (compare_arrays(y, exact, rtol=0, atol=0, bound=bound).ok,
            compare_arrays(y, exact, **FLAT).ok)


def tanh_trial(way, rng):
    op = get_op("activations.tanh")
    x = rng.normal(0.25, 2.0, (4, 64)).astype(np.float32).astype(np.float64)
    exact = np.tanh(x)
    bound = op.error_bound(x, {}, {}, {}, F32, output=exact)
    if way == "correctly rounded":
        y = np.tanh(x.astype(np.float32)).astype(np.float64)
    elif way == "as (exp(2x) - 1) / (exp(2x) + 1)":
        e = np.exp(np.float32(2) * x.astype(np.float32))
        y = ((e - np.float32(1)) / (e + np.float32(1))).astype(np.float64)
    elif way == "in float16":
        y = np.tanh(x.astype(np.float16)).astype(np.float64)
    else:  # "+ 1e-6"
        y = np.tanh(x.astype(np.float32)).astype(np.float64) + 1e-6
    return (compare_arrays(y, exact, rtol=0, atol=0, bound=bound).ok, compare_arrays(y, exact, **FLAT).ok)


def _row(label, way, by_bound, by_flat, ms=None):
    ms = "" if ms is None else f"{ms:.2f}"
    print(f"  {label:<{OP_WIDTH}}{way:<{WAY_WIDTH}}{by_bound:>14.3f}{by_flat:>14.3f}{ms:>10}")


def power_header(trials: int) -> None:
    print(f"\nPart 2: {trials} trials each; 'failed' is the share judged out of bounds (false alarms for a correct "
          "evaluation, power for a fault); the flat tolerance is the harness's default for the dtype "
          "(rtol = atol = 1e-5 in float32, 1e-3 in float16)")
    print(f"  {'op':<{OP_WIDTH}}{'evaluation':<{WAY_WIDTH}}{'bound: failed':>14}{'flat: failed':>14}{'ms/trial':>10}")


def power(trials: int, seed: int, only=frozenset({"conv", "dense", "tanh"})) -> None:
    correct = ["random order", "float64 accumulation", "pairwise"]
    faults = ["float16 accumulation", "scale 1 + 1e-4", "scale 1 + 1e-3", "bias dropped in one channel"]
    for kind, sizes in (("Conv2D", (3, 16, 64)), ("Dense", (5, 33, 257))):
        if kind.lower().removesuffix("2d") not in only:
            continue
        for size in sizes:
            for way in correct + faults:
                rng = np.random.default_rng([seed, size, len(way)])
                start = time.perf_counter()
                results = [linear_trial(kind, size, way, rng) for _ in range(trials)]
                ms = 1000 * (time.perf_counter() - start) / trials
                by_bound, by_flat = (1 - np.mean([r[i] for r in results]) for i in (0, 1))
                label = f"{kind} {'C_in' if kind == 'Conv2D' else 'd_in'}={size}"
                _row(label, way, by_bound, by_flat, ms)
    if "tanh" not in only:
        return
    for way in ("correctly rounded", "as (exp(2x) - 1) / (exp(2x) + 1)", "in float16", "+ 1e-6"):
        rng = np.random.default_rng([seed, len(way)])
        results = [tanh_trial(way, rng) for _ in range(trials)]
        by_bound, by_flat = (1 - np.mean([r[i] for r in results]) for i in (0, 1))
        _row("tanh", way, by_bound, by_flat)


# --- part 2, the ops beyond the sums of products: shared helpers --------------------------------
#
# Each trial draws one case (inputs and weights as the harness draws them, rounded to the dtype),
# computes the float64 reference and the op's bound once, and judges every evaluation of the
# section on it; each evaluation's random choices (summation orders, the term left out) are its own.


def _reduce(a, axis, how, rng, dtype=None):
    """Sum the array `a` along `axis` (keepdims), every addition rounded to `dtype` (a's own by
    default; each term is rounded to it first): 'random' one term at a time in a random order,
    'pairwise' in halves (a balanced tree), 'wide' in float64 rounded once at the end."""
    dtype = dtype or a.dtype.type
    terms = np.moveaxis(a, axis, 0)
    if how == "wide":
        total = np.sum(terms.astype(np.float64), axis=0).astype(dtype)
    elif how == "pairwise":
        terms = terms.astype(dtype)
        while terms.shape[0] > 1:
            half = terms.shape[0] // 2
            terms = np.concatenate([(terms[:half] + terms[half:2 * half]).astype(dtype), terms[2 * half:]])
        total = terms[0]
    else:
        order = rng.permutation(terms.shape[0])
        total = terms[order[0]].astype(dtype)
        for i in order[1:]:
            total = (total + terms[i].astype(dtype)).astype(dtype)
    return np.expand_dims(total, axis)


def _how(way):
    return "pairwise" if "pairwise" in way else "wide" if "float64 accumulation" in way else "random"


def _judge(y, exact, bound, dtype):
    """(within the bound, within the flat tolerance) of one output, or of every output of a dict."""
    if isinstance(exact, dict):
        results = [_judge(y[k], exact[k], bound[k], dtype) for k in exact]
        return all(r[0] for r in results), all(r[1] for r in results)
    return (compare_arrays(y, exact, rtol=0, atol=0, bound=bound).ok,
            compare_arrays(y, exact, **DEFAULT_TOLERANCE[dtype]).ok)


def _section(label, dtype, trials, rng, draw, evaluate, ways):
    """draw(rng) -> (case, exact, bound); evaluate(case, way, rng) -> the evaluation's output(s).
    Prints one row per way: the shares failed by the bound and by the flat tolerance, and the ms
    per trial (the shared reference and bound plus that way's evaluation and judgements)."""
    failed = {way: np.zeros(2) for way in ways}
    spent = {way: 0.0 for way in ways}
    shared = 0.0
    for _ in range(trials):
        start = time.perf_counter()
        case, exact, bound = draw(rng)
        shared += time.perf_counter() - start
        for way in ways:
            start = time.perf_counter()
            with np.errstate(all="ignore"):
                y = evaluate(case, way, rng)
            failed[way] += [not ok for ok in _judge(y, exact, bound, dtype)]
            spent[way] += time.perf_counter() - start
    for way in ways:
        _row(label, way, *(failed[way] / trials), 1000 * (shared + spent[way]) / trials)


def _draw(rng, shape, dtype, mean=0.25, std=1.0):
    """normal(mean, std) rounded to the dtype, as float64 (conformance.runner.inputs)."""
    return rng.normal(mean, std, shape).astype(NUMPY[dtype]).astype(np.float64)


def _seeded(seed, label):
    return np.random.default_rng([seed, zlib.crc32(label.encode())])


# --- softmax -----------------------------------------------------------------------------------

SOFTMAX_CORRECT = ["max subtracted, random order, division", "max subtracted, pairwise, reciprocal",
                   "max not subtracted, random order, division", "max not subtracted, pairwise, reciprocal"]
SOFTMAX_FAULTS = ["exp in float16", "sum missing one term", "scale 1 + 1e-3", "exp(x - logsumexp(x))"]


def softmax_eval(x, way, dtype, rng):
    """softmax along the last axis in `dtype` arithmetic, one way or another."""
    t = NUMPY[dtype]
    xt = x.astype(t)
    m = np.max(xt, axis=-1, keepdims=True)
    if way == "exp(x - logsumexp(x))":  # tf.keras's softmax over a list of axes
        lse = m + np.log(_reduce(np.exp(xt - m), -1, "random", rng))
        return np.exp(xt - lse).astype(np.float64)
    d = xt if way.startswith("max not subtracted") else xt - m
    e = np.exp(d.astype(np.float16)).astype(t) if way == "exp in float16" else np.exp(d)
    summed = e
    if way == "sum missing one term":  # one term per row left out of the normalizer
        summed = e.copy()
        summed[np.arange(e.shape[0]), rng.integers(0, e.shape[-1], e.shape[0])] = 0
    s = _reduce(summed, -1, _how(way), rng)
    y = (e * (t(1) / s) if "reciprocal" in way else e / s).astype(np.float64)
    return y * (1 + 1e-3) if way == "scale 1 + 1e-3" else y


def softmax_rows(trials, seed):
    op = get_op("activations.softmax")
    settings = [("float32", 8, 0.0), ("float32", 64, 0.0), ("float16", 8, 0.0), ("float16", 64, 0.0),
                ("float32", 64, 1000.0)]
    for dtype, n, offset in settings:
        fmt = rounding.format_of(dtype)

        def draw(rng):
            x = _draw(rng, (4, n), dtype, mean=0.25 + offset)
            exact = op.compute(x, {})
            return x, exact, op.error_bound(x, {}, {}, {}, fmt, output=exact)

        # without the max subtracted, exp(x) overflows at x = 1000 (it is a correct evaluation only
        # where it does not); the faults are float32 cases' faults
        ways = [w for w in SOFTMAX_CORRECT if not (offset and w.startswith("max not"))]
        ways += SOFTMAX_FAULTS if dtype == "float32" else []
        label = f"softmax {dtype[-2:]} n={n}" + (f" x+{offset:g}" if offset else "")
        _section(label, dtype, trials, _seeded(seed, label), draw,
                 lambda x, way, rng: softmax_eval(x, way, dtype, rng), ways)


# --- LayerNormalization and RMSNormalization ----------------------------------------------------

LAYER_NORM_CORRECT = ["two-pass, random order, division", "two-pass, pairwise, rsqrt, x a + (b - mean a)",
                      "two-pass, float64 accumulation"]
LAYER_NORM_FAULTS = ["variance in float16", "epsilon dropped", "scale 1 + 1e-2",
                     "E[x^2] - E[x]^2 (not the documented formula)"]


def layer_norm_eval(x, gamma, beta, way, dtype, rng, epsilon=1e-3):
    """gamma (x - mean) / sqrt(var + epsilon) + beta over the last axis in `dtype` arithmetic;
    the variance two-pass, mean((x - mean)^2), as the docstring writes it, unless a fault says."""
    t = NUMPY[dtype]
    xt, g, b = x.astype(t), gamma.astype(t), beta.astype(t)
    n, how = t(x.shape[-1]), _how(way)
    mean = _reduce(xt, -1, how, rng) / n
    d = xt - mean
    if way.startswith("E[x^2]"):
        var = _reduce(xt * xt, -1, how, rng) / n - mean * mean
    elif way == "variance in float16":  # the missing upcast: squares and sum in float16
        d16 = d.astype(np.float16)
        var = (_reduce(d16 * d16, -1, how, rng) / np.float16(n)).astype(t)
    else:
        var = _reduce(d * d, -1, how, rng) / n
    eps = t(0) if way == "epsilon dropped" else t(epsilon)
    if "x a + (b - mean a)" in way:  # the scale distributed over the difference (tf.keras)
        a = g * (t(1) / np.sqrt(var + eps))
        y = xt * a + (b - mean * a)
    else:
        y = d / np.sqrt(var + eps) * g + b
    y = y.astype(np.float64)
    return y * (1 + 1e-2) if way == "scale 1 + 1e-2" else y


RMS_NORM_CORRECT = ["random order, division", "pairwise, rsqrt", "float64 accumulation, division"]
RMS_NORM_FAULTS = ["mean square in float16", "epsilon dropped", "scale 1 + 1e-2"]


def rms_norm_eval(x, scale, way, dtype, rng, epsilon=1e-6):
    """x / sqrt(mean(x^2) + epsilon) * scale over the last axis in `dtype` arithmetic."""
    t = NUMPY[dtype]
    xt, s = x.astype(t), scale.astype(t)
    n, how = t(x.shape[-1]), _how(way)
    if way == "mean square in float16":
        x16 = xt.astype(np.float16)
        ms = (_reduce(x16 * x16, -1, how, rng) / np.float16(n)).astype(t)
    else:
        ms = _reduce(xt * xt, -1, how, rng) / n
    root = np.sqrt(ms + (t(0) if way == "epsilon dropped" else t(epsilon)))
    y = (xt * (t(1) / root) if "rsqrt" in way else xt / root) * s
    y = y.astype(np.float64)
    return y * (1 + 1e-2) if way == "scale 1 + 1e-2" else y


def normalization_rows(trials, seed, layers):
    # (dtype, n, input mean, input std): the harness's draws, and layer_normalization.yaml's
    # ill-conditioned rows (32 values near 1e4 with spread 0.01: float32 only, float16 holds 1e4
    # to 8)
    settings = [("float32", 5, 0.25, 1.0), ("float32", 64, 0.25, 1.0), ("float16", 5, 0.25, 1.0),
                ("float16", 64, 0.25, 1.0), ("float32", 32, 1e4, 0.01)]
    for layer in layers:
        op = get_op(layer)
        for dtype, n, mean, std in settings:
            if layer == "RMSNormalization" and mean != 0.25:
                continue  # nothing cancels in a mean of squares: the large mean adds nothing new
            fmt = rounding.format_of(dtype)

            def draw(rng):
                x = _draw(rng, (8, n), dtype, mean, std)
                weights = {name: _draw(rng, shape, dtype, 0.05, 0.5) for name, shape in op.predict_weights({}, x.shape).items()}
                exact = op.compute(x, weights, {}, {})
                return (x, weights), exact, op.error_bound(x, weights, {}, {}, fmt, output=exact)

            if layer == "LayerNormalization":
                ways = LAYER_NORM_CORRECT + (LAYER_NORM_FAULTS if dtype == "float32" else LAYER_NORM_FAULTS[-1:])
                evaluate = lambda case, way, rng: layer_norm_eval(case[0], case[1]["gamma"], case[1]["beta"], way, dtype, rng)  # noqa: E731
                name = "LayerNorm"
            else:
                ways = RMS_NORM_CORRECT + (RMS_NORM_FAULTS if dtype == "float32" else [])
                evaluate = lambda case, way, rng: rms_norm_eval(case[0], case[1]["scale"], way, dtype, rng)  # noqa: E731
                name = "RMSNorm"
            label = f"{name} {dtype[-2:]} n={n}" + (" mean 1e4" if mean != 0.25 else "")
            _section(label, dtype, trials, _seeded(seed, label), draw, evaluate, ways)


# --- LSTM --------------------------------------------------------------------------------------

LSTM_CORRECT = ["random order", "pairwise", "float64 accumulation"]
LSTM_FAULTS = ["recurrent kernel x (1 + 1e-3)", "forget gate in float16", "float16 accumulation"]
LSTM_PARAMS = {"units": 4, "return_sequences": True, "return_state": True}
LSTM_WEIGHTS = ("lstm_cell/kernel", "lstm_cell/recurrent_kernel", "lstm_cell/bias")


def _sigmoid_in(z):
    one = z.dtype.type(1)
    return one / (one + np.exp(-z))


def lstm_eval(x, weights, way, dtype, rng):
    """The documented recurrence (reference_impl.recurrent.lstm: blocks i, f, c, o; sigmoid as
    1 / (1 + exp(-z)), tanh) in `dtype` arithmetic, each pre-activation a sum of the rounded
    products x_k W_k, h_k R_k and the bias; the outputs as the op names them."""
    t = NUMPY[dtype]
    kernel, recurrent, bias = (weights[k].astype(t) for k in LSTM_WEIGHTS)
    if way == "recurrent kernel x (1 + 1e-3)":
        recurrent = (weights["lstm_cell/recurrent_kernel"] * (1 + 1e-3)).astype(t)
    batch, units = x.shape[0], recurrent.shape[0]
    h = np.zeros((batch, units), t)
    c = np.zeros_like(h)
    outputs = []
    for step in range(x.shape[1]):
        xs = x[:, step].astype(t)
        terms = np.concatenate([xs.T[:, :, None] * kernel[:, None, :], h.T[:, :, None] * recurrent[:, None, :],
                                np.broadcast_to(bias, (1, batch, bias.size))])  # (F + U + 1, batch, 4U)
        if way == "float16 accumulation":
            z = _reduce(terms, 0, "random", rng, dtype=np.float16)[0].astype(t)
        else:
            z = _reduce(terms, 0, _how(way), rng)[0]
        zi, zf, zc, zo = np.split(z, 4, axis=-1)
        f = _sigmoid_in(zf.astype(np.float16)).astype(t) if way == "forget gate in float16" else _sigmoid_in(zf)
        c = f * c + _sigmoid_in(zi) * np.tanh(zc)
        h = _sigmoid_in(zo) * np.tanh(c)
        outputs.append(h)
    return {"output": np.stack(outputs, axis=1).astype(np.float64), "output_1": h.astype(np.float64),
            "output_2": c.astype(np.float64)}


def lstm_rows(trials, seed):
    op = get_op("LSTM")
    for dtype in ("float32", "float16"):
        fmt = rounding.format_of(dtype)

        def draw(rng):
            x = _draw(rng, (3, 7, 5), dtype)
            shapes = op.predict_weights(LSTM_PARAMS, x.shape)
            weights = {name: _draw(rng, shape, dtype, 0.05, 0.5) for name, shape in shapes.items()}
            output, h, c = op.compute(x, weights, LSTM_PARAMS, {})
            exact = {"output": output, "output_1": h, "output_2": c}
            return (x, weights), exact, op.error_bound(x, weights, LSTM_PARAMS, {}, fmt, output=output)

        label = f"LSTM {dtype[-2:]} (3, 7, 5) U=4"
        ways = LSTM_CORRECT + (LSTM_FAULTS if dtype == "float32" else [])
        _section(label, dtype, trials, _seeded(seed, label), draw,
                 lambda case, way, rng: lstm_eval(*case, way, dtype, rng), ways)


# --- CategoricalCrossentropy -------------------------------------------------------------------

LOSS_PROBABILITIES = ["renormalized, clip 1e-7, random order", "as given, pairwise",
                      "renormalized, float64 accumulation"]
LOSS_LOGITS = ["log-softmax shifted, random order", "log-softmax unshifted, random order",
               "z - (m + log S), pairwise"]
LOSS_FAULTS = ["scale 1 + 1e-3", "float16 accumulation"]


def cross_entropy_eval(y_true, y_pred, way, from_logits, rng):
    """CategoricalCrossentropy()(y_true, y_pred) (reduction sum_over_batch_size) in float32:
    -sum(t log p) per sample, then their mean; sums in the way's order (float16 accumulation: the
    class sum and the batch sum in float16)."""
    t32 = np.float32
    t, yp = y_true.astype(t32), y_pred.astype(t32)
    how = _how(way)
    accumulate = np.float16 if way == "float16 accumulation" else t32
    if from_logits:
        m = np.max(yp, axis=-1, keepdims=True)
        if way.startswith("log-softmax unshifted"):
            log_p = yp - np.log(_reduce(np.exp(yp), -1, how, rng))
        elif way.startswith("z - (m + log S)"):
            log_p = yp - (m + np.log(_reduce(np.exp(yp - m), -1, how, rng)))
        else:
            log_p = (yp - m) - np.log(_reduce(np.exp(yp - m), -1, how, rng))
    else:
        p = yp if way.startswith("as given") else yp / _reduce(yp, -1, how, rng)
        if "clip" in way:  # tf.keras clips to [eps, 1 - eps]
            eps = t32(1e-4) if "1e-4" in way else t32(1e-7)
            p = np.clip(p, eps, t32(1) - eps)
        log_p = np.log(p)
    per_sample = -_reduce(t * log_p, -1, how, rng, dtype=accumulate)[..., 0]
    loss = (_reduce(per_sample, 0, how, rng, dtype=accumulate)[0].astype(t32) / t32(per_sample.size)).astype(np.float64)
    return loss * (1 + 1e-3) if way == "scale 1 + 1e-3" else loss


def loss_rows(trials, seed):
    op = get_op("losses.CategoricalCrossentropy")
    # (from_logits, the std of y_pred's draws, the ways): the harness's draws (conformance.ops.losses:
    # y_true soft labels, softmax of the draws; y_pred probabilities, softmax of the draws, or the
    # draws as logits), and y_pred drawn with std 4 (as a case's `y_pred: {std: 4}`), where
    # probabilities below 1e-4 occur and the clip at 1e-4 changes the loss
    settings = [(False, 1.0, LOSS_PROBABILITIES + LOSS_FAULTS + ["renormalized, clip 1e-4"]),
                (True, 1.0, LOSS_LOGITS + LOSS_FAULTS),
                (False, 4.0, ["as given, random order", "renormalized, pairwise", "renormalized, clip 1e-4",
                              "clip 1e-7 (tf.keras; divergence where it bites)"])]
    for from_logits, std, ways in settings:
        params = {"from_logits": True} if from_logits else {}

        def draw(rng):
            drawn = {"y_true": _draw(rng, (6, 5), "float32"), "y_pred": _draw(rng, (6, 5), "float32", std=std)}
            inputs = {k: np.asarray(v, np.float32).astype(np.float64)
                      for k, v in op.prepare(drawn, params, set()).items()}
            exact = np.asarray(op.compute(inputs, params), dtype=np.float64)
            return inputs, exact, op.error_bound(inputs, params, F32, output=exact)

        label = "CCE 32 " + ("logits" if from_logits else "probs") + (f" std {std:g}" if std != 1 else "")
        _section(label, "float32", trials, _seeded(seed, label), draw,
                 lambda case, way, rng: cross_entropy_eval(case["y_true"], case["y_pred"], way, from_logits, rng), ways)

# --- sparsemax -----------------------------------------------------------------------------------

SPARSEMAX_CORRECT = ["running sums in order", "running sums, float64 accumulation"]
SPARSEMAX_FAULTS = ["computed in float16", "scale 1 + 1e-3", "tau over one more element"]


def sparsemax_eval(x, way, dtype, rng):
    """sparsemax along the last axis by the paper's algorithm in `dtype` arithmetic: z = x - max
    sorted decreasing, running sums S_k, k' the largest k with 1 + k z_k > S_k, tau = (S_k' - 1) / k'."""
    t = np.float16 if way == "computed in float16" else NUMPY[dtype]
    xt = x.astype(t)
    z = (xt - np.max(xt, axis=-1, keepdims=True)).astype(t)
    ordered = -np.sort(-z, axis=-1)
    if "float64 accumulation" in way:
        sums = np.cumsum(ordered.astype(np.float64), axis=-1).astype(t)
    else:
        sums = np.zeros_like(ordered)
        total = np.zeros(ordered.shape[:-1], dtype=t)
        for i in range(ordered.shape[-1]):
            total = (total + ordered[..., i]).astype(t)
            sums[..., i] = total
    k = np.arange(1, x.shape[-1] + 1)
    size = np.max(np.where((t(1) + (k.astype(t) * ordered).astype(t)).astype(t) > sums, k, 1), axis=-1, keepdims=True)
    if way == "tau over one more element":
        size = np.minimum(size + 1, x.shape[-1])
    tau = ((np.take_along_axis(sums, size - 1, axis=-1) - t(1)).astype(t) / size.astype(t)).astype(t)
    y = np.maximum((z - tau).astype(t), t(0)).astype(np.float64)
    return y * (1 + 1e-3) if way == "scale 1 + 1e-3" else y


def sparsemax_rows(trials, seed):
    op = get_op("activations.sparsemax")
    for dtype, n in (("float32", 8), ("float32", 64), ("float16", 8), ("float16", 64)):
        fmt = rounding.format_of(dtype)

        def draw(rng):
            x = _draw(rng, (4, n), dtype)
            exact = op.compute(x, {})
            return x, exact, op.error_bound(x, {}, {}, {}, fmt, output=exact)

        ways = SPARSEMAX_CORRECT + (SPARSEMAX_FAULTS if dtype == "float32" else SPARSEMAX_FAULTS[1:])
        label = f"sparsemax {dtype[-2:]} n={n}"
        _section(label, dtype, trials, _seeded(seed, label), draw,
                 lambda x, way, rng: sparsemax_eval(x, way, dtype, rng), ways)


# --- AUC -------------------------------------------------------------------------------------------

AUC_CORRECT = ["counts in order, area in order", "counts pairwise, area pairwise", "counts, float64 accumulation"]
AUC_FAULTS = ["counts in float16", "scale 1 + 1e-3", "a threshold's counts dropped"]


def auc_eval(case, way, dtype, rng):
    """The ROC area (interpolation) at AUC's 200 thresholds from weighted counts, every sum and
    operation in `dtype` arithmetic (the counts' sums in `float16` for that fault)."""
    from reference_impl import metrics as M
    labels, scores, weights = case
    t = NUMPY[dtype]
    counted_in = np.float16 if way == "counts in float16" else t
    cuts = M.curve_thresholds(200)
    above = scores[None, :] > cuts[:, None]
    how = _how(way.replace("counts pairwise", "pairwise"))
    counts = {}
    for kind, label, side in (("tp", True, True), ("fp", False, True), ("fn", True, False), ("tn", False, False)):
        terms = np.where((labels == label)[None, :] & (above == side), weights[None, :], 0.0).astype(counted_in)
        counts[kind] = _reduce(terms, -1, how, rng, counted_in)[:, 0].astype(t)
    if way == "a threshold's counts dropped":  # a middle threshold's counts copied from its neighbour
        i = len(cuts) // 2
        for kind in counts:
            counts[kind][i] = counts[kind][i + 1]

    def rate(a, b):
        total = (a + b).astype(t)
        return np.where(total > 0, (a / np.where(total > 0, total, t(1))).astype(t), t(0)).astype(t)
    x, h = rate(counts["fp"], counts["tn"]), rate(counts["tp"], counts["fn"])
    pieces = ((x[:-1] - x[1:]).astype(t) * ((h[:-1] + h[1:]).astype(t) / t(2)).astype(t)).astype(t)
    area = float(_reduce(pieces[:, None], 0, how, rng)[0, 0])
    return np.float64(area * (1 + 1e-3) if way == "scale 1 + 1e-3" else area)


def auc_rows(trials, seed):
    from reference_impl import metrics as M
    for dtype, n in (("float32", 40), ("float32", 200), ("float16", 40)):
        fmt = rounding.format_of(dtype)

        def draw(rng):
            labels = rng.random(n) < 0.5
            scores = rng.random(n).astype(NUMPY[dtype]).astype(np.float64)
            weights = rng.uniform(0.1, 3.0, n).astype(NUMPY[dtype]).astype(np.float64)
            batches = [{"y_true": labels.astype(np.float64), "y_pred": scores, "sample_weight": weights}]
            exact = np.float64(M.result("AUC", batches, num_thresholds=200))
            bound = M.error_bound("AUC", batches, fmt, num_thresholds=200)
            return (labels, scores, weights), exact, np.inf if bound is None else bound

        ways = AUC_CORRECT + (AUC_FAULTS if dtype == "float32" else AUC_FAULTS[1:])
        label = f"AUC {dtype[-2:]} {n} weighted"
        _section(label, dtype, trials, _seeded(seed, label), draw, lambda case, way, rng: auc_eval(case, way, dtype, rng),
                 ways)


PARTS = ("tightness", "conv", "dense", "tanh", "softmax", "sparsemax", "layernorm", "rmsnorm", "lstm", "loss", "auc")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", type=lambda v: {p.strip() for p in v.split(",") if p.strip()}, default=set(PARTS),
                        help=f"a comma-separated subset of {','.join(PARTS)} (default: all)")
    args = parser.parse_args()
    unknown = args.only - set(PARTS)
    if unknown:
        parser.error(f"--only: unknown {', '.join(sorted(unknown))}; choose from {','.join(PARTS)}")
    start = time.perf_counter()
    if "tightness" in args.only:
        tightness()
    if args.only - {"tightness"}:
        power_header(args.trials)
    power(args.trials, args.seed, args.only)
    if "softmax" in args.only:
        softmax_rows(args.trials, args.seed)
    if "sparsemax" in args.only:
        sparsemax_rows(args.trials, args.seed)
    layers = [name for part, name in (("layernorm", "LayerNormalization"), ("rmsnorm", "RMSNormalization")) if part in args.only]
    if layers:
        normalization_rows(args.trials, args.seed, layers)
    if "lstm" in args.only:
        lstm_rows(args.trials, args.seed)
    if "loss" in args.only:
        loss_rows(args.trials, args.seed)
    if "auc" in args.only:
        auc_rows(args.trials, args.seed)
    print(f"\n{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
