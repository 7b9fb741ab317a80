"""The values check: a layer's or a function's output, further outputs, state variables
after the calls and regularization losses, element by element against the float64
reference: the output within the op's error bound in the case's format (conformance.ops.bounds)
where it has one, else within the case's tolerance; the rest within the tolerance. Under a
mixed precision policy the output's and the variables' dtypes are checked too. In a compiled mode the target also reports its
eager output, and metrics.vs_eager says how far the mode moved from it. A layer case's
gradients are checked too (gradients.py), and in eager mode its copies through its config,
Keras serialization and a .keras file (serialization.py)."""
from __future__ import annotations

import numpy as np

from conformance.axes import MODES
from conformance.checks import gradients, serialization
from conformance.checks.verdict import Verdict, decide
from conformance.compare import compare_arrays
from conformance.diagnosis import Evaluation, diagnose
from conformance.ops import FunctionOp, LayerOp
from conformance.ops import bounds
from conformance.ops.bounds import BOUND_FACTOR
from conformance.ops.regularizers import penalty_error_bound, reference_penalty
from conformance.outcome import SideOutcome, Timings, error_info
from conformance.runner.inputs import layer_feeds, make_inputs, make_weights, numpy_dtype
from conformance.catalogue.model import POLICIES, Case, compute_dtype, input_shapes
from reference_impl import rounding


def judge(op, case: Case, target, timings: Timings) -> Verdict:
    if isinstance(op, FunctionOp):
        (x,) = make_inputs(case)[:1]
        with timings("reference"):
            reference = run_function_reference(op, case, x)
            reference.error_bound = error_bound(op, case, x, {}, {}, reference.output)
        v, not_checked = _cotangent(op, case, reference)
        keras = target.run_function(op, case, x, timings, **({"cotangent": v} if v is not None else {}))
        weights, call = {}, {}

        def forward(inputs, weights):
            return np.asarray(op.compute(inputs["x"], case.params), dtype=np.float64)
    else:
        inputs, calls = layer_feeds(case, op)
        with timings("reference"):
            reference, weights = run_reference(op, case, inputs, calls)
        v, not_checked = _cotangent(op, case, reference)
        # When the reference rejects the arguments there are no weights to set: tf.keras is just tried.
        run = target.run_layer_isolated if case.isolate else target.run_layer
        keras = run(op, case, inputs, weights if reference.error is None else None, calls, timings,
                    **({"cotangent": v} if v is not None else {}))
        x, call = inputs[0], calls[0]

        def forward(inputs, weights):
            # the moved float inputs over the case's own (integer ids and masks stay as they are)
            given = {**(x if isinstance(x, dict) else {"x": x}), **inputs}
            return split_outputs(op.compute(given["x"] if op.input_names == ("x",) else given, weights, case.params, call))[0]
    with timings("judge"):
        verdict = decide(case, reference, keras, lambda: compare_outputs(case, reference, keras, op))
    if v is not None and verdict.status == "pass":
        with timings("reference gradient"):
            _judge_gradients(verdict, op, case, forward, x, weights, keras, v, reference)
    elif verdict.metrics is not None:
        verdict.metrics["gradients"] = {"not_checked": not_checked or "the forward values diverge"}
        if v is not None and verdict.status == "fail" and keras.output is not None and gradients.behind_failures():
            with timings("reference gradient"):
                verdict.metrics["gradients"]["behind_failure"] = _gradients_behind_failure(
                    op, case, forward, x, weights, keras, v, reference)
    if verdict.status == "fail" and reference.output is not None and keras.output is not None and verdict.metrics:
        # both sides returned and the values differ: what mistake reproduces it? A later call
        # starts from changed state, so only a single call is re-evaluated under the hypotheses.
        evaluation = Evaluation(op, x, weights, case.params, call, reference.output, case.dtype) if case.calls == 1 else None
        with timings("diagnose"):
            diagnosis = diagnose(case, reference, keras, evaluation)
        verdict.diagnosis = diagnosis
    if isinstance(op, LayerOp) and verdict.metrics is not None:
        # the layer's copies (from its config, serialization, a .keras file) against the layer itself
        serialization.judge(verdict, keras.serialization)
    return verdict


def _cotangent(op, case: Case, reference: SideOutcome):
    """(the cotangent of the gradient check, None) or (None, why it is not checked)."""
    why = gradients.not_checked(op, case, reference)
    return (None, why) if why else (gradients.cotangent(case, np.shape(reference.output)), None)


