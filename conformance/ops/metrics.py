"""Metrics: keras.metrics classes as `metrics.<Class>` (update_state on several batches, result(),
reset_state()), thin mappings onto reference_impl.metrics.

A case gives `input_shape` (y_pred's shape; the op derives y_true: the same shape, or class
indices without the class axis for the sparse metrics and the IoUs) or named `inputs` (y_true,
y_pred, sample_weight; Mean and Sum: values, sample_weight). Generated inputs are mapped into the
metric's domain before both sides get them: binary labels are 1 where the draw is above its mean
0.25 (about 40% positives), probabilities are the sigmoid or softmax of the draw (unless
from_logits), one-hot labels are the draw's argmax, hinge labels +-1, Poisson's rates and sample
weights exp of the draw; literal `values` are given as written.

A metric's error bound is reference_impl.metrics.error_bound (running sums over the batches,
the loss terms' bounds for the probabilistic metrics, counts with threshold flips, ratios); None
where it derives none (the flat tolerance judges).
"""
from __future__ import annotations

import numpy as np

from reference_impl import metrics as ref

from conformance.ops import params as P
from conformance.ops.losses import _probabilities, _sigmoid, _softmax  # the same input domains as the losses
from conformance.ops.registry import MetricOp, register

FAMILY = "metrics"


# --- how generated inputs enter each metric's domain ---------------------------------------

def _binary_labels(x, params, inputs):
    """Integer labels as they are; float draws 1 above their mean 0.25, else 0."""
    return x if np.issubdtype(x.dtype, np.integer) else np.where(x > 0.25, 1.0, 0.0)


def _one_hot(x, params, inputs):
    """Class indices as they are (integers: one-hot over y_pred's last axis); float draws one-hot at their largest entry."""
    classes = inputs["y_pred"].shape[-1]
    if np.issubdtype(x.dtype, np.integer):
        return np.eye(classes)[x]
    return np.eye(x.shape[-1])[np.argmax(x, axis=-1)]


def _dense_labels(x, params, inputs):
    """The IoUs' y_true: class indices (integers) as they are; float draws one-hot at their largest entry."""
    return x if np.issubdtype(x.dtype, np.integer) else np.eye(x.shape[-1])[np.argmax(x, axis=-1)]


def _signs(x, params, inputs):
    return x if np.issubdtype(x.dtype, np.integer) else np.where(x >= 0, 1.0, -1.0)


def _exp(x, params, inputs):
    return np.exp(x)


def _as_is(x, params, inputs):
    return x


# --- the inputs of a case that gives only input_shape (y_pred's shape) ------------------------

def _same(shape, params):
    return {"y_true": {"shape": shape}, "y_pred": {"shape": shape}}


def _sparse(shape, params):
    """Integer targets without y_pred's class axis."""
    return {"y_true": {"shape": shape[:-1], "dtype": "int32", "range": [0, shape[-1]]}, "y_pred": {"shape": shape}}


def _small_labels(shape, params):
    """Accuracy: integer labels and predictions from 0 to 2, so that about a third agree."""
    labels = {"shape": shape, "dtype": "int32", "range": [0, 3]}
    return {"y_true": labels, "y_pred": labels}


def _values(shape, params):
    return {"values": {"shape": shape}}


def _segmentation(shape, params):
    """The IoUs: y_pred's shape is the labels' shape, plus a class axis when it is dense; y_true
    follows sparse_y_true (the OneHot classes: dense)."""
    classes = params.get("num_classes", 2)
    labels = {"dtype": "int32", "range": [0, classes]}
    dense_pred = not params.get("sparse_y_pred", True)
    label_shape = shape[:-1] if dense_pred else shape
    y_pred = {"shape": shape} if dense_pred else {"shape": shape, **labels}
    y_true = {"shape": label_shape, **labels} if params.get("sparse_y_true", True) else {"shape": label_shape + [classes]}
    return {"y_true": y_true, "y_pred": y_pred}


def _one_hot_segmentation(shape, params):
    return _segmentation(shape, {"sparse_y_pred": False, **params, "sparse_y_true": False})


# --- argument types ------------------------------------------------------------------------------

THRESHOLDS = P.ParamType("a number or a list of numbers", lambda v: P._is_number(v) or (
    isinstance(v, list) and bool(v) and all(P._is_number(t) for t in v)),
    {"anyOf": [{"type": "number"}, {"type": "array", "items": {"type": "number"}, "minItems": 1}]})
FROM_LOGITS = P.BOOL.defaults_to(False)
LABEL_SMOOTHING = P.NUMBER.between(0, 1).defaults_to(0.0)  # "Float in [0, 1]"
AXIS = P.INT.defaults_to(-1)
CLASS_ID = P.optional(P.INT).defaults_to(None)
NUM_THRESHOLDS = P.INT.at_least(2).defaults_to(200)  # "Values must be > 1"
RATE = P.NUMBER.between(0, 1)  # "A scalar value in range [0, 1]"
IOU = {"num_classes": P.POSITIVE_INT, "ignore_class": P.optional(P.INT).defaults_to(None), "axis": AXIS}
AVERAGE = P.OPTIONAL_STRING.one_of("micro", "macro", "weighted").defaults_to(None)
# "A float value, or a Python list/tuple of float threshold values in [0, 1]"
CONFUSION = {"thresholds": P.optional(THRESHOLDS.between(0, 1)).defaults_to(None)}
AT = {"num_thresholds": NUM_THRESHOLDS, "class_id": CLASS_ID}


