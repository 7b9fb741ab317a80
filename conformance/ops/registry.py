"""Generic op kinds and the name -> op registry."""
from __future__ import annotations

import difflib
import importlib
from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np

from conformance.ops.params import Constraint, ParamType

# Modules that register ops; each is a thin mapping of one family onto the kinds below.
FAMILY_MODULES = (
    "conformance.ops.conv",
    "conformance.ops.pooling",
    "conformance.ops.normalization",
    "conformance.ops.activations",
    "conformance.ops.regularizers",
    "conformance.ops.constraints",
    "conformance.ops.initializers",
    "conformance.ops.custom",
    "conformance.ops.regularization_layers",
    "conformance.ops.core_layers",
    "conformance.ops.attention_layers",
    "conformance.ops.recurrent_layers",
    "conformance.ops.losses",
    "conformance.ops.recurrent_cells",
    "conformance.ops.core_more",
    "conformance.ops.preprocessing_layers",
    "conformance.ops.metrics",
    "conformance.ops.optimizers",
    "conformance.ops.random_image_layers",
    "conformance.ops.hashing_layers",
)


@dataclass(frozen=True)
class Op:
    """What every op declares: its catalogue name, family and typed arguments (each with its
    range, choices and default, conformance.ops.params), and the rules between them."""

    name: str
    family: str
    params: Mapping[str, ParamType]
    required: tuple[str, ...] = ()
    # rules between arguments, each documented by Keras or enforced by the reference
    constraints: tuple[Constraint, ...] = ()
    doc: str = ""
    # A valid starting point for `conformance new`: {"input_shape": [...], "params": {...}}
    example: Mapping = field(default_factory=dict)
    # True when the arguments are the user's own (a custom class): any names are accepted
    open_params: bool = False
    # Why the gradient check (conformance.checks.gradients) does not apply to this op, if it does not
    no_gradients: str | None = None

    def arguments(self, given: dict) -> dict:
        """`given` with the declared default of every argument it does not give."""
        return {**{n: t.default for n, t in self.params.items() if t.has_default}, **given}

    def constraint_problems(self, given: dict) -> list[str]:
        """What the case's arguments break of the op's constraints."""
        arguments = self.arguments(given)
        return [p for p in (c.problem(arguments) for c in self.constraints) if p]


@dataclass(frozen=True)
class LayerOp(Op):
    """A `tf.keras.layers.<keras_class>` built from `params`, weights set, called `calls` times.

    predict_weights(params, input_shape) -> {variable name: shape}
    predict_output(params, input_shape) -> output shape
    compute(x, weights, params, call) -> float64 output of one call
    update_state(x, weights, params, call) -> {state variable: new value} after one call
    Each raises ValueError where the documented semantics reject the arguments.
    `call_params` types the keyword arguments a case may pass to each call (training, mask);
    `state` names the variables a call updates, compared after the last call;
    `positive_weights` are drawn positive (e.g. a moving variance).
    """

    keras_class: str = ""
    predict_weights: Callable[[dict, tuple], dict] = field(default=None, repr=False)
    predict_output: Callable[[dict, tuple], tuple] = field(default=None, repr=False)
    compute: Callable[[np.ndarray, dict, dict, dict], np.ndarray] = field(default=None, repr=False)
    call_params: Mapping[str, ParamType] = field(default_factory=dict)
    # The inputs a case gives: ("x",) for one tensor (compute gets an array); a tuple of
    # names (compute gets a dict, some may be optional, see required_inputs); None for any
    # number of inputs in the case's order (merging layers; compute gets a dict).
    input_names: tuple[str, ...] | None = ("x",)
    required_inputs: tuple[str, ...] = ("x",)
    # How tf.keras is called with the inputs (dict name -> tensor) and call arguments;
    # None: layer(inputs["x"], **call).
    keras_call: Callable | None = field(default=None, repr=False)
    # Constructor arguments as tf.keras takes them, from the case's params and dtype (e.g. a
    # wrapped layer given as {class_name, config} built into an object); None: as they are.
    keras_params: Callable | None = field(default=None, repr=False)
    # adapt(params) -> {"data": array, "batch_size": n or None}: what tf.keras's layer.adapt() is
    # given after the layer is built (with a batch size, a tf.data.Dataset of such batches), in
    # place of setting the reference's weights (its statistics are then tf.keras's own); or None
    adapt: Callable[[dict], object] | None = field(default=None, repr=False)
    state: tuple[str, ...] = ()
    update_state: Callable[[np.ndarray, dict, dict, dict], dict] | None = field(default=None, repr=False)
    positive_weights: frozenset = frozenset()
    # check_modelled(params, call) raises NotImplementedError for documented arguments the
    # reference does not model yet (validation then refuses the case, naming them)
    check_modelled: Callable[[dict, dict], None] | None = field(default=None, repr=False)
    # error_bound(x, weights, params, call, fmt, output=) -> per-element bound on the error of a
    # correct evaluation of the documented formula in the case's format (conformance.ops.bounds;
    # fmt a reference_impl.rounding.Format), or None: no bound derived, the flat tolerance judges.
    # A layer with further outputs or state may return {"output": bound, NAME: bound, ...} instead,
    # NAME one of its state entries ("output_1", a returned state, a state variable); an entry it
    # leaves out (or None) is judged by the flat tolerance.
    # A case that states its own `tolerance` is judged by that instead.
    error_bound: Callable | None = field(default=None, repr=False)
    # A random layer (Dropout, ...): `compute` is its inference; with training=True the
    # runner applies the named statistical check instead (conformance.checks.random_layers).
    stochastic: str | None = None


