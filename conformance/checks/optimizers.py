"""The optimizer check: an optimizer's variables, and the slot variables the documentation
names, after each of `calls` steps against the reference's update rule in float64.

The variables are the case's named `inputs` (or one variable `w` of `input_shape`), drawn
as any named input. Step k's gradient of each variable has its own stream (the variable's
name and k), normal(0.25, 1), rounded to the case dtype; both sides get the same numbers. The
reference continues from its own values, so an error that grows over the steps is seen where
it starts. Each variable and slot is compared element by element within the op's error bound
(reference_impl.optimizers.error_bound: a running error analysis of each documented step in the
case's format, carried from step to step as the implementation continues from its own values)
times BOUND_FACTOR for the dtype, unless the case states its own `tolerance`. An element the
bound leaves infinite (a quotient whose denominator may be 0 within its error) is judged by the
tolerance, and the record counts it (n_unbounded). The bound is derived for the reference's own
values: where the target's reference is another (Keras 2's EMA starts from the initial value),
the tolerance judges and the record says why (bound_not_used).

Without a bound (a case's own tolerance, or an op with none) the tolerance (the dtype's
default) judges: a case's learning rate should make the updates of the order of the variables
(0.05 to 0.5), so that the tolerance on the variable is also one on the update.

The reference gets the case's numeric arguments (beta_2, epsilon, momentum, ...) as the case
dtype represents them, as it gets the inputs: a float32 optimizer cannot use 0.999, only
float32(0.999), whose 1 - beta_2 is off by 1.3e-5 relative, and that difference is the
argument's, not the rule's. In float64 they are as written (tf.keras rounding them to float32
there is a finding: optimizer-hyperparameters-float32, sgd-learning-rate-float32).

Under the tolerance, which derived constants an implementation rounds is its own choice:
tf.keras's float32 Adam multiplies by float32(1 - 0.999) = 0.001 in the moments and uses
float32(0.999) ** t in the bias correction, whose 1 - beta_2 differs from 0.001 by 1.3e-5
relative (the error bound counts the same choice in reference_impl.optimizers.average). A
decay rate b enters the rule through 1 - b, so rounding b by u (the dtype's unit roundoff)
moves 1 - b by up to u b / (1 - b) relative, and the step by as much. Each element may therefore also differ by
its `rounding_bound`: u * K * (the sum of |update| over the steps so far), K the sum of
b / (1 - b) over the decay rates of the case (beta_1, beta_2, rho, momentum, ema_momentum; a
wrapped optimizer's too; for MultiOptimizer the largest K of its optimizers);
for Adam's defaults in float32, K u = 6e-5 of each update (in float64 1e-13, so float64 cases
are still judged to float64's tolerance). A slot may differ by u K steps |slot|.
"""
from __future__ import annotations

import numpy as np

from conformance.catalogue.model import Case, compute_dtype
from conformance.checks.verdict import Verdict, decide
from conformance.compare import compare_arrays
from conformance.ops.bounds import BOUND_FACTOR
from conformance.outcome import SideOutcome, Timings, error_info
from conformance.runner.inputs import make_named_input, round_to
from reference_impl import rounding
from reference_impl.optimizers import arguments


def optimizer_inputs(case: Case) -> tuple[dict, list]:
    """(variables {name: array}, per step {name: gradient}), rounded to the case dtype."""
    specs = case.inputs or {"w": {"shape": list(case.input_shape)}}
    variables = {name: make_named_input(name, spec, case.dtype, case.seed) for name, spec in specs.items()}
    gradients = [{name: make_named_input(f"{name}/gradient", {"shape": list(v.shape)}, case.dtype, case.seed, call_index=k + 1)
                  for name, v in variables.items()} for k in range(case.calls)]
    return variables, gradients


def in_dtype(params: dict, dtype: str) -> dict:
    """The numbers among the arguments (and an inner optimizer's, a schedule's) rounded to
    `dtype`; integers (steps, frequencies) and flags as they are."""
    def rounded(value):
        if isinstance(value, float):
            return float(round_to(value, dtype))
        if isinstance(value, dict):
            return {k: rounded(v) for k, v in value.items()}
        if isinstance(value, list):
            return [rounded(v) for v in value]
        return value
    return rounded(params)


def with_defaults(op, params: dict) -> dict:
    """The case's arguments with every default written out (an inner optimizer's too), so that
    the defaults are rounded to the dtype as the given arguments are."""
    out = op.arguments(params)
    for key in ("inner_optimizer", "default_optimizer"):
        if isinstance(out.get(key), dict):
            out[key] = _written_out(out[key])
    if isinstance(out.get("optimizer_map"), dict):  # MultiOptimizer's {pattern: optimizer}
        out["optimizer_map"] = {k: _written_out(o) for k, o in out["optimizer_map"].items()}
    return out


