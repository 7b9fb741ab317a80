"""The gradient check: tf.keras's backward pass against the reference, for every layer and
function case with a floating output whose forward values agree.

tf.keras computes the vector-Jacobian product g = J^T v of a cotangent v with the main output,
with respect to each floating input and each trainable weight, with tf.GradientTape inside
the case's mode (conformance.target). The reference needs no gradient code: for each of those
variables w and a random direction u over it, the directional derivative

    <v, J u> = d/dt <v, f(w + t u)> at t = 0

of the float64 reference f is taken by central differences with Richardson extrapolation
(reference_impl.gradients.directional_derivative), and must equal <g, u>, computed from
tf.keras's gradient in float64 (the adjoint identity). One direction per variable names the
variable that is wrong.

Tolerance: reference_impl.gradients.gradient_tolerance, the finite difference's own error
estimate plus 2**7 units of the dtype's roundoff on the size of the two dot products without
cancellation (its docstring derives and calibrates it). A case that states its own forward
`tolerance` is allowed that tolerance projected on u too, atol sum|u| + rtol sum|g u|, where
larger (an element-wise error of atol + rtol |g_i| moves <g, u> by at most that).

An op whose forward formula carries its own rounding bound (LayerOp.error_bound: a
normalization at inputs with a large offset, whose output is ill-conditioned) computes its
gradient from the same ill-conditioned quantities: the bound relative to the output's size,
max(bound) / max|output|, times the sums' size max(M_out, M_in), is allowed on top.

No gradient: where tf.keras gives none at all for a variable (None: no path from it to the
output, which the target turns into zeros and names in gradients["disconnected"]), no rounding
allowance applies: it fails when the reference's derivative along u exceeds
DISCONNECTED_FD_FACTOR times its finite difference's error estimate (bicubic resizing in float16,
whose allowance alone can exceed the whole derivative).

Overflow: where tf.keras's <g, u> is not finite and the reference's |<v, J u>| exceeds the
largest finite value of the compute dtype times sum|u|, some element of the exact gradient is
beyond the format's range (|<v, J u>| <= max_i |(J^T v)_i| sum|u|), so an infinite or NaN
gradient is what the format can give: recorded as `overflow`, not judged (MAPE at a zero label
in float16, whose derivative 100 / 1e-7 exceeds 65504).

Kinks (relu at 0, max-pool ties, |x| at 0, a hard function's corner): where the derivative
along u does not exist the finite difference does not converge. It is retried once with a
step 64 times smaller (a kink just inside the first steps moves out of reach). A derivative
that still falls short of the accuracy asked but whose error estimate is below 1e-6 of the
sums' size is judged coarsely, to 1e-6 of that size; if the second difference shows a
jump at the point itself, the check accepts any value between the
one-sided derivatives D+ and D- (widened by the dtype's part of the tolerance): every
convention for the derivative at the kink (relu'(0) = 0 or 1, a subgradient) gives such a
value when one element sits at a convex or concave kink, which is what a generated input
meets; Keras documents no convention. Otherwise the variable is reported "unresolved" and not
judged. A case whose inputs sit on kinks on purpose (edge values) may opt out with
`gradients: {skip: REASON}`.
"""
from __future__ import annotations

import os
import zlib

import numpy as np

from conformance.catalogue.model import compute_dtype
from conformance.runner.inputs import round_to
from reference_impl.gradients import directional_derivative, fd_accuracy, gradient_dot, gradient_tolerance
from reference_impl.rounding import format_of

COTANGENT_STREAM, DIRECTION_STREAM = 3, 4
RETRY_STEP_DIVISOR = 64.0
# At a kink the one-sided derivatives are extrapolated in all powers of h, with no error estimate
# of their own: 1e-6 of the sums' size covers their truncation at the steps used.
KINK_MARGIN = 1e-6
# A finite difference that did not reach the accuracy asked is still judged, coarsely (to this
# fraction of the sums' size), while its error estimate is below that fraction: a wrong slope
# (celu's 2 for 1 at 0) is caught, the finite difference's own trouble is not taken for a bug.
UNRESOLVED_FRACTION = 1e-6
FLOAT_DTYPES = ("float16", "bfloat16", "float32", "float64")


