"""Run one case through the reference and tf.keras, and decide its status.

Statuses: pass; fail (a divergence: shape, values, or one side raising where the other
does not); error (the harness could not judge: the reference crashed, or disagrees with
the catalogue's own expectation); xfail / xpass (a recorded divergence that still
diverges / now agrees); skip.
"""
from __future__ import annotations

import re
import time
import traceback

import numpy as np

from conformance.catalogue.model import Case, input_shapes, referenced_inputs
from conformance.compare import compare_arrays
from conformance.ops import CustomOp, FunctionOp, InitializerOp, LayerOp, get_op
from conformance.ops.regularizers import reference_penalty
from conformance.runner import keras_side
from conformance.runner.inputs import make_input, make_named_input, make_weights, numpy_dtype
from conformance.runner.keras_side import SideOutcome, error_info


def call_arguments(case: Case, inputs=None) -> dict:
    """The case's call arguments for one call: "$name" is that call's input `name`; masks are
    boolean arrays (a list of them when their shapes differ, as Attention's [query, value])."""
    def resolve(value):
        if isinstance(value, str) and value.startswith("$"):
            return inputs[value[1:]]
        if isinstance(value, list) and any(isinstance(v, str) for v in value):
            return [resolve(v) for v in value]
        return value

    out = {}
    for key, value in case.call.items():
        value = resolve(value)
        if key.endswith("mask") and isinstance(value, list):
            try:
                value = np.asarray(value, dtype=bool)
            except ValueError:  # ragged: one mask per input
                value = [None if v is None else np.asarray(v, dtype=bool) for v in value]
        out[key] = value
    return out


def all_named_inputs(case: Case) -> list:
    """Every named input of the case, per call (the layer's and those `call` refers to)."""
    return [{name: make_named_input(name, spec, case.dtype, case.seed, i) for name, spec in case.inputs.items()}
            for i in range(case.calls)]


def make_inputs(case: Case, op=None, named: list | None = None) -> list:
    """The layer's input for each call, each from its own stream of the case seed: an
    array, or for an op with named inputs a dict name -> array in the case's order.
    `named`: the case's named inputs per call, when the caller already made them."""
    if case.inputs is None:
        return [
            make_input(case.input_shape, case.dtype, case.seed, case.input_values, call_index=i, distribution=case.input_distribution)
            for i in range(case.calls)
        ]
    for_call = referenced_inputs(case.call)
    calls = [{n: v for n, v in given.items() if n not in for_call} for given in (named or all_named_inputs(case))]
    if op is not None and op.input_names == ("x",):
        return [given["x"] for given in calls]
    return calls


def _named(x):
    """The inputs of a call as a dict, whatever form make_inputs gave them in."""
    return x if isinstance(x, dict) else {"x": x}


def _split_outputs(output) -> tuple:
    """A layer's result as (main output, {"output_1": ..., ...}) for layers returning several."""
    if isinstance(output, (tuple, list)):
        return np.asarray(output[0], dtype=np.float64), {f"output_{i}": np.asarray(o, dtype=np.float64) for i, o in enumerate(output[1:], 1)}
    return output, {}


def run_reference(op: LayerOp, case: Case, inputs: list, calls: list):
    """The reference side of a layer over the calls; a ValueError is the documented
    rejection of the arguments. Returns the outcome and the initial weights (which tf.keras
    gets too)."""
    try:
        shapes = op.predict_weights(case.params, input_shapes(op, case))
    except ValueError as exc:
        return SideOutcome(error=error_info(exc, "arguments")), {}
    weights = make_weights(shapes, case.dtype, case.seed, op.positive_weights)
    current = dict(weights)
    try:
        for x, call in zip(inputs, calls):
            at_call = dict(current)
            output, extras = _split_outputs(op.compute(x, current, case.params, call))
            if op.update_state is not None:
                current.update(op.update_state(x, current, case.params, call))
        state = {name: current[name] for name in op.state if name in current}
        state.update(extras)
        if regularized(case.params):
            state["losses"] = np.float64(_reference_losses(case.params, at_call, output))
    except ValueError as exc:
        return SideOutcome(error=error_info(exc, "call")), weights
    return SideOutcome(output=output, state=state), weights


