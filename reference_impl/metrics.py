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


# --- error bounds --------------------------------------------------------------------------------
#
# How far a correct evaluation of each metric's documented result in a floating-point format
# (reference_impl.rounding.Format) may land from the exact value on the same batches, with the
# running error analysis of reference_impl.losses.Bounded (each operation's term is stated there).
# A metric's state is a set of running sums over the batches: a sum of N values added batch by
# batch into a variable over `calls` batches is one sum of at most N + calls terms in some order,
# so its bound is sum e_i + gamma_(N + calls) sum |x_i| (accumulated). Then:
# - the mean metrics: total / count over every value, or each sample's values averaged first
#   (_bounded_mean_of: the larger bound), the values the per-sample losses' bounds
#   (losses.BOUNDS) or exact 0/1 (the accuracies: comparisons, argmax and top-k of exact inputs),
#   except that BinaryAccuracy's threshold is rounded to the format: a prediction between the
#   threshold and its rounding may land on either side, its value then off by up to 1;
# - the confusion counts: sums of weights, exact products w * 0/1 (exact integers with unit
#   weights); a prediction whose side of a threshold a correct evaluation does not decide
#   (_threshold_flips) is placed on either side, each placement's counts carried to the result
#   and the widest deviation kept (_bounded_counts, _over_assignments; with too many such
#   predictions, their weights added to the counts' errors instead); Precision and Recall divide two counts
#   (losses.bounded_share: tp enters both);
# - IoU: the confusion matrix's cells are such sums; the IoU of a class a division of its
#   diagonal by row sum + column sum - diagonal, their mean a sum and a division;
# - F-scores: per-class counts, precision, recall, and (1 + b^2) p r / (b^2 p + r);
# - R2Score: the documented sum_squares = sum((y_true - mean(y_true)) ** 2), weighted, about the
#   computed mean (_bounded_sum_of_squares_about: the mean's error enters squared), the residual
#   sum, and 1 - their ratio. Not the one-pass sum(w t^2) - sum(w t)^2 / sum(w) that a streaming
#   metric may accumulate instead: equal in exact arithmetic, it cancels sum(w t^2) and loses
#   every digit where |mean| is large against the spread, which the documented formula does not;
# - AUC: the counts at its thresholds (one more term per threshold: counts per bucket between
#   evenly spaced thresholds may be added up), every prediction within rounding of a threshold
#   placed on either side (_bounded_counts), then the curve's rates, widths and heights and
#   their sum over the segments; the PR interpolation divides by differences of counts, which
#   rounding may turn from 0 into a tiny number (its slope then anything): bounded only with
#   exact counts (integer weights);
# - the rates at a constrained rate (PrecisionAtRecall, ...): a maximum over the thresholds
#   where the constraint holds, bounded only where rounding cannot change which thresholds
#   satisfy it (_bounded_best_under_constraint).
# None (the flat tolerance judges, the record says so) where a bound is not finite or says
# nothing: AUC with from_logits and multi_label, the PR interpolation with weighted counts, an
# undecided constraint, a rate or an area whose bound reaches 1 (_telling).

from reference_impl.losses import Bounded, _maximum, _minimum  # noqa: E402  (the error-bound section's own imports)

# the mean metrics whose per-sample values are a loss's: their Bounded forms
_LOSS_BOUNDS = {
    "MeanSquaredError": "MeanSquaredError", "MeanAbsoluteError": "MeanAbsoluteError",
    "MeanAbsolutePercentageError": "MeanAbsolutePercentageError",
    "MeanSquaredLogarithmicError": "MeanSquaredLogarithmicError", "LogCoshError": "LogCosh", "Poisson": "Poisson",
    "KLDivergence": "KLDivergence", "BinaryCrossentropy": "BinaryCrossentropy",
    "CategoricalCrossentropy": "CategoricalCrossentropy", "SparseCategoricalCrossentropy": "SparseCategoricalCrossentropy",
    "Hinge": "Hinge", "SquaredHinge": "SquaredHinge", "CategoricalHinge": "CategoricalHinge",
    "CosineSimilarity": "CosineSimilarity",
}
_WRAPPED_BOUNDS = {"mean_squared_error": "MeanSquaredError", "mse": "MeanSquaredError",
                   "mean_absolute_error": "MeanAbsoluteError", "mae": "MeanAbsoluteError"}


def accumulated(values: Bounded, calls: int) -> Bounded:
    """The sum of every entry of `values`, added batch by batch into a variable over `calls`
    batches: one sum of at most N + calls terms, N the entries that are not exactly 0 (adding
    an exact 0 rounds nothing)."""
    from reference_impl import rounding
    fmt = values.fmt
    n = int(np.count_nonzero((values.v != 0) | (values.e != 0))) + calls
    magnitude = np.sum(np.abs(values.v))
    if np.all((values.e == 0) & (values.v == np.round(values.v))) and magnitude <= 2.0 ** fmt.precision:
        # integers (counts of unit weights): every partial sum, however many terms, is exact
        return Bounded(np.sum(values.v), 0.0, fmt)
    if n * fmt.unit_roundoff >= 1:
        return Bounded(np.sum(values.v), np.inf, fmt)
    e = np.sum(values.e) + rounding.sum_of_products(magnitude + np.sum(values.e), n, fmt)
    return Bounded(np.sum(values.v), e, fmt)


def _bounded_ratio(num: Bounded, den: Bounded) -> Bounded:
    """num / den, 0 where den is exactly 0 with no error (no entry counted); where a denominator
    of 0 might be nonzero, or the reverse, the bound is infinite (the flat tolerance judges)."""
    exact_zero = (den.v == 0) & (den.e == 0)
    safe = Bounded(np.where(exact_zero, 1.0, den.v), np.where(exact_zero, 0.0, den.e), den.fmt)
    out = num / safe
    return Bounded(np.where(exact_zero, 0.0, out.v), np.where(exact_zero, 0.0, out.e), den.fmt)


