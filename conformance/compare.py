"""Judge a tf.keras output against the float64 reference, and measure how far apart they are.

The rule, per element, computed in float64 (the reference is the judge, so a more accurate
result is never rejected for being closer to the truth): |keras - reference| <= bound, the
op's error bound in the case's format (conformance.ops.bounds) when it has one, else the flat
tolerance atol + rtol * |reference| (also for an element whose bound is NaN). NaN must appear at the same positions on both sides, and
infinities at the same positions with the same sign; those positions count as exact.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from reference_impl.rounding import ulp_distance

HISTOGRAM_DECADES = list(range(-16, 3))  # bin i holds errors in [10**e[i], 10**e[i+1])
MAP_SIZE = 16  # heat maps are block-maxed down to at most MAP_SIZE x MAP_SIZE


@dataclass
class Comparison:
    ok: bool
    message: str
    metrics: dict


def compare_arrays(actual, reference, *, rtol: float, atol: float, bound=None,
                   map_axes: tuple[int, int] | None = None, fmt=None) -> Comparison:
    """bound: the per-element error allowed (the op's error bound, times the dtype's factor),
    instead of atol + rtol |reference|; the metrics then hold max_bound_ratio, the largest
    error / bound (0 = exact, 1 = at the bound). fmt (a reference_impl.rounding.Format): also
    record the largest distance in units in the last place of that format."""
    actual = np.asarray(actual, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    if actual.shape != reference.shape:
        return Comparison(False, f"shape differs: tf.keras {list(actual.shape)}, reference {list(reference.shape)}", {})
    n = actual.size
    nan_a, nan_r = np.isnan(actual), np.isnan(reference)
    inf_a, inf_r = np.isinf(actual), np.isinf(reference)
    special_mismatch = (nan_a != nan_r) | ((inf_a | inf_r) & ~(nan_a | nan_r) & (actual != reference))
    finite = np.isfinite(actual) & np.isfinite(reference)

    abs_err = np.zeros(actual.shape)
    # Finite values near float64's limits (1e308 against -1e308) differ by more than float64
    # holds: the error is then an infinity (and inf / inf a NaN, replaced below), as it should be.
    with np.errstate(over="ignore", invalid="ignore"):
        abs_err[finite] = np.abs(actual[finite] - reference[finite])
        tolerance = atol + rtol * np.abs(np.where(finite, reference, 0.0))
        if bound is not None:
            allowed = np.array(np.broadcast_to(np.asarray(bound, dtype=np.float64), actual.shape))
            # a NaN bound (0 * inf in its derivation) bounds nothing: the tolerance judges that
            # element, rather than the comparison with NaN, which is false, passing anything
            allowed = np.where(np.isnan(allowed), tolerance, allowed)
        else:
            allowed = tolerance
        ratio = np.where(finite, abs_err / np.where(allowed > 0, allowed, np.inf), 0.0)
    ratio = np.where(finite & (allowed == 0) & (abs_err > 0), np.inf, ratio)
    ratio[special_mismatch] = np.inf
    out_of_tol = special_mismatch | (finite & (abs_err > allowed))

    metrics: dict = {"n_elements": int(n), "judged_by": "tolerance" if bound is None else "bound"}
    if bound is not None and n:
        metrics["error_bound_max"] = float(np.max(allowed))
        unbounded = int(np.isnan(np.broadcast_to(np.asarray(bound, dtype=np.float64), actual.shape)).sum())
        if unbounded:
            metrics["n_judged_by_tolerance"] = unbounded  # elements whose bound says nothing
    if n == 0:
        return Comparison(True, "empty output", metrics)
    with np.errstate(over="ignore"):  # a huge error over a tiny reference: an infinite relative error
        rel = np.where(finite & (reference != 0), abs_err / np.abs(np.where(reference != 0, reference, 1.0)), 0.0)
    rel = np.where(finite & (reference == 0) & (abs_err > 0), np.inf, rel)
    worst = np.unravel_index(int(np.argmax(ratio)), actual.shape)
    metrics.update(
        max_abs_error=float(abs_err.max()),
        max_rel_error=float(rel.max()),
        worst_index=[int(i) for i in worst],
        worst_keras=float(actual[worst]),
        worst_reference=float(reference[worst]),
        worst_tolerance_ratio=float(ratio[worst]),
        n_out_of_tolerance=int(out_of_tol.sum()),
        fraction_out_of_tolerance=float(out_of_tol.mean()),
        n_nonfinite_mismatch=int(special_mismatch.sum()),
        **({"max_bound_ratio": _round(float(ratio.max()))} if bound is not None else {}),
        **({"max_ulp_distance": _round(float(np.max(ulp_distance(actual, reference, fmt), initial=0.0)))} if fmt is not None else {}),
        error_histogram=_histogram(abs_err[finite]),
    )
    if map_axes is not None and actual.ndim >= 2:
        metrics["error_map"] = _error_map(ratio, map_axes)
    if not out_of_tol.any():
        return Comparison(True, "", metrics)
    what = "NaN/Inf positions differ; " if special_mismatch.any() else ""
    judged = (f"the error bound (up to {metrics['error_bound_max']:.3g}; error / bound up to {metrics['max_bound_ratio']})"
              if bound is not None else f"tolerance (rtol={rtol:g}, atol={atol:g})")
    message = (
        f"{what}{metrics['n_out_of_tolerance']} of {n} elements out of {judged}; max abs error {metrics['max_abs_error']:.3g}, "
        f"max rel error {metrics['max_rel_error']:.3g}; worst at {metrics['worst_index']}: "
        f"tf.keras {float(actual[worst])!r}, reference {float(reference[worst])!r}"
    )
    return Comparison(False, message, metrics)


def _histogram(errors: np.ndarray) -> dict:
    """Counts of |error| per decade; exact matches are counted apart."""
    zeros = int((errors == 0).sum())
    nonzero = errors[errors > 0]
    exponents = np.clip(np.floor(np.log10(nonzero)), HISTOGRAM_DECADES[0], HISTOGRAM_DECADES[-1] - 1)
    counts = np.bincount((exponents - HISTOGRAM_DECADES[0]).astype(int), minlength=len(HISTOGRAM_DECADES) - 1)
    return {"decades": HISTOGRAM_DECADES, "counts": counts.tolist(), "zeros": zeros}


def _error_map(ratio: np.ndarray, axes: tuple[int, int]) -> dict:
    """Max tolerance ratio over every axis but `axes`, block-maxed to <= MAP_SIZE per side."""
    other = tuple(i for i in range(ratio.ndim) if i not in axes)
    plane = ratio.max(axis=other) if other else ratio
    if axes[0] > axes[1]:
        plane = plane.T
    rows, cols = (math.ceil(s / MAP_SIZE) for s in plane.shape)
    h, w = math.ceil(plane.shape[0] / rows), math.ceil(plane.shape[1] / cols)
    padded = np.zeros((h * rows, w * cols))
    padded[: plane.shape[0], : plane.shape[1]] = plane
    blocks = padded.reshape(h, rows, w, cols).max(axis=(1, 3))
    return {
        "axes": list(axes),
        "values": [[_round(v) for v in row] for row in blocks.tolist()],
    }


def _round(v: float):
    if not math.isfinite(v):
        return "inf" if v > 0 else "nan"
    return float(f"{v:.3g}")