def regularized(params: dict) -> bool:
    return any(k.endswith("_regularizer") and v is not None for k, v in params.items())


def _reference_losses(params: dict, weights: dict, output) -> float:
    """The documented sum behind layer.losses: each weight regularizer's penalty of its
    weight, plus the activity regularizer's penalty of the output divided by the batch size
    ("so that the relative weighting ... does not change with the batch size")."""
    total = 0.0
    for key, identifier in params.items():
        penalty = reference_penalty(identifier) if key.endswith("_regularizer") else None
        if penalty is None:
            continue
        if key == "activity_regularizer":
            total += penalty(output) / output.shape[0]
            continue
        base = key[: -len("_regularizer")]
        name = next((n for n in (base, f"{base}_kernel", "kernel") if n in weights), None)
        if name is None:
            raise ValueError(f"{key} has no weight to regularize among {sorted(weights)}")
        total += penalty(weights[name])
    return total


def run_function_sides(op: FunctionOp, case: Case):
    """Both sides of a function op (an activation, a regularizer's penalty) on one input."""
    (x,) = make_inputs(case)[:1]
    try:
        reference = SideOutcome(output=np.asarray(op.compute(x, case.params), dtype=np.float64))
    except ValueError as exc:
        reference = SideOutcome(error=error_info(exc, "call"))
    return reference, keras_side.run_function(op, case, x)


def run_layer_sides(op: LayerOp, case: Case):
    named = all_named_inputs(case) if case.inputs else None
    inputs = make_inputs(case, op, named)
    calls = [call_arguments(case, n) for n in (named or [_named(x) for x in inputs])]
    reference, weights = run_reference(op, case, inputs, calls)
    # When the reference rejects the arguments there are no weights to set: tf.keras is just tried.
    run_keras = keras_side.run_layer_isolated if case.isolate else keras_side.run_layer
    keras = run_keras(op, case, inputs, weights if reference.error is None else None, calls)
    return reference, keras


RUN_SIDES = {LayerOp: run_layer_sides, FunctionOp: run_function_sides}


def run_case(case: Case) -> dict:
    started = time.perf_counter()
    record = base_record(case)
    if case.skip:
        record.update(status="skip", message=case.skip)
    else:
        try:
            status, message, metrics, outcome = _judge(case)
        except Exception:  # a bug in the reference or the harness is reported, never fatal
            status, message, metrics, outcome = "error", "harness error:\n" + traceback.format_exc(limit=6), None, {}
        if case.xfail and status in ("fail", "pass"):
            status = "xfail" if status == "fail" else "xpass"
            if status == "xpass":
                message = f"recorded divergence no longer diverges ({case.xfail['reason']})"
        record.update(status=status, message=message, metrics=metrics, outcome=outcome)
    record["duration_s"] = round(time.perf_counter() - started, 6)
    return record


def base_record(case: Case, op_family: str | None = None) -> dict:
    try:
        family = get_op(case.op).family
    except KeyError:
        family = op_family or "unknown"
    return {
        "id": case.id,
        "op": case.op,
        "family": family,
        "file": case.file,
        "line": case.line,
        "name": case.name,
        "params": case.params,
        "swept": case.swept,
        "dtype": case.dtype,
        "input_shapes": ({n: list(spec["shape"]) if "shape" in spec else list(np.shape(spec["values"])) for n, spec in case.inputs.items()}
                         if case.inputs else {"x": list(case.input_shape)}),
        "inputs": case.inputs,
        "custom": case.custom,
        "reference": case.reference,
        "kernel_of": case.kernel_of,
        "via_layer": case.via_layer,
        "isolate": case.isolate,
        "input_values": case.input_values,
        "input_distribution": case.input_distribution,
        "call": case.call,
        "calls": case.calls,
        "seed": case.seed,
        "expected": case.expect,
        "tolerance": case.effective_tolerance,
        "xfail": case.xfail,
        "tags": list(case.tags),
        "status": "error",
        "message": "",
        "metrics": None,
        "outcome": {},
    }


def _side_summary(side: SideOutcome) -> dict:
    return {"output_shape": side.shape, "error": side.error}


