"""Keras 3 metrics (`keras.metrics.*`) in NumPy float64: the value `result()` returns after
`update_state` was called on each of several batches, computed from all the batches seen.

A metric's state adds up over samples (totals and counts, confusion counts, sums of squares), so
`result(name, batches, **params)` computes each batch's per-sample quantities, concatenates them
over the batches and applies the documented formula once; a `reset_state()` is a fresh call with
the batches seen since. Formulas from the Keras 3.15 docstrings (keras/src/metrics/*.py, the same
text on keras.io/api/metrics/):

Weighting (every class: "If `sample_weight` is `None`, weights default to 1. Use `sample_weight`
of 0 to mask values"): a scalar weighs every value, a [batch_size] vector weighs each sample's
values (along the first axis), any other shape is broadcast to the values (as the losses'
sample_weight: reference_impl.losses._broadcast_weight). The confusion, IoU and R2 metrics
document "a tensor whose rank is either 0, or the same rank as `y_true`, and must be
broadcastable to `y_true`" ([batch_size, 1] for a sample of rank 2).

Means (Mean: "the (weighted) mean of the given values", total / count; Sum: the weighted sum; the
MeanMetricWrapper classes: "the average metric value across all samples seen so far"):
result = sum(w v) / sum(w) over every value v of every batch, where v is
- Accuracy             y_pred == y_true ("how often predictions equal labels"), element-wise
- BinaryAccuracy       y_true == (y_pred > threshold), threshold 0.5 ("the threshold for deciding
                       whether prediction values are 1 or 0"; > as Precision's "above the
                       threshold is True")
- CategoricalAccuracy  argmax(y_true) == argmax(y_pred), one per sample
- SparseCategoricalAccuracy  y_true == argmax(y_pred) (the docstring's np.equal(y_true,
                       np.argmax(y_pred, axis=1))); y_true (batch,) or (batch, 1)
- TopKCategoricalAccuracy(k=5)  the target class (argmax of y_true) is among the k largest
                       predictions: fewer than k predictions exceed the target's
- SparseTopKCategoricalAccuracy(k=5, from_sorted_ids=False)  the same with integer targets; with
                       from_sorted_ids y_pred holds the ids of the top categories, best first,
                       and the target must be among its first k
- the regression and probabilistic metrics: the per-sample losses of reference_impl.losses
  (mean_squared_error, mean_absolute_error, mean_absolute_percentage_error,
  mean_squared_logarithmic_error, log_cosh, poisson, kl_divergence, binary_crossentropy,
  categorical_crossentropy, sparse_categorical_crossentropy, hinge, squared_hinge,
  categorical_hinge), the same functions keras.metrics documents; CosineSimilarity is
  +sum(l2_norm(y_true) * l2_norm(y_pred)) ("loss = sum(l2_norm(y_true) * l2_norm(y_pred))"),
  the loss's negative; PearsonCorrelation and ConcordanceCorrelation(axis=-1) one coefficient per
  sample along `axis` (the function forms' docstring examples give one per row, the classes their
  mean): Pearson sum(ct cp) / (||ct|| ||cp||), ct and cp y_true and y_pred centred on their means
  ("mean(l2norm(y_true - mean(y_true)) * l2norm(y_pred - mean(y_pred)))"), concordance
  "mean(2 * (y_true - mean(y_true)) * (y_pred - mean(y_pred)) / (var(y_true) + var(y_pred) +
  square(mean(y_true) - mean(y_pred))))" with the biased variance. SparseCategoricalCrossentropy's ignore_class: the entries of that class are
  left out of the mean (weight 0), as the loss class leaves them out of its sample
- RootMeanSquaredError  sqrt(sum(w (y_pred - y_true)^2) / sum(w)) ("sqrt(mean((y_pred - y_true) ** 2))")

Confusion counts, at thresholds: a prediction is positive where it is above the threshold
(Precision: "above the threshold is `True`, below is `False`"): score > t; labels are 0/1 (a
nonzero label is positive). tp = sum(w [label] [score > t]), fp = sum(w [not label] [score > t]),
fn = sum(w [label] [score <= t]), tn = sum(w [not label] [score <= t]).
- TruePositives, FalsePositives, TrueNegatives, FalseNegatives(thresholds=0.5): the count, one per
  threshold ("One metric value is generated for each threshold value": a vector for several, a
  scalar for one, given alone or as a list of one); thresholds "in [0, 1]" (ValueError outside)
- Precision tp / (tp + fp), Recall tp / (tp + fn) (thresholds, top_k, class_id): "If neither
  thresholds nor top_k are set, the default is ... thresholds=0.5"; with top_k alone only the
  top-k rule applies. class_id: only column class_id of y_true and y_pred. top_k: "a class among
  the top-k classes with the highest predicted values of a batch entry": predictions outside the
  k largest along the last axis are negative; equal predictions rank by index, lower first (the
  docstring's Precision(top_k=2) on [1, 1, 1, 1] "calculate[s] precision over y_true[:2]")
- AUC(num_thresholds=200, curve, summation_method, thresholds, multi_label, label_weights,
  from_logits): the counts at the thresholds [-eps, 1/(n-1), ..., (n-2)/(n-1), 1 + eps],
  eps = 1e-7 (the docstring's example: "threshold values are [0 - 1e-7, 0.5, 1 + 1e-7]"), or
  [-eps] + thresholds + [1 + eps] when `thresholds` is given; y_pred through sigmoid when
  from_logits. ROC: height recall = tp / (tp + fn) over width fpr = fp / (fp + tn); PR: height
  precision over width recall. Between consecutive thresholds i, i + 1, width x_i - x_{i+1}:
  'interpolation' the mid-point (h_i + h_{i+1}) / 2 for ROC (the docstring's example); for PR the
  Davis & Goadrich (2006) interpolation, linear in tp and fp but not in precision: with
  p = tp + fp, slope = (tp_i - tp_{i+1}) / (p_i - p_{i+1}), intercept = tp_{i+1} - slope p_{i+1},
  the area of precision over recall on the segment is
  slope (tp_i - tp_{i+1} + intercept log(p_i / p_{i+1})) / (tp + fn), the log term 0 where the
  intercept is 0 (the limit at p_{i+1} = 0); 'minoring' min(h_i, h_{i+1}) ("left summation for
  increasing intervals and right summation for decreasing intervals"), 'majoring' max. multi_label:
  one AUC per label (last axis), averaged with label_weights (sum(lw auc) / sum(lw)); otherwise the
  data is flattened, label_weights weighing each prediction by its label's index
- PrecisionAtRecall(recall), RecallAtPrecision(precision), SensitivityAtSpecificity(specificity),
  SpecificityAtSensitivity(sensitivity) (num_thresholds=200, class_id): over AUC's thresholds, the
  best (largest) value of the first where the second is >= the given value; 0 where no threshold
  meets it (RecallAtPrecision: "the required precision might not be achievable, in this case 0.0
  is returned as recall"). sensitivity = recall = tp / (tp + fn), specificity = tn / (tn + fp)

A ratio whose denominator is 0 (no positive prediction, no positive label, no class with an IoU,
no support) is 0; the docstrings state no value for it, and 0 is the one RecallAtPrecision
documents. Arguments outside their documented use are rejected (ValueError): top_k above the
number of classes, AUC's num_labels without multi_label ("used when multi_label is True").

Intersection over union (MeanIoU, IoU, BinaryIoU, OneHotIoU, OneHotMeanIoU): the weighted
confusion matrix cm[true class, predicted class] over every entry; iou_c = cm[c, c] /
(sum_p cm[c, p] + sum_t cm[t, c] - cm[c, c]) ("true_positives / (true_positives + false_positives
+ false_negatives)"); the result is the mean over the classes (MeanIoU) or over target_class_ids
(IoU), over those whose denominator is not 0 (a class that never occurs has no IoU). Labels are
class indices, or (sparse_y_true / sparse_y_pred False, the OneHot classes) the argmax along
`axis`; entries labelled ignore_class are left out. BinaryIoU: class 1 where y_pred >= threshold
(its update_state: "0 for values that are smaller than the `threshold`, 1 for values that are
larger or equal to the `threshold`"), target_class_ids (0, 1).

R2Score(class_aggregation='uniform_average', num_regressors=0): per output (last axis) R2 = 1 -
sum(w (y_true - y_pred)^2) / sum(w (y_true - mean_w(y_true))^2) over every sample seen (weights as
sample weights weigh a sum of squares, scikit-learn's r2_score, which the docstring names as the
equivalent); None: the vector, 'uniform_average' its mean, 'variance_weighted_average' weighted
by each output's sum of squares (an output whose y_true is constant scores 1 if predicted exactly,
else 0, as scikit-learn's r2_score does; the docstring is silent); num_regressors p > 0: the adjusted 1 - (1 - R2)(n - 1) / (n - p - 1),
n the number of samples.

F1Score(average=None, threshold=None), FBetaScore(average, beta=1, threshold): y_pred made 0/1
("Elements of y_pred greater than threshold are converted to be 1, and the rest 0. If threshold
is None, the argmax of y_pred is converted to 1, and the rest to 0"); per class (last axis)
weighted tp, fp, fn; precision, recall, F = (1 + b^2) p r / (b^2 p + r); average None: per class,
'micro': from the counts summed over classes, 'macro': the mean over classes, 'weighted': the
mean weighted by support, the weighted count of true instances of each class.

Every function raises ValueError naming the argument it rejects.
"""
from __future__ import annotations

