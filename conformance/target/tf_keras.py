"""The tf.keras target: Keras 3 on TensorFlow, as `tf.keras`. TensorFlow is imported here
(and in tf_keras_custom.py), lazily, and nowhere else.

Everything that touches the framework goes through this adapter: build a layer from the
case's params, set the reference's weights by name, call it in the case's mode, read its
variables and losses, draw initializers, normalise exceptions into records.
"""
from __future__ import annotations

import os
import re

import numpy as np

from conformance.axes import MODES
from conformance.outcome import SideOutcome, Timings, error_info, harness_error
from conformance.target.arrays import as_float64

NAME = "tf.keras"

_tf = None


def quiet_tensorflow_logs() -> None:
    """Ask TensorFlow's C++ side for errors only. It reads this when its process starts, so
    call it before spawning workers; the Python-side logger is quietened at import."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def use_compile_cache(directory) -> str:
    """Keep XLA's compiled programs in `directory` across runs (TensorFlow's persistent XLA
    cache), in a subfolder per TensorFlow version and XLA flags, so that a new TensorFlow
    never reuses another one's programs. TensorFlow reads the flag when it starts: call this
    before importing it or spawning workers. Returns the folder used."""
    import hashlib
    from pathlib import Path

    flags = os.environ.get("XLA_FLAGS", "") + "|" + os.environ.get("TF_XLA_FLAGS", "")
    folder = Path(directory) / f"tf-{versions()['tensorflow']}-{hashlib.sha256(flags.encode()).hexdigest()[:8]}"
    folder.mkdir(parents=True, exist_ok=True)
    flag = f"--tf_xla_persistent_cache_directory={folder.resolve()}"
    os.environ["TF_XLA_FLAGS"] = (os.environ.get("TF_XLA_FLAGS", "") + " " + flag).strip()
    return str(folder)


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


def unsupported(op, case) -> None:
    """Every op of the catalogue is Keras 3's: nothing is missing here."""
    return None


def reset_random_state(seed: int) -> None:
    """Seed Python's and NumPy's generators from the case's seed and drop Keras's global
    SeedGenerator before the case runs, so that a layer built without `seed=` (Dropout,
    GaussianNoise...) draws the same values in every run, whatever cases its process ran
    before: Keras 3 draws through SeedGenerators, whose default seed comes from Python's
    `random`. TensorFlow's own global seed is left alone: tf.random.set_seed makes every later
    random op a new kernel (about 20 ms more per layer built, a fifth of the catalogue's time),
    and no Keras 3 layer draws from it."""
    import random

    from keras.src.backend.common import global_state

    tensorflow()
    random.seed(int(seed))
    np.random.seed(int(seed))
    global_state.set_global_attribute("global_seed_generator", None)


def environment_facts() -> dict:
    """What changes TensorFlow's numbers on this machine, read inside the process that runs
    the cases: oneDNN (on by default on x86 Linux unless TF_ENABLE_ONEDNN_OPTS=0), thread
    pools (0: TensorFlow's default, one thread per core), XLA flags, determinism."""
    tf = tensorflow()
    try:
        from tensorflow.python.util import _pywrap_util_port

        onednn_built = bool(_pywrap_util_port.IsMklEnabled())
    except (ImportError, AttributeError):
        onednn_built = None
    onednn_env = os.environ.get("TF_ENABLE_ONEDNN_OPTS")
    return {
        "onednn": onednn_built and onednn_env not in ("0", "false", "False"),
        "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
        "inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads(),
        "xla_flags": os.environ.get("XLA_FLAGS"),
        "tf_xla_flags": os.environ.get("TF_XLA_FLAGS"),
        "op_determinism": os.environ.get("TF_DETERMINISTIC_OPS"),
        "python_hash_seed": os.environ.get("PYTHONHASHSEED"),
    }


def variable_name(variable, layer=None) -> str:
    """The variable's path inside its layer, without the generated numbering: "kernel",
    "query/kernel" (MultiHeadAttention), "forward_lstm/lstm_cell/kernel" (Bidirectional).
    The layer's own name and the _1, _2 suffixes Keras adds depend on what the process
    built before, so they are dropped. Keras 3 gives every variable its `path`, the layer's
    name first; a Keras 2 variable has only its name ("kernel:0"), which starts with the
    layer's name (give `layer`) when the layer was built by a call, and not when by build()."""
    if hasattr(variable, "path"):
        parts = variable.path.split("/")[1:] or [variable.name]
    else:
        from conformance.target.keras2 import keras3_name

        name = variable.name.split(":")[0]
        if layer is not None and name.startswith(layer.name + "/"):
            name = name[len(layer.name) + 1:]
        parts = (keras3_name(layer, variable, name) if layer is not None else name).split("/")
    return "/".join(re.sub(r"_\d+$", "", part) for part in parts)


