"""What Keras 2 (the tf_keras target) documents differently from Keras 3, as thin changes to
an op's reference: the reference follows each target's own documentation.

Each entry quotes the Keras 2 docstring or signature it comes from. Two kinds of difference:
- `defaults`: an argument Keras 2 documents with another default; the reference is given
  Keras 2's value when the case leaves the argument out (tf_keras itself is called with the
  case's arguments only, so its default is what is tested);
- `compute`: a function Keras 2 defines by another formula (and, for an activation, every
  layer's `activation=` naming it: `ACTIVATIONS`).
Arguments Keras 2 merely names differently are the target adapter's business
(conformance.target.keras2.RENAMED); ops and arguments it lacks are skipped there.

`documented_by(op, target)` is the op as the target documents it; `migration(op, case)` says
which of these differences a case meets (the report's migration view).
"""
from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field
from typing import Callable

from reference_impl import activations as ref_activations
from reference_impl import attention as ref_attention
from reference_impl import optimizers as ref_optimizers

TARGET = "tf_keras"


@dataclass(frozen=True)
class Keras2Semantics:
    documentation: str  # the Keras 2 docstring or signature that says it
    defaults: dict = field(default_factory=dict)  # argument -> Keras 2's documented default
    compute: Callable | None = None  # the op's compute under Keras 2's formula
    predict_weights: Callable | None = None  # the layer's variables (params, shapes) as Keras 2 documents them
    applies: Callable[[dict], bool] | None = None  # the cases compute/predict_weights change (migration view); None: all
    # the op's error bound still judges where its judge checks that the bound carried the values
    # of `compute` (the optimizers: conformance.checks.optimizers._bound_applies), so a case
    # compute leaves as Keras 3's is not judged by the flat tolerance instead
    keeps_error_bound: bool = False


# Activations Keras 2 defines by another formula, by name (a layer's `activation=` too).
ACTIVATIONS = {
    "hard_sigmoid": ref_activations.hard_sigmoid_keras2,
}
_HARD_SIGMOID_DOC = ('tf_keras.activations.hard_sigmoid: "if x < -2.5: return 0; if x > 2.5: return 1; '
                     'if -2.5 <= x <= 2.5: return 0.2 * x + 0.5" (Keras 3: relu6(x + 3) / 6, slope 1/6)')

KERAS2 = {
    "regularizers.l1_l2": Keras2Semantics(
        'tf_keras.regularizers.l1_l2(l1=0.01, l2=0.01) (Keras 3: keras.regularizers.l1_l2 is L1L2(l1=0.0, l2=0.0))',
        defaults={"l1": 0.01, "l2": 0.01}),
    "activations.hard_sigmoid": Keras2Semantics(
        _HARD_SIGMOID_DOC, compute=lambda x, params: ref_activations.hard_sigmoid_keras2(x)),
    **{f"ConvLSTM{rank}D": Keras2Semantics(
        f'tf_keras.layers.ConvLSTM{rank}D(filters, kernel_size, ..., activation="tanh", '
        'recurrent_activation="hard_sigmoid", ...) (Keras 3: recurrent_activation="sigmoid")',
        defaults={"recurrent_activation": "hard_sigmoid"}) for rank in (1, 2, 3)},
    "AdditiveAttention": Keras2Semantics(
        'tf_keras.layers.AdditiveAttention use_scale: "If `True`, will create a variable to scale the attention '
        'scores." (no shape; Keras 3: "a scalar variable"): the reference takes the per-feature scale (dim,)',
        predict_weights=lambda params, shapes: ref_attention.additive_attention_weight_shapes_keras2(shapes, **params),
        applies=lambda params: params.get("use_scale", True)),
    # only use_ema=True computes otherwise (reference_impl.optimizers.run_keras2)
    **{f"optimizers.{name}": Keras2Semantics(
        'tf_keras.optimizers.Optimizer use_ema: "`ema_momentum=1` means no decay and the stored moving average is always '
        'model variable\'s initial value before training" (the EMA starts from the variables before the first step; '
        'Keras 3 documents no start, the reference starts it at the first update)',
        compute=functools.partial(lambda name, variables, gradients, params: ref_optimizers.run_keras2(
            name, params, variables, gradients), name),
        applies=lambda params: bool(params.get("use_ema")), keeps_error_bound=True) for name in ref_optimizers.RULES},
}


@dataclass(frozen=True)
class Limitation:
    """Something Keras 2's documentation says does not work: a case of `ops` whose arguments
    satisfy `applies` and where Keras 2 raises an error matching `raises` is not judged (a skip
    that quotes the documentation), as "not supported" in a docstring allows an error; where
    it computes, its values are judged as usual. `applies` takes the case (its params, dtype,
    call)."""
    ops: tuple
    applies: Callable[[object], bool]
    raises: str  # regular expression on the error's type and message
    documentation: str