def _bounded_rate(a: Bounded, b: Bounded) -> Bounded:
    """a / (a + b) of two counts (precision tp / (tp + fp), recall, specificity), 0 where no
    entry is counted (a + b = 0). Two bounds, the smaller kept: losses.bounded_share (first
    order: tight for small errors, none where a + b lies within its error of 0); and the range:
    the counts being sums of nonnegative weights, the rate grows with a and falls with b, so it
    lies between share(a_lo, b_hi) and share(a_hi, b_lo) over the counts' intervals (share 0
    where its denominator is 0), and within [0, 1] whatever the counts, with the sum's and the
    division's roundings, 2 u (1 + u) + tiny (a rate is at most 1): tight where a few entries may
    or may not be counted."""
    from reference_impl import losses as L
    fmt = a.fmt
    empty = (a.v + b.v == 0) & (a.e == 0) & (b.e == 0)
    safe_b = Bounded(np.where(empty, 1.0, b.v), b.e, fmt)
    share = L.bounded_share(a, safe_b)
    first_order = np.where(empty, 0.0, np.where(a.v + b.v - a.e - b.e > 0, share.e, np.inf))

    def ratio(x, y):
        with np.errstate(all="ignore"):
            return np.where(x + y > 0, x / np.where(x + y > 0, x + y, 1.0), 0.0)
    rate = ratio(a.v, b.v)
    low = ratio(np.maximum(a.v - a.e, 0.0), b.v + b.e)
    high = ratio(a.v + a.e, np.maximum(b.v - b.e, 0.0))
    u = fmt.unit_roundoff
    with np.errstate(invalid="ignore"):
        ranged = np.nan_to_num(np.maximum(rate - low, high - rate), nan=np.inf)  # inf / inf: a count unbounded
    ranged = np.minimum(ranged, np.maximum(rate, 1.0 - rate))  # a rate is within [0, 1] whatever its counts
    ranged = ranged + 2 * u * (1 + u) + 2 * fmt.smallest_normal
    ranged = np.where((a.v < 0) | (b.v < 0), np.inf, ranged)  # negative weights: no monotone range
    return Bounded(rate, np.minimum(first_order, ranged), fmt)


def _threshold_flips(scores, threshold, fmt, strict=True, bucketed=False):
    """Where a prediction's side of `threshold` (score > t, or >= t when not strict) is not
    decided by a correct evaluation: where it differs between t and t rounded to the format or
    to float32 (where a metric may keep its thresholds) or, for t below the normal range, 0 (a
    flushed threshold: AUC's -1e-7 in float16); and, for an inner threshold of evenly spaced
    ones (bucketed), a score other than t within 2 u |t| of it (an implementation may find the
    bucket of thresholds i / (n - 1) as floor(score (n - 1)), which rounds that product)."""
    from reference_impl import losses as L
    from reference_impl import rounding
    t = float(threshold)
    scores = _f64(scores)

    def side(cut):
        return scores > cut if strict else scores >= cut
    exact = side(t)
    cuts = [float(L._rounded(t, fmt)), float(L._rounded(t, rounding.FORMATS["float32"]))]
    if abs(t) < fmt.smallest_normal:
        cuts.append(0.0)
    undecided = np.logical_or.reduce([side(c) != exact for c in cuts])
    if bucketed:
        undecided |= (scores != t) & (np.abs(scores - t) <= 2 * fmt.unit_roundoff * abs(t))
    return undecided


def _mean_values(name, y_true, y_pred, fmt, **params):
    """The per-sample values of mean metric `name`, Bounded; None where none is derived."""
    from reference_impl import losses as L
    if name in _LOSS_BOUNDS:
        values = L.bounded_losses(_LOSS_BOUNDS[name], y_true, y_pred, fmt, **params)
        return None if values is None else (-values if name == "CosineSimilarity" else values)
    if name in ("Accuracy", "CategoricalAccuracy", "SparseCategoricalAccuracy", "TopKCategoricalAccuracy",
                "SparseTopKCategoricalAccuracy"):
        return Bounded.exact(MEAN_FUNCTIONS[name](y_true, y_pred, **params), fmt)
    if name == "BinaryAccuracy":
        threshold = params.get("threshold", 0.5)
        values = binary_accuracy(y_true, y_pred, threshold)
        return Bounded(values, _threshold_flips(y_pred, threshold, fmt).astype(np.float64), fmt)
    if name == "PearsonCorrelation":
        return _bounded_pearson(y_true, y_pred, fmt, **params)
    if name == "ConcordanceCorrelation":
        return _bounded_concordance(y_true, y_pred, fmt, **params)
    return None


def _bounded_centred(x: Bounded, axis):
    return x - x.mean(axis, keepdims=True)


def _bounded_pearson(y_true, y_pred, fmt, axis=-1):
    """sum(ct cp) / sqrt(sum ct^2 sum cp^2), sum(l2_norm(ct) l2_norm(cp)) and
    mean((ct / std(ct)) (cp / std(cp))) (std the root of the centred values' mean square, whose
    mean is recomputed and subtracted): the largest bound of the three arrangements."""
    from reference_impl import losses as L
    ct = _bounded_centred(Bounded.exact(y_true, fmt), axis)
    cp = _bounded_centred(Bounded.exact(y_pred, fmt), axis)
    quotient = (ct * cp).sum(axis) / ((ct * ct).sum(axis) * (cp * cp).sum(axis)).apply(np.sqrt)
    normalized = (L._bounded_l2_normalize(ct, axis) * L._bounded_l2_normalize(cp, axis)).sum(axis)

    def standardized(c):
        again = _bounded_centred(c, axis)
        return c / (again * again).mean(axis, keepdims=True).apply(np.sqrt)
    by_std = (standardized(ct) * standardized(cp)).mean(axis)
    return L._worst(quotient, normalized, by_std)


def _bounded_concordance(y_true, y_pred, fmt, axis=-1):
    """mean(2 ct cp) / (mean(ct^2) + mean(cp^2) + (mean t - mean p)^2); the numerator also as
    mean(2 (t - mean p)(p - mean p)), equal in exact arithmetic (mean(cp) = 0) but cancelling
    (mean t - mean p) sum |cp| more: the larger bound."""
    from reference_impl import losses as L
    t, p = Bounded.exact(y_true, fmt), Bounded.exact(y_pred, fmt)
    ct, cp = _bounded_centred(t, axis), _bounded_centred(p, axis)
    gap = t.mean(axis) - p.mean(axis)
    spread = (ct * ct).mean(axis) + (cp * cp).mean(axis) + gap * gap
    shifted = (2.0 * (t - p.mean(axis, keepdims=True)) * cp).mean(axis)
    return L._worst((2.0 * ct * cp).mean(axis), shifted) / spread