def run_layer(op, case, inputs: list, weights: dict | None, calls: list, timings: Timings | None = None,
              cotangent: np.ndarray | None = None) -> SideOutcome:
    """Build tf.keras.layers.<op.keras_class>(**params), set `weights` by name, then call it
    on each of `inputs` in turn with that call's arguments, in the case's mode; keep the
    last output (and any further outputs), the op's state variables, and the regularization
    losses. In a compiled mode the same built layer is first called eagerly (its result is
    `eager_output`, for metrics.vs_eager), then once more compiled to trace and compile
    (timed as "compile"), its variables restored after each, so that the calls that count
    start from the state the eager calls started from.

    With a `cotangent` (one call only), the layer is then restored to its weights at the call
    and the vector-Jacobian product of the cotangent with its main output is taken in the
    case's mode, in a program of its own (`gradients`, or `gradient_error` when it raises;
    conformance.checks.gradients)."""
    from conformance.runner.inputs import keras_dtype

    tf = tensorflow()
    timings = Timings() if timings is None else timings
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
    regularized = any(k.endswith("_regularizer") and v is not None for k, v in case.params.items())

    def step(given, call):
        """One call, and the layer's losses read in the same call: an activity penalty made
        inside a compiled call exists only there, as a user's train step reads it."""
        output = invoke(layer, given, call)
        return output, (tf.add_n([tf.cast(loss, tf.float64) for loss in layer.losses]) if regularized and layer.losses else None)

    phase = "construct"

    def at(name):
        nonlocal phase
        phase = name

    try:
        with timings("build"):
            layer, problem = built_layer(op, case, inputs[0], lambda: tensors(inputs[0]), weights, invoke, at)
        if problem:
            return SideOutcome(error=harness_error("WeightLayoutMismatch", problem, phase))
        feeds = [(tensors(x), arguments(call)) for x, call in zip(inputs, calls)]
        initial = _snapshot(layer)  # restored between compiled runs, for the gradient and the serialization check
    except Exception as exc:  # a TensorFlow exception is a result, never a crash of the run
        return SideOutcome(error=error_info(exc, phase))
    phase = f"{case.mode} compile"
    try:
        compiled, eager_output = _in_case_mode(
            case, step, lambda: [step(*feed) for feed in feeds][-1][0], feeds[0], timings,
            reset=lambda: _restore(layer, initial))
        with timings("call"):
            for i, (given, call) in enumerate(feeds):
                phase = "call" if len(feeds) == 1 else f"call {i + 1} of {len(feeds)}"
                output, losses = compiled(given, call)
        extras = {}
        if isinstance(output, (tuple, list)):
            output, rest = output[0], output[1:]
            extras = {f"output_{i}": as_float64(o) for i, o in enumerate(rest, 1)}
        variables = {variable_name(v, layer): v for v in variables_of(layer)}
        state = {name: as_float64(variables[name]) for name in op.state if name in variables}
        state.update(extras)
        if regularized:
            state["losses"] = np.float64(0.0 if losses is None else float(losses))
        outcome = SideOutcome(output=as_float64(output), state=state, eager_output=eager_output,
                              dtypes={"output": _dtype_name(output), "variables": {n: _dtype_name(v) for n, v in variables.items()}})
    except Exception as exc:  # a TensorFlow exception is a result, never a crash of the run
        return SideOutcome(error=error_info(exc, phase))
    # the serialization check: the layer's copies from its config, serialization and a .keras file (tf_keras_serialization.py)
    outcome.serialization = round_trips(op, case, layer, invoke, feeds, weights, lambda: _restore(layer, initial), outcome, timings)
    if cotangent is not None:
        _restore(layer, initial)  # the weights at the call
        outcome.gradients, outcome.gradient_error = _gradients_in_mode(case, _with_vjp(step, layer.trainable_weights, layer),
                                                                       feeds[0], cotangent, timings)
    return outcome