import numbers

import numpy as np

from reference_impl import losses
from reference_impl.losses import _f64, _number  # the same argument checks as the losses

EPSILON = 1e-7  # keras.backend.epsilon(): AUC's end thresholds
CURVES = ("ROC", "PR")
SUMMATION_METHODS = ("interpolation", "minoring", "majoring")
AVERAGES = (None, "micro", "macro", "weighted")
CLASS_AGGREGATIONS = (None, "uniform_average", "variance_weighted_average")




def _choice(name, value, choices):
    if value not in choices:
        raise ValueError(f"`{name}` must be one of {choices}. Received: {name}={value!r}")
    return value


def _ratio(num, den):
    """num / den, and 0 where den is 0 (see the module docstring)."""
    num, den = np.broadcast_arrays(_f64(num), _f64(den))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den == 0, 0.0, num / np.where(den == 0, 1.0, den))


def weights_like(values, sample_weight):
    """The sample weight of every entry of `values` (1 without one)."""
    values = np.asarray(values)
    if sample_weight is None:
        return np.ones(values.shape)
    return losses._broadcast_weight(_f64(sample_weight), values.shape)


def _gather(batches, per_batch):
    """per_batch(**batch) -> tuple of arrays, concatenated over the batches along axis 0."""
    parts = [per_batch(**batch) for batch in batches]
    return tuple(np.concatenate([p[i] for p in parts]) for i in range(len(parts[0])))