def _bounded_mean_of(name, batches, fmt, **params):
    """sum(w v) / sum(w) over every value of every batch, in either arrangement: over every value
    at once, or (where the weights are one per sample, constant along the values' other axes)
    each sample's values averaged first, then the samples weighted and averaged, which gives the
    same value and rounds each sample's mean (a metric may reduce its values to one per sample
    before it weighs them). The larger bound of the two."""
    from reference_impl import losses as L
    values, weights, per_sample, sample_weights = [], [], [], []
    for batch in batches:
        y_true, y_pred, sample_weight = batch["y_true"], batch["y_pred"], batch.get("sample_weight")
        v = _mean_values(name, y_true, y_pred, fmt, **params)
        if v is None:
            return None
        w = weights_like(v.v, sample_weight)
        if name == "SparseCategoricalCrossentropy" and params.get("ignore_class") is not None:
            w = np.where(L.sparse_ignored(y_true, y_pred, params["ignore_class"], params.get("axis", -1)), 0.0, w)
        values.append(v)
        weights.append(w)
        if per_sample is not None and v.v.ndim > 1 and np.all(w == w.reshape(w.shape[0], -1)[:, :1].reshape((-1,) + (1,) * (w.ndim - 1))):
            per_sample.append(v.mean(tuple(range(1, v.v.ndim))))
            sample_weights.append(w.reshape(w.shape[0], -1)[:, 0])
        else:
            per_sample = None
    flat = _weighted_mean_bounded([Bounded(np.ravel(b.v), np.ravel(b.e), fmt) for b in values],
                                  [np.ravel(w) for w in weights], fmt, len(batches))
    if not per_sample:
        return flat
    return L._worst(flat, _weighted_mean_bounded(per_sample, sample_weights, fmt, len(batches)))


def _weighted_mean_bounded(values, weights, fmt, calls):
    """sum(w v) / sum(w), values a list of 1-D Bounded, weights of 1-D arrays; a zero weight
    removes its value exactly ("Use sample_weight of 0 to mask values")."""
    w = np.concatenate(weights)
    v = Bounded(np.concatenate([b.v for b in values]), np.concatenate([b.e for b in values]), fmt)
    product = v * Bounded.exact(w, fmt)
    removed = w == 0
    weighted = Bounded(np.where(removed, 0.0, product.v), np.where(removed, 0.0, product.e), fmt)
    return accumulated(weighted, calls) / accumulated(Bounded.exact(w, fmt), calls)


def _bounded_values(batches, fmt):
    """Mean and Sum: (weighted values, weights), Bounded."""
    values = np.concatenate([np.ravel(_f64(b["values"])) for b in batches])
    weights = np.concatenate([np.ravel(weights_like(b["values"], b.get("sample_weight"))) for b in batches])
    product = Bounded.exact(values, fmt) * Bounded.exact(weights, fmt)
    removed = weights == 0
    return Bounded(np.where(removed, 0.0, product.v), np.where(removed, 0.0, product.e), fmt), Bounded.exact(weights, fmt)


MAX_ASSIGNMENTS = 2048  # ways of placing the undecided entries that _bounded_counts enumerates


def _bounded_counts(batches, fmt, thresholds, score_error=None, column=0, bucketed=None, **select):
    """{tp, fp, fn, tn}, each Bounded of shape (thresholds, assignments): sums of weights over
    every entry of every batch, for every way a correct evaluation may place the entries whose
    side of a threshold it does not decide (_threshold_flips, or a score within score_error(scores)
    of the threshold: how far a computed score may be from the exact one, AUC's sigmoid from
    logits). The thresholds sorted, an entry above the first m of them: an undecided entry's m may
    be its exact one or move, one threshold at a time, past the undecided thresholds next to it.
    Assignment 0 is every entry at its exact place, the reference's counts; a result computed from
    the counts then lies, in a correct evaluation, within its own bound of the result of one of
    the assignments (_over_assignments). Where there would be more than MAX_ASSIGNMENTS, or an
    entry is undecided at a threshold that is not next to its place, the one assignment at the
    exact places, its error widened by the weight of every entry undecided at each threshold.
    bucketed: whether the thresholds may be treated as evenly spaced buckets (None: when they
    are, 3 or more at i / (n - 1), as AUC's are)."""
    labels, scores, weights = _gather(batches, lambda y_true, y_pred, sample_weight=None: _labelled_scores(
        y_true, y_pred, sample_weight, **select))
    labels, scores, weights = labels[:, column], scores[:, column], weights[:, column]
    moved = np.zeros(scores.shape) if score_error is None else score_error(scores)
    thresholds = _f64(thresholds)
    order = np.argsort(thresholds, kind="stable")
    cuts = thresholds[order]
    n_cuts = len(cuts)
    if bucketed is None:
        bucketed = n_cuts >= 3 and np.allclose(thresholds, np.arange(n_cuts) / (n_cuts - 1), atol=2 * EPSILON)
    above = scores[:, None] > cuts[None, :]  # (entries, thresholds)
    undecided = np.stack([
        _threshold_flips(scores, cut, fmt, bucketed=bucketed and not (i in (0, n_cuts - 1) and abs(cut - 0.5) > 0.5))
        | ((scores != cut) & (np.abs(scores - cut) <= moved))
        for i, cut in enumerate(cuts)], axis=1)
    # label_weights (AUC without multi_label) multiply the sample weights: each product, and the
    # label weight itself, rounded once (2 u |w| with the product's own, generously 3 u |w|)
    weight_error = 3 * fmt.unit_roundoff * np.abs(weights) if select.get("label_weights") is not None else 0.0
    places = _undecided_places(above, undecided)
    out = {}
    for kind, label, counted_above in (("tp", True, True), ("fp", False, True), ("fn", True, False), ("tn", False, False)):
        mine = labels == label
        chosen = mine[:, None] & (above == counted_above)
        # the sums' rounding, for every assignment: over the entries counted at the exact places
        # and every undecided one (a bound grows with the magnitude summed); + a term per batch
        # and per bucket: an implementation may count per bucket between thresholds and add the
        # buckets up (a cumulative sum), where an empty bucket adds an exact 0, so at most as
        # many buckets as entries summed round
        summed = chosen | (mine[:, None] & undecided)
        errors = np.array([accumulated(Bounded(np.where(summed[:, i], weights, 0.0),
                                               np.where(summed[:, i], weight_error, 0.0), fmt),
                                       len(batches) + min(n_cuts, int(np.count_nonzero(summed[:, i])))).e
                           for i in range(n_cuts)])
        exact = np.sum(np.where(chosen, weights[:, None], 0.0), axis=0)
        if places is None:
            flipped = np.sum(np.where(mine[:, None] & undecided, np.abs(weights)[:, None], 0.0), axis=0)
            values, errors = exact[:, None], (errors + flipped)[:, None]
        else:
            movers, moved_above = places
            sign = 1.0 if counted_above else -1.0
            w = np.where(mine[movers], weights[movers], 0.0)
            shift = np.einsum("ajt,j->ta", moved_above.astype(np.float64) - above[movers][None], sign * w)
            values, errors = exact[:, None] + shift, np.broadcast_to(errors[:, None], shift.shape)
        inverse = np.argsort(order, kind="stable")
        out[kind] = Bounded(values[inverse], errors[inverse], fmt)
    return out


