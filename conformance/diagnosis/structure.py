"""The structure of an error no hypothesis explains: d = tf.keras - reference, described by
what it depends on, so that the reader starts from a shape of the mistake, not a heat map.

Each fact is one clause, tested against the case's own tolerance (`allowed`, the error an
element may have): a closed form in a weight vector (d = bias[axis 3] - bias[channels], the
channels_first bias finding), a constant offset, a scale factor, the size of float32
rounding or how large it is, the axes d varies along, where the failing elements are (borders, some indices),
and what the failing elements have in common (tf.keras gives 0, the input is negative).
Facts that a stronger one implies are left out (a constant offset varies along no axis).
"""
from __future__ import annotations

import numpy as np

FLOAT32_UNIT = 2.0 ** -24  # float32's unit roundoff
FLOAT32_SIZED = 8 * FLOAT32_UNIT  # an error below this fraction of the largest value is float32 rounding
MAX_LISTED = 4  # indices or input values listed by value; more are counted


def describe(actual: np.ndarray, expected: np.ndarray, allowed: np.ndarray, *, axis_names: list[str],
             weights: dict, x=None, dtype: str | None = None) -> list[str]:
    """The facts about d = actual - expected, as clauses; `x` is the input when the op is
    element-wise (same shape as the output), for facts about the failing inputs."""
    facts = []
    nonfinite = _nonfinite_mismatch(actual, expected, x)
    if nonfinite:
        facts.append(nonfinite)
    finite = np.isfinite(actual) & np.isfinite(expected)
    d = np.where(finite, actual - np.where(finite, expected, 0.0), 0.0)
    failing = finite & (np.abs(d) > allowed)
    if not failing.any():
        return facts
    within = lambda form: bool(np.all(np.abs(d - form)[finite] <= allowed[finite]))  # noqa: E731

    if d.size == 1:  # a single number (a loss): an offset or a scale says nothing more than its size
        return facts + [_size(d, expected, finite, dtype)] + _failing_values(actual, expected, failing, x)
    form = _closed_form(d.shape, weights, axis_names, within)
    offset = float(np.median(d[finite]))
    if form:
        facts.append(f"d = {form} (to within tolerance)")
    elif within(offset):
        facts.append(f"d is a constant offset of {offset:.6g}")
    else:
        scale = _scale_factor(actual, expected, finite)
        if scale is not None and within(scale * expected - expected):
            facts.append(f"tf.keras = {scale:.10g} x reference (a scale factor)")
        else:
            facts.append(_size(d, expected, finite, dtype))
            varying = _varying_axes(d, allowed, finite, axis_names)
            if varying:
                facts.append(varying)
    facts += _where(failing, axis_names)
    facts += _failing_values(actual, expected, failing, x)
    return facts


def _nonfinite_mismatch(actual, expected, x) -> str | None:
    """NaN or an infinity on one side only (or infinities of opposite signs)."""
    both_inf = np.isinf(actual) & np.isinf(expected)
    bad = (np.isfinite(actual) != np.isfinite(expected)) | (np.isnan(actual) != np.isnan(expected)) \
        | (both_inf & (actual != expected))
    if not bad.any():
        return None
    count = int(bad.sum())
    keras_nan = bad & np.isnan(actual) & ~np.isnan(expected)
    if keras_nan.all() or (bad == keras_nan).all():
        what = f"tf.keras gives NaN at {count} element(s) where the reference has a number"
    else:
        what = f"{count} element(s) are NaN or infinite on one side only"
    if x is not None and np.shape(x) == actual.shape and np.isinf(np.asarray(x)[bad]).all():
        what += ", all at infinite inputs"
    return what


