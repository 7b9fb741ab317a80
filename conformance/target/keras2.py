"""The tf_keras target: Keras 2, the `tf_keras` package, which is what `tf.keras` becomes when
TensorFlow starts with TF_USE_LEGACY_KERAS=1 (`pip install -e '.[keras2]'`).

The adapter of the tf.keras target (tf_keras.py) reaches Keras only as `tf.keras`, so in a
process started with that variable (conformance.axes.TARGETS: a worker serves one target) the
same code drives Keras 2. This module adds what differs on the framework side:

- the random state: Keras 2 draws unseeded values from TensorFlow's global seed;
- what Keras 2 does not have (`unsupported`): a class, or an argument of its constructor,
  becomes a skip with that reason, not a failure;
- arguments Keras 2 names differently (`RENAMED`, same meaning: its own docstring says so),
  passed under its name;
- losses, which Keras 2 builds without `dtype` (they compute in their inputs' dtype).

What Keras 2 *documents* differently (a default, a formula) is the reference's business:
conformance.ops.keras2.
"""
from __future__ import annotations

import dataclasses
import inspect
import os

from conformance.target import tf_keras as base  # every member not defined here is base's (__getattr__)

NAME = "tf_keras"
PACKAGE = "tf_keras"

# Keras 3 argument -> the Keras 2 argument of the same meaning, per op (from Keras 2's docstrings).
RENAMED = {
    "LeakyReLU": {"negative_slope": "alpha"},  # tf_keras.layers.LeakyReLU(alpha=0.3): "Negative slope coefficient."
    "activations.relu": {"negative_slope": "alpha"},  # tf_keras.activations.relu(x, alpha=0.0, ...): "the slope for values lower than the threshold"
}
# Arguments every Keras 2 layer takes through **kwargs (tf_keras.layers.Layer's constructor).
LAYER_KWARGS = {"input_dim", "input_shape", "batch_input_shape", "batch_size", "weights", "activity_regularizer",
                "autocast", "implementation", "trainable", "name", "dtype", "dynamic"}


# Variables Keras 2 names differently, per layer class: Keras 2 name -> Keras 3 name.
WEIGHT_NAMES = {
    "DepthwiseConv1D": {"depthwise_kernel": "kernel"},
    "DepthwiseConv2D": {"depthwise_kernel": "kernel"},
}


def keras3_name(layer, variable, name: str) -> str:
    """A Keras 2 variable's name inside `layer` as Keras 3 paths it (the reference's names): the
    renamed variables, and the sublayer's name first for a variable of a wrapped layer or a
    cell (TimeDistributed's "conv2d/kernel", ConvLSTM2D's "conv_lstm_cell/kernel"), which
    Keras 2 leaves out when the layer is built by build()."""
    name = WEIGHT_NAMES.get(type(layer).__name__, {}).get(name, name)
    if "/" not in name:
        for sub in (getattr(layer, "layer", None), getattr(layer, "cell", None)):
            if sub is not None and hasattr(sub, "weights") and any(v is variable for v in sub.weights):
                return f"{sub.name}/{name}"
    return name


class WrongProcess(RuntimeError):
    """Keras 3 already owns `tf.keras` in this process: Keras 2 needs a worker of its own."""


def tensorflow():
    """Import TensorFlow once, with `tf.keras` bound to Keras 2."""
    import sys

    if "tensorflow" not in sys.modules:
        os.environ["TF_USE_LEGACY_KERAS"] = "1"
    tf = base.tensorflow()
    if not tf.keras.__name__.startswith("tf_keras"):
        raise WrongProcess("tf.keras is Keras 3 in this process; the tf_keras target runs in a worker started with "
                           "TF_USE_LEGACY_KERAS=1 (conformance.axes.TARGETS)")
    return tf


def versions() -> dict:
    from importlib import metadata

    out = {}
    for name in ("tensorflow", PACKAGE):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def reset_random_state(seed: int) -> None:
    """Python's, NumPy's and TensorFlow's global seeds (tf_keras.utils.set_random_seed): an
    unseeded Keras 2 layer or initializer draws from TensorFlow's."""
    tensorflow().keras.utils.set_random_seed(int(seed))