def _undecided_places(above, undecided):
    """(movers, moved_above): the entries undecided at some threshold, and for every assignment of
    places to them (assignment 0 the exact places) whether each is above each threshold
    (assignments, movers, thresholds); None where the assignments are more than MAX_ASSIGNMENTS or
    an entry is undecided at a threshold not next to its place (see _bounded_counts)."""
    n_cuts = above.shape[1]
    index = np.arange(n_cuts)[None, :]
    place = above.sum(axis=1)  # thresholds sorted: above the first `place` of them
    # the undecided thresholds next to the place: a run below it (m - 1, m - 2, ...) and above it (m, m + 1, ...)
    last_decided_below = np.max(np.where(~undecided & (index < place[:, None]), index, -1), axis=1)
    first_decided_above = np.min(np.where(~undecided & (index >= place[:, None]), index, n_cuts), axis=1)
    down, up = place - 1 - last_decided_below, first_decided_above - place
    if np.any(undecided.sum(axis=1) != down + up):
        return None
    movers = np.flatnonzero(down + up)
    options = (down + up + 1)[movers]
    if np.prod(options.astype(np.float64)) > MAX_ASSIGNMENTS:
        return None
    # option 0 the exact place, 1..up above it, up + 1..up + down below it
    choice = (np.stack(np.unravel_index(np.arange(int(np.prod(options))), tuple(options)), axis=-1) if len(movers)
              else np.zeros((1, 0), dtype=np.int64))
    u = up[movers][None, :]
    moved_place = place[movers][None, :] + np.where(choice <= u, choice, u - choice)
    return movers, index[None] < moved_place[..., None]


def _telling(b: Bounded | None) -> Bounded | None:
    """b, or None where its bound reaches 1, the whole range of a rate or an area: such a bound
    (the counts' interval when too many entries are undecided to place each) would pass any
    value, and the flat tolerance judges instead."""
    return None if b is None or np.any(b.e >= 1) else b


def _over_assignments(b: Bounded) -> Bounded:
    """A result computed for each assignment of _bounded_counts (last axis, assignment 0 the
    reference's): the reference's value, and an error that covers every assignment's value
    within its own bound."""
    reference = b.v[..., :1]
    return Bounded(b.v[..., 0], np.max(np.abs(b.v - reference) + b.e, axis=-1), b.fmt)


def _bounded_area(c, curve="ROC", summation_method="interpolation", signed_weights=False):
    """area() on Bounded counts (thresholds, assignments), one area per assignment: rates as
    ratios, widths as differences of rates, heights, and the sum over the segments.

    The PR interpolation divides by p_i - p_(i+1), p = tp + fp, between consecutive thresholds.
    Where that difference is exactly 0 (no entry between the two thresholds in this assignment)
    both sums add the same terms, so a computed difference is 0 too and the segment adds
    nothing (every form of the interpolation skips a segment with no predictions); elsewhere
    the difference is at least the smallest weight between, and the slope, intercept and log
    ratio are Bounded operations, whose bound is infinite where a denominator's interval holds
    0 (the area then says nothing: _telling). With `signed_weights` (a negative weight) a
    difference of 0 may hide entries whose weights cancel, so inexact counts have no bound."""
    tp, fp, fn, tn = c["tp"], c["fp"], c["fn"], c["tn"]
    fmt = tp.fmt
    recall_ = _bounded_rate(tp, fn)
    if curve == "ROC":
        x, h = _bounded_rate(fp, tn), recall_
    else:
        x, h = recall_, _bounded_rate(tp, fp)
    first = lambda b: Bounded(b.v[:-1], b.e[:-1], fmt)  # noqa: E731
    rest = lambda b: Bounded(b.v[1:], b.e[1:], fmt)  # noqa: E731
    width = first(x) - rest(x)
    if summation_method == "minoring":
        return _by_parts((width * _minimum(first(h), rest(h))).sum(0), x, h, summation_method)
    if summation_method == "majoring":
        return _by_parts((width * _maximum(first(h), rest(h))).sum(0), x, h, summation_method)
    if curve == "ROC":
        return _by_parts((width * (first(h) + rest(h)) / 2.0).sum(0), x, h, summation_method)
    inexact = np.any(tp.e > 0) or np.any(fp.e > 0) or np.any(fn.e > 0)
    if not inexact:
        return _bounded_pr_interpolation(tp, fp, fn)
    if signed_weights:
        return None
    # |computed - exact| <= |f(computed counts) - f(counts)| + the formula's own rounding at the
    # computed counts: the first from an equal form of f without its cancellations, the second
    # from f's own form on exact counts (to first order the same at the computed ones)
    own = _bounded_pr_interpolation(*(Bounded.exact(b.v, fmt) for b in (tp, fp, fn)))
    moved = _pr_interpolation_moved(tp, fp, fn)
    return Bounded(own.v, own.e + moved.e, fmt)