# In a compiled mode the gradient is a program of its own, traced (and under XLA compiled) apart
# from the forward: about 2.4 times the forward's compile time under XLA, and twice the forward's
# trace in `function`, where it was a sixth of the whole catalogue's time. So a deterministic
# sample of each compiled mode has its gradient checked: one case in GRADIENT_SAMPLE[mode] (by the
# CRC-32 of its id, so the same ones every run), and the first combination of every op in every
# sweep, so that every entry and every op has one, and every case whose recorded divergence is a
# gradient's. Eager gradients, which the compiled ones are meant to equal, are all checked.
# CONFORMANCE_ALL_GRADIENTS=1 in the environment checks every one.
GRADIENT_SAMPLE = {"xla": 8, "function": 4}
# A variable tf.keras gives no gradient for (None) fails when the reference's derivative along u
# exceeds this many times its finite difference's error estimate: clearly not zero.
DISCONNECTED_FD_FACTOR = 8.0
ALL_GRADIENTS_VARIABLE = "CONFORMANCE_ALL_GRADIENTS"
# The check runs only where the forward values agree: a wrong forward has no right gradient to be
# compared with. A forward off by a recorded precision divergence (float64 computed through
# float32) may still hide a gradient wrong by far more (XLA's float64 bilinear resize gradient,
# 1e281 where the right one is below 10). With this variable set to 1 a failed forward's gradient
# is judged too and recorded as metrics["gradients"]["behind_failure"] (its messages and metrics),
# for a reader to look through; the verdict stays the forward's.
BEHIND_FAILURES_VARIABLE = "CONFORMANCE_GRADIENTS_BEHIND_FAILURES"


def behind_failures() -> bool:
    return os.environ.get(BEHIND_FAILURES_VARIABLE, "") not in ("", "0")


def sampled_out(case) -> bool:
    if case.mode not in GRADIENT_SAMPLE or case.sweep_index == 0 or os.environ.get(ALL_GRADIENTS_VARIABLE, "") not in ("", "0"):
        return False
    if case.known and any("gradients" in signature for signature in case.known.get("signature", [])):
        return False  # a recorded gradient divergence is always checked (else it would xpass)
    return zlib.crc32(case.id.encode()) % GRADIENT_SAMPLE[case.mode] != 0


def not_checked(op, case, reference) -> str | None:
    """Why this case's gradients are not checked, or None when they are."""
    if case.gradients_skip:
        return case.gradients_skip
    if op.no_gradients:
        return op.no_gradients
    if sampled_out(case):
        return (f"sampled out: the first of each sweep and one other {case.mode} case in {GRADIENT_SAMPLE[case.mode]} have "
                f"their gradient checked ({ALL_GRADIENTS_VARIABLE}=1 checks every one)")
    if compute_dtype(case.dtype) not in FLOAT_DTYPES:
        return "the case has no floating dtype"
    if case.expect.get("error"):
        return "the case expects an error"
    if case.calls != 1:
        return "a case of several calls judges state, not gradients"
    if case.isolate:
        return "a known crasher (isolate) runs its forward pass only"
    if reference.output is None or not np.issubdtype(np.asarray(reference.output).dtype, np.floating):
        return "no floating output"
    if not np.all(np.isfinite(reference.output)):
        return "the output is not finite everywhere: no finite difference there"
    return None


def add_to_verdict(verdict, keras, judged) -> None:
    """Add the gradient check's result to a passing forward verdict: metrics["gradients"], and a
    fail with its messages when tf.keras's gradient is wrong or cannot be computed. `keras` is
    the target's side (its `gradients` or `gradient_error`); `judged()` -> (messages, metrics)
    compares its gradients (`judge` with the check's forward and variables)."""
    if keras.gradient_error is not None:
        error = keras.gradient_error
        verdict.metrics["gradients"] = {"error": error, "failed": ["raised"]}
        verdict.status, verdict.message = "fail", f"gradients: tf.keras raised {error['type']} computing them: {error['message']}"
        return
    if keras.gradients is None:  # a target that computes no gradient (a stand-in in tests)
        verdict.metrics["gradients"] = {"not_checked": "the target gave no gradient"}
        return
    messages, metrics = judged()
    verdict.metrics["gradients"] = metrics
    if messages:
        verdict.status, verdict.message = "fail", "gradients: " + "; ".join(messages)


def cotangent(case, shape) -> np.ndarray:
    """v: normal(0, 1) over the output, rounded to the case dtype (both sides get the same v)."""
    return round_to(np.random.default_rng([case.seed, COTANGENT_STREAM]).normal(size=tuple(shape)), case.dtype)


