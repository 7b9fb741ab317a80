"""Losses: every keras.losses class (`losses.<Class>`, called with y_true, y_pred and an optional
sample_weight, reduced as its `reduction` says) and every function form (`losses.<function>`, one
loss per sample), as thin mappings onto reference_impl.losses.

A generated input is mapped into the loss's domain before both sides get it (`DOMAINS`, per
input): probabilities are sigmoid or softmax of the normal draws (unless from_logits), soft labels
likewise, integer labels are class indices (one-hot along `axis` for the categorical losses),
hinge labels are the sign of the draw (+1 for >= 0), embeddings are L2-normalized, sample weights
and Poisson's rates are exp of the draw. A literal `values:` input is given as written, so edge
cases (probabilities 0 and 1, logits of +-100, zero weights) say exactly what they test.

Every loss has an error bound (reference_impl.losses.BOUNDS: each loss's formula on Bounded
values, then the reduction's weighted sum and division): the class's through class_error_bound,
the function form's per-sample losses through function_error_bound.
"""
from __future__ import annotations

import inspect

import numpy as np

from reference_impl import losses as ref

from conformance.ops import params as P
from conformance.ops.registry import LossOp, register

FAMILY = "losses"

REDUCTION = P.OPTIONAL_STRING.one_of(*(r for r in ref.REDUCTIONS if r)).defaults_to("sum_over_batch_size")

# argument -> type (defaults are read from the reference's signatures)
TYPES = {
    "from_logits": P.BOOL,
    "label_smoothing": P.NUMBER.between(0, 1),  # "Float in [0, 1]"
    "axis": P.INT,
    "delta": P.NON_NEGATIVE,
    "alpha": P.NUMBER,
    "beta": P.NUMBER,
    "gamma": P.NON_NEGATIVE,
    "apply_class_balancing": P.BOOL,
    "ignore_class": P.optional(P.INT),
    "q": P.NUMBER.between(0, 1),  # "Float in range (0, 1)": the reference rejects the ends
    "margin": P.NUMBER,
    "remove_diagonal": P.BOOL,
}
# arguments whose type differs by loss
OWN_TYPES = {
    "CategoricalFocalCrossentropy": {"alpha": P.ANY},  # "a list of floats or a scalar"
    "Dice": {"axis": P.optional(P.int_or_list())},  # "Tuple for which dimensions the loss is calculated"
    "Tversky": {"axis": P.optional(P.int_or_list())},
}


# --- how generated inputs enter each loss's domain -----------------------------------------

def _sigmoid(x, params, inputs):
    return ref.sigmoid(x)


def _softmax(x, params, inputs):
    return ref.softmax(x, params.get("axis", -1))


def _probabilities(kind):
    """y_pred as probabilities through `kind`, or as it is when the case asks for logits."""
    return lambda x, params, inputs: x if params.get("from_logits") else kind(x, params, inputs)


def _soft_or_one_hot(x, params, inputs):
    """Class indices (integers) one-hot along `axis`; float draws as soft labels (softmax)."""
    return _one_hot(x, params, inputs) if np.issubdtype(x.dtype, np.integer) else _softmax(x, params, inputs)


def _one_hot(x, params, inputs):
    """Class indices one-hot along `axis` (as many classes as y_pred has); float draws one-hot at
    their largest entry."""
    axis = params.get("axis", -1)
    if not np.issubdtype(x.dtype, np.integer):
        x = np.argmax(x, axis=axis)
    classes = inputs["y_pred"].shape[axis]
    return np.moveaxis(np.eye(classes)[x], -1, axis if axis >= 0 else x.ndim + 1 + axis)


def _binary_labels(x, params, inputs):
    """0/1 integer labels as they are; float draws as soft labels in (0, 1)."""
    return x if np.issubdtype(x.dtype, np.integer) else ref.sigmoid(x)


def _signs(x, params, inputs):
    """Integer labels as they are (0/1 is converted by the loss); float draws as +-1."""
    return x if np.issubdtype(x.dtype, np.integer) else np.where(x >= 0, 1.0, -1.0)


def _exp(x, params, inputs):
    return np.exp(x)


def _normalized(x, params, inputs):
    return ref.l2_normalize(x, -1)


def _padded_labels(x, params, inputs):
    """CTC labels: the zeros (blank, "the mask index") moved to the end of each row."""
    return np.stack([np.concatenate([row[row != 0], row[row == 0]]) for row in x]) if x.size else x


def _as_is(x, params, inputs):
    return x