def _by_parts(area: Bounded, x: Bounded, h: Bounded, summation_method) -> Bounded:
    """area (a sum of widths times heights, in Bounded arithmetic) with the smaller of its bound
    and one by summation by parts, which does not grow with the number of thresholds.

    A = sum_i w_i g_i, w_i = x_i - x_(i+1), g_i the segment's height ((h_i + h_(i+1)) / 2, or
    their min or max), is linear in x for fixed heights and in the heights for fixed x, so
    A(x', h') - A(x, h) = sum_j (x'_j - x_j) (g'_j - g'_(j-1)) + sum_i w_i (g'_i - g_i) (g_(-1)
    = g_(N-1) = 0), and with |x'_j - x_j| <= ex_j, |g'_i - g_i| <= eg_i ((eh_i + eh_(i+1)) / 2,
    or their max: min and max move by at most the larger move):

        |moved| <= sum_j ex_j (|g_j - g_(j-1)| + eg_j + eg_(j-1)) + sum_i |w_i| eg_i

    (heights along a monotone curve: the first sum is at most max ex times the heights' total
    variation, O(one rate's error), where the widths' errors summed are O(n of them)). The
    evaluation's own rounding at the computed rates: each product (subtraction, height, product:
    3u, 4u for the mean of two) and the sum of the nonzero terms (a segment with no entry between
    its thresholds has two equal computed rates, so an exact 0 width), gamma_(m) over the terms'
    magnitudes with their errors, m the nonzero terms; and a flushed result per term."""
    fmt = area.fmt
    u, tiny = fmt.unit_roundoff, fmt.smallest_normal
    pick = {"minoring": np.minimum, "majoring": np.maximum}.get(summation_method)
    if pick is None:
        g = (h.v[:-1] + h.v[1:]) / 2.0
        eg = (h.e[:-1] + h.e[1:]) / 2.0
    else:
        g, eg = pick(h.v[:-1], h.v[1:]), np.maximum(h.e[:-1], h.e[1:])
    zero = np.zeros((1,) + g.shape[1:])
    g_pad, eg_pad = np.concatenate([zero, g, zero]), np.concatenate([zero, eg, zero])
    w = x.v[:-1] - x.v[1:]
    with np.errstate(all="ignore"):
        moved = (np.sum(x.e * (np.abs(g_pad[1:] - g_pad[:-1]) + eg_pad[1:] + eg_pad[:-1]), axis=0)
                 + np.sum(np.abs(w) * eg, axis=0))
        terms = (np.abs(w) + x.e[:-1] + x.e[1:]) * (np.abs(g) + eg)
        m = np.count_nonzero(w != 0, axis=0)
        gamma = np.where(m * u < 1, m * u / np.maximum(1.0 - m * u, 1e-300), np.inf)
        own = (4 * u + gamma * (1 + 4 * u)) * np.sum(terms, axis=0) + tiny * np.maximum(m, 1)
        e = np.where(np.isfinite(moved + own), moved + own, np.inf)
    return Bounded(area.v, np.minimum(area.e, e), fmt)


def _bounded_pr_interpolation(tp, fp, fn):
    """_pr_interpolated in Bounded arithmetic, in its own form (slope, intercept, log ratio)."""
    fmt = tp.fmt
    first = lambda b: Bounded(b.v[:-1], b.e[:-1], fmt)  # noqa: E731
    rest = lambda b: Bounded(b.v[1:], b.e[1:], fmt)  # noqa: E731
    value = _pr_interpolated(tp.v, fp.v, fn.v)
    p = tp + fp
    d_tp, d_p = first(tp) - rest(tp), first(p) - rest(p)
    moving = d_p.v != 0
    where_moving = lambda b, other: Bounded(np.where(moving, b.v, other), np.where(moving, b.e, 0.0), fmt)  # noqa: E731
    slope = where_moving(d_tp, 0.0) / where_moving(d_p, 1.0)
    intercept = rest(tp) - slope * rest(p)
    counted = moving & (rest(p).v > 0)
    counted_only = lambda b: Bounded(np.where(counted, b.v, 1.0), np.where(counted, b.e, 0.0), fmt)  # noqa: E731
    log_term = intercept * _bounded_log_of(counted_only(first(p)) / counted_only(rest(p)))
    exact_zero = (intercept.v == 0) & (intercept.e == 0)
    log_term = Bounded(np.where(intercept.v == 0, 0.0, log_term.v), np.where(exact_zero, 0.0, log_term.e), fmt)
    pieces = slope * (d_tp + log_term)
    pieces = Bounded(np.where(moving, pieces.v, 0.0), np.where(moving, pieces.e, 0.0), fmt)
    out = _bounded_ratio(pieces.sum(0), Bounded(tp.v[0], tp.e[0], fmt) + Bounded(fn.v[0], fn.e[0], fmt))
    return Bounded(value, out.e, fmt)


def _log1p_ratio(r):
    """log(1 + r) / r (1 at r = 0; a series below 1e-4, where the quotient cancels)."""
    r = _f64(r)
    with np.errstate(all="ignore"):
        direct = np.log1p(r) / np.where(r == 0, 1.0, r)
    return np.where(np.abs(r) < 1e-4, 1.0 - r / 2 + r * r / 3 - r ** 3 / 4, direct)


def _log1p_remainder(r):
    """(r - log(1 + r)) / r^2 (1/2 at r = 0; a series below 1e-3)."""
    r = _f64(r)
    with np.errstate(all="ignore"):
        direct = (r - np.log1p(r)) / np.where(r == 0, 1.0, r * r)
    return np.where(np.abs(r) < 1e-3, 0.5 - r / 3 + r * r / 4 - r ** 3 / 5, direct)