def _gradients_in_mode(case, vjp, feed, cotangent, timings):
    """(gradients, None), or (None, the error raised): `vjp` (_with_vjp) in the case's mode, in a
    program of its own, so that the output judged is the forward program's, as a user's
    predict runs it (a fused forward and backward program can hide a forward bug: XLA's bilinear
    resize is right in one). Its trace and compilation are timed with the call as "gradient"."""
    tf = tensorflow()
    given, call = feed
    try:
        with timings("gradient"):
            _, _, grads = MODES[case.mode].wrap(tf, vjp)(given, call, tf.constant(cotangent))
            return _named_gradients(given, vjp.trainable, grads, vjp.layer, vjp.disconnected), None
    except Exception as exc:  # a TensorFlow exception is a result, never a crash of the run
        return None, error_info(exc, "gradient")


def built_layer(op, case, x, given, weights: dict | None, invoke, at=lambda phase: None):
    """(layer, problem): tf.keras.layers.<op.keras_class>(**params) in the case's dtype, built
    for the first input `x` (a layer of several inputs builds on a first call with `given()`,
    its tensors), with `weights` set by name, or adapted to the op's adapt data (op.adapt);
    `problem` names a weight layout that differs from the documented one. `at(phase)` hears
    each phase as it starts, for the caller's errors."""
    tf = tensorflow()
    params = op.keras_params(tf.keras, case.params, case.dtype) if op.keras_params else case.params
    layer = getattr(tf.keras.layers, op.keras_class)(**params, dtype=case.dtype)
    at("build")
    if op.input_names == ("x",):
        layer.build(tuple(np.shape(_named_x(x))))
    else:  # layers of several inputs build on their first call: make one, untimed
        invoke(layer, given(), {})
    request = op.adapt(case.params) if getattr(op, "adapt", None) else None
    if request is not None:  # the layer's statistics come from its own adapt(), as a user's do
        at("adapt")
        data = request["data"]
        if np.issubdtype(data.dtype, np.floating):  # integer tokens stay integers
            data = data.astype(_np_dtype(case.dtype))
        if request["batch_size"]:
            data = tf.data.Dataset.from_tensor_slices(data).batch(request["batch_size"])
        layer.adapt(data)
        return layer, None
    at("set weights")
    return layer, None if weights is None else _set_weights(layer, weights, case.dtype)


def _with_vjp(step, trainable, layer=None):
    """step(given, call) -> (output, losses) as fn(given, call, cotangent) -> (output, losses,
    gradients): the vector-Jacobian product v^T J of the cotangent v with the main output, with
    respect to the floating tensors of `given` (in their order) and the `trainable` variables,
    by tf.GradientTape; an input or a weight the output does not depend on gets zeros, and its
    place in the list is noted in fn.disconnected (tf.keras's answer "no gradient", which the
    gradient check holds against a reference whose output does depend on it)."""
    tf = tensorflow()

    def fn(given, call, cotangent):
        watched = [t for t in given.values() if t.dtype.is_floating]
        with tf.GradientTape() as tape:
            tape.watch(watched)
            output, losses = step(given, call)
            main = output[0] if isinstance(output, (tuple, list)) else output
            projected = tf.reduce_sum(main * tf.cast(cotangent, main.dtype))
        sources = watched + list(trainable)
        grads = tape.gradient(projected, sources)
        fn.disconnected = [i for i, g in enumerate(grads) if g is None]  # known when traced, in every mode
        # an unused input or weight gets zeros, made here (UnconnectedGradients.ZERO cannot make
        # them for a Keras 3 variable); an embedding's gradient comes as IndexedSlices: made dense
        return output, losses, [tf.zeros(s.shape, s.dtype) if g is None else tf.convert_to_tensor(g)
                                for s, g in zip(sources, grads)]

    fn.trainable, fn.layer, fn.disconnected = list(trainable), layer, []
    return fn


def _named_gradients(given: dict, trainable, grads, layer=None, disconnected=()) -> dict:
    """{"inputs": {name: array}, "weights": {name: array}, "disconnected": ["inputs/x", ...]} from
    _with_vjp's gradients (disconnected: those tf.keras gave none, None, for)."""
    names = [n for n, t in given.items() if t.dtype.is_floating]
    arrays = [as_float64(g) for g in grads]
    labels = [f"inputs/{n}" for n in names] + [f"weights/{variable_name(v, layer)}" for v in trainable]
    return {"inputs": dict(zip(names, arrays[:len(names)])),
            "weights": {variable_name(v, layer): a for v, a in zip(trainable, arrays[len(names):])},
            "disconnected": [labels[i] for i in disconnected if i < len(labels)]}