# loss -> {input: how a generated value is mapped}; sample_weight is exp of the draw everywhere
DOMAINS = {
    "MeanSquaredError": {}, "MeanAbsoluteError": {}, "MeanAbsolutePercentageError": {},
    "MeanSquaredLogarithmicError": {}, "Huber": {}, "LogCosh": {}, "CosineSimilarity": {},
    "Poisson": {"y_true": _exp, "y_pred": _exp},
    "KLDivergence": {"y_true": _softmax, "y_pred": _softmax},
    "Hinge": {"y_true": _signs}, "SquaredHinge": {"y_true": _signs},
    "CategoricalHinge": {"y_true": _one_hot},
    "BinaryCrossentropy": {"y_true": _binary_labels, "y_pred": _probabilities(_sigmoid)},
    "BinaryFocalCrossentropy": {"y_true": _binary_labels, "y_pred": _probabilities(_sigmoid)},
    "CategoricalCrossentropy": {"y_true": _soft_or_one_hot, "y_pred": _probabilities(_softmax)},
    "CategoricalFocalCrossentropy": {"y_true": _soft_or_one_hot, "y_pred": _probabilities(_softmax)},
    "SparseCategoricalCrossentropy": {"y_pred": _probabilities(_softmax)},
    "CategoricalGeneralizedCrossEntropy": {"y_pred": _softmax},
    "Dice": {"y_true": _binary_labels, "y_pred": _sigmoid},
    "Tversky": {"y_true": _binary_labels, "y_pred": _sigmoid},
    "Circle": {"y_pred": _normalized, "ref_embeddings": _normalized},
    "CTC": {"y_true": _padded_labels},
}
# y_pred's shape in `conformance new`'s template: CTC takes (batch, steps, classes) logits
EXAMPLE_SHAPES = {"CTC": [2, 6, 4], "Circle": [6, 4]}
# losses whose y_true is integer class indices, with y_pred's shape without the class axis
SPARSE = ("SparseCategoricalCrossentropy", "CategoricalGeneralizedCrossEntropy")