def keras_object(op):
    """(path, object): the Keras object a built-in op stands for, `tf.keras.<path>`, or None
    when this Keras has no such name; (None, None) for a user's object."""
    from conformance.ops.registry import CustomOp, InitializerOp, LayerOp

    if isinstance(op, CustomOp):
        return None, None
    if isinstance(op, LayerOp):
        path = f"layers.{op.keras_class}"
    elif isinstance(op, InitializerOp):
        path = f"initializers.{op.keras_class}"
    else:
        path = op.name
    module, _, name = path.partition(".")
    return path, getattr(getattr(tensorflow().keras, module, None), name, None)


def unsupported(op, case) -> str | None:
    """Why Keras 2 cannot run this case as written (its class or one of its arguments does not
    exist there), or None."""
    path, obj = keras_object(op)
    if path is None:
        return None
    if obj is None:
        return f"not in Keras 2: tf_keras has no {path}"
    try:
        parameters = inspect.signature(obj.__init__ if inspect.isclass(obj) else obj).parameters
    except (TypeError, ValueError):
        return None
    takes_kwargs = any(p.kind is p.VAR_KEYWORD for p in parameters.values())
    is_layer = inspect.isclass(obj) and issubclass(obj, tensorflow().keras.layers.Layer)
    for argument, value in _renamed(op, _constructor_params(op, case)).items():
        if not (argument in parameters or (takes_kwargs and is_layer and argument in LAYER_KWARGS)):
            return f"not in Keras 2: tf_keras's {path} has no argument {argument!r}"
        if argument.endswith("activation") and isinstance(value, str) and not _has_activation(value):
            return f"not in Keras 2: tf_keras has no activation {value!r} ({argument}={value!r})"
        if argument == "reduction" and value not in LOSS_REDUCTIONS:
            return f"not in Keras 2: tf_keras's losses take reduction in {', '.join(LOSS_REDUCTIONS)}, not {value!r}"
    return None


def _constructor_params(op, case) -> dict:
    """The case's params the constructor gets: those op.keras_params keeps (it drops the harness's
    own, Normalization's `adapt` data), with the case's values, for the signature check."""
    keras_params = getattr(op, "keras_params", None)
    if not keras_params:
        return case.params
    try:
        kept = keras_params(tensorflow().keras, case.params, case.dtype)
    except Exception:  # it cannot build them here: the case's own names are checked
        return case.params
    return {k: v for k, v in case.params.items() if k in kept}


# tf_keras.losses.Reduction's keys (its docstring: AUTO, NONE, SUM, SUM_OVER_BATCH_SIZE).
LOSS_REDUCTIONS = ("auto", "none", "sum", "sum_over_batch_size")


def _has_activation(name: str) -> bool:
    try:
        tensorflow().keras.activations.get(name)
        return True
    except ValueError:
        return False


def _renamed(op, params: dict) -> dict:
    names = RENAMED.get(op.name, {})
    return {names.get(k, k): v for k, v in params.items()}


def _as_keras2(op, case):
    """The case with its arguments under their Keras 2 names."""
    return dataclasses.replace(case, params=_renamed(op, case.params)) if op.name in RENAMED else case


def run_layer(op, case, *args, **kwargs):
    return base.run_layer(op, _as_keras2(op, case), *args, **kwargs)


def run_layer_isolated(op, case, *args, **kwargs):
    return base.run_layer_isolated(op, _as_keras2(op, case), *args, **kwargs)


def train_layer(op, case, *args, **kwargs):
    return base.train_layer(op, _as_keras2(op, case), *args, **kwargs)


def run_function(op, case, *args, **kwargs):
    return base.run_function(op, _as_keras2(op, case), *args, **kwargs)


def run_loss(op, case, *args, **kwargs):
    # Keras 2's losses take no `dtype`: they compute in their inputs' dtype (the case's).
    original = op.keras_callable
    without_dtype = dataclasses.replace(op, keras_callable=lambda keras, params, dtype: original(keras, params, None))
    return base.run_loss(without_dtype, _as_keras2(op, case), *args, **kwargs)


def draw_initializer(op, case, *args, **kwargs):
    return base.draw_initializer(op, _as_keras2(op, case), *args, **kwargs)


def draw_layer_kernels(op, case, *args, **kwargs):
    return base.draw_layer_kernels(op, _as_keras2(op, case), *args, **kwargs)


def check_custom_object(op, case, cls, reference):
    return base.check_custom_object(op, case, cls, reference)


def __getattr__(name: str):
    """Every other member of the Target protocol (run_optimizer, run_metric...) is the tf.keras
    adapter's own, driving Keras 2 through `tf.keras` in this process."""
    if name.startswith("__"):
        raise AttributeError(name)
    return getattr(base, name)