def _in_case_mode(case, fn, run_eagerly, first_args, timings, reset=lambda: None):
    """(fn as the case's mode calls it, the eager output to compare with or None). In a
    compiled mode: run eagerly once (the result metrics.vs_eager compares with; None when
    the eager call raises, and the compiled mode is judged on its own all the same, as XLA
    has float64 kernels that eager lacks on CPU), then call the wrapped fn once on
    `first_args` to trace and compile it, timed apart; `reset()` after each undoes their
    effect on the layer's variables. A case marked `isolate` is a known crasher: its eager
    call may kill the process, which would be recorded against the compiled mode, so it gets
    no eager comparison."""
    mode = MODES[case.mode]
    if not mode.compiled:
        return fn, None
    eager_output = None
    if not case.isolate:
        with timings("eager"):
            try:
                eager_output = _first(run_eagerly())
            except Exception:  # the eager mode's own case records it
                eager_output = None
        reset()
    compiled = mode.wrap(tensorflow(), fn)
    with timings("compile"):
        compiled(*first_args)
    reset()
    return compiled, eager_output


def _first(output):
    output = output[0] if isinstance(output, (tuple, list)) else output
    return as_float64(output)


def variables_of(layer, listed=None) -> list:
    """The layer's variables (`layer.weights`, or `listed`): Keras 2's lookup layers list their
    vocabulary table's VocabWeightHandler among them, which is not a variable."""
    return [v for v in (layer.weights if listed is None else listed) if hasattr(v, "assign")]


def _snapshot(layer) -> list:
    """Every variable of the layer (weights, moving statistics, seed states), by value."""
    return [(v, np.array(v.numpy())) for v in variables_of(layer, layer.variables)]


def _restore(layer, snapshot) -> None:
    for variable, value in snapshot:
        variable.assign(value)


def _named_x(x):
    return x["x"] if isinstance(x, dict) else x


def run_function(op, case, x: np.ndarray, timings: Timings | None = None, cotangent: np.ndarray | None = None) -> SideOutcome:
    """tf.keras's callable for `op` (made from the case params) applied to x, in the case's
    mode; in a compiled mode the eager result is kept as `eager_output` and the first
    compiled call (trace and compile) is timed apart."""
    tf = tensorflow()
    timings = Timings() if timings is None else timings
    phase = "construct"
    try:
        with timings("build"):
            function = op.keras_callable(tf.keras, case.params)
            tensor = tf.constant(x.astype(_np_dtype(case.dtype)))
    except Exception as exc:  # a TensorFlow exception is a result, never a crash of the run
        return SideOutcome(error=error_info(exc, phase))

    phase = f"{case.mode} compile"
    try:
        compiled, eager_output = _in_case_mode(case, function, lambda: function(tensor), (tensor,), timings)
        phase = "call"
        with timings("call"):
            output = compiled(tensor)
        outcome = SideOutcome(output=as_float64(output), eager_output=eager_output)
    except Exception as exc:  # a TensorFlow exception is a result, never a crash of the run
        return SideOutcome(error=error_info(exc, phase))
    if cotangent is not None:
        vjp = _with_vjp(lambda given, call: (function(given["x"]), None), [])
        outcome.gradients, outcome.gradient_error = _gradients_in_mode(case, vjp, ({"x": tensor}, {}), cotangent, timings)
    return outcome


def _dtype_name(tensor) -> str | None:
    """A tensor's or variable's dtype as its name (Keras 3 variables hold it as a string)."""
    dtype = getattr(tensor, "dtype", None)
    return None if dtype is None else str(getattr(dtype, "name", dtype))


def _np_dtype(dtype: str):
    from conformance.runner.inputs import numpy_dtype

    return numpy_dtype(dtype)


def _set_weights(layer, weights: dict, dtype: str) -> str | None:
    """Assign the reference's weights by variable name; a name or shape mismatch is a finding."""
    variables = {variable_name(v, layer): v for v in variables_of(layer)}
    keras_layout = {n: list(v.shape) for n, v in variables.items()}
    ref_layout = {n: list(w.shape) for n, w in weights.items()}
    if keras_layout != ref_layout:
        return f"weights differ from the documented layout: tf.keras has {keras_layout}, the reference expects {ref_layout}"
    for name, value in weights.items():
        # the variable's own dtype: under a mixed precision policy float32, holding the compute
        # dtype's values the reference drew
        variables[name].assign(value.astype(_np_dtype(_dtype_name(variables[name]))))
    return None