def _unequal(value) -> bool:
    return isinstance(value, (list, tuple)) and len(set(value)) > 1


def _any_not_one(value) -> bool:
    return any(v != 1 for v in (value if isinstance(value, (list, tuple)) else [value]))


LIMITATIONS = (
    Limitation(("CategoryEncoding",), lambda c: True, r"maximum supported output rank is 2",
               'tf_keras.layers.CategoryEncoding output_mode: "For all output modes, currently only output up to rank 2 '
               'is supported."'),
    Limitation(("IntegerLookup",), lambda c: c.params.get("output_mode", "int") != "int", r"maximum supported output rank is 2",
               'tf_keras.layers.IntegerLookup output_mode: "For `"int"` output, any shape of input and output is '
               'supported. For all other output modes, currently only output up to rank 2 is supported."'),
    Limitation(("Conv1D", "Conv2D", "Conv3D"), lambda c: c.params.get("data_format") == "channels_first", r"NHWC|NDHWC",
               'tf_keras.layers.Conv2D (and Conv1D, Conv3D): "Note that the `channels_first` format is currently '
               'not supported by TensorFlow on CPU."'),
    Limitation(("Conv2DTranspose",), lambda c: _unequal(c.params.get("dilation_rate")), r"dilation_rate",
               'tf_keras.layers.Conv2DTranspose: "dilation_rate: an integer, specifying the dilation rate for all '
               'spatial dimensions ... Specifying different dilation rates for different dimensions is not supported."'),
    Limitation(("SeparableConv1D", "SeparableConv2D"),
               lambda c: _any_not_one(c.params.get("strides", 1)) and _any_not_one(c.params.get("dilation_rate", 1)),
               r"`strides > 1` not supported in conjunction with `dilation_rate > 1`",
               'tf_keras.layers.SeparableConv1D/SeparableConv2D strides: "Specifying any `stride` value != 1 is '
               'incompatible with specifying any `dilation_rate` value != 1."'),
    # Keras 2 casts only the first argument of call to the compute dtype: an RNN's float32
    # initial_state meets the 16-bit inputs
    Limitation(("SimpleRNN", "LSTM", "GRU", "RNN", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D", "Bidirectional"),
               lambda c: str(c.dtype).startswith("mixed_") and bool((c.call or {}).get("initial_state")),
               # eagerly; inside tf.function (two messages)
               r"expected to be a (float|half|bfloat16) tensor but is a (float|half|bfloat16) tensor"
               r"|has type (float16|bfloat16|float32) that does not match type (float16|bfloat16|float32)"
               r"|Tensor conversion requested dtype (float32|float16|bfloat16) for Tensor with dtype",
               'tf_keras.mixed_precision.Policy: "Currently, only tensors in the first argument to the layer\'s '
               '`call` method are casted (although this will likely be changed in a future minor release)."'),
)


@dataclass(frozen=True)
class UndocumentedRejection:
    """A case of `ops` whose arguments satisfy `applies` expects an error because Keras 3's
    documentation rules the input out, and Keras 2's documentation states no such rule: it
    promises neither the error nor a value, so the Keras 2 case is not judged (a skip quoting
    what Keras 2 documents; the migration view's "rejection not in Keras 2")."""
    ops: tuple
    applies: Callable[[dict], bool]
    documentation: str  # what Keras 2 documents for the argument, and Keras 3's rule


# Filled by the Keras 2 triage, each with the two docstrings that differ.
UNDOCUMENTED_REJECTIONS: tuple = (
    UndocumentedRejection(
        ("GaussianDropout", "AlphaDropout"), lambda p: "rate" in p,
        'tf_keras.layers.GaussianDropout / AlphaDropout: "rate: Float, drop probability (as with `Dropout`)" (AlphaDropout: '
        '"float, ..."), Dropout\'s "Float between 0 and 1", and no error promised for a rate outside it (Keras 3\'s '
        'constructors raise ValueError: `rate` must be a float between 0 and 1)'),
    UndocumentedRejection(
        ("Dropout",), lambda p: p.get("noise_shape") is not None,
        'tf_keras.layers.Dropout: "noise_shape: 1D integer tensor representing the shape of the binary dropout mask that '
        'will be multiplied with the input", and no error promised for another value (Keras 3 raises ValueError for a '
        'noise_shape that is not a sequence of positive ints or None)'),
)


def undocumented_rejection(op, case) -> str | None:
    """The skip message of a Keras 2 case expecting an error that only Keras 3 documents, or None."""
    if case.target != TARGET or not case.expect.get("error"):
        return None
    for rejection in UNDOCUMENTED_REJECTIONS:
        if op.name in rejection.ops and rejection.applies(case.params):
            return f"{REJECTION_PREFIX}: {rejection.documentation}"
    return None


REJECTION_PREFIX = "Keras 2 documents no such rejection"


def documented_limitation(op, case, keras_error: dict | None) -> str | None:
    """The documentation that allows `keras_error` (a record's error: type, message) for this
    Keras 2 case, or None."""
    import re

    if case.target != TARGET or not keras_error:
        return None
    text = f"{keras_error.get('type')}: {keras_error.get('message')}"
    for limitation in LIMITATIONS:
        if op.name in limitation.ops and limitation.applies(case) and re.search(limitation.raises, text):
            return limitation.documentation
    return None


def documented_by(op, target: str):
    """`op` with its reference as `target` documents it (itself for tf.keras, and for every op
    Keras 2 documents as Keras 3 does)."""
    if target != TARGET:
        return op
    semantics = KERAS2.get(op.name)
    changes = {}
    if semantics and semantics.compute:
        changes["compute"] = semantics.compute
        # the op's error bound is the Keras 3 formula's: another formula is judged by the tolerance
        if getattr(op, "error_bound", None) is not None and not semantics.keeps_error_bound:
            changes["error_bound"] = None
    if semantics and semantics.predict_weights:
        changes["predict_weights"] = semantics.predict_weights
    defaults = semantics.defaults if semantics else {}
    # every reference callable of the op that takes the case's params (compute, predict_output,
    # update_state, ...) sees Keras 2's defaults and Keras 2's activation formulas
    for name, index in PARAMS_POSITION.get(type(op).__name__, {}).items():
        value = changes.get(name, getattr(op, name, None))
        if value is not None:
            changes[name] = _with_keras2_params(value, index, defaults)
    return dataclasses.replace(op, **changes)


def migration(op, case) -> list[dict]:
    """The documented Keras 2 -> 3 differences this case meets: a default it leaves out, a
    formula it evaluates (the op's own, or an activation named by an argument)."""
    out = []
    semantics = KERAS2.get(op.name)
    if semantics:
        for name, value in semantics.defaults.items():
            if name not in case.params:
                out.append({"cause": "default changed", "argument": name, "keras2": value,
                            "documentation": semantics.documentation})
        if (semantics.compute or semantics.predict_weights) and (semantics.applies is None or semantics.applies(case.params)):
            out.append({"cause": "formula changed", "argument": None, "documentation": semantics.documentation})
    for name, value in _activation_arguments(case.params):
        if value in ACTIVATIONS:
            out.append({"cause": "formula changed", "argument": f"{name}={value}",
                        "documentation": KERAS2[f"activations.{value}"].documentation})
    return out


def _activation_arguments(value, path=""):
    """(dotted argument name, activation name) of every `*activation` string argument, at any depth."""
    if isinstance(value, dict):
        for k, v in value.items():
            name = f"{path}.{k}" if path else str(k)
            if str(k).endswith("activation") and isinstance(v, str):
                yield name, v
            else:
                yield from _activation_arguments(v, name)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _activation_arguments(v, f"{path}[{i}]")


# Where each reference callable of an op kind takes the case's params (conformance.ops.registry).
PARAMS_POSITION = {
    "LayerOp": {"compute": 2, "update_state": 2, "error_bound": 2, "predict_weights": 0, "predict_output": 0,
                "check_modelled": 0},
    "FunctionOp": {"compute": 1, "error_bound": 2},
    "LossOp": {"compute": 1, "prepare": 1, "specs": 1, "error_bound": 1},
    "InitializerOp": {"distribution": 0},
}


def _keras2_activations(value):
    """Every `*activation` argument naming a function Keras 2 defines otherwise, as that function,
    at any depth (a wrapped layer's or a cell's config)."""
    if isinstance(value, dict):
        return {k: ACTIVATIONS.get(v, v) if k.endswith("activation") and isinstance(v, str) else _keras2_activations(v)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_keras2_activations(v) for v in value]
    return value


def _with_keras2_params(fn, index: int, defaults: dict):
    def keras2(params):
        return _keras2_activations({**defaults, **params} if isinstance(params, dict) else params)

    @functools.wraps(fn)
    def wrapped(*args, **kwargs):
        if len(args) > index:
            args = (*args[:index], keras2(args[index]), *args[index + 1:])
        return fn(*args, **kwargs)

    return wrapped