def _judge_gradients(verdict: Verdict, op, case: Case, forward, x, weights: dict, keras: SideOutcome, v, reference: SideOutcome) -> None:
    """The gradient check of a layer or function case, with respect to its float inputs and weights."""
    named = x if isinstance(x, dict) else {"x": x}
    float_inputs = {n: a for n, a in named.items() if np.issubdtype(np.asarray(a).dtype, np.floating)}
    # The gradient check widens by the forward bound's relative size only for the standardizing
    # layers, whose ill-conditioned statistics it was calibrated on (gradients.py)
    widening = reference.error_bound if bounds.widens_gradient(op.error_bound) and not case.tolerance else None
    gradients.add_to_verdict(verdict, keras, lambda: gradients.judge(
        case, forward, float_inputs, weights, keras.gradients, v, reference.output, widening))


def _gradients_behind_failure(op, case: Case, forward, x, weights: dict, keras: SideOutcome, v, reference: SideOutcome) -> dict:
    """The gradient check of a case whose forward failed, as a record apart (gradients.BEHIND_FAILURES_VARIABLE):
    its metrics and messages, the case's own verdict untouched."""
    shadow = Verdict(status="pass", metrics={})
    _judge_gradients(shadow, op, case, forward, x, weights, keras, v, reference)
    return {**shadow.metrics["gradients"], "messages": shadow.message}


def run_function_reference(op: FunctionOp, case: Case, x) -> SideOutcome:
    try:
        return SideOutcome(output=np.asarray(op.compute(x, case.params), dtype=np.float64))
    except (ValueError, TypeError) as exc:  # the documented rejection of the arguments (a wrong type: TypeError)
        return SideOutcome(error=error_info(exc, "call"))


def split_outputs(output) -> tuple:
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
    except (ValueError, TypeError) as exc:
        return SideOutcome(error=error_info(exc, "arguments")), {}
    weights = make_weights(shapes, case.dtype, case.seed, op.positive_weights)
    current = dict(weights)
    try:
        for x, call in zip(inputs, calls):
            at_call = dict(current)
            output, extras = split_outputs(op.compute(x, current, case.params, call))
            if op.update_state is not None:
                current.update(op.update_state(x, current, case.params, call))
        state = {name: current[name] for name in op.state if name in current}
        state.update(extras)
        if regularized(case.params):
            state["losses"] = np.float64(reference_losses(case.params, at_call, output))
        bound, state_bounds = error_bounds(op, case, x, at_call, call, output, state,
                                           history=(weights, list(zip(inputs, calls))))
    except (ValueError, TypeError) as exc:
        return SideOutcome(error=error_info(exc, "call")), weights
    return SideOutcome(output=output, state=state, error_bound=bound, state_bounds=state_bounds), weights


def error_bound(op, case: Case, x, weights: dict, call: dict, output):
    """The op's per-element error bound of the main output (error_bounds; the bounds an op
    gives of further outputs are not looked at)."""
    return error_bounds(op, case, x, weights, call, output, None)[0]


def error_bounds(op, case: Case, x, weights: dict, call: dict, output, state: dict | None, history=None):
    """(bound of the main output, {state name: bound}): the op's per-element error bounds for
    this case's inputs in the case's format, times the dtype's BOUND_FACTOR. An op may bound its
    further outputs and state too (LayerOp.error_bound returning a dict by name); a bound of
    state after several calls gets their history, (initial weights, [(x, call), ...])
    (bounds.takes_history). The regularizers' losses are bounded here for every layer
    (losses_error_bound). None, and no entry, where the op has none for these arguments, or
    the case states its own `tolerance` (which then judges instead)."""
    if op.error_bound is None or case.tolerance or not case.dtype or output is None:
        return None, {}
    fmt = rounding.format_of(compute_dtype(case.dtype))
    extra = {"history": history} if history is not None and bounds.takes_history(op.error_bound) else {}
    bound = op.error_bound(x, weights, case.params, call, fmt, output=output, **extra)
    by_name = dict(bound) if isinstance(bound, dict) else {"output": bound}
    factor = BOUND_FACTOR[compute_dtype(case.dtype)]

    def scaled(b, like):
        return None if b is None else factor * np.broadcast_to(np.asarray(b, dtype=np.float64), np.shape(like))

    if state is None:
        return scaled(by_name.get("output"), output), {}
    if "losses" in state and "losses" not in by_name:  # the regularizers' penalties (reference_losses)
        by_name["losses"] = losses_error_bound(case.params, weights, output, by_name.get("output"), fmt)
    unknown = sorted(set(by_name) - {"output"} - set(state))
    if unknown:  # a bound for an output the layer does not return is a bug of the op's mapping
        raise RuntimeError(f"{op.name}.error_bound names {unknown}, not among its outputs and state {sorted(state)}")
    return scaled(by_name.get("output"), output), {n: scaled(b, state[n]) for n, b in by_name.items()
                                                   if n != "output" and b is not None}


