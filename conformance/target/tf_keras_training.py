"""Training steps on a tf.keras layer (the `train:` key, conformance.checks.training): the
layer's weights are set, then `steps` optimizer steps minimise the sum (or mean) of its main
output plus its regularization losses, in the case's mode. What each step saw and did is
returned for the check to judge: the weights before it and the gradients it applied."""
from __future__ import annotations

import numpy as np

from conformance.axes import MODES
from conformance.outcome import SideOutcome, Timings, error_info, harness_error
from conformance.target.arrays import as_float64


def train_layer(op, case, x, weights: dict, call: dict, timings: Timings | None = None) -> SideOutcome:
    """SideOutcome with `steps`: one {"weights": {name: array before the step},
    "gradients": {name: array}} per step, over the trainable weights (every weight is listed
    under "weights"), and `state`: every weight after the last step."""
    from conformance.runner.inputs import keras_dtype
    from conformance.target.tf_keras import built_layer, tensorflow, variable_name

    tf = tensorflow()
    timings = Timings() if timings is None else timings
    train = case.train
    specs = case.inputs or {}
    named = x if isinstance(x, dict) else {"x": x}
    given = {n: tf.constant(v.astype(keras_dtype(v, specs.get(n), case.dtype))) for n, v in named.items()}
    arguments = {k: tf.constant(v.astype(keras_dtype(v, None, case.dtype))) if isinstance(v, np.ndarray) else v
                 for k, v in call.items()}
    invoke = op.keras_call or (lambda layer, given, call: layer(given["x"], **call))
    phase = "construct"

    def at(name):
        nonlocal phase
        phase = name

    try:
        with timings("build"):
            layer, problem = built_layer(op, case, x, lambda: given, weights, invoke, at)
            if problem:
                return SideOutcome(error=harness_error("WeightLayoutMismatch", problem, phase))
            if not train["trainable"]:  # set only to freeze: Keras 2's setter also sets every sublayer's
                layer.trainable = False
            optimizer = tf.keras.optimizers.SGD(learning_rate=train["learning_rate"])
            if layer.trainable_variables:
                optimizer.build(layer.trainable_variables)
        reduce = tf.reduce_sum if train["loss"] == "sum" else tf.reduce_mean

        def step(given, call):
            with tf.GradientTape() as tape:
                output = invoke(layer, given, call)
                main = output[0] if isinstance(output, (tuple, list)) else output
                loss = reduce(main)
                if layer.losses:  # the regularizers' penalties, as a train step adds them
                    loss = loss + tf.add_n([tf.cast(p, loss.dtype) for p in layer.losses])
            grads = tape.gradient(loss, layer.trainable_variables)
            # an embedding's gradient comes as IndexedSlices: made dense, as the update uses it
            grads = [tf.convert_to_tensor(g) for g in grads]
            if grads:  # a frozen layer has nothing to update (apply_gradients refuses an empty list)
                optimizer.apply_gradients(zip(grads, layer.trainable_variables))
            return grads

        phase = f"{case.mode} train step"
        compiled = MODES[case.mode].wrap(tf, step)
        names = [variable_name(v, layer) for v in layer.trainable_variables]
        steps = []
        with timings("call"):
            for i in range(train["steps"]):
                phase = f"train step {i + 1} of {train['steps']}"
                before = {variable_name(v, layer): as_float64(v) for v in layer.weights}
                grads = compiled(given, arguments)
                steps.append({"weights": before, "gradients": {n: as_float64(g) for n, g in zip(names, grads)}})
        after = {variable_name(v, layer): as_float64(v) for v in layer.weights}
        return SideOutcome(state=after, steps=steps)
    except Exception as exc:  # a TensorFlow exception is a result, never a crash of the run
        return SideOutcome(error=error_info(exc, phase))