# --- means of per-sample values ----------------------------------------------------------------

def _argmax(x, axis=-1):
    return np.argmax(_f64(x), axis=axis)


def accuracy(y_true, y_pred):
    return (_f64(y_true) == _f64(y_pred)).astype(np.float64)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    threshold = _number("threshold", threshold)
    return (_f64(y_true) == (_f64(y_pred) > threshold)).astype(np.float64)


def categorical_accuracy(y_true, y_pred):
    return (_argmax(y_true) == _argmax(y_pred)).astype(np.float64)


def _sparse_labels(y_true, y_pred):
    labels = _f64(y_true)
    if labels.ndim == np.ndim(y_pred) and labels.shape[-1] == 1:
        labels = labels[..., 0]
    return labels


def sparse_categorical_accuracy(y_true, y_pred):
    return (_sparse_labels(y_true, y_pred) == _argmax(y_pred)).astype(np.float64)


def _in_top_k(target, y_pred, k):
    """Whether class `target` of each row is among the k largest entries of y_pred's row."""
    k = int(_number("k", k, low=1))
    y_pred = _f64(y_pred)
    picked = np.take_along_axis(y_pred, target.astype(np.int64)[..., None], axis=-1)
    return (np.sum(y_pred > picked, axis=-1) < k).astype(np.float64)


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    return _in_top_k(_argmax(y_true), y_pred, k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5, from_sorted_ids=False):
    labels = _sparse_labels(y_true, y_pred)
    if from_sorted_ids:
        k = int(_number("k", k, low=1))
        return np.any(_f64(y_pred)[..., :k] == labels[..., None], axis=-1).astype(np.float64)
    return _in_top_k(labels, y_pred, k)