def judge(case, forward, inputs: dict, weights: dict, keras_gradients: dict, v, value_at_point,
          forward_bound=None, tangent=None) -> tuple[list[str], dict]:
    """Compare tf.keras's gradients with the reference's directional derivatives.

    forward(inputs, weights) -> the reference's main output (float64), for dicts of the float
    inputs and weights (names as keras_gradients has them); `v` the cotangent both used;
    `value_at_point` the reference's output at the point (saves an evaluation per variable);
    `forward_bound` the op's per-element rounding bound of the output, if it has one;
    `tangent` maps an input's name to a projection of directions onto its documented domain
    (probabilities along an axis move only within their simplex): the derivative in other
    directions is not documented, so neither side is asked for it.
    Returns (messages, metrics): metrics["inputs"] and metrics["weights"] map each name to
    {keras, reference, error, allowed, ratio, fd_error, evaluations, one_sided, unresolved},
    "worst_input" / "worst_weight" name the largest ratio of each (error / allowed: above 1
    fails), "failed" lists the failing variables and "unresolved" those not judged."""
    messages, metrics = [], {"inputs": {}, "weights": {}}
    conditioning = 0.0
    if forward_bound is not None and np.max(np.abs(value_at_point), initial=0.0) > 0:
        conditioning = float(np.max(forward_bound) / np.max(np.abs(value_at_point)))
        metrics["conditioning"] = conditioning
    missing = sorted(set(keras_gradients["weights"]) - set(weights))
    if missing:
        messages.append(f"tf.keras has trainable weights the reference does not know: {', '.join(missing)}")
    disconnected = set(keras_gradients.get("disconnected", ()))
    for group, given in (("inputs", inputs), ("weights", weights)):
        for index, (name, g) in enumerate(sorted(keras_gradients[group].items())):
            if name not in given:
                continue
            u = np.random.default_rng([case.seed, DIRECTION_STREAM, index, *f"{group}/{name}".encode()]).normal(size=g.shape)
            if tangent and group == "inputs" and name in tangent:
                u = tangent[name](u)

            def f(w, group=group, name=name):
                moved = {name: w}
                return forward({**inputs, **moved}, weights) if group == "inputs" else forward(inputs, {**weights, **moved})

            entry = _compare(case, g, u, f, given[name], v, value_at_point, conditioning)
            metrics[group][name] = entry
            what = "input" if group == "inputs" else "weight"
            if f"{group}/{name}" in disconnected and _clearly_nonzero(entry):
                # "no gradient" is tf.keras saying the output does not depend on it: no rounding
                # allowance applies (in 16 bits the dtype's part of it can exceed the whole derivative)
                entry.update(disconnected=True, error=abs(entry["reference"]), allowed=DISCONNECTED_FD_FACTOR * entry["fd_error"],
                             ratio=abs(entry["reference"]) / max(DISCONNECTED_FD_FACTOR * entry["fd_error"], np.finfo(float).tiny))
                messages.append(f"gradient of {what} {name!r}: tf.keras gives none (no path from it to the output), the "
                                f"reference's directional derivative is {entry['reference']:.9g} (finite difference error "
                                f"{entry['fd_error']:.3g})")
            elif entry["ratio"] > 1:
                messages.append(
                    f"gradient of {what} {name!r}: tf.keras gives <g, u> = {entry['keras']:.9g}, the reference's "
                    f"directional derivative is {entry['reference']:.9g}"
                    + (f" (one-sided: between {entry['one_sided'][0]:.9g} and {entry['one_sided'][1]:.9g})" if entry["one_sided"] else "")
                    + f"; error {entry['error']:.3g}, allowed {entry['allowed']:.3g}")
    for group, label in (("inputs", "worst_input"), ("weights", "worst_weight")):
        if metrics[group]:
            name = max(metrics[group], key=lambda n: metrics[group][n]["ratio"])
            metrics[label] = {"name": name, "ratio": metrics[group][name]["ratio"]}
    metrics["failed"] = [f"{g}/{n}" for g in ("inputs", "weights") for n, e in metrics[g].items() if e["ratio"] > 1]
    metrics["unresolved"] = [f"{g}/{n}" for g in ("inputs", "weights") for n, e in metrics[g].items() if e["unresolved"]]
    return messages, metrics