def _raised(side: SideOutcome, expected: str, pattern: str | None) -> bool:
    if side.error is None:
        return False
    names = [side.error["type"], *side.error["bases"]]
    if expected != "Exception" and expected not in names:
        return False
    return pattern is None or re.search(pattern, side.error["message"]) is not None


def _describe(side: SideOutcome) -> str:
    if side.error:
        return f"raised {side.error['type']} during {side.error['phase']}: {side.error['message']}"
    return f"returned shape {side.shape}"


def _judge(case: Case):
    op = get_op(case.op)
    if isinstance(op, InitializerOp):
        return judge_initializer(op, case)
    if isinstance(op, CustomOp):
        from conformance.runner.custom_objects import judge_custom

        return judge_custom(op, case)
    if isinstance(op, LayerOp) and op.stochastic and case.call.get("training"):
        from conformance.runner.stochastic import judge_stochastic

        return judge_stochastic(op, case)
    reference, keras = RUN_SIDES[type(op)](op, case)
    outcome = {"reference": _side_summary(reference), "keras": _side_summary(keras)}

    expected_error = case.expect.get("error")
    if expected_error:
        pattern = case.expect.get("match")
        if not _raised(reference, expected_error, None):
            return "error", f"the reference does not raise {expected_error} as the case expects: it {_describe(reference)}", None, outcome
        if _raised(keras, expected_error, pattern):
            return "pass", "", None, outcome
        wanted = expected_error + (f" matching {pattern!r}" if pattern else "")
        return "fail", f"expected {wanted} (the reference rejects: {reference.error['message']}); tf.keras {_describe(keras)}", None, outcome

    if reference.error:
        return "error", f"the reference rejects the arguments: {reference.error['message']}", None, outcome
    expected_shape = case.expect.get("output_shape")
    if expected_shape is not None and list(reference.output.shape) != expected_shape:
        return "error", f"the reference gives shape {list(reference.output.shape)} but the case expects {expected_shape}", None, outcome
    if keras.error:
        return "fail", f"tf.keras {_describe(keras)}; the reference accepts these arguments", None, outcome
    tol = case.effective_tolerance
    expected = representable(reference.output, case.dtype)
    result = compare_arrays(keras.output, expected, rtol=tol["rtol"], atol=tol["atol"], map_axes=_map_axes(case, keras.output.ndim))
    messages = [] if result.ok else [result.message]
    metrics = result.metrics
    if reference.state:
        # state variables after the last call, and the layer's regularization losses, are
        # judged like the output
        metrics["state"] = {}
        for name, expected in reference.state.items():
            if name not in keras.state:
                messages.append(f"{name}: tf.keras has no such variable")
                continue
            r = compare_arrays(keras.state[name], expected, rtol=tol["rtol"], atol=tol["atol"])
            metrics["state"][name] = {k: v for k, v in r.metrics.items() if k != "error_histogram"}
            if not r.ok:
                messages.append(f"{name} after {case.calls} call(s): {r.message}")
    return ("fail" if messages else "pass"), "; ".join(messages), metrics, outcome


MAX_DRAWS = 4096  # initializer calls per case: small variables get fewer samples than the target
LAYER_DRAWS = 32  # layers built per via_layer case