def cosine_similarity(y_true, y_pred, axis=-1):
    return -losses.cosine_similarity(y_true, y_pred, axis=axis)


def _centred(x, axis):
    return x - np.mean(x, axis=axis, keepdims=True)


def pearson_correlation(y_true, y_pred, axis=-1):
    """sum(ct cp) / (||ct|| ||cp||) along axis, ct and cp centred on their means."""
    ct, cp = _centred(_f64(y_true), axis), _centred(_f64(y_pred), axis)
    return np.sum(ct * cp, axis=axis) / np.sqrt(np.sum(ct * ct, axis=axis) * np.sum(cp * cp, axis=axis))


def concordance_correlation(y_true, y_pred, axis=-1):
    """mean(2 ct cp) / (var(t) + var(p) + (mean(t) - mean(p))^2) along axis (biased moments)."""
    t, p = _f64(y_true), _f64(y_pred)
    ct, cp = _centred(t, axis), _centred(p, axis)
    spread = np.mean(ct * ct, axis=axis) + np.mean(cp * cp, axis=axis) + np.square(np.mean(t, axis=axis) - np.mean(p, axis=axis))
    return np.mean(2.0 * ct * cp, axis=axis) / spread


def squared_error(y_true, y_pred):
    return np.square(_f64(y_pred) - _f64(y_true))


# name -> per-sample values of (y_true, y_pred, **params), weighted and averaged
MEAN_FUNCTIONS = {
    "Accuracy": accuracy,
    "BinaryAccuracy": binary_accuracy,
    "CategoricalAccuracy": categorical_accuracy,
    "SparseCategoricalAccuracy": sparse_categorical_accuracy,
    "TopKCategoricalAccuracy": top_k_categorical_accuracy,
    "SparseTopKCategoricalAccuracy": sparse_top_k_categorical_accuracy,
    "MeanSquaredError": losses.mean_squared_error,
    "MeanAbsoluteError": losses.mean_absolute_error,
    "MeanAbsolutePercentageError": losses.mean_absolute_percentage_error,
    "MeanSquaredLogarithmicError": losses.mean_squared_logarithmic_error,
    "LogCoshError": losses.log_cosh,
    "CosineSimilarity": cosine_similarity,
    "PearsonCorrelation": pearson_correlation,
    "ConcordanceCorrelation": concordance_correlation,
    "Poisson": losses.poisson,
    "KLDivergence": losses.kl_divergence,
    "BinaryCrossentropy": losses.binary_crossentropy,
    "CategoricalCrossentropy": losses.categorical_crossentropy,
    "SparseCategoricalCrossentropy": losses.sparse_categorical_crossentropy,
    "Hinge": losses.hinge,
    "SquaredHinge": losses.squared_hinge,
    "CategoricalHinge": losses.categorical_hinge,
}

# MeanMetricWrapper(fn=<keras.metrics function>): the functions a case may name (keras.metrics's
# names, and tf.keras.metrics's own mse and mae)
WRAPPABLE = {
    "mean_squared_error": losses.mean_squared_error,
    "mse": losses.mean_squared_error,
    "mean_absolute_error": losses.mean_absolute_error,
    "mae": losses.mean_absolute_error,
    "categorical_accuracy": categorical_accuracy,
}


def weighted_mean(values, weights):
    """sum(w v) / sum(w); a zero weight removes its value ("Use sample_weight of 0 to mask values")."""
    values, weights = _f64(values), _f64(weights)
    with np.errstate(invalid="ignore"):
        total = np.sum(np.where(weights == 0, 0.0, weights * values))
    return total / np.sum(weights)


def _mean_of(function, batches, **params):
    def per_batch(y_true, y_pred, sample_weight=None):
        values = function(y_true, y_pred, **params)
        ignored = None
        if function is losses.sparse_categorical_crossentropy and params.get("ignore_class") is not None:
            ignored = losses.sparse_ignored(y_true, y_pred, params["ignore_class"], params.get("axis", -1))
        weights = weights_like(values, sample_weight)
        if ignored is not None:
            weights = np.where(ignored, 0.0, weights)
        return np.ravel(values), np.ravel(weights)
    return weighted_mean(*_gather(batches, per_batch))