def regularized(params: dict) -> bool:
    return any(k.endswith("_regularizer") and v is not None for k, v in params.items())


def reference_losses(params: dict, weights: dict, output) -> float:
    """The documented sum behind layer.losses: each weight regularizer's penalty of its
    weight, plus the activity regularizer's penalty of the output divided by the batch size
    ("so that the relative weighting ... does not change with the batch size") (penalty_terms)."""
    return sum(reference_penalty(identifier)(x) / divisor for identifier, x, divisor, _ in penalty_terms(params, weights, output))


def penalty_terms(params: dict, weights: dict, output) -> list[tuple]:
    """(regularizer identifier, the array it penalises, divisor, whether that array is computed:
    the output) for each term of layer.losses.

    With LoRA (lora_rank set) the documentation says the kernel becomes non-trainable and is
    replaced by "a delta ... obtained via multiplying two lower-rank trainable matrices";
    it does not say what kernel_regularizer then penalises. Regularizers apply penalties
    "during optimization", and only trainable parameters are optimized, so the reading taken
    here is: the kernel's regularizer penalises the trainable matrices that stand for it,
    penalty(lora_<kernel>_a) + penalty(lora_<kernel>_b), and the frozen kernel adds nothing."""
    terms = []
    for key, identifier in params.items():
        if not key.endswith("_regularizer") or reference_penalty(identifier) is None:
            continue
        if key == "activity_regularizer":
            terms.append((identifier, output, output.shape[0], True))
            continue
        for name in argument_weights(key[: -len("_regularizer")], weights, key):
            prefix, _, last = name.rpartition("/")
            factors = [f"{prefix}/lora_{last}_a".lstrip("/"), f"{prefix}/lora_{last}_b".lstrip("/")]
            trainable = factors if all(f in weights for f in factors) else [name]
            terms.extend((identifier, weights[n], 1, False) for n in trainable)
    return terms


def losses_error_bound(params: dict, weights: dict, output, output_bound, fmt) -> float | None:
    """Bound on the error of layer.losses (penalty_terms) evaluated in `fmt`: each penalty's
    own rounding (regularizers' penalty_error_bound; the weights are the format's numbers), the
    activity penalty also moved by the output's own error (output_bound) and divided by the
    batch size (one rounding), and the sum of the k terms, gamma_k of their magnitudes; None
    where a term has no bound (the output's, or the penalty's)."""
    terms = penalty_terms(params, weights, output)
    total_error, magnitude = 0.0, 0.0
    for identifier, x, divisor, computed in terms:
        x = np.asarray(x, dtype=np.float64)
        if computed and output_bound is None:
            return None
        e = penalty_error_bound(identifier, x, fmt, moved=output_bound if computed else None)
        if e is None:
            return None
        value = abs(float(reference_penalty(identifier)(x))) / divisor
        # the division by the batch size: one rounding (none for 1)
        total_error += e / divisor + (fmt.unit_roundoff * (value + e / divisor) if divisor != 1 else 0.0)
        magnitude += value + e / divisor
    total_error += rounding.gamma(len(terms), fmt.unit_roundoff) * magnitude if len(terms) > 1 else 0.0
    return total_error if np.isfinite(total_error) else None  # not finite: bounds nothing, the tolerance judges


def argument_weights(base: str, weights: dict, key: str) -> list[str]:
    """The weights `<base>_regularizer` applies to: those named `base` (or `<base>_kernel`:
    separable's depthwise and pointwise, recurrent; else `kernel`: DepthwiseConv's
    depthwise_regularizer), by the last part of their path, so that a recurrent layer's
    "lstm_cell/bias" and each of MultiHeadAttention's "query/kernel", "key/kernel", ... count
    (Bidirectional: both directions)."""
    for wanted in (base, f"{base}_kernel", "kernel"):
        names = [n for n in weights if n.rpartition("/")[2] == wanted]
        if names:
            return names
    raise ValueError(f"{key} has no weight to regularize among {sorted(weights)}")