ISOLATED_TIMEOUT_S = 300


def run_layer_isolated(op, case, inputs: list, weights: dict | None, calls: list, timings: Timings | None = None) -> SideOutcome:
    """run_layer in a child process, for a case whose tf.keras call may kill its process
    (a signal in a kernel): the death becomes this side's error, the run goes on."""
    import multiprocessing
    import signal

    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_isolated_main, args=(sender, case, inputs, weights, calls))
    child.start()
    sender.close()
    result = None
    try:
        if receiver.poll(ISOLATED_TIMEOUT_S):
            result = receiver.recv()
    except EOFError:  # the child died before sending anything
        pass
    child.join(timeout=10)
    timed_out = child.is_alive()
    if timed_out:
        child.kill()
        child.join()
    if result is not None:
        outcome, child_timings = result
        if timings is not None:
            timings.update(child_timings)
        return outcome
    code = child.exitcode
    if timed_out:
        message = f"the process running tf.keras did not finish within {ISOLATED_TIMEOUT_S} s"
    elif code < 0:
        message = f"the process running tf.keras was killed by signal {signal.Signals(-code).name}"
    else:
        message = f"the process running tf.keras exited with code {code} without a result"
    return SideOutcome(error=harness_error("ProcessCrash", message, "call"))


def _isolated_main(sender, case, inputs, weights, calls):
    fd = os.open(os.devnull, os.O_WRONLY)
    os.dup2(fd, 2)  # TensorFlow's start-up logs
    from conformance.ops import get_op

    timings = Timings()
    reset_random_state(case.seed)
    outcome = run_layer(get_op(case.op), case, inputs, weights, calls, timings)
    sender.send((outcome, dict(timings)))


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
            draws.append(as_float64(_in_mode(case, lambda: initializer(shape, dtype=case.dtype))()))
            if i == 0:
                again_same_object = as_float64(initializer(shape, dtype=case.dtype))
                fresh = cls(**case.params, seed=seed) if "seed" in _init_arguments(cls) else cls(**case.params)
                again_new_object = as_float64(fresh(shape, dtype=case.dtype))
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
    # (by the last part of the weight's path: LSTM's "lstm_cell/recurrent_kernel" takes recurrent_initializer)
    base = weight.rpartition("/")[2]
    candidates = (f"{base}_initializer", f"{base.removesuffix('_kernel')}_initializer", "depthwise_initializer")
    argument = next(c for c in candidates if c in layer_op.params)
    phase = "construct"
    try:
        draws = []
        for seed in seeds:
            initializer = cls(**case.params, seed=seed) if "seed" in _init_arguments(cls) else cls(**case.params)
            layer = layer_class(**spec.get("params", {}), **{argument: initializer}, dtype=case.dtype)
            phase = "build"
            layer.build(tuple(spec["input_shape"]))
            variables = {variable_name(v, layer): v for v in variables_of(layer)}
            draws.append(as_float64(variables[weight]))
        return SideOutcome(output=np.stack(draws))
    except Exception as exc:
        return SideOutcome(error=error_info(exc, phase))


def _in_mode(case, fn):
    """fn as the case's mode runs it (initializer draws)."""
    return MODES[case.mode].wrap(tensorflow(), fn)


def _init_arguments(cls) -> set:
    import inspect

    return set(inspect.signature(cls.__init__).parameters)


def check_custom_object(op, case, cls, reference) -> tuple[list[str], dict]:
    """A user's Keras object against the user's reference (tf_keras_custom.py)."""
    from conformance.target.tf_keras_custom import check_custom_object as check

    return check(op, case, cls, reference)


from conformance.target.tf_keras_losses import run_loss  # noqa: E402,F401  (a loss: tf_keras_losses.py)
from conformance.target.tf_keras_serialization import round_trips  # noqa: E402  (the serialization check)


def train_layer(op, case, x, weights, call, timings=None):
    """Optimizer steps on the layer (tf_keras_training.py)."""
    from conformance.target.tf_keras_training import train_layer as train

    return train(op, case, x, weights, call, timings)
from conformance.target.tf_keras_metrics import run_metric  # noqa: E402,F401  (a metric: tf_keras_metrics.py)
from conformance.target.tf_keras_optimizers import run_optimizer  # noqa: E402,F401  (an optimizer: tf_keras_optimizers.py)
