"""The training check (`train:`): a layer's weights after optimizer steps against the
reference's update, so that gradients, regularizers' penalties, constraints and frozen
weights are each observed through what an optimizer does with them.

tf.keras (conformance.target.tf_keras_training) runs `steps` SGD steps in the case's mode on
loss = sum (or mean) of the layer's main output + sum(layer.losses), and reports, per step, the
weights before it and the gradient it applied. The reference, from the same initial weights:

1. the gradient tf.keras applied to each trainable weight is checked as the gradient check
   does it (conformance.checks.gradients): for a random direction u, <G, u> against the central
   difference of the reference's loss, with the documented penalties of the *_regularizer
   arguments (conformance.checks.values.reference_losses), at the reference's current weights;
2. the update w <- constraint(w - learning_rate * G), with G that (checked) gradient and the
   constraint of the weight's *_constraint argument from reference_impl.constraints; a weight
   that is not trainable keeps its value, except a layer's documented state (BatchNormalization's
   moving statistics in training mode: op.update_state);
3. a layer built with `trainable: false`, or wrapping a layer whose config says
   `trainable: false` (TimeDistributed, Bidirectional), has no trainable weights: every weight
   keeps its value (BatchNormalization then runs in inference mode, so its moving statistics do
   not move).

Each weight after each step is compared with the reference element by element within the
case's tolerance, and the reference continues from its own weights.
"""
from __future__ import annotations

import numpy as np

from conformance.catalogue.model import Case, input_shapes
from conformance.checks import gradients
from conformance.checks.values import argument_weights, reference_losses, split_outputs
from conformance.checks.verdict import Verdict, decide
from conformance.compare import compare_arrays
from conformance.ops.constraints import reference_constraint
from conformance.outcome import SideOutcome, Timings, error_info
from conformance.runner.inputs import layer_feeds, make_weights


def judge(op, case: Case, target, timings: Timings) -> Verdict:
    inputs, calls = layer_feeds(case, op)
    x, call = inputs[0], calls[0]
    with timings("reference"):
        try:
            weights = make_weights(op.predict_weights(case.params, input_shapes(op, case)), case.dtype, case.seed, op.positive_weights)
            output = split_outputs(op.compute(x, weights, case.params, call))[0]
            reference = SideOutcome(output=output)
        except (ValueError, TypeError) as exc:
            reference, weights = SideOutcome(error=error_info(exc, "arguments")), None
    keras = target.train_layer(op, case, x, weights, call, timings) if weights is not None else SideOutcome(error=None)
    with timings("reference gradient"):
        return decide(case, reference, keras, lambda: compare_steps(op, case, x, call, weights, keras))


def compare_steps(op, case: Case, x, call: dict, weights: dict, keras: SideOutcome) -> tuple[list[str], dict]:
    train, tol = case.train, case.effective_tolerance
    reduce = np.sum if train["loss"] == "sum" else np.mean
    trainable = sorted(keras.steps[0]["gradients"]) if keras.steps else []
    messages, metrics = [], {"trainable": trainable, "steps": []}
    frozen = _frozen(case)
    if frozen and trainable:
        messages.append(f"{frozen} but tf.keras trains {', '.join(trainable)}")
    unknown = [n for n in trainable if n not in weights]
    if unknown:
        return [f"tf.keras trains weights the reference does not know: {', '.join(unknown)}"], metrics
    constraints = _constraints(case.params, weights)
    current = dict(weights)
    for k, step in enumerate(keras.steps):
        def total_loss(_inputs, w):
            out = split_outputs(op.compute(x, w, case.params, call))[0]
            return float(reduce(out)) + (reference_losses(case.params, w, out) if _penalised(case.params) else 0.0)

        step_metrics = {}
        if step["gradients"]:
            loss_now = total_loss({}, current)
            found, checked = gradients.judge(case, total_loss, {}, current, {"inputs": {}, "weights": step["gradients"]},
                                             np.asarray(1.0), np.asarray(loss_now))
            messages += [f"step {k + 1}: {m}" for m in found]
            step_metrics["gradients"] = checked
        updated = dict(current)
        if not frozen:
            for name, g in step["gradients"].items():
                updated[name] = current[name] - train["learning_rate"] * step["gradients"][name]
                if name in constraints:
                    updated[name] = constraints[name](updated[name])
            if op.update_state is not None:  # a layer's own state (moving statistics), as one call updates it
                updated.update(op.update_state(x, current, case.params, call))
        after = keras.steps[k + 1]["weights"] if k + 1 < len(keras.steps) else keras.state
        step_metrics["weights"] = {}
        for name, expected in updated.items():
            if name not in after:
                messages.append(f"after step {k + 1}: tf.keras has no weight {name!r}")
                continue
            result = compare_arrays(after[name], expected, rtol=tol["rtol"], atol=tol["atol"])
            step_metrics["weights"][name] = {key: v for key, v in result.metrics.items() if key not in ("error_histogram", "error_map")}
            if not result.ok:
                messages.append(f"weight {name!r} after step {k + 1}: {result.message}")
        metrics["steps"].append(step_metrics)
        current = updated
    return messages, metrics


def _frozen(case: Case) -> str | None:
    """Why no weight of the layer may move, if none may: the layer is built trainable=False, or
    it wraps a layer (TimeDistributed, Bidirectional: every weight is the wrapped layer's) whose
    config says trainable: false."""
    if not case.train["trainable"]:
        return "the layer was built with trainable=False"
    wrapped = case.params.get("layer")
    if isinstance(wrapped, dict) and (wrapped.get("config") or {}).get("trainable") is False:
        return f"the wrapped {wrapped.get('class_name')} was built with trainable=False"
    return None


def _penalised(params: dict) -> bool:
    return any(k.endswith("_regularizer") and v is not None for k, v in params.items())


def _constraints(params: dict, weights: dict) -> dict:
    """weight name -> the reference projection of its *_constraint argument."""
    out = {}
    for key, identifier in params.items():
        if key.endswith("_constraint") and identifier is not None:
            project = reference_constraint(identifier)
            for name in argument_weights(key[: -len("_constraint")], weights, key):
                out[name] = project
    return out