def _written_out(inner: dict) -> dict:
    return {**inner, "config": arguments(inner["class_name"], inner.get("config", {}))}


def inner_configs(params: dict) -> list[dict]:
    """The configs of the optimizers a wrapper holds: LossScaleOptimizer's inner_optimizer,
    MultiOptimizer's default_optimizer and the optimizers of its optimizer_map."""
    inners = [params.get("inner_optimizer"), params.get("default_optimizer"),
              *(params.get("optimizer_map") or {}).values()]
    return [inner.get("config", {}) for inner in inners if isinstance(inner, dict)]


def judge(op, case: Case, target, timings: Timings) -> Verdict:
    variables, gradients = optimizer_inputs(case)
    with timings("reference"):
        try:
            expected = op.compute(variables, gradients, in_dtype(with_defaults(op, case.params), case.dtype))
            reference = SideOutcome(output=np.zeros(0))
        except (ValueError, TypeError, KeyError) as exc:  # the documented rejection of the arguments
            expected, reference = None, SideOutcome(error=error_info(exc, "arguments"))
    keras = target.run_optimizer(op, case, variables, gradients, timings)
    if keras.error is None and keras.output is None:
        keras.output = np.zeros(0)
    with timings("judge"):
        params = in_dtype(with_defaults(op, case.params), case.dtype)
        bounds = step_bounds(op, case, variables, gradients, params) if expected is not None else None
        return decide(case, reference, keras, lambda: compare_steps(case, expected, keras.steps, variables, params, bounds))


def step_bounds(op, case: Case, variables: dict, gradients: list, params: dict) -> list | None:
    """The op's error bound of each step's variables and slots in the case's format (None: the
    op has none, the case states its own tolerance, or the bound is not derived for these
    arguments)."""
    if op.error_bound is None or case.tolerance or not case.dtype:
        return None
    return op.error_bound(variables, gradients, params, rounding.format_of(compute_dtype(case.dtype)))


DECAY_RATES = ("beta_1", "beta_2", "rho", "momentum", "ema_momentum")


def conditioning(params: dict) -> float:
    """K of the module docstring: sum of b / (1 - b) over the decay rates (an inner optimizer's
    too; for MultiOptimizer the largest over its optimizers, each variable having one)."""
    def k_of(source):
        return sum(b / (1 - b) for k, b in source.items() if k in DECAY_RATES and isinstance(b, (int, float)) and 0 < b < 1)
    inners = inner_configs(params)
    if "default_optimizer" in params:
        return max(k_of(config) for config in inners)
    return k_of(params) + sum(k_of(config) for config in inners)


def _bound_applies(bounds: list | None, expected: list) -> str | None:
    """Why the error bound cannot judge these steps (None: it can): it is derived for the
    reference's own values, and another reference (Keras 2's EMA) is not what it carried."""
    if bounds is None:
        return "no error bound for these arguments"
    if len(bounds) != len(expected):
        return "the error bound has another number of steps"
    for want, bound in zip(expected, bounds):
        for name, value in want["variables"].items():
            carried = bound.get("values", {}).get(name)
            if carried is None or not np.allclose(carried, value, rtol=1e-9, atol=1e-12, equal_nan=True):
                return f"the error bound is derived for other values of {name!r} than the reference's"
    return None