def _pr_interpolation_moved(tp, fp, fn):
    """How far the PR interpolation's exact value moves when the counts move within their
    errors: Bounded arithmetic on an equal form whose terms do not cancel. With Dt = tp_i -
    tp_(i+1), Dp = p_i - p_(i+1), p1 = p_(i+1), t1 = tp_(i+1) and r = Dp / p1, a segment's piece
    slope (Dt + intercept log(p_i / p1)), slope = Dt / Dp, intercept = t1 - slope p1, is

        (Dt^2 / p1) (r - log(1 + r)) / r^2 + Dt (t1 / p1) log(1 + r) / r

    (intercept = (t1 Dp - Dt p1) / Dp; both functions of r are smooth and decreasing on r >= 0);
    with p1 = 0 (t1 = 0): Dt^2 / Dp. A segment with Dp exactly 0 adds nothing (_bounded_area)."""
    fmt = tp.fmt
    first = lambda b: Bounded(b.v[:-1], b.e[:-1], fmt)  # noqa: E731
    rest = lambda b: Bounded(b.v[1:], b.e[1:], fmt)  # noqa: E731
    p = tp + fp
    d_t, d_p, p1, t1 = first(tp) - rest(tp), first(p) - rest(p), rest(p), rest(tp)
    moving, from_zero = d_p.v != 0, rest(p).v == 0
    inside = moving & ~from_zero
    masked = lambda b, where, other: Bounded(np.where(where, b.v, other), np.where(where, b.e, 0.0), fmt)  # noqa: E731
    p1_safe = masked(p1, inside, 1.0)
    r = masked(d_p, inside, 0.0) / p1_safe
    d_t_in = masked(d_t, inside, 0.0)
    piece = (d_t_in * d_t_in / p1_safe * r.apply(_log1p_remainder)
             + d_t_in * (masked(t1, inside, 0.0) / p1_safe) * r.apply(_log1p_ratio))
    d_t_zero = masked(d_t, moving & from_zero, 0.0)
    at_zero = d_t_zero * d_t_zero / masked(d_p, moving & from_zero, 1.0)
    pieces = Bounded(np.where(inside, piece.v, np.where(moving & from_zero, at_zero.v, 0.0)),
                     np.where(inside, piece.e, np.where(moving & from_zero, at_zero.e, 0.0)), fmt)
    return _bounded_ratio(pieces.sum(0), Bounded(tp.v[0], tp.e[0], fmt) + Bounded(fn.v[0], fn.e[0], fmt))


def _bounded_log_of(x):
    with np.errstate(all="ignore"):
        return x.apply(np.log)


def _bounded_auc(batches, fmt, num_thresholds=200, curve="ROC", summation_method="interpolation", thresholds=None,
                 multi_label=False, num_labels=None, label_weights=None, from_logits=False):
    """AUC: the counts at its thresholds (_bounded_counts: an entry a threshold cannot tell
    apart counts on either side), the area (_bounded_area), the labels' weighted mean."""
    cuts = curve_thresholds(num_thresholds, thresholds)
    columns = np.shape(batches[0]["y_pred"])[-1] if multi_label else 1
    signed = any(np.any(_f64(b["sample_weight"]) < 0) for b in batches if b.get("sample_weight") is not None) or (
        label_weights is not None and not multi_label and np.any(_f64(label_weights) < 0))
    errors = None
    if from_logits:
        logits = [b["y_pred"] for b in batches]
        batches = [{**b, "y_pred": losses.sigmoid(b["y_pred"])} for b in batches]
        # the sigmoid's own error per score, (entries, columns) in the order the entries are
        # gathered (_labelled_scores: a row per label column when multi_label, else every score)
        errors = np.concatenate([np.reshape(Bounded.exact(z, fmt).apply(losses.sigmoid).e, (-1, columns))
                                 for z in logits])
    areas = []
    for j in range(columns):
        score_error = None if errors is None else (lambda scores, j=j: errors[:, j])
        counts = _bounded_counts(batches, fmt, cuts, score_error, column=j, bucketed=True, multi_label=multi_label,
                                 label_weights=None if multi_label else label_weights)
        area = _bounded_area(counts, curve, summation_method, signed_weights=signed)
        if area is None:
            return None
        areas.append(_over_assignments(area))
    if not multi_label:
        return _telling(areas[0])
    values = Bounded(np.array([a.v for a in areas]), np.array([a.e for a in areas]), fmt)
    lw = Bounded.exact(np.ones(columns), fmt) if label_weights is None else Bounded.constant(label_weights, fmt)
    return _telling((lw * values).sum(0) / lw.sum(0))


def _bounded_best_under_constraint(batches, fmt, value, constrained, target, num_thresholds=200, class_id=None):
    """The largest `value` rate where the `constrained` rate is >= target, for each assignment
    of _bounded_counts: a max over the feasible thresholds, within the largest lower and upper
    ends of their rates' intervals, provided every threshold's feasibility is decided: its
    rate's interval lies on one side of the target (the target rounded to the format), or the
    rate is exact and rounds to a number other than the target's rounding. Otherwise None."""
    from reference_impl import losses as L
    target = _number(constrained, target, low=0, high=1)
    c = _bounded_counts(batches, fmt, curve_thresholds(num_thresholds), bucketed=True, class_id=class_id)
    rates = {"precision": _bounded_rate(c["tp"], c["fp"]), "recall": _bounded_rate(c["tp"], c["fn"]),
             "specificity": _bounded_rate(c["tn"], c["fp"])}
    r = rates[constrained]
    slack = np.abs(L._rounded(target, fmt) - target)
    decided = np.abs(r.v - target) > r.e + slack
    # exact rates: fl(r) and fl(target) compare as r and target do unless they round alike
    exact_rate = (c["tp"].e == 0) & (c["fp"].e == 0) & (c["fn"].e == 0) & (c["tn"].e == 0)
    decided |= exact_rate & ((r.v == target) | (L._rounded(r.v, fmt) != L._rounded(target, fmt)))
    decided |= target == 0  # a rate is never below 0: every threshold meets a target of 0
    if not np.all(decided):
        return None
    feasible = r.v >= target  # (thresholds, assignments)
    dependent = rates[value]
    # the largest of values each within [v - e, v + e] (and, rates, within [0, 1]) lies between
    # the largest lower and the largest upper end: tighter than the largest e where a threshold
    # with few entries (a rate that may be anything) is not the one that gives the maximum
    def largest(x):
        return np.maximum(np.max(np.where(feasible, x, -np.inf), axis=0), 0.0)
    best = largest(dependent.v)
    high = largest(np.minimum(dependent.v + dependent.e, 1.0))
    low = largest(np.maximum(dependent.v - dependent.e, 0.0))
    return _telling(_over_assignments(Bounded(best, np.maximum(high - best, best - low), fmt)))


