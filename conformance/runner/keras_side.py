"""The tf.keras side of a case. TensorFlow is imported here, lazily, and nowhere else."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

import numpy as np

MAX_MESSAGE = 2000


@dataclass
class SideOutcome:
    """What one implementation produced: an output, or the error it raised and where."""

    output: np.ndarray | None = None
    error: dict | None = None
    state: dict = field(default_factory=dict)  # state variables after the last call

    @property
    def shape(self):
        return None if self.output is None else list(self.output.shape)


def error_info(exc: BaseException, phase: str) -> dict:
    message = str(exc).strip()
    if len(message) > MAX_MESSAGE:
        message = message[:MAX_MESSAGE] + " [...]"
    return {
        "type": type(exc).__name__,
        "bases": [c.__name__ for c in type(exc).__mro__[1:] if c not in (object, BaseException)],
        "message": message,
        "phase": phase,
    }


_tf = None


def quiet_tensorflow_logs() -> None:
    """Ask TensorFlow's C++ side for errors only. It reads this when its process starts, so
    call it before spawning workers; the Python-side logger is quietened at import."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def tensorflow():
    """Import TensorFlow once."""
    global _tf
    if _tf is None:
        quiet_tensorflow_logs()
        import tensorflow as tf

        # Keras warns about retracing its internal tf.functions; not a finding of ours.
        tf.get_logger().setLevel("ERROR")
        _tf = tf
    return _tf


def versions() -> dict:
    """Installed versions, read from package metadata so the caller need not import TensorFlow."""
    from importlib import metadata

    out = {}
    for name in ("tensorflow", "keras"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def variable_name(variable) -> str:
    """The variable's path inside its layer, without the generated numbering: "kernel",
    "query/kernel" (MultiHeadAttention), "forward_lstm/lstm_cell/kernel" (Bidirectional).
    The layer's own name and the _1, _2 suffixes Keras adds depend on what the process
    built before, so they are dropped."""
    parts = getattr(variable, "path", variable.name).split(":")[0].split("/")[1:] or [variable.name]
    return "/".join(re.sub(r"_\d+$", "", part) for part in parts)


def run_layer(op, case, inputs: list, weights: dict | None, calls: list) -> SideOutcome:
    """Build tf.keras.layers.<op.keras_class>(**params), set `weights` by name, then call it
    on each of `inputs` in turn with that call's arguments; keep the last output (and any
    further outputs), the op's state variables, and the regularization losses."""
    from conformance.runner.inputs import keras_dtype

    tf = tensorflow()
    specs = case.inputs or {}

    def tensors(x):
        named = x if isinstance(x, dict) else {"x": x}
        return {n: tf.constant(v.astype(keras_dtype(v, specs.get(n), case.dtype))) for n, v in named.items()}

    def arguments(call):
        def convert(v):
            if isinstance(v, np.ndarray):
                return tf.constant(v.astype(keras_dtype(v, None, case.dtype)))
            if isinstance(v, list):
                return [convert(i) for i in v]
            return v
        return {k: convert(v) for k, v in call.items()}

    invoke = op.keras_call or (lambda layer, given, call: layer(given["x"], **call))
    phase = "construct"
    try:
        params = op.keras_params(tf.keras, case.params, case.dtype) if op.keras_params else case.params
        layer = getattr(tf.keras.layers, op.keras_class)(**params, dtype=case.dtype)
        phase = "build"
        if op.input_names == ("x",):
            layer.build(tuple(np.shape(_named_x(inputs[0]))))
        else:  # layers of several inputs build on their first call: make one, untimed
            invoke(layer, tensors(inputs[0]), {})
        phase = "set weights"
        problem = None if weights is None else _set_weights(layer, weights, case.dtype)
        if problem:
            return SideOutcome(error={"type": "WeightLayoutMismatch", "bases": [], "message": problem, "phase": phase})
        for i, (x, call) in enumerate(zip(inputs, calls)):
            phase = "call" if len(inputs) == 1 else f"call {i + 1} of {len(inputs)}"
            output = invoke(layer, tensors(x), arguments(call))
        extras = {}
        if isinstance(output, (tuple, list)):
            output, rest = output[0], output[1:]
            extras = {f"output_{i}": np.asarray(o).astype(np.float64) for i, o in enumerate(rest, 1)}
        variables = {variable_name(v): v for v in layer.weights}
        state = {name: np.asarray(variables[name]).astype(np.float64) for name in op.state if name in variables}
        state.update(extras)
        if any(k.endswith("_regularizer") and v is not None for k, v in case.params.items()):
            state["losses"] = np.float64(sum(float(loss) for loss in layer.losses))
        return SideOutcome(output=np.asarray(output).astype(np.float64), state=state)
    except Exception as exc:  # a TensorFlow exception is a result, never a crash of the run
        return SideOutcome(error=error_info(exc, phase))


def _named_x(x):
    return x["x"] if isinstance(x, dict) else x


def run_function(op, case, x: np.ndarray) -> SideOutcome:
    """tf.keras's callable for `op` (made from the case params) applied to x."""
    tf = tensorflow()
    phase = "construct"
    try:
        function = op.keras_callable(tf.keras, case.params)
        phase = "call"
        output = function(tf.constant(x.astype(_np_dtype(case.dtype))))
        return SideOutcome(output=np.asarray(output).astype(np.float64))
    except Exception as exc:  # a TensorFlow exception is a result, never a crash of the run
        return SideOutcome(error=error_info(exc, phase))


def _np_dtype(dtype: str):
    from conformance.runner.inputs import numpy_dtype

    return numpy_dtype(dtype)


def _set_weights(layer, weights: dict, dtype: str) -> str | None:
    """Assign the reference's weights by variable name; a name or shape mismatch is a finding."""
    variables = {variable_name(v): v for v in layer.weights}
    keras_layout = {n: list(v.shape) for n, v in variables.items()}
    ref_layout = {n: list(w.shape) for n, w in weights.items()}
    if keras_layout != ref_layout:
        return f"weights differ from the documented layout: tf.keras has {keras_layout}, the reference expects {ref_layout}"
    for name, value in weights.items():
        variables[name].assign(value.astype(_np_dtype(dtype)))
    return None


ISOLATED_TIMEOUT_S = 300


def run_layer_isolated(op, case, inputs: list, weights: dict | None, calls: list) -> SideOutcome:
    """run_layer in a child process, for a case whose tf.keras call may kill its process
    (a signal in a kernel): the death becomes this side's error, the run goes on."""
    import multiprocessing
    import signal

    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_isolated_main, args=(sender, case, inputs, weights, calls))
    child.start()
    sender.close()
    outcome = None
    try:
        if receiver.poll(ISOLATED_TIMEOUT_S):
            outcome = receiver.recv()
    except EOFError:  # the child died before sending anything
        pass
    child.join(timeout=10)
    timed_out = child.is_alive()
    if timed_out:
        child.kill()
        child.join()
    if outcome is not None:
        return outcome
    code = child.exitcode
    if timed_out:
        message = f"the process running tf.keras did not finish within {ISOLATED_TIMEOUT_S} s"
    elif code < 0:
        message = f"the process running tf.keras was killed by signal {signal.Signals(-code).name}"
    else:
        message = f"the process running tf.keras exited with code {code} without a result"
    return SideOutcome(error={"type": "ProcessCrash", "bases": [], "message": message, "phase": "call"})