@dataclass(frozen=True)
class FunctionOp(Op):
    """A tf.keras callable made from `params` (an activation function with its arguments, a
    regularizer object), applied to one input, against the reference's compute(x, params).

    keras_callable(keras, params) -> callable of one tensor (`keras` is tf.keras)
    compute(x, params) -> float64 result (a scalar for a regularizer's penalty)
    """

    keras_callable: Callable[[object, dict], Callable] = field(default=None, repr=False)
    compute: Callable[[np.ndarray, dict], np.ndarray] = field(default=None, repr=False)
    # as LayerOp.error_bound, called with no weights and no call arguments
    error_bound: Callable | None = field(default=None, repr=False)


@dataclass(frozen=True)
class InitializerOp(Op):
    """tf.keras.initializers.<keras_class>(**params, seed=...)(shape): sampled, so judged
    against the reference's expected distribution of one entry, not element by element.

    distribution(params, shape) -> reference_impl.initializers.Distribution (ValueError if
    the documented semantics reject the arguments)
    """

    keras_class: str = ""
    distribution: Callable[[dict, tuple], object] = field(default=None, repr=False)


@dataclass(frozen=True)
class CustomOp(Op):
    """A user-defined Keras object (`custom: file.py:Class`) judged against the user's own
    NumPy reference (`reference: file.py:function`): its values, the get_config/from_config
    round trip, Keras serialization, and its use inside a layer.

    kind: "regularizer" (reference(x, **params) -> penalty), "constraint" (reference(w,
    **params) -> the projected w, same shape) or "initializer" (reference(shape, **params) ->
    a reference_impl.initializers.Distribution).
    """

    kind: str = ""


@dataclass(frozen=True)
class LossOp(Op):
    """A loss: tf.keras.losses.<Class>(**params, dtype=...)(y_true, y_pred, sample_weight=...)
    or the function form tf.keras.losses.<function>(y_true, y_pred, **params), against the
    reference's compute(inputs, params).

    keras_callable(keras, params, dtype) -> callable of the inputs dict (`keras` is tf.keras)
    compute(inputs, params) -> float64 loss (per sample for a function, reduced for a class)
    prepare(inputs, params, literal) -> the inputs with each generated one mapped into the
    loss's domain (labels, probabilities, ...), given to both sides; the names in `literal`
    (the case's `values:`) are used as written.
    specs(input_shape, params) -> {input name: spec} for a case that gives `input_shape` instead
    of `inputs` (a spec as a case's `inputs` entry: shape, dtype, range).
    """

    keras_callable: Callable[[object, dict, str], Callable] = field(default=None, repr=False)
    compute: Callable[[dict, dict], np.ndarray] = field(default=None, repr=False)
    prepare: Callable[[dict, dict, set], dict] = field(default=None, repr=False)
    specs: Callable[[tuple, dict], dict] = field(default=None, repr=False)
    input_names: tuple[str, ...] = ("y_true", "y_pred", "sample_weight")
    required_inputs: tuple[str, ...] = ("y_true", "y_pred")
    # tangent(params) -> {input name: projection of a direction onto the input's documented
    # domain} for the gradient check (probabilities move within their simplex); None: any direction
    tangent: Callable[[dict], dict] | None = field(default=None, repr=False)
    # error_bound(inputs, params, fmt, output=) -> per-element bound on the error of a correct
    # evaluation of the loss (the class's reduced value, or the function form's per-sample
    # losses) in the format fmt, inputs name -> array as compute takes them
    # (reference_impl.losses.class_error_bound / function_error_bound); None: the flat
    # tolerance judges
    error_bound: Callable | None = field(default=None, repr=False)