def compare_outputs(case: Case, reference: SideOutcome, keras: SideOutcome, op=None) -> tuple[list[str], dict]:
    tol = case.effective_tolerance
    expected = representable(reference.output, case.dtype)
    # the op's error bound judges, where it has one (a case's own `tolerance` removes it)
    result = compare_arrays(keras.output, expected, rtol=tol["rtol"], atol=tol["atol"], bound=reference.error_bound,
                            map_axes=_map_axes(case, keras.output.ndim),
                            # units in the last place say something of elementwise results only
                            fmt=rounding.format_of(compute_dtype(case.dtype)) if reference.error_bound is not None and op is not None and bounds.is_elementwise(op.error_bound) else None)
    messages = [] if result.ok else [result.message]
    metrics = result.metrics
    if case.dtype in POLICIES and keras.dtypes:
        messages += policy_dtypes(case.dtype, keras.dtypes)
        metrics["dtypes"] = keras.dtypes
    if reference.state:
        # state variables after the last call, and the layer's regularization losses, are
        # judged like the output
        metrics["state"] = {}
        for name, expected in reference.state.items():
            if name not in keras.state:
                messages.append(f"{name}: tf.keras has no such variable")
                continue
            # a further output or state variable the op bounds is judged by its bound
            r = compare_arrays(keras.state[name], representable(expected, case.dtype) if name in reference.state_bounds else expected,
                               rtol=tol["rtol"], atol=tol["atol"], bound=reference.state_bounds.get(name))
            metrics["state"][name] = {k: v for k, v in r.metrics.items() if k != "error_histogram"}
            if not r.ok:
                messages.append(f"{name} after {case.calls} call(s): {r.message}")
    if keras.eager_output is not None:
        metrics.update(vs_eager(keras.output, keras.eager_output, tol))
    elif MODES[case.mode].compiled:  # the eager call raised: nothing to compare with
        metrics.update(vs_eager=None, vs_eager_ratio=None)
    return messages, metrics


def policy_dtypes(policy: str, dtypes: dict) -> list[str]:
    """Under a mixed precision policy: the layer's floating variables are created in the variable
    dtype ("variable_dtype: ... the dtype layers will create their variables in",
    keras.DTypePolicy) and its floating output is in the compute dtype ("layers will do their
    computations in ... Typically layers output tensors with the compute dtype as well"; reading
    taken: an output in another float dtype is a departure unless the layer documents it).
    Integer and boolean tensors are outside the policy: a lookup's ids, hashed bins, and counters
    such as Normalization's int64 count are state, not weights."""
    compute, variable = POLICIES[policy]

    def floating(dtype) -> bool:
        return dtype is not None and dtype.startswith(("float", "bfloat"))

    problems = []
    output = dtypes.get("output")
    if floating(output) and output != compute:
        problems.append(f"under {policy} the output is {output}, not the compute dtype {compute}")
    wrong = {n: d for n, d in (dtypes.get("variables") or {}).items() if floating(d) and d != variable}
    if wrong:
        problems.append(f"under {policy} variables are not {variable}: {wrong}")
    return problems


def vs_eager(output, eager, tol: dict) -> dict:
    """How far a compiled mode's output moved from the eager output of the same layer: the
    largest |difference| and the worst |difference| / (atol + rtol |eager|) (above 1: the
    modes disagree by more than the tolerance, worth a look even when both pass). NaN and
    infinities at the same places count as equal."""
    if np.shape(output) != np.shape(eager):
        return {"vs_eager": float("inf"), "vs_eager_ratio": float("inf")}
    same = (output == eager) | (np.isnan(output) & np.isnan(eager))
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.where(same, 0.0, np.abs(output - eager))
        diff = np.where(np.isnan(diff), np.inf, diff)
        ratio = diff / (tol["atol"] + tol["rtol"] * np.abs(np.where(np.isfinite(eager), eager, 0.0)))
    return {"vs_eager": float(diff.max(initial=0.0)), "vs_eager_ratio": float(ratio.max(initial=0.0))}


def representable(reference, dtype: str):
    """The reference as the case dtype can hold it at the top: a float64 value beyond the
    dtype's largest finite number is, correctly rounded, an infinity (exp(89) in float32)."""
    if dtype == "float64":
        return reference
    with np.errstate(over="ignore", invalid="ignore"):  # the overflow is the point
        rounded = reference.astype(numpy_dtype(dtype)).astype(np.float64)
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