def _isolated_main(sender, case, inputs, weights, calls):
    fd = os.open(os.devnull, os.O_WRONLY)
    os.dup2(fd, 2)  # TensorFlow's start-up logs
    from conformance.ops import get_op

    sender.send(run_layer(get_op(case.op), case, inputs, weights, calls))


def draw_initializer(op, case, shape: tuple, seeds) -> SideOutcome:
    """tf.keras.initializers.<class>(**params, seed=s)(shape) for each seed, stacked; the
    first seed is drawn twice more (a new object, and the same object called again), and
    `repeat_*` in `state` say whether those gave the same values."""
    tf = tensorflow()
    cls = getattr(tf.keras.initializers, op.keras_class)
    phase = "construct"
    try:
        draws = []
        for i, seed in enumerate(seeds):
            initializer = cls(**case.params, seed=seed) if "seed" in _init_arguments(cls) else cls(**case.params)
            phase = "call"
            draws.append(np.asarray(initializer(shape, dtype=case.dtype)).astype(np.float64))
            if i == 0:
                again_same_object = np.asarray(initializer(shape, dtype=case.dtype)).astype(np.float64)
                fresh = cls(**case.params, seed=seed) if "seed" in _init_arguments(cls) else cls(**case.params)
                again_new_object = np.asarray(fresh(shape, dtype=case.dtype)).astype(np.float64)
        state = {
            "repeat_same_object": np.float64(np.array_equal(draws[0], again_same_object)),
            "repeat_new_object": np.float64(np.array_equal(draws[0], again_new_object)),
        }
        return SideOutcome(output=np.stack(draws), state=state)
    except Exception as exc:
        return SideOutcome(error=error_info(exc, phase))


def draw_layer_kernels(op, case, seeds) -> SideOutcome:
    """Build case.kernel_of's layer with kernel_initializer=<initializer>(seed=s) per seed
    and read its kernel: the initializer as layers use it."""
    tf = tensorflow()
    spec = case.kernel_of
    cls = getattr(tf.keras.initializers, op.keras_class)
    from conformance.ops import get_op

    layer_op = get_op(spec["op"])
    layer_class = getattr(tf.keras.layers, layer_op.keras_class)
    weight = spec.get("weight", "kernel")
    # the argument that initializes `weight` (DepthwiseConv's variable "kernel" takes
    # depthwise_initializer; SeparableConv's pointwise_kernel takes pointwise_initializer)
    candidates = (f"{weight}_initializer", f"{weight.removesuffix('_kernel')}_initializer", "depthwise_initializer")
    argument = next(c for c in candidates if c in layer_op.params)
    phase = "construct"
    try:
        draws = []
        for seed in seeds:
            initializer = cls(**case.params, seed=seed) if "seed" in _init_arguments(cls) else cls(**case.params)
            layer = layer_class(**spec.get("params", {}), **{argument: initializer}, dtype=case.dtype)
            phase = "build"
            layer.build(tuple(spec["input_shape"]))
            variables = {variable_name(v): v for v in layer.weights}
            draws.append(np.asarray(variables[weight]).astype(np.float64))
        return SideOutcome(output=np.stack(draws))
    except Exception as exc:
        return SideOutcome(error=error_info(exc, phase))


def _init_arguments(cls) -> set:
    import inspect

    return set(inspect.signature(cls.__init__).parameters)