@dataclass(frozen=True)
class MetricOp(Op):
    """A stateful metric: tf.keras.metrics.<keras_class>(**params, dtype=...), update_state on
    `calls` fresh batches, result(); then reset_state(), one more batch and result() again,
    against the reference's compute(batches, params) on the batches seen each time.

    compute(batches, params) -> float64 result from a list of input dicts (y_true, y_pred,
    sample_weight; Mean and Sum: values, sample_weight)
    prepare(inputs, params, literal), specs(input_shape, params): as LossOp's, per batch.
    keras_params(keras, params) -> the constructor arguments as tf.keras takes them (`keras` is
    tf.keras: MeanMetricWrapper's fn by name); None: as they are.
    """

    keras_class: str = ""
    compute: Callable[[list, dict], np.ndarray] = field(default=None, repr=False)
    prepare: Callable[[dict, dict, set], dict] = field(default=None, repr=False)
    specs: Callable[[tuple, dict], dict] = field(default=None, repr=False)
    keras_params: Callable | None = field(default=None, repr=False)
    input_names: tuple[str, ...] = ("y_true", "y_pred", "sample_weight")
    required_inputs: tuple[str, ...] = ("y_true", "y_pred")
    # error_bound(batches, params, fmt, output=) -> per-element bound on the error of a correct
    # evaluation of result() after update_state on each of `batches` (input dicts as compute
    # takes them) in the format fmt (reference_impl.metrics.error_bound); the runner calls it for
    # the final result and for each earlier one (after_update_<i>, after_reset) on the batches
    # each covers; None: the flat tolerance judges
    error_bound: Callable | None = field(default=None, repr=False)


@dataclass(frozen=True)
class OptimizerOp(Op):
    """An optimizer: tf.keras.optimizers.<keras_class>(**params) built on the case's variables
    (named `inputs`), then one apply_gradients per step (`calls` steps, each with generated
    gradients), against the reference's compute(variables, gradients, params) -> after each
    step {"variables": {name: array}, "slots": {name: {slot: array}}}.

    slots: tf.keras's slot variable suffix (`<variable>_<suffix>`) -> the reference's slot name;
    the slots so named are compared after each step too.
    `call_params` types how the steps are made (`build`: when the optimizer creates its slots).
    """

    keras_class: str = ""
    compute: Callable[[dict, list, dict], list] = field(default=None, repr=False)
    slots: Mapping[str, str] = field(default_factory=dict)
    call_params: Mapping[str, ParamType] = field(default_factory=dict)
    input_names: tuple[str, ...] | None = None  # any variable names
    required_inputs: tuple[str, ...] = ()
    # error_bound(variables, gradients, params, fmt) -> per step {"variables": {name: per-element
    # bound}, "slots": {name: {slot: bound}}, "values": {name: the variable the bound is for}},
    # bounds on the error of each step's variables and slots (None: the tolerance judges)
    error_bound: Callable | None = field(default=None, repr=False)


def check_of(op: Op, call: dict, train: dict | None = None) -> str:
    """What a case of `op` compares (a name in conformance.axes.CHECK_MODES): samples of an
    initializer against its distribution; a user's object against the user's reference; a
    loss against the reference's loss; a layer with `train:` by its weights after optimizer
    steps; a random layer in training statistically; everything else by value."""
    if isinstance(op, InitializerOp):
        return "distribution"
    if isinstance(op, CustomOp):
        return "custom"
    if isinstance(op, LossOp):
        return "loss"
    if isinstance(op, MetricOp):
        return "metric"  # a metric's result over several update_state calls
    if isinstance(op, OptimizerOp):
        return "optimizer"  # variables and slots after each optimizer step
    if isinstance(op, LayerOp) and train:
        return "training"
    if isinstance(op, LayerOp) and op.stochastic and (call or {}).get("training"):
        return "statistics"
    return "values"


class UnknownOp(KeyError):
    def __init__(self, name, known):
        close = difflib.get_close_matches(str(name), known, n=3, cutoff=0.6)
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        super().__init__(f"unknown op {name!r}{hint}")
        self.message = f"unknown op {name!r}{hint}"

    def __str__(self):
        return self.message


_REGISTRY: dict[str, Op] = {}


def register(*ops: Op) -> None:
    for op in ops:
        if op.name in _REGISTRY:
            raise RuntimeError(f"op {op.name!r} registered twice")
        _REGISTRY[op.name] = op


def _load_families() -> None:
    # every family module, whether or not one of them was already imported on its own
    for module in FAMILY_MODULES:
        importlib.import_module(module)


def all_ops() -> dict[str, Op]:
    _load_families()
    return dict(_REGISTRY)


def get_op(name: str) -> Op:
    _load_families()
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise UnknownOp(name, list(_REGISTRY)) from None