def _spec(types=None, specs=_same, domains=None, required=(), inputs=None):
    return {"types": types or {}, "specs": specs, "domains": domains or {}, "required": required, "inputs": inputs}


PROBABILITY = {"y_true": _binary_labels, "y_pred": _sigmoid}
# class -> its arguments, the inputs derived from input_shape, and how generated inputs enter its domain
METRICS = {
    "Accuracy": _spec(specs=_small_labels),
    "BinaryAccuracy": _spec({"threshold": P.NUMBER.defaults_to(0.5)}, domains=PROBABILITY),
    "CategoricalAccuracy": _spec(domains={"y_true": _one_hot, "y_pred": _softmax}),
    "SparseCategoricalAccuracy": _spec(specs=_sparse, domains={"y_pred": _softmax}),
    "TopKCategoricalAccuracy": _spec({"k": P.POSITIVE_INT.defaults_to(5)}, domains={"y_true": _one_hot, "y_pred": _softmax}),
    "SparseTopKCategoricalAccuracy": _spec({"k": P.POSITIVE_INT.defaults_to(5), "from_sorted_ids": P.BOOL.defaults_to(False)},
                                           specs=_sparse, domains={"y_pred": _softmax}),
    "MeanSquaredError": _spec(),
    "RootMeanSquaredError": _spec(),
    "MeanAbsoluteError": _spec(),
    "MeanAbsolutePercentageError": _spec(),
    "MeanSquaredLogarithmicError": _spec(domains={"y_true": _exp, "y_pred": _exp}),
    "LogCoshError": _spec(),
    "CosineSimilarity": _spec({"axis": AXIS}),
    "PearsonCorrelation": _spec({"axis": AXIS}),
    "ConcordanceCorrelation": _spec({"axis": AXIS}),
    "R2Score": _spec({"class_aggregation": P.OPTIONAL_STRING.one_of("uniform_average", "variance_weighted_average")
                      .defaults_to("uniform_average"), "num_regressors": P.INT.at_least(0).defaults_to(0)}),
    "Poisson": _spec(domains={"y_true": _exp, "y_pred": _exp}),
    "KLDivergence": _spec(domains={"y_true": _softmax, "y_pred": _softmax}),
    "BinaryCrossentropy": _spec({"from_logits": FROM_LOGITS, "label_smoothing": LABEL_SMOOTHING},
                                domains={"y_true": _binary_labels, "y_pred": _probabilities(_sigmoid)}),
    "CategoricalCrossentropy": _spec({"from_logits": FROM_LOGITS, "label_smoothing": LABEL_SMOOTHING, "axis": AXIS},
                                     domains={"y_true": _one_hot, "y_pred": _probabilities(_softmax)}),
    "SparseCategoricalCrossentropy": _spec({"from_logits": FROM_LOGITS, "ignore_class": P.optional(P.INT).defaults_to(None),
                                            "axis": AXIS}, specs=_sparse, domains={"y_pred": _probabilities(_softmax)}),
    "Hinge": _spec(domains={"y_true": _signs}),
    "SquaredHinge": _spec(domains={"y_true": _signs}),
    "CategoricalHinge": _spec(domains={"y_true": _one_hot}),
    "Mean": _spec(specs=_values, inputs=("values", "sample_weight")),
    "Sum": _spec(specs=_values, inputs=("values", "sample_weight")),
    "MeanMetricWrapper": _spec({"fn": P.STRING.one_of(*ref.WRAPPABLE)}, required=("fn",)),
    "TruePositives": _spec(CONFUSION, domains=PROBABILITY),
    "FalsePositives": _spec(CONFUSION, domains=PROBABILITY),
    "TrueNegatives": _spec(CONFUSION, domains=PROBABILITY),
    "FalseNegatives": _spec(CONFUSION, domains=PROBABILITY),
    "Precision": _spec({**CONFUSION, "top_k": P.optional(P.POSITIVE_INT).defaults_to(None), "class_id": CLASS_ID},
                       domains=PROBABILITY),
    "Recall": _spec({**CONFUSION, "top_k": P.optional(P.POSITIVE_INT).defaults_to(None), "class_id": CLASS_ID},
                    domains=PROBABILITY),
    "AUC": _spec({"num_thresholds": NUM_THRESHOLDS, "curve": P.STRING.one_of(*ref.CURVES).defaults_to("ROC"),
                  "summation_method": P.STRING.one_of(*ref.SUMMATION_METHODS).defaults_to("interpolation"),
                  "thresholds": P.optional(THRESHOLDS).defaults_to(None), "multi_label": P.BOOL.defaults_to(False),
                  "num_labels": P.optional(P.POSITIVE_INT).defaults_to(None),
                  "label_weights": P.optional(THRESHOLDS).defaults_to(None), "from_logits": FROM_LOGITS},
                 domains={"y_true": _binary_labels, "y_pred": _probabilities(_sigmoid)}),
    "PrecisionAtRecall": _spec({"recall": RATE, **AT}, domains=PROBABILITY, required=("recall",)),
    "RecallAtPrecision": _spec({"precision": RATE, **AT}, domains=PROBABILITY, required=("precision",)),
    "SensitivityAtSpecificity": _spec({"specificity": RATE, **AT}, domains=PROBABILITY, required=("specificity",)),
    "SpecificityAtSensitivity": _spec({"sensitivity": RATE, **AT}, domains=PROBABILITY, required=("sensitivity",)),
    "MeanIoU": _spec({**IOU, "sparse_y_true": P.BOOL.defaults_to(True), "sparse_y_pred": P.BOOL.defaults_to(True)},
                     specs=_segmentation, domains={"y_true": _dense_labels}, required=("num_classes",)),
    "IoU": _spec({**IOU, "target_class_ids": P.int_list(), "sparse_y_true": P.BOOL.defaults_to(True),
                  "sparse_y_pred": P.BOOL.defaults_to(True)},
                 specs=_segmentation, domains={"y_true": _dense_labels}, required=("num_classes", "target_class_ids")),
    "BinaryIoU": _spec({"target_class_ids": P.int_list().defaults_to([0, 1]), "threshold": P.NUMBER.defaults_to(0.5)},
                       domains=PROBABILITY),
    "OneHotIoU": _spec({**IOU, "target_class_ids": P.int_list(), "sparse_y_pred": P.BOOL.defaults_to(False)},
                       specs=_one_hot_segmentation, domains={"y_true": _dense_labels},
                       required=("num_classes", "target_class_ids")),
    "OneHotMeanIoU": _spec({**IOU, "sparse_y_pred": P.BOOL.defaults_to(False)}, specs=_one_hot_segmentation,
                           domains={"y_true": _dense_labels}, required=("num_classes",)),
    "F1Score": _spec({"average": AVERAGE, "threshold": P.optional(P.NUMBER).defaults_to(None)}, domains=PROBABILITY),
    "FBetaScore": _spec({"average": AVERAGE, "beta": P.NUMBER.at_least(0, exclusive=True).defaults_to(1.0),
                         "threshold": P.optional(P.NUMBER).defaults_to(None)}, domains=PROBABILITY),
}
# y_pred's shape in `conformance new`'s template, and its arguments
EXAMPLES = {
    "Mean": {"input_shape": [6]}, "Sum": {"input_shape": [6]},
    "MeanIoU": {"params": {"num_classes": 3}}, "IoU": {"params": {"num_classes": 3, "target_class_ids": [0, 2]}},
    "OneHotIoU": {"params": {"num_classes": 3, "target_class_ids": [0, 2]}}, "OneHotMeanIoU": {"params": {"num_classes": 3}},
    "PrecisionAtRecall": {"params": {"recall": 0.5}}, "RecallAtPrecision": {"params": {"precision": 0.5}},
    "SensitivityAtSpecificity": {"params": {"specificity": 0.5}}, "SpecificityAtSensitivity": {"params": {"sensitivity": 0.5}},
    "MeanMetricWrapper": {"params": {"fn": "mean_squared_error"}},
}


