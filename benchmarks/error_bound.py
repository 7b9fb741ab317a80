"""The error bound (conformance.ops.bounds) against the flat tolerance: how tight, how often it
raises a false alarm on correct float evaluations, and how often it catches planted faults.

    python3 benchmarks/error_bound.py [--trials 200] [--seed 0]

Part 1, tightness on the catalogue: for every float32 eager case of the convolution family
(cases/conv*.yaml, depthwise_*, separable_*), the reference's output and the op's bound on the
case's own inputs and weights; the median, over all elements, of the error the flat tolerance
allows (atol + rtol |y|, 1e-5 each) and of the bound, and their ratio.

Part 2, false alarms and power, on Conv2D (3 x 3 kernels, C_in in {3, 16, 64}: K = 28 to 577),
Dense (d_in in {5, 33, 257}) and tanh, with inputs drawn as the harness draws them and rounded to
float32. A trial evaluates the op in float32 NumPy, one way or another, and judges it against the
float64 reference by the bound and by the flat tolerance:
- correct evaluations (false alarms: expect 0): products rounded, sums in a random order of
  the terms; the same with float64 accumulation rounded once (as oneDNN's or an FMA chain);
  pairwise summation (NumPy's float32 sum);
- planted faults (power: the share caught): accumulation in float16; a scale 1 + 1e-4 (a
  constant rounded to float32 twice, or an epsilon added); a scale 1 + 1e-3; the bias dropped
  from one output channel; tanh evaluated in float16 or with 1e-6 added.
The times are per judgement (the bound's cost is the reference run once more on |x| and |w|).
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from conformance.catalogue.loader import load_paths
from conformance.compare import compare_arrays
from conformance.ops import LayerOp, get_op
from conformance.runner.inputs import layer_feeds, make_weights
from conformance.catalogue.model import input_shapes
from reference_impl import rounding

F32 = rounding.format_of("float32")
FLAT = {"rtol": 1e-5, "atol": 1e-5}
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


def power(trials: int, seed: int) -> None:
    correct = ["random order", "float64 accumulation", "pairwise"]
    faults = ["float16 accumulation", "scale 1 + 1e-4", "scale 1 + 1e-3", "bias dropped in one channel"]
    print(f"\nPart 2: {trials} trials each; 'failed' is the share judged out of bounds (false alarms for a correct "
          "evaluation, power for a fault)")
    print(f"  {'op':<16}{'evaluation':<36}{'bound: failed':>14}{'flat: failed':>14}{'ms/trial':>10}")
    for kind, sizes in (("Conv2D", (3, 16, 64)), ("Dense", (5, 33, 257))):
        for size in sizes:
            for way in correct + faults:
                rng = np.random.default_rng([seed, size, len(way)])
                start = time.perf_counter()
                results = [linear_trial(kind, size, way, rng) for _ in range(trials)]
                ms = 1000 * (time.perf_counter() - start) / trials
                by_bound, by_flat = (1 - np.mean([r[i] for r in results]) for i in (0, 1))
                label = f"{kind} {'C_in' if kind == 'Conv2D' else 'd_in'}={size}"
                print(f"  {label:<16}{way:<36}{by_bound:>14.3f}{by_flat:>14.3f}{ms:>10.2f}")
    for way in ("correctly rounded", "as (exp(2x) - 1) / (exp(2x) + 1)", "in float16", "+ 1e-6"):
        rng = np.random.default_rng([seed, len(way)])
        results = [tanh_trial(way, rng) for _ in range(trials)]
        by_bound, by_flat = (1 - np.mean([r[i] for r in results]) for i in (0, 1))
        print(f"  {'tanh':<16}{way:<36}{by_bound:>14.3f}{by_flat:>14.3f}{'':>10}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    tightness()
    power(args.trials, args.seed)


if __name__ == "__main__":
    main()