def compare_steps(case: Case, expected: list, steps: list, initial: dict | None = None, params: dict | None = None,
                  bounds: list | None = None) -> tuple[list[str], dict]:
    """Every variable and every slot tf.keras reports (under the reference's name) after each
    step, against the reference's, each element within the op's error bound (`bounds`, per step,
    times BOUND_FACTOR for the dtype) where it has one, else within the tolerance or its rounding
    bound. An element whose bound is infinite (a denominator that may be 0 within its error:
    a 16-bit second moment below its own rounding) is judged by the tolerance, and counted in
    n_unbounded."""
    tol = case.effective_tolerance
    dtype = compute_dtype(case.dtype)
    unit = rounding.format_of(dtype).unit_roundoff
    k_u = unit * conditioning(params or {}) if not case.tolerance else 0.0
    unusable = _bound_applies(bounds, expected) if not case.tolerance and bounds is not None else "no bound"
    factor = BOUND_FACTOR.get(dtype, 1.0)
    moved = {name: np.zeros(np.shape(v)) for name, v in (initial or {}).items()}
    previous = dict(initial or {})
    messages, metrics = [], {"steps": []}
    if len(steps) != len(expected):
        return [f"tf.keras ran {len(steps)} steps, the case has {len(expected)}"], metrics
    worst = {"max_abs_error": 0.0, "max_rel_error": 0.0}
    by_bound = {"compared": 0, "bound": 0, "max_bound_ratio": 0.0, "error_bound_max": 0.0, "n_unbounded": 0}
    for k, (want, got) in enumerate(zip(expected, steps), 1):
        step_metrics = {}
        pairs = []
        derived = bounds[k - 1] if unusable is None else {}
        for name, value in want["variables"].items():
            if name in previous:
                moved[name] = moved[name] + np.abs(np.asarray(value) - previous[name])
            pairs.append((name, got["variables"].get(name), value, k_u * moved.get(name, 0.0),
                          derived.get("variables", {}).get(name)))
        previous = dict(want["variables"])
        for name, slots in want["slots"].items():
            for slot, value in slots.items():
                if slot in got["slots"].get(name, {}):
                    pairs.append((f"{name}/{slot}", got["slots"][name][slot], value, k_u * k * np.abs(value),
                                  derived.get("slots", {}).get(name, {}).get(slot)))
        for label, actual, value, rounding_bound, error_bound in pairs:
            if actual is None:
                messages.append(f"after step {k}: tf.keras has no variable {label!r}")
                continue
            value = np.asarray(value, np.float64)
            tolerance = tol["atol"] + tol["rtol"] * np.abs(np.where(np.isfinite(value), value, 0.0))
            if error_bound is not None and np.shape(error_bound) == np.shape(value):
                # the op's bound judges; an element it does not bound (inf) keeps the tolerance
                scaled = factor * np.asarray(error_bound, np.float64)
                finite = np.isfinite(scaled)
                allowed = np.where(finite, scaled, tolerance)
                unbounded = int(np.size(finite) - np.count_nonzero(finite))
            else:
                # the flat tolerance, or the rounding the steps accumulate where that is larger
                allowed = np.maximum(tolerance, np.broadcast_to(rounding_bound, np.shape(value))) if k_u else None
                unbounded = None
            result = compare_arrays(actual, value, rtol=tol["rtol"], atol=tol["atol"], bound=allowed)
            if unbounded is None and allowed is not None:
                # the tolerance widened by the rounding bound: judged by the tolerance
                result.metrics["judged_by"] = "tolerance"
                result.metrics.pop("max_bound_ratio", None)
                result.metrics.pop("error_bound_max", None)
            step_metrics[label] = {key: v for key, v in result.metrics.items() if key not in ("error_histogram", "error_map")}
            by_bound["compared"] += 1
            if unbounded is not None:
                step_metrics[label]["n_unbounded"] = unbounded
                by_bound["bound"] += 1
                by_bound["n_unbounded"] += unbounded
                ratio = result.metrics.get("max_bound_ratio")
                by_bound["max_bound_ratio"] = max(by_bound["max_bound_ratio"], float("inf") if ratio == "inf" else float(ratio or 0.0))
                if np.any(finite):
                    by_bound["error_bound_max"] = max(by_bound["error_bound_max"], float(np.max(scaled[finite])))
            for key in ("max_abs_error", "max_rel_error"):
                worst[key] = max(worst[key], float(result.metrics.get(key) or 0.0))
            for key in ("n_elements", "n_nonfinite_mismatch"):  # summed, as conformance.checks.known reads them
                worst[key] = worst.get(key, 0) + int(result.metrics.get(key) or 0)
            if not result.ok:
                messages.append(f"{label} after step {k}: {result.message}")
        metrics["steps"].append(step_metrics)
    metrics.update(worst)
    if by_bound["bound"]:
        metrics.update(judged_by="bound", max_bound_ratio=_rounded(by_bound["max_bound_ratio"]),
                       error_bound_max=by_bound["error_bound_max"], n_unbounded=by_bound["n_unbounded"],
                       n_judged_by_bound=by_bound["bound"], n_compared=by_bound["compared"])
    else:
        metrics.update(judged_by="tolerance", **({"bound_not_used": unusable} if unusable not in (None, "no bound") else {}))
    return messages[:6] + ([f"... and {len(messages) - 6} more"] if len(messages) > 6 else []), metrics


def _rounded(ratio: float):
    """As compare_arrays records a ratio: three digits, "inf" when infinite."""
    return "inf" if not np.isfinite(ratio) else float(f"{ratio:.3g}")