def mean(batches):
    def per_batch(values, sample_weight=None):
        return np.ravel(_f64(values)), np.ravel(weights_like(values, sample_weight))
    return weighted_mean(*_gather(batches, per_batch))


def total(batches):
    values, weights = _gather(batches, lambda values, sample_weight=None: (
        np.ravel(_f64(values)), np.ravel(weights_like(values, sample_weight))))
    return np.sum(np.where(weights == 0, 0.0, weights * values))


def root_mean_squared_error(batches):
    return np.sqrt(_mean_of(squared_error, batches))


# --- confusion counts at thresholds --------------------------------------------------------------

def _thresholds_list(thresholds, low=None, high=None):
    values = [thresholds] if isinstance(thresholds, numbers.Real) else list(thresholds)
    for t in values:
        _number("thresholds", t, low, high)
    return np.array(values, dtype=np.float64)


def _one_or_all(values):
    """One threshold gives one value (a scalar), several a vector."""
    return values[0] if len(values) == 1 else values


def _top_k_scores(scores, top_k):
    """Scores outside the top_k largest of each row (last axis; ties by index) set to -inf."""
    top_k = int(_number("top_k", top_k, low=1))
    if top_k > scores.shape[-1]:
        raise ValueError(f"`top_k` must be at most the number of classes ({scores.shape[-1]}). Received: top_k={top_k}")
    order = np.argsort(-scores, axis=-1, kind="stable")
    rank = np.argsort(order, axis=-1, kind="stable")
    return np.where(rank < top_k, scores, -np.inf)


def _labelled_scores(y_true, y_pred, sample_weight, class_id=None, top_k=None, label_weights=None, multi_label=False):
    """(labels, scores, weights), each (entries, labels): one column per label when multi_label,
    else one column; top_k and class_id applied first."""
    labels, scores = _f64(y_true) != 0, _f64(y_pred)
    if labels.shape != scores.shape:
        raise ValueError(f"y_true and y_pred must have the same shape. Received: {labels.shape} and {scores.shape}")
    weights = weights_like(scores, sample_weight)
    if top_k is not None:
        scores = _top_k_scores(scores, top_k)
    if class_id is not None:
        classes = scores.shape[-1]
        if not isinstance(class_id, numbers.Integral) or not 0 <= class_id < classes:
            raise ValueError(f"`class_id` must be in [0, {classes}). Received: class_id={class_id!r}")
        labels, scores, weights = labels[..., class_id], scores[..., class_id], weights[..., class_id]
    if label_weights is not None and not multi_label:
        weights = weights * _f64(label_weights)
    columns = scores.shape[-1] if multi_label else 1
    return labels.reshape(-1, columns), scores.reshape(-1, columns), weights.reshape(-1, columns)


def confusion_counts(labels, scores, weights, thresholds):
    """{tp, fp, tn, fn}, each (thresholds, columns): weighted counts with score > threshold positive."""
    above = scores[None] > _f64(thresholds)[:, None, None]
    positive, negative = weights * labels, weights * ~labels
    return {"tp": np.sum(above * positive, axis=1), "fp": np.sum(above * negative, axis=1),
            "fn": np.sum(~above * positive, axis=1), "tn": np.sum(~above * negative, axis=1)}


def _counts(batches, thresholds, **select):
    labels, scores, weights = _gather(batches, lambda y_true, y_pred, sample_weight=None: _labelled_scores(
        y_true, y_pred, sample_weight, **select))
    return confusion_counts(labels, scores, weights, thresholds)


def count(kind, batches, thresholds=None):
    """TruePositives ("tp"), FalsePositives, TrueNegatives, FalseNegatives."""
    cuts = _thresholds_list(0.5 if thresholds is None else thresholds, 0, 1)
    return _one_or_all(_counts(batches, cuts)[kind][:, 0])


def _precision_recall(kind, batches, thresholds=None, top_k=None, class_id=None):
    if thresholds is None:
        cuts = np.array([-np.inf if top_k is not None else 0.5])
    else:
        cuts = _thresholds_list(thresholds, 0, 1)
    c = _counts(batches, cuts, class_id=class_id, top_k=top_k)
    return _one_or_all(_ratio(c["tp"], c["tp"] + (c["fp"] if kind == "precision" else c["fn"]))[:, 0])