def _bounded_precision_recall(kind, batches, fmt, thresholds=None, top_k=None, class_id=None):
    if thresholds is None:
        cuts = np.array([-np.inf if top_k is not None else 0.5])
    else:
        cuts = _thresholds_list(thresholds, 0, 1)
    c = _bounded_counts(batches, fmt, cuts, class_id=class_id, top_k=top_k)
    return _telling(_over_assignments(_bounded_rate(c["tp"], c["fp"] if kind == "precision" else c["fn"])))


def _bounded_confusion_matrix(batches, fmt, num_classes, threshold=None, **options):
    """The confusion matrix's cells, Bounded: each a sum of positive weights (gamma over all
    entries); BinaryIoU's threshold flips widen both cells of the entry's row."""
    cm = confusion_matrix(batches, num_classes, threshold=threshold, **options)
    n = sum(np.size(b["y_pred"]) for b in batches)
    from reference_impl import rounding
    k = n + len(batches)
    if k * fmt.unit_roundoff >= 1:
        return None
    e = rounding.sum_of_products(cm, k, fmt)
    if threshold is not None:
        for b in batches:
            flips = _threshold_flips(b["y_pred"], threshold, fmt, strict=False)
            w = weights_like(b["y_true"], b.get("sample_weight"))
            t = _f64(b["y_true"])
            for r in range(num_classes):
                moved = np.sum(np.where(flips & (t == r), np.abs(w), 0.0))
                e[r, :] += moved
    return Bounded(cm, e, fmt)


def _bounded_iou(batches, fmt, num_classes, target_class_ids=None, **options):
    cm = _bounded_confusion_matrix(batches, fmt, num_classes, **options)
    if cm is None:
        return None
    diagonal = Bounded(np.diag(cm.v), np.diag(cm.e), fmt)
    rows = Bounded(cm.v, cm.e, fmt).sum(1)
    columns = Bounded(cm.v, cm.e, fmt).sum(0)
    denominator = columns + rows - diagonal
    ids = np.arange(num_classes) if target_class_ids is None else np.asarray(target_class_ids, dtype=np.int64)
    pick = lambda b: Bounded(b.v[ids], b.e[ids], fmt)  # noqa: E731
    den = pick(denominator)
    if np.any((den.v == 0) & (den.e > 0)):
        return None
    valid = den.v != 0
    ratios = _bounded_ratio(pick(diagonal), den)
    kept = Bounded(ratios.v[valid], ratios.e[valid], fmt)
    return _bounded_ratio(kept.sum(None), Bounded.exact(float(np.count_nonzero(valid)), fmt))


def _bounded_fbeta(batches, fmt, average=None, beta=1.0, threshold=None):
    """Per class tp, fp, fn (sums of w t p with t and p 0/1), the threshold flips widening each
    entry's class; precision, recall, (1 + b^2) p r / (b^2 p + r); the average."""
    ts, ps, ws, flips = [], [], [], []
    for b in batches:
        t, p, w = _rows(b["y_true"], b["y_pred"], b.get("sample_weight"))
        if threshold is None:
            made, flip = np.eye(p.shape[-1])[np.argmax(p, axis=-1)], np.zeros(p.shape, bool)
        else:
            made, flip = (p > threshold).astype(np.float64), _threshold_flips(p, threshold, fmt)
        ts.append(t), ps.append(made), ws.append(w), flips.append(flip)
    t, p, w, flip = (np.concatenate(x) for x in (ts, ps, ws, flips))
    moved = np.sum(np.where(flip, np.abs(w), 0.0), axis=0)

    def counts(x, flips=True):
        """Per class sum of w x over every entry (w x exact: x is 0 or 1)."""
        columns = [accumulated(Bounded.exact(w[:, j] * x[:, j], fmt), len(batches)) for j in range(x.shape[1])]
        return Bounded(np.array([c.v for c in columns]), np.array([c.e for c in columns]) + (moved if flips else 0.0), fmt)
    tp, fp, fn = counts(t * p), counts((1 - t) * p), counts(t * (1 - p))
    if average == "micro":
        tp, fp, fn = tp.sum(None), fp.sum(None), fn.sum(None)
    pr, rc = _bounded_rate(tp, fp), _bounded_rate(tp, fn)
    b2 = Bounded.constant(beta, fmt) * Bounded.constant(beta, fmt)
    scores = _bounded_ratio((1.0 + b2) * pr * rc, b2 * pr + rc)
    if average == "macro":
        return scores.mean(None)
    if average == "weighted":
        support = counts(t, flips=False)
        return _bounded_ratio((support * scores).sum(None), support.sum(None))
    return scores


def _bounded_r2(batches, fmt, class_aggregation="uniform_average", num_regressors=0):
    t, p, w = _gather(batches, _rows)
    calls = len(batches)
    tb, pb, wb = Bounded.exact(t, fmt), Bounded.exact(p, fmt), Bounded.exact(w, fmt)

    def column_sums(x):
        return Bounded(np.array([accumulated(Bounded(x.v[:, j], x.e[:, j], fmt), calls).v for j in range(x.v.shape[1])]),
                       np.array([accumulated(Bounded(x.v[:, j], x.e[:, j], fmt), calls).e for j in range(x.v.shape[1])]), fmt)
    count = column_sums(wb)
    first = column_sums(wb * tb)
    centre = first / count
    residual = column_sums(wb * (tb - pb) * (tb - pb))
    spread = _bounded_sum_of_squares_about(tb, wb, centre, t.shape[0] + calls)
    if np.any((spread.v == 0) & (spread.e > 0)) or np.any((spread.v != 0) & (spread.e >= np.abs(spread.v))):
        return None  # a constant y_true's 0 (its own rule) cannot be told from a rounded one
    constant = spread.v == 0
    ratio = _bounded_ratio(residual, spread)
    scores = 1.0 - ratio
    scores = Bounded(np.where(constant, np.where(residual.v == 0, 1.0, 0.0), scores.v), np.where(constant, 0.0, scores.e), fmt)
    if class_aggregation == "uniform_average":
        scores = scores.mean(None)
    elif class_aggregation == "variance_weighted_average":
        scores = (spread * scores).sum(None) / spread.sum(None)
    if num_regressors:
        n = t.shape[0]
        scores = 1.0 - (1.0 - scores) * float(n - 1) / float(n - num_regressors - 1)
    return scores


