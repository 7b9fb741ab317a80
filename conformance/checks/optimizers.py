"""The optimizer check: an optimizer's variables, and the slot variables the documentation
names, after each of `calls` steps against the reference's update rule in float64.

The variables are the case's named `inputs` (or one variable `w` of `input_shape`), drawn
as any named input. Step k's gradient of each variable has its own stream (the variable's
name and k), normal(0.25, 1), rounded to the case dtype; both sides get the same numbers. The
reference continues from its own values, so an error that grows over the steps is seen where
it starts. Each variable and slot is compared element by element within the case's tolerance
(the dtype's default): a case's learning rate should make the updates of the order of the
variables (0.05 to 0.5), so that the tolerance on the variable is also one on the update.

The reference gets the case's numeric arguments (beta_2, epsilon, momentum, ...) as the case
dtype represents them, as it gets the inputs: a float32 optimizer cannot use 0.999, only
float32(0.999), whose 1 - beta_2 is off by 1.3e-5 relative, and that difference is the
argument's, not the rule's. In float64 they are as written (tf.keras rounding them to float32
there is a finding: optimizer-hyperparameters-float32, sgd-learning-rate-float32).

Which derived constants an implementation rounds is its own choice: tf.keras's float32 Adam
multiplies by float32(1 - 0.999) = 0.001 in the moments and uses float32(0.999) ** t in the
bias correction, whose 1 - beta_2 differs from 0.001 by 1.3e-5 relative. A decay rate b enters
the rule through 1 - b, so rounding b by u (the dtype's unit roundoff) moves 1 - b by up to
u b / (1 - b) relative, and the step by as much. Each element may therefore also differ by
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
        return decide(case, reference, keras, lambda: compare_steps(case, expected, keras.steps, variables, params))


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


def compare_steps(case: Case, expected: list, steps: list, initial: dict | None = None, params: dict | None = None) -> tuple[list[str], dict]:
    """Every variable and every slot tf.keras reports (under the reference's name) after each
    step, against the reference's, each element within the tolerance or its rounding bound."""
    tol = case.effective_tolerance
    unit = rounding.format_of(compute_dtype(case.dtype)).unit_roundoff
    k_u = unit * conditioning(params or {}) if not case.tolerance else 0.0
    moved = {name: np.zeros(np.shape(v)) for name, v in (initial or {}).items()}
    previous = dict(initial or {})
    messages, metrics = [], {"steps": []}
    if len(steps) != len(expected):
        return [f"tf.keras ran {len(steps)} steps, the case has {len(expected)}"], metrics
    worst = {"max_abs_error": 0.0, "max_rel_error": 0.0}
    for k, (want, got) in enumerate(zip(expected, steps), 1):
        step_metrics = {}
        pairs = []
        for name, value in want["variables"].items():
            if name in previous:
                moved[name] = moved[name] + np.abs(np.asarray(value) - previous[name])
            pairs.append((name, got["variables"].get(name), value, k_u * moved.get(name, 0.0)))
        previous = dict(want["variables"])
        for name, slots in want["slots"].items():
            for slot, value in slots.items():
                if slot in got["slots"].get(name, {}):
                    pairs.append((f"{name}/{slot}", got["slots"][name][slot], value, k_u * k * np.abs(value)))
        for label, actual, value, bound in pairs:
            if actual is None:
                messages.append(f"after step {k}: tf.keras has no variable {label!r}")
                continue
            value = np.asarray(value, np.float64)
            # the flat tolerance, or the rounding the steps accumulate where that is larger
            allowed = (np.maximum(tol["atol"] + tol["rtol"] * np.abs(np.where(np.isfinite(value), value, 0.0)),
                                  np.broadcast_to(bound, np.shape(value))) if k_u else None)
            result = compare_arrays(actual, value, rtol=tol["rtol"], atol=tol["atol"], bound=allowed)
            step_metrics[label] = {key: v for key, v in result.metrics.items() if key not in ("error_histogram", "error_map")}
            for key in ("max_abs_error", "max_rel_error"):
                worst[key] = max(worst[key], float(result.metrics.get(key) or 0.0))
            for key in ("n_elements", "n_nonfinite_mismatch"):  # summed, as conformance.checks.known reads them
                worst[key] = worst.get(key, 0) + int(result.metrics.get(key) or 0)
            if not result.ok:
                messages.append(f"{label} after step {k}: {result.message}")
        metrics["steps"].append(step_metrics)
    metrics.update(worst)
    return messages[:6] + ([f"... and {len(messages) - 6} more"] if len(messages) > 6 else []), metrics