def _clearly_nonzero(entry: dict) -> bool:
    """The reference's directional derivative is resolved and beyond its own error estimate."""
    if entry.get("unresolved") or entry.get("reference") is None or entry.get("one_sided"):
        return False
    return abs(entry["reference"]) > DISCONNECTED_FD_FACTOR * (entry.get("fd_error") or 0.0) and entry["reference"] != 0.0


def _compare(case, g, u, phi_output, point, v, value_at_point, conditioning=0.0) -> dict:
    keras_value, gradient_magnitude, l1 = gradient_dot(g, u)
    try:
        derivative = _resolve(phi_output, point, u, v, value_at_point, compute_dtype(case.dtype))
    except ValueError as exc:  # a non-finite value near the point: no finite difference
        return {"keras": keras_value, "reference": None, "unresolved": True, "note": str(exc)[:300],
                "error": None, "allowed": None, "ratio": 0.0, "one_sided": None}
    largest = format_of(compute_dtype(case.dtype)).largest
    if not np.isfinite(keras_value) and abs(derivative.value) > largest * l1:
        return {"keras": keras_value, "reference": derivative.value, "unresolved": False, "overflow": True,
                "note": f"the exact gradient has an element of magnitude at least |<v, J u>| / sum|u| = "
                        f"{abs(derivative.value) / l1:.3g}, beyond the largest {compute_dtype(case.dtype)} value {largest:.6g}",
                "error": None, "allowed": None, "ratio": 0.0, "one_sided": None}
    if not np.isfinite(gradient_magnitude):  # an inf or NaN in g: its error is inf, allowed what the reference's size allows
        gradient_magnitude = 0.0
    flat = case.tolerance and case.effective_tolerance
    extra = flat["atol"] * l1 + flat["rtol"] * gradient_magnitude if flat else 0.0
    ill_conditioned = conditioning * max(derivative.magnitude, gradient_magnitude)
    entry = {"keras": keras_value, "reference": derivative.value, "fd_error": derivative.error,
             "evaluations": derivative.evaluations, "one_sided": None, "unresolved": False}
    if derivative.converged or (not derivative.kinks and derivative.error < UNRESOLVED_FRACTION * derivative.magnitude):
        # not converged to the accuracy asked (a second derivative that jumps, as elu's at 0, in
        # float64: the estimate is then no bound) but with an error estimate well below the
        # sums' size: judged coarsely, to UNRESOLVED_FRACTION of that size
        entry["fd_converged"] = derivative.converged
        allowed = max(gradient_tolerance(derivative._replace(converged=True), compute_dtype(case.dtype), gradient_magnitude=gradient_magnitude,
                                         direction_l1=l1) + ill_conditioned, extra)
        if not derivative.converged:
            allowed = max(allowed, UNRESOLVED_FRACTION * max(derivative.magnitude, gradient_magnitude))
        error = abs(keras_value - derivative.value)
    elif derivative.kinks:
        # at a kink: between the one-sided derivatives, widened by the dtype's part of the tolerance
        low, high = sorted(derivative.one_sided)
        entry["one_sided"] = [low, high]
        dtype_part = gradient_tolerance(derivative._replace(error=0.0, converged=True), compute_dtype(case.dtype),
                                        gradient_magnitude=gradient_magnitude, direction_l1=l1)
        allowed = max(dtype_part + ill_conditioned + KINK_MARGIN * max(derivative.magnitude, gradient_magnitude), extra)
        error = max(low - keras_value, keras_value - high, 0.0)
    else:
        entry.update(unresolved=True, error=None, allowed=None, ratio=0.0)
        return entry
    if not np.isfinite(keras_value):
        error = float("inf")
    entry.update(error=error, allowed=allowed, ratio=error / allowed if allowed > 0 else (0.0 if error == 0 else float("inf")))
    return entry


def _resolve(f, point, u, v, value_at_point, dtype):
    """The directional derivative, retried once with a smaller step when it does not converge."""
    derivative = directional_derivative(f, point, u, v, value_at_point=value_at_point, rtol=fd_accuracy(dtype))
    if not derivative.converged:
        retry = directional_derivative(f, point, u, v, value_at_point=value_at_point, rtol=fd_accuracy(dtype),
                                       step=derivative.step / RETRY_STEP_DIVISOR)
        if retry.converged or retry.error < derivative.error:
            derivative = retry
    return derivative