def _closed_form(shape, weights: dict, axis_names: list[str], within) -> str | None:
    """d as a weight vector along one axis, its negation, or its difference along two axes
    (a bias added along the wrong axis: + along the one used, - along the documented one)."""
    vectors = {name: w for name, w in weights.items() if np.ndim(w) == 1 and np.size(w) > 1}
    for name, w in vectors.items():
        axes = [a for a, n in enumerate(shape) if n == w.size]
        along = {a: w.reshape([-1 if i == a else 1 for i in range(len(shape))]) for a in axes}
        short = name.rpartition("/")[2]
        for a in axes:
            if within(along[a]):
                return f"{short}[{axis_names[a]}]"
            if within(-along[a]):
                return f"-{short}[{axis_names[a]}]"
        for a in axes:
            for b in axes:
                if a != b and within(along[a] - along[b]):
                    return f"{short}[{axis_names[a]}] - {short}[{axis_names[b]}]"
    return None


def _size(d, expected, finite, dtype) -> str:
    """How large d is against the values: for a float64 case, whether it is float32 rounding."""
    largest = float(np.max(np.abs(expected[finite]), initial=0.0))
    worst = float(np.max(np.abs(d)))
    if dtype == "float64" and largest > 0 and worst <= FLOAT32_SIZED * largest:
        return (f"|d| is within float32 rounding (at most {worst / largest / FLOAT32_UNIT:.2g} x 2^-24 "
                f"of the largest |reference|, {largest:.3g})")
    relative = f", {worst / largest:.2g} of the largest |reference|" if largest > 0 else ""
    return f"|d| is up to {worst:.3g}{relative}"


def _scale_factor(actual, expected, finite) -> float | None:
    """The least-squares s in actual = s * expected, if expected is not all zero."""
    e, a = expected[finite], actual[finite]
    energy = float(np.dot(e, e))
    return None if energy == 0 else float(np.dot(a, e)) / energy


def _varying_axes(d, allowed, finite, axis_names) -> str | None:
    """Which axes d changes along (beyond tolerance), and which it is constant along."""
    varying, constant = [], []
    for axis, n in enumerate(d.shape):
        if n < 2:
            continue
        spread = np.abs(d - d.mean(axis=axis, keepdims=True))
        (constant if np.all(spread[finite] <= allowed[finite]) else varying).append(axis_names[axis])
    if not constant:
        return None
    return f"d varies along {', '.join(varying)} and is constant along {', '.join(constant)}"


def _where(failing, axis_names) -> list[str]:
    """Per axis, the indices holding a failing element, when they are not all of them."""
    facts = []
    positions = np.nonzero(np.atleast_1d(failing))
    for axis, n in enumerate(failing.shape):
        if n < 2:
            continue
        hit = sorted(set(positions[axis].tolist()))
        if len(hit) == n:
            continue
        border = max(1, n // 4)
        listed = ", ".join(map(str, hit)) if len(hit) <= MAX_LISTED else None
        if n >= 4 and all(i < border or i >= n - border for i in hit):  # a short axis is all borders
            facts.append(f"failures only at the borders of {axis_names[axis]} (index {listed or len(hit)} of 0..{n - 1})")
        elif listed:
            facts.append(f"failures only at {axis_names[axis]} index {listed} of 0..{n - 1}")
        else:
            facts.append(f"failures only at {len(hit)} of the {n} indices of {axis_names[axis]}")
    return facts


def _failing_values(actual, expected, failing, x) -> list[str]:
    """What every failing element has in common: tf.keras gives 0 there; the element-wise
    input, or else the reference, has one sign there (and not everywhere)."""
    facts = []
    if np.all(actual[failing] == 0):
        facts.append("tf.keras gives 0 at every failing element")
    if x is not None and np.shape(x) == actual.shape:
        values, name = np.asarray(x, dtype=np.float64), "the input"
        distinct = np.unique(values[failing])
        if len(distinct) <= MAX_LISTED and len(np.unique(values)) > len(distinct):
            facts.append(f"failures only where the input is {' or '.join(f'{v:.6g}' for v in distinct)}")
            return facts
    else:
        values, name = expected, "the reference"
    for sign, word in ((-1, "negative"), (1, "positive")):
        if np.all(np.sign(values[failing]) == sign) and not np.all(np.sign(values) == sign):
            facts.append(f"failures only where {name} is {word}")
    return facts