def precision(batches, thresholds=None, top_k=None, class_id=None):
    return _precision_recall("precision", batches, thresholds, top_k, class_id)


def recall(batches, thresholds=None, top_k=None, class_id=None):
    return _precision_recall("recall", batches, thresholds, top_k, class_id)


def curve_thresholds(num_thresholds=200, thresholds=None):
    """AUC's thresholds: [-eps, 1/(n-1), ..., (n-2)/(n-1), 1 + eps], or the given ones between the ends."""
    if thresholds is not None:
        inner = np.sort(_thresholds_list(thresholds))
    else:
        n = num_thresholds
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n <= 1:
            raise ValueError(f"`num_thresholds` must be an integer > 1. Received: num_thresholds={n!r}")
        inner = np.arange(1, n - 1) / (n - 1)
    return np.concatenate([[-EPSILON], inner, [1.0 + EPSILON]])


def area(counts, curve="ROC", summation_method="interpolation"):
    """The area under the curve from counts at increasing thresholds, per column."""
    tp, fp, fn, tn = counts["tp"], counts["fp"], counts["fn"], counts["tn"]
    recall_ = _ratio(tp, tp + fn)
    if curve == "ROC":
        x, h = _ratio(fp, fp + tn), recall_
    else:
        x, h = recall_, _ratio(tp, tp + fp)
    width = x[:-1] - x[1:]
    if summation_method == "minoring":
        return np.sum(width * np.minimum(h[:-1], h[1:]), axis=0)
    if summation_method == "majoring":
        return np.sum(width * np.maximum(h[:-1], h[1:]), axis=0)
    if curve == "ROC":
        return np.sum(width * (h[:-1] + h[1:]) / 2.0, axis=0)
    return _pr_interpolated(tp, fp, fn)