def _bounded_sum_of_squares_about(t: Bounded, w: Bounded, centre: Bounded, length) -> Bounded:
    """sum_i w_i (t_i - m')^2 per column, m' the computed weighted mean (centre: within centre.e
    of the exact mean m), a sum of `length` terms. The exact sum about m' is S + W (m' - m)^2
    (S the sum about m, W = sum w: the cross term sum w (t - m) vanishes at the mean), so m''s
    error enters squared; each term is rounded three times (t - m', the square, the product
    with w), a relative error gamma_3, and the sum of these nonnegative terms gamma_length of
    their magnitude (Higham (3.5))."""
    from reference_impl import rounding
    fmt = t.fmt
    spread = np.sum(w.v * (t.v - centre.v) ** 2, axis=0)
    shift = np.sum(w.v, axis=0) * centre.e ** 2
    about_computed = spread + shift
    terms_error = rounding.gamma(3, fmt.unit_roundoff) * about_computed
    e = shift + terms_error + rounding.sum_of_products(about_computed + terms_error, length, fmt)
    return Bounded(spread, e, fmt)


def error_bound(name, batches, fmt, **params):
    """Per-element bound on keras.metrics.<name>(**params).result() after update_state on each
    batch, evaluated in `fmt`; None where no bound is derived (see above)."""
    with np.errstate(all="ignore"):
        out = _error_bound(name, batches, fmt, **params)
    return None if out is None else out.e


def _error_bound(name, batches, fmt, **params):
    if name in MEAN_FUNCTIONS:
        return _bounded_mean_of(name, batches, fmt, **params)
    if name == "MeanMetricWrapper":
        fn = params.get("fn")
        if fn == "categorical_accuracy":
            return _bounded_mean_of("CategoricalAccuracy", batches, fmt)
        return _bounded_mean_of(_WRAPPED_BOUNDS[fn], batches, fmt) if fn in _WRAPPED_BOUNDS else None
    if name in ("Mean", "Sum"):
        weighted, weights = _bounded_values(batches, fmt)
        total = accumulated(weighted, len(batches))
        return total if name == "Sum" else total / accumulated(weights, len(batches))
    if name == "RootMeanSquaredError":
        mean_square = _bounded_mean_of_squares(batches, fmt)
        return mean_square.apply(np.sqrt)
    kinds = {"TruePositives": "tp", "FalsePositives": "fp", "TrueNegatives": "tn", "FalseNegatives": "fn"}
    if name in kinds:
        thresholds = params.get("thresholds")
        counts = _bounded_counts(batches, fmt, _thresholds_list(0.5 if thresholds is None else thresholds, 0, 1))
        return _one_bounded(_over_assignments(counts[kinds[name]]))
    if name in ("Precision", "Recall"):
        return _one_bounded(_bounded_precision_recall(name.lower(), batches, fmt, **params))
    if name in ("MeanIoU", "IoU", "OneHotIoU", "OneHotMeanIoU", "BinaryIoU"):
        if name == "MeanIoU":
            return _bounded_iou(batches, fmt, **params)
        if name == "IoU":
            return _bounded_iou(batches, fmt, **params)
        if name == "BinaryIoU":
            return _bounded_iou(batches, fmt, 2, params.get("target_class_ids", (0, 1)), threshold=params.get("threshold", 0.5))
        options = {k: v for k, v in params.items() if k not in ("num_classes", "target_class_ids", "sparse_y_pred")}
        return _bounded_iou(batches, fmt, params["num_classes"], params.get("target_class_ids"), sparse_y_true=False,
                            sparse_y_pred=params.get("sparse_y_pred", False), **options)
    if name == "R2Score":
        return _bounded_r2(batches, fmt, **params)
    if name == "F1Score":
        return _bounded_fbeta(batches, fmt, params.get("average"), 1.0, params.get("threshold"))
    if name == "FBetaScore":
        return _bounded_fbeta(batches, fmt, **params)
    if name == "AUC":
        return _bounded_auc(batches, fmt, **params)
    at = {"PrecisionAtRecall": ("precision", "recall"), "RecallAtPrecision": ("recall", "precision"),
          "SensitivityAtSpecificity": ("recall", "specificity"), "SpecificityAtSensitivity": ("specificity", "recall")}
    if name in at:
        value, constrained = at[name]
        key = {"PrecisionAtRecall": "recall", "RecallAtPrecision": "precision", "SensitivityAtSpecificity": "specificity",
               "SpecificityAtSensitivity": "sensitivity"}[name]
        rest = {k: v for k, v in params.items() if k != key}
        return _bounded_best_under_constraint(batches, fmt, value, constrained, params[key], **rest)
    return None


def _bounded_mean_of_squares(batches, fmt):
    values, weights = [], []
    for batch in batches:
        d = Bounded.exact(batch["y_pred"], fmt) - Bounded.exact(batch["y_true"], fmt)
        v = d * d
        values.append(v)
        weights.append(np.ravel(weights_like(v.v, batch.get("sample_weight"))))
    w = np.concatenate(weights)
    v = Bounded(np.concatenate([np.ravel(b.v) for b in values]), np.concatenate([np.ravel(b.e) for b in values]), fmt)
    product = v * Bounded.exact(w, fmt)
    weighted = Bounded(np.where(w == 0, 0.0, product.v), np.where(w == 0, 0.0, product.e), fmt)
    return accumulated(weighted, len(batches)) / accumulated(Bounded.exact(w, fmt), len(batches))


def _one_bounded(b: Bounded | None) -> Bounded | None:
    """One threshold gives a scalar, several a vector (_one_or_all)."""
    if b is None:
        return None
    if b.v.size == 1:
        return Bounded(b.v.reshape(-1)[0], b.e.reshape(-1)[0], b.fmt)
    return Bounded(b.v.reshape(-1), b.e.reshape(-1), b.fmt)