def _keras_params(keras, params):
    """MeanMetricWrapper's `fn` is the keras.metrics function of that name."""
    return {**params, "fn": getattr(keras.metrics, params["fn"])}


def _metric(name: str) -> MetricOp:
    spec = METRICS[name]
    domains = {"sample_weight": _exp, **spec["domains"]}

    def prepare(inputs, params, literal):
        return {n: v if n in literal else domains.get(n, _as_is)(v, params, inputs) for n, v in inputs.items()}

    def compute(batches, params):
        return ref.result(name, batches, **params)

    def error_bound(batches, params, fmt, output=None):
        return ref.error_bound(name, batches, fmt, **params)

    example = {"input_shape": [6, 4], "params": {}, **EXAMPLES.get(name, {})}
    names = spec["inputs"] or ("y_true", "y_pred", "sample_weight")
    return MetricOp(
        name=f"metrics.{name}", family=FAMILY, params=spec["types"], required=spec["required"],
        doc=f"tf.keras.metrics.{name}(**params): update_state on `calls` batches, result(); reset_state, "
            "one more batch, result(): reference_impl.metrics.result",
        keras_class=name, compute=compute, prepare=prepare, specs=lambda shape, params: spec["specs"](list(shape), params),
        keras_params=_keras_params if name == "MeanMetricWrapper" else None,
        input_names=names, required_inputs=names[:-1], example=example, error_bound=error_bound,
    )


register(*(_metric(name) for name in METRICS))