def _pr_interpolated(tp, fp, fn):
    """Davis & Goadrich's PR area: tp and fp linear between thresholds, precision = tp / p."""
    p = tp + fp
    d_tp, d_p = tp[:-1] - tp[1:], p[:-1] - p[1:]
    slope = _ratio(d_tp, d_p)
    intercept = tp[1:] - slope * p[1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        log_term = np.where(intercept == 0, 0.0, intercept * np.log(_ratio(p[:-1], p[1:])))
    pieces = np.where(d_p == 0, 0.0, slope * (d_tp + log_term))
    return _ratio(np.sum(pieces, axis=0), tp[0] + fn[0])


def auc(batches, num_thresholds=200, curve="ROC", summation_method="interpolation", thresholds=None,
        multi_label=False, num_labels=None, label_weights=None, from_logits=False):
    _choice("curve", curve, CURVES)
    _choice("summation_method", summation_method, SUMMATION_METHODS)
    if num_labels is not None and not multi_label:
        raise ValueError(f"`num_labels` is used when multi_label is True. Received: num_labels={num_labels!r}")
    cuts = curve_thresholds(num_thresholds, thresholds)
    if from_logits:
        batches = [{**b, "y_pred": losses.sigmoid(b["y_pred"])} for b in batches]
    counts = _counts(batches, cuts, multi_label=multi_label,
                     label_weights=None if multi_label else label_weights)
    areas = area(counts, curve, summation_method)
    if not multi_label:
        return areas[0]
    lw = np.ones(areas.shape) if label_weights is None else _f64(label_weights)
    return np.sum(lw * areas) / np.sum(lw)


def _rates(counts):
    tp, fp, fn, tn = counts["tp"][:, 0], counts["fp"][:, 0], counts["fn"][:, 0], counts["tn"][:, 0]
    return {"precision": _ratio(tp, tp + fp), "recall": _ratio(tp, tp + fn), "specificity": _ratio(tn, tn + fp)}


def best_under_constraint(batches, value, constrained, target, num_thresholds=200, class_id=None):
    """The largest `value` rate over AUC's thresholds where the `constrained` rate is >= target;
    0 where none is."""
    target = _number(constrained, target, low=0, high=1)
    rates = _rates(_counts(batches, curve_thresholds(num_thresholds), class_id=class_id))
    feasible = rates[constrained] >= target
    return np.max(np.where(feasible, rates[value], 0.0)) if np.any(feasible) else 0.0


# --- intersection over union ---------------------------------------------------------------------

def _classes(y, sparse, axis):
    return _f64(y) if sparse else _argmax(y, axis).astype(np.float64)


def confusion_matrix(batches, num_classes, ignore_class=None, sparse_y_true=True, sparse_y_pred=True, axis=-1,
                     threshold=None):
    """Weighted cm[true, predicted] over every entry; `threshold`: BinaryIoU's rule for y_pred."""
    def per_batch(y_true, y_pred, sample_weight=None):
        t = _classes(y_true, sparse_y_true, axis)
        p = (_f64(y_pred) >= threshold).astype(np.float64) if threshold is not None else _classes(y_pred, sparse_y_pred, axis)
        if t.shape != p.shape:
            raise ValueError(f"y_true and y_pred must give labels of the same shape. Received: {t.shape} and {p.shape}")
        w = weights_like(t, sample_weight)
        if ignore_class is not None:
            w = np.where(t == ignore_class, 0.0, w)
        return np.ravel(t), np.ravel(p), np.ravel(w)

    t, p, w = _gather(batches, per_batch)
    keep = w != 0
    t, p, w = t[keep], p[keep], w[keep]
    bad = (t < 0) | (t >= num_classes) | (p < 0) | (p >= num_classes) | (t != np.round(t)) | (p != np.round(p))
    if np.any(bad):
        raise ValueError(f"labels must be class indices in [0, {num_classes}). Received: {np.unique(np.concatenate([t[bad], p[bad]])).tolist()}")
    cm = np.zeros((num_classes, num_classes))
    np.add.at(cm, (t.astype(np.int64), p.astype(np.int64)), w)
    return cm


def iou_from_matrix(cm, target_class_ids=None):
    diagonal = np.diag(cm)
    denominator = cm.sum(axis=0) + cm.sum(axis=1) - diagonal
    ids = np.arange(cm.shape[0]) if target_class_ids is None else np.asarray(target_class_ids, dtype=np.int64)
    if np.any((ids < 0) | (ids >= cm.shape[0])):
        raise ValueError(f"`target_class_ids` must be in [0, {cm.shape[0]}). Received: {list(target_class_ids)}")
    valid = denominator[ids] != 0
    return _ratio(np.sum(_ratio(diagonal[ids], denominator[ids])[valid]), np.count_nonzero(valid))


def iou(batches, num_classes, target_class_ids=None, **options):
    if isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral) or num_classes < 1:
        raise ValueError(f"`num_classes` must be a positive integer. Received: num_classes={num_classes!r}")
    return iou_from_matrix(confusion_matrix(batches, num_classes, **options), target_class_ids)


def binary_iou(batches, target_class_ids=(0, 1), threshold=0.5):
    return iou(batches, 2, target_class_ids, threshold=_number("threshold", threshold))


# --- R2, F-scores --------------------------------------------------------------------------------

def _rows(y_true, y_pred, sample_weight=None):
    t, p = _f64(y_true), _f64(y_pred)
    if t.shape != p.shape or t.ndim != 2:
        raise ValueError(f"y_true and y_pred must be (batch, outputs) of one shape. Received: {t.shape} and {p.shape}")
    return t, p, weights_like(t, sample_weight)


def r2_score(batches, class_aggregation="uniform_average", num_regressors=0):
    _choice("class_aggregation", class_aggregation, CLASS_AGGREGATIONS)
    p_count = int(_number("num_regressors", num_regressors, low=0))
    t, p, w = _gather(batches, _rows)
    centre = np.sum(w * t, axis=0) / np.sum(w, axis=0)
    residual = np.sum(w * np.square(t - p), axis=0)
    spread = np.sum(w * np.square(t - centre), axis=0)
    # constant y_true (spread 0): 1 for exact predictions, else 0 (scikit-learn's r2_score)
    scores = np.where(spread == 0, np.where(residual == 0, 1.0, 0.0), 1.0 - _ratio(residual, spread))
    if class_aggregation == "uniform_average":
        scores = np.mean(scores)
    elif class_aggregation == "variance_weighted_average":
        scores = np.sum(spread * scores) / np.sum(spread)
    if p_count:
        n = t.shape[0]
        if n - p_count - 1 <= 0:
            raise ValueError(f"`num_regressors` must be below the number of samples minus 1. Received: {p_count} for {n} samples")
        scores = 1.0 - (1.0 - scores) * (n - 1) / (n - p_count - 1)
    return scores