def judge_initializer(op: InitializerOp, case: Case):
    """Sample tf.keras's initializer and judge the samples against the documented
    distribution: exactly for constants and Identity, by statistics otherwise
    (conformance.checks.distribution: bounds, Kolmogorov-Smirnov, mean, std), plus
    Orthogonal's defining property, repeatability under a seed, and (via_layer) the same
    values through a layer's kernel_initializer."""
    from conformance.checks.distribution import check_samples, sample_size
    from reference_impl.initializers import identity_matrix, is_orthogonal

    shape = tuple(case.input_shape)
    size = max(1, int(np.prod(shape)))
    try:
        dist = op.distribution(case.params, shape)
        reference = SideOutcome(output=np.zeros(0))
    except ValueError as exc:
        dist, reference = None, SideOutcome(error=error_info(exc, "arguments"))
    deterministic = dist is not None and dist.kind in ("constant", "identity")
    draws = 2 if dist is None or deterministic else min(MAX_DRAWS, max(2, -(-sample_size(dist=dist) // size)))
    seeds = [case.seed * MAX_DRAWS + i for i in range(draws)]
    keras = keras_side.draw_initializer(op, case, shape, seeds)
    outcome = {
        "reference": {"output_shape": None if dist is None else list(shape), "error": reference.error,
                      "distribution": None if dist is None else dist.kind},
        "keras": {"output_shape": None if keras.output is None else list(keras.output.shape[1:]), "error": keras.error},
    }
    expected_error = case.expect.get("error")
    if expected_error:
        if dist is not None:
            return "error", f"the reference does not raise {expected_error} as the case expects", None, outcome
        if _raised(keras, expected_error, case.expect.get("match")):
            return "pass", "", None, outcome
        return "fail", f"expected {expected_error} (the reference rejects: {reference.error['message']}); tf.keras {_describe(keras)}", None, outcome
    if dist is None:
        return "error", f"the reference rejects the arguments: {reference.error['message']}", None, outcome
    if keras.error:
        return "fail", f"tf.keras {_describe(keras)}; the reference accepts these arguments", None, outcome

    samples, messages = keras.output, []
    metrics = {"draws": draws, "n_samples": int(samples.size)}
    if deterministic:
        expected = (identity_matrix(shape, dist.gain) if dist.kind == "identity" else np.full(shape, dist.value))
        expected = representable(np.broadcast_to(expected, samples.shape).astype(np.float64), case.dtype)
        tol = case.effective_tolerance
        result = compare_arrays(samples, expected, rtol=tol["rtol"], atol=tol["atol"])
        metrics.update(result.metrics)
        if not result.ok:
            messages.append(result.message)
    else:
        check = check_samples(samples, dist)
        metrics.update(check.metrics)
        if not check.ok:
            messages.append(check.message)
        if dist.kind == "orthogonal":
            # the defining property, each draw: W W^T (or W^T W) = gain^2 I within 10 atol
            atol = 10 * case.effective_tolerance["atol"] * max(1.0, dist.gain**2)
            bad = sum(not is_orthogonal(d, dist.gain, atol) for d in samples)
            metrics["non_orthogonal_draws"] = bad
            if bad:
                messages.append(f"{bad} of {draws} draws are not orthogonal with gain {dist.gain} (atol {atol:g})")
    if not keras.state["repeat_same_object"]:
        messages.append("the seeded initializer gave different values when called twice")
    if not keras.state["repeat_new_object"]:
        messages.append("two initializers with the same seed gave different values")
    if case.via_layer:
        layer = keras_side.draw_layer_kernels(op, case, seeds[:LAYER_DRAWS])
        if layer.error:
            messages.append(f"through {case.kernel_of['op']}: tf.keras {_describe(layer)}")
        elif not np.array_equal(layer.output, samples[:LAYER_DRAWS]):
            # not the same values: then at least the same distribution
            check = check_samples(layer.output, dist) if not deterministic else None
            metrics["via_layer_identical"] = False
            if check is not None and not check.ok:
                messages.append(f"through {case.kernel_of['op']}'s kernel_initializer: {check.message}")
        else:
            metrics["via_layer_identical"] = True
    return ("fail" if messages else "pass"), "; ".join(messages), metrics, outcome


def representable(reference, dtype: str):
    """The reference as the case dtype can hold it at the top: a float64 value beyond the
    dtype's largest finite number is, correctly rounded, an infinity (exp(89) in float32)."""
    rounded = reference.astype(numpy_dtype(dtype)).astype(np.float64) if dtype != "float64" else reference
    with np.errstate(invalid="ignore"):
        overflow = np.isinf(rounded) & np.isfinite(reference)
    return np.where(overflow, rounded, reference) if np.any(overflow) else reference


def _map_axes(case: Case, ndim: int):
    """The two axes a heat map of the error is drawn over: the first two spatial axes
    (batch x length for 1-D layers), by the case's data_format."""
    if ndim < 2:
        return None
    first = case.params.get("data_format") == "channels_first"
    if ndim >= 4:
        return (2, 3) if first else (1, 2)
    if ndim == 3:
        return (0, 2) if first else (0, 1)
    return (0, 1)