def _specs(name):
    """The inputs of a case that gives only `input_shape` (y_pred's shape)."""
    def specs(shape, params):
        shape = list(shape)
        if name in SPARSE:
            axis = params.get("axis", -1)
            return {"y_true": {"shape": shape[:axis % len(shape)] + shape[axis % len(shape) + 1:] or [1],
                               "dtype": "int32", "range": [0, shape[axis]]},
                    "y_pred": {"shape": shape}}
        if name == "Circle":  # labels that repeat, so that every anchor has positives
            return {"y_true": {"shape": shape[:1], "dtype": "int32", "range": [0, max(2, shape[0] // 2)]}, "y_pred": {"shape": shape}}
        if name == "CTC":  # (batch, steps, classes) logits, labels of half the steps (0 pads)
            return {"y_true": {"shape": [shape[0], max(1, shape[1] // 2)], "dtype": "int32", "range": [0, shape[2]]},
                    "y_pred": {"shape": shape}}
        return {"y_true": {"shape": shape}, "y_pred": {"shape": shape}}
    return specs


def _prepare(name):
    domains = {"sample_weight": _exp, **DOMAINS[name]}

    def prepare(inputs, params, literal):
        return {n: v if n in literal else domains.get(n, _as_is)(v, params, inputs) for n, v in inputs.items()}
    return prepare


def _keras_arguments(params: dict) -> dict:
    """YAML has no tuples: Dice's and Tversky's axis lists are passed as the tuples documented."""
    return {k: tuple(v) if k == "axis" and isinstance(v, list) else v for k, v in params.items()}


def _types(name, function, names) -> dict:
    own = OWN_TYPES.get(name, {})
    return P.with_defaults({n: own.get(n, TYPES.get(n)) for n in names}, function)


# losses whose y_pred is documented as probabilities along `axis` (when not from_logits): the
# gradient check moves it only within that simplex (directions of zero sum along the axis), as a
# softmax in front of it would; tf.keras normalizes y_pred by its sum there, which changes the
# derivative in the directions that leave the simplex, and the documentation defines none there.
SIMPLEX_Y_PRED = ("CategoricalCrossentropy", "CategoricalFocalCrossentropy", "SparseCategoricalCrossentropy",
                  "KLDivergence", "CategoricalGeneralizedCrossEntropy")


def _tangent(name: str):
    if name not in SIMPLEX_Y_PRED:
        return None

    def tangent(params):
        if params.get("from_logits"):
            return {}
        axis = params.get("axis", -1)
        return {"y_pred": lambda u: u - np.mean(u, axis=axis, keepdims=True)}

    return tangent


def _loss_class(name: str) -> LossOp:
    function = ref.FUNCTIONS[name]
    names = [p for p in list(inspect.signature(function).parameters)[2:] if p not in ("ref_labels", "ref_embeddings")]
    types = {**_types(name, function, names), "reduction": REDUCTION}

    def keras_callable(keras, params, dtype):
        # dtype None: a Keras without the argument (Keras 2's losses compute in their inputs' dtype)
        loss = getattr(keras.losses, name)(**_keras_arguments(params), **({} if dtype is None else {"dtype": dtype}))
        return lambda inputs: loss(inputs["y_true"], inputs["y_pred"], sample_weight=inputs.get("sample_weight"))

    def compute(inputs, params):
        return ref.loss_class(name, inputs["y_true"], inputs["y_pred"], inputs.get("sample_weight"), **params)

    def error_bound(inputs, params, fmt, output=None):
        return ref.class_error_bound(name, inputs["y_true"], inputs["y_pred"], inputs.get("sample_weight"), fmt, **params)

    return LossOp(
        name=f"losses.{name}", family=FAMILY, params=types,
        doc=f"tf.keras.losses.{name}(**params)(y_true, y_pred, sample_weight): reference_impl.losses.{function.__name__}, reduced",
        keras_callable=keras_callable, compute=compute, prepare=_prepare(name), specs=_specs(name), tangent=_tangent(name),
        error_bound=error_bound, example={"input_shape": EXAMPLE_SHAPES.get(name, [4, 3]), "params": {}},
    )


def _loss_function(name: str, keras_name: str | None = None) -> LossOp:
    """The function form of class `name`, by its keras.losses name or by one of tf.keras's own
    names for it (`ALIASES`)."""
    function = ref.FUNCTIONS[name]
    keras_name = keras_name or function.__name__
    signature = list(inspect.signature(function).parameters)[2:]
    extra_inputs = tuple(p for p in signature if p in ("ref_labels", "ref_embeddings"))
    names = [p for p in signature if p not in extra_inputs]
    # categorical_generalized_cross_entropy(y_true, y_pred, q): q has no default in the function form
    required = ("q",) if name == "CategoricalGeneralizedCrossEntropy" else ()
    types = {n: t if n not in required else P.NUMBER.between(0, 1) for n, t in _types(name, function, names).items()}

    def keras_callable(keras, params, dtype):
        loss = getattr(keras.losses, keras_name)
        return lambda inputs: loss(inputs["y_true"], inputs["y_pred"], **{n: inputs[n] for n in extra_inputs if n in inputs},
                                   **_keras_arguments(params))

    def compute(inputs, params):
        return function(inputs["y_true"], inputs["y_pred"], **{n: inputs[n] for n in extra_inputs if n in inputs}, **params)

    def error_bound(inputs, params, fmt, output=None):
        return ref.function_error_bound(name, inputs["y_true"], inputs["y_pred"], fmt,
                                        **{n: inputs[n] for n in extra_inputs if n in inputs}, **params)

    return LossOp(
        name=f"losses.{keras_name}", family=FAMILY, params=types, required=required,
        doc=f"tf.keras.losses.{keras_name}(y_true, y_pred, **params): reference_impl.losses.{function.__name__}, one loss per sample",
        keras_callable=keras_callable, compute=compute, prepare=_prepare(name), specs=_specs(name), tangent=_tangent(name),
        input_names=("y_true", "y_pred", *extra_inputs), error_bound=error_bound,
        example={"input_shape": EXAMPLE_SHAPES.get(name, [4, 3]), "params": {n: 0.5 for n in required}},
    )


# tf.keras.losses's own names for function forms (the Keras 2 names it keeps). keras.losses names
# the first six functions mean_squared_error, ..., log_cosh, and tf.keras.losses has no such
# attribute (tf-keras-losses-function-names-missing); these ops judge their values by the names
# tf.keras has.
ALIASES = {
    "mse": "MeanSquaredError", "mae": "MeanAbsoluteError", "mape": "MeanAbsolutePercentageError",
    "msle": "MeanSquaredLogarithmicError", "kld": "KLDivergence", "kullback_leibler_divergence": "KLDivergence",
    "logcosh": "LogCosh",
}

register(*(_loss_class(name) for name in ref.FUNCTIONS))
register(*(_loss_function(name) for name in ref.FUNCTIONS))
register(*(_loss_function(name, alias) for alias, name in ALIASES.items()))