def fbeta_score(batches, average=None, beta=1.0, threshold=None):
    _choice("average", average, AVERAGES)
    beta = _number("beta", beta)
    if beta <= 0:
        raise ValueError(f"`beta` must be above 0. Received: beta={beta!r}")

    def per_batch(y_true, y_pred, sample_weight=None):
        t, p, w = _rows(y_true, y_pred, sample_weight)
        if threshold is None:
            made = np.eye(p.shape[-1])[np.argmax(p, axis=-1)]
        else:
            made = (p > _number("threshold", threshold)).astype(np.float64)
        return t, made, w

    t, p, w = _gather(batches, per_batch)
    tp, fp, fn = np.sum(w * t * p, axis=0), np.sum(w * (1 - t) * p, axis=0), np.sum(w * t * (1 - p), axis=0)
    if average == "micro":
        tp, fp, fn = tp.sum(), fp.sum(), fn.sum()
    pr, rc = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    b2 = beta * beta
    scores = _ratio((1 + b2) * pr * rc, b2 * pr + rc)
    if average == "macro":
        return np.mean(scores)
    if average == "weighted":
        support = np.sum(w * t, axis=0)
        return _ratio(np.sum(support * scores), np.sum(support))
    return scores


# --- every class ---------------------------------------------------------------------------------

def result(name, batches, **params):
    """keras.metrics.<name>(**params) after update_state on each batch (a dict of y_true, y_pred
    and sample_weight, or values and sample_weight for Mean and Sum): its result()."""
    if not batches:
        raise ValueError("a metric's result needs at least one batch")
    if name in MEAN_FUNCTIONS:
        return np.float64(_mean_of(MEAN_FUNCTIONS[name], batches, **params))
    if name == "MeanMetricWrapper":
        fn = params.get("fn")
        if fn not in WRAPPABLE:
            raise ValueError(f"`fn` must name one of {sorted(WRAPPABLE)}. Received: fn={fn!r}")
        return np.float64(_mean_of(WRAPPABLE[fn], batches))
    return np.asarray(CLASSES[name](batches, **params), dtype=np.float64)


CLASSES = {
    "Mean": mean,
    "Sum": total,
    "RootMeanSquaredError": root_mean_squared_error,
    "TruePositives": lambda batches, **p: count("tp", batches, **p),
    "FalsePositives": lambda batches, **p: count("fp", batches, **p),
    "TrueNegatives": lambda batches, **p: count("tn", batches, **p),
    "FalseNegatives": lambda batches, **p: count("fn", batches, **p),
    "Precision": precision,
    "Recall": recall,
    "AUC": auc,
    "PrecisionAtRecall": lambda batches, recall, **p: best_under_constraint(batches, "precision", "recall", recall, **p),
    "RecallAtPrecision": lambda batches, precision, **p: best_under_constraint(batches, "recall", "precision", precision, **p),
    "SensitivityAtSpecificity": lambda batches, specificity, **p: best_under_constraint(
        batches, "recall", "specificity", specificity, **p),
    "SpecificityAtSensitivity": lambda batches, sensitivity, **p: best_under_constraint(
        batches, "specificity", "recall", sensitivity, **p),
    "MeanIoU": lambda batches, num_classes, **p: iou(batches, num_classes, None, **p),
    "IoU": iou,
    "BinaryIoU": binary_iou,
    "OneHotIoU": lambda batches, num_classes, target_class_ids, sparse_y_pred=False, **p: iou(
        batches, num_classes, target_class_ids, sparse_y_true=False, sparse_y_pred=sparse_y_pred, **p),
    "OneHotMeanIoU": lambda batches, num_classes, sparse_y_pred=False, **p: iou(
        batches, num_classes, None, sparse_y_true=False, sparse_y_pred=sparse_y_pred, **p),
    "R2Score": r2_score,
    "F1Score": lambda batches, average=None, threshold=None: fbeta_score(batches, average, 1.0, threshold),
    "FBetaScore": fbeta_score,
}
