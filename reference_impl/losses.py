"""Keras 3 losses (`keras.losses.*`) in NumPy float64: the function forms, which give one loss per
sample, and the classes, which weight and reduce them.

Formulas from the Keras 3.15 docstrings (keras/src/losses/losses.py and loss.py, the same text on
keras.io/api/losses/) and the keras.io losses overview (keras-io templates/api/losses/index.md).
x = y_pred - y_true; means and sums are over `axis` (-1 unless an argument says otherwise):

- mean_squared_error        mean(square(y_true - y_pred))
- mean_absolute_error       mean(abs(y_true - y_pred))
- mean_absolute_percentage_error  100 * mean(abs((y_true - y_pred) / y_true)), "Division by zero is
  prevented by dividing by maximum(y_true, epsilon)": read as max(|y_true|, 1e-7), the magnitude the
  formula divides by (the literal maximum(y_true, eps) would divide every negative label by 1e-7)
- mean_squared_logarithmic_error  mean(square(log(y_true + 1) - log(y_pred + 1))), "Negative values
  and 0 values will be replaced with keras.backend.epsilon()" (1e-7), in both arguments
- huber(delta=1)            mean(0.5 x^2 if |x| <= delta else delta |x| - 0.5 delta^2)
- log_cosh                  mean(log(cosh(x)))   (as |x| + log1p(exp(-2|x|)) - log 2, which does not
  overflow)
- poisson                   mean(y_pred - y_true * log(y_pred)), with the docstring example's
  "y_pred = y_pred + 1e-7" before the formula (both terms)
- kl_divergence             sum(y_true * log(y_true / y_pred)), both clipped to [1e-7, 1] as the
  docstring example does ("They will get clipped to the [0, 1] range"; the example, which asserts
  equality, clips at 1e-7)
- cosine_similarity(axis)   -sum(l2_norm(y_true) * l2_norm(y_pred)); a zero vector gives 0 ("cosine
  similarity will be 0"): l2_norm(v) = v / ||v||, and 0 for v = 0, no epsilon
- hinge                     mean(maximum(1 - y_true * y_pred, 0)); squared_hinge: its square.
  "If binary (0 or 1) labels are provided they will be converted to -1 or 1": labels that are all
  0 or 1 become 2 y_true - 1
- categorical_hinge         maximum(neg - pos + 1, 0), neg = max((1 - y_true) * y_pred), pos =
  sum(y_true * y_pred)
- binary_crossentropy(from_logits, label_smoothing, axis)  mean(-[t log p + (1 - t) log(1 - p)]),
  t = y_true (1 - label_smoothing) + 0.5 label_smoothing ("1 - 0.5 * label_smoothing for the target
  class and 0.5 * label_smoothing for the non-target class"), p = y_pred or sigmoid(y_pred)
- binary_focal_crossentropy(apply_class_balancing, alpha, gamma, ...)  mean(w * f * bce), f =
  "(1 - output) ** gamma for class 1, output ** gamma for class 0", w = "alpha for class 1, 1 - alpha
  for class 0" (with apply_class_balancing, else 1). A soft label t (label smoothing) is read as a
  label whose probability is p_t = t p + (1 - t)(1 - p): f = (1 - p_t)^gamma and w = t alpha +
  (1 - t)(1 - alpha), which are the hard-label rules at t = 0 and 1
- categorical_crossentropy(from_logits, label_smoothing, axis)  -sum(t log p); t = y_true (1 - ls) +
  ls / num_classes ("0.1 / num_classes for non-target labels and 0.9 + 0.1 / num_classes for target
  labels"), p = y_pred ("encodes a probability distribution") or softmax(y_pred)
- categorical_focal_crossentropy(alpha, gamma, ...)  sum(alpha (1 - p)^gamma (-t log p)): "FL(p_t) =
  alpha * (1 - p_t) ** gamma * CategoricalCE(y_true, y_pred)", p_t the probability of the class of
  each term; alpha a scalar or one factor per class
- sparse_categorical_crossentropy(from_logits, ignore_class, axis)  -log p[y_true]; an entry whose
  label is ignore_class is "ignored during loss computation": its loss is 0, and the classes leave it
  out of the mean (it is not part of the sample)
- categorical_generalized_cross_entropy(q)  (1 - p^q) / q, "p the predicted probability for the true
  class", y_true "integer class indices with shape [batch_size] or [batch_size, 1]"
- dice(axis)   1 - 2 sum(y_true y_pred) / (sum(y_true) + sum(y_pred)), over `axis` (None: all)
- tversky(alpha, beta, axis)  1 - TP / (TP + alpha FP + beta FN), TP = sum(t p), FP = sum((1 - t) p),
  FN = sum(t (1 - p)) (Salehi et al. 2017, which the docstring cites; alpha weighs false positives,
  beta false negatives; alpha = beta = 0.5 is Dice, as documented)
- circle(gamma=80, margin=0.4, remove_diagonal=True)  Circle loss of Sun et al. 2020 (cited) on the
  cosine similarities s = y_pred . ref_embeddings^T (embeddings L2-normalized by the caller), per
  anchor: softplus(logsumexp_n(gamma a_n (s_n - m)) + logsumexp_p(-gamma a_p (s_p - (1 - m)))), a_p =
  max(1 + m - s_p, 0), a_n = max(s_n + m, 0); positives share the anchor's label (not itself when
  remove_diagonal), negatives do not; an empty set's logsumexp is -inf
- ctc   -log p(labels | y_pred), y_pred logits (batch, T, classes), y_true (batch, max_length)
  integer labels where "0 always represents the blank/mask index": the label sequence is the
  non-zero entries; the sum over alignments by the forward recursion of Graves et al. 2006

Probabilities enter the logarithms as given: no docstring states a clipping of the crossentropies'
y_pred, so p = 0 where its label weight is positive gives +inf, and a term whose label weight is
exactly 0 contributes 0 (0 log 0 = 0, the limit, as the sum over the labelled classes means).

Classes (Loss docstring): `reduction` "sum" sums the weighted losses, "sum_over_batch_size" and
"mean" "sum the loss and divide by the sample size" (the number of per-sample losses),
"mean_with_sample_weight" "sums the loss and divides by the sum of the sample weights" (the weights
as given: a scalar weight w divides by w, a [batch_size] vector by its sum; without sample_weight,
by the number of losses), "none" / None none. sample_weight (keras.io
losses overview): a scalar scales the loss; a vector of size batch_size "rescales the total loss for
each sample of the batch" (along the first axis); otherwise it is broadcast to the per-sample losses'
shape (batch_size, d0, .. dN-1). Every function raises ValueError naming the argument it rejects.
"""
from __future__ import annotations

import numbers

import numpy as np

EPSILON = 1e-7  # keras.backend.epsilon(), where a docstring names it
REDUCTIONS = ("sum", "sum_over_batch_size", "mean", "mean_with_sample_weight", "none", None)
LOG_2 = 0.69314718055994530942


def _f64(x):
    return np.asarray(x, dtype=np.float64)


def _number(name, value, low=None, high=None):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"`{name}` must be a number. Received: {name}={value!r}")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"`{name}` must be in [{low}, {high}]. Received: {name}={value!r}")
    return float(value)


def _same_shape(y_true, y_pred):
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred must have the same shape. Received: {y_true.shape} and {y_pred.shape}")


def _xlogy(t, p):
    """t * log(p), and exactly 0 where t == 0 (a term with no label weight)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(t == 0, 0.0, t * np.log(p))


def _log_sigmoid(z):
    """log(sigmoid(z)) = -softplus(-z), without overflow."""
    return -(np.maximum(-z, 0) + np.log1p(np.exp(-np.abs(z))))


def _log_softmax(z, axis):
    shifted = z - np.max(z, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def sigmoid(z):
    return np.exp(_log_sigmoid(_f64(z)))


def softmax(z, axis=-1):
    return np.exp(_log_softmax(_f64(z), axis))


def l2_normalize(v, axis=-1):
    """v / ||v|| along axis; a zero vector stays zero."""
    v = _f64(v)
    norm = np.sqrt(np.sum(v * v, axis=axis, keepdims=True))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(norm == 0, 0.0, v / np.where(norm == 0, 1.0, norm))


# --- regression ----------------------------------------------------------------------------

def mean_squared_error(y_true, y_pred):
    y_true, y_pred = _f64(y_true), _f64(y_pred)
    return np.mean(np.square(y_true - y_pred), axis=-1)


def mean_absolute_error(y_true, y_pred):
    y_true, y_pred = _f64(y_true), _f64(y_pred)
    return np.mean(np.abs(y_true - y_pred), axis=-1)


def mean_absolute_percentage_error(y_true, y_pred):
    y_true, y_pred = _f64(y_true), _f64(y_pred)
    return 100.0 * np.mean(np.abs(y_true - y_pred) / np.maximum(np.abs(y_true), EPSILON), axis=-1)


def mean_squared_logarithmic_error(y_true, y_pred):
    def positive(y):
        return np.where(y > 0, y, EPSILON)
    y_true, y_pred = positive(_f64(y_true)), positive(_f64(y_pred))
    return np.mean(np.square(np.log1p(y_true) - np.log1p(y_pred)), axis=-1)


def huber(y_true, y_pred, delta=1.0):
    delta = _number("delta", delta, low=0)
    x = np.abs(_f64(y_pred) - _f64(y_true))
    return np.mean(np.where(x <= delta, 0.5 * x * x, delta * x - 0.5 * delta * delta), axis=-1)


def log_cosh(y_true, y_pred):
    x = np.abs(_f64(y_pred) - _f64(y_true))
    return np.mean(x + np.log1p(np.exp(-2.0 * x)) - LOG_2, axis=-1)


def poisson(y_true, y_pred):
    y_true, y_pred = _f64(y_true), _f64(y_pred) + EPSILON
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.mean(y_pred - _xlogy(y_true, y_pred), axis=-1)


def kl_divergence(y_true, y_pred):
    y_true, y_pred = np.clip(_f64(y_true), EPSILON, 1.0), np.clip(_f64(y_pred), EPSILON, 1.0)
    return np.sum(y_true * np.log(y_true / y_pred), axis=-1)


def cosine_similarity(y_true, y_pred, axis=-1):
    return -np.sum(l2_normalize(y_true, axis) * l2_normalize(y_pred, axis), axis=axis)


# --- hinge ---------------------------------------------------------------------------------

def _signed_labels(y_true):
    """0/1 labels as -1/+1 ("If binary (0 or 1) labels are provided they will be converted")."""
    return 2.0 * y_true - 1.0 if np.all((y_true == 0) | (y_true == 1)) else y_true


def hinge(y_true, y_pred):
    y_true, y_pred = _signed_labels(_f64(y_true)), _f64(y_pred)
    return np.mean(np.maximum(1.0 - y_true * y_pred, 0.0), axis=-1)


def squared_hinge(y_true, y_pred):
    y_true, y_pred = _signed_labels(_f64(y_true)), _f64(y_pred)
    return np.mean(np.square(np.maximum(1.0 - y_true * y_pred, 0.0)), axis=-1)


def categorical_hinge(y_true, y_pred):
    y_true, y_pred = _f64(y_true), _f64(y_pred)
    pos = np.sum(y_true * y_pred, axis=-1)
    neg = np.max((1.0 - y_true) * y_pred, axis=-1)
    return np.maximum(neg - pos + 1.0, 0.0)


# --- crossentropies ------------------------------------------------------------------------

def _smoothing(label_smoothing):
    return _number("label_smoothing", label_smoothing, low=0, high=1)


def _binary_terms(y_pred, from_logits):
    """(log p, log(1 - p)) of the positive class."""
    if from_logits:
        return _log_sigmoid(y_pred), _log_sigmoid(-y_pred)
    with np.errstate(divide="ignore"):
        return np.log(y_pred), np.log1p(-y_pred)


def _binary_elementwise(y_true, y_pred, from_logits, label_smoothing):
    """(t, p, elementwise binary crossentropy) with t smoothed."""
    y_true, y_pred = _f64(y_true), _f64(y_pred)
    _same_shape(y_true, y_pred)
    ls = _smoothing(label_smoothing)
    t = y_true * (1.0 - ls) + 0.5 * ls
    log_p, log_q = _binary_terms(y_pred, from_logits)
    with np.errstate(invalid="ignore"):
        bce = -(np.where(t == 0, 0.0, t * log_p) + np.where(t == 1, 0.0, (1.0 - t) * log_q))
    p = sigmoid(y_pred) if from_logits else y_pred
    return t, p, bce


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    _, _, bce = _binary_elementwise(y_true, y_pred, from_logits, label_smoothing)
    return np.mean(bce, axis=axis)


def binary_focal_crossentropy(y_true, y_pred, apply_class_balancing=False, alpha=0.25, gamma=2.0,
                              from_logits=False, label_smoothing=0.0, axis=-1):
    alpha, gamma = _number("alpha", alpha), _number("gamma", gamma, low=0)
    t, p, bce = _binary_elementwise(y_true, y_pred, from_logits, label_smoothing)
    p_t = t * p + (1.0 - t) * (1.0 - p)
    focal = np.power(1.0 - p_t, gamma)
    weight = t * alpha + (1.0 - t) * (1.0 - alpha) if apply_class_balancing else 1.0
    with np.errstate(invalid="ignore"):
        return np.mean(weight * focal * bce, axis=axis)


def _categorical(y_true, y_pred, from_logits, label_smoothing, axis):
    """(t smoothed, p, log p) along `axis`."""
    y_true, y_pred = _f64(y_true), _f64(y_pred)
    _same_shape(y_true, y_pred)
    ls = _smoothing(label_smoothing)
    t = y_true * (1.0 - ls) + ls / y_true.shape[axis]
    if from_logits:
        log_p = _log_softmax(y_pred, axis)
        return t, np.exp(log_p), log_p
    with np.errstate(divide="ignore"):
        return t, y_pred, np.log(y_pred)


def _weighted_log(t, log_p):
    """t * log p with 0 where t == 0."""
    with np.errstate(invalid="ignore"):
        return np.where(t == 0, 0.0, t * log_p)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    t, _, log_p = _categorical(y_true, y_pred, from_logits, label_smoothing, axis)
    return -np.sum(_weighted_log(t, log_p), axis=axis)


def categorical_focal_crossentropy(y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False,
                                   label_smoothing=0.0, axis=-1):
    gamma = _number("gamma", gamma, low=0)
    t, p, log_p = _categorical(y_true, y_pred, from_logits, label_smoothing, axis)
    alphas = _f64(alpha)
    if alphas.ndim > 1 or (alphas.ndim == 1 and alphas.shape[0] != t.shape[axis]):
        raise ValueError(f"`alpha` must be a number or one per class ({t.shape[axis]}). Received: alpha={alpha!r}")
    if alphas.ndim == 1:  # one factor per class, along `axis`
        shape = [1] * t.ndim
        shape[axis] = -1
        alphas = alphas.reshape(shape)
    with np.errstate(invalid="ignore"):
        return -np.sum(alphas * np.power(1.0 - p, gamma) * _weighted_log(t, log_p), axis=axis)


def _class_indices(y_true, y_pred, axis, name="y_true"):
    """Integer labels with y_pred's shape minus `axis` (a trailing axis of size 1 is dropped)."""
    labels = np.asarray(y_true)
    if labels.ndim == y_pred.ndim and labels.shape[-1] == 1:
        labels = labels[..., 0]
    expected = tuple(np.delete(np.array(y_pred.shape), axis % y_pred.ndim))
    if labels.shape != expected:
        raise ValueError(f"{name} must have y_pred's shape without the class axis {tuple(map(int, expected))}. Received: {labels.shape}")
    if not np.all(labels == np.round(labels)):
        raise ValueError(f"{name} must hold integer class indices. Received: {labels!r}")
    return labels.astype(np.int64)


def _pick(values, labels, axis):
    """values[..., labels, ...] along `axis`."""
    return np.squeeze(np.take_along_axis(values, np.expand_dims(labels, axis), axis=axis), axis=axis)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    y_pred = _f64(y_pred)
    labels = _class_indices(y_true, y_pred, axis)
    ignored = labels == ignore_class if ignore_class is not None else np.zeros(labels.shape, bool)
    classes = y_pred.shape[axis]
    bad = ~ignored & ((labels < 0) | (labels >= classes))
    if np.any(bad):
        raise ValueError(f"y_true holds labels outside [0, {classes}): {np.unique(labels[bad]).tolist()}")
    log_p = _log_softmax(y_pred, axis) if from_logits else _log(y_pred)
    return np.where(ignored, 0.0, -_pick(log_p, np.where(ignored, 0, labels), axis))


def _log(p):
    with np.errstate(divide="ignore"):
        return np.log(p)


def sparse_ignored(y_true, y_pred, ignore_class=None, axis=-1):
    """Which per-sample losses sparse_categorical_crossentropy ignores (the classes leave them out)."""
    labels = _class_indices(y_true, _f64(y_pred), axis)
    return labels == ignore_class if ignore_class is not None else np.zeros(labels.shape, bool)


def categorical_generalized_cross_entropy(y_true, y_pred, q=0.5):
    q = _number("q", q)
    if not 0 < q < 1:
        raise ValueError(f"`q` must be in (0, 1). Received: q={q!r}")
    y_pred = _f64(y_pred)
    p = _pick(y_pred, _class_indices(y_true, y_pred, -1), -1)
    return (1.0 - np.power(p, q)) / q


# --- overlap -------------------------------------------------------------------------------

def _axes(axis):
    return tuple(axis) if isinstance(axis, (list, tuple)) else axis


def dice(y_true, y_pred, axis=None):
    y_true, y_pred = _f64(y_true), _f64(y_pred)
    axis = _axes(axis)
    overlap = np.sum(y_true * y_pred, axis=axis)
    return 1.0 - 2.0 * overlap / (np.sum(y_true, axis=axis) + np.sum(y_pred, axis=axis))


def tversky(y_true, y_pred, alpha=0.5, beta=0.5, axis=None):
    alpha, beta = _number("alpha", alpha), _number("beta", beta)
    t, p = _f64(y_true), _f64(y_pred)
    axis = _axes(axis)
    tp = np.sum(t * p, axis=axis)
    fp = np.sum((1.0 - t) * p, axis=axis)
    fn = np.sum(t * (1.0 - p), axis=axis)
    return 1.0 - tp / (tp + alpha * fp + beta * fn)


# --- metric learning, sequences --------------------------------------------------------------

def _logsumexp(values, mask, axis=-1):
    """log(sum(exp(values))) over the entries where mask is true; -inf for none."""
    masked = np.where(mask, values, -np.inf)
    top = np.max(masked, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        return np.squeeze(top, axis) + np.log(np.sum(np.where(mask, np.exp(masked - top), 0.0), axis=axis))


def _softplus(x):
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def circle(y_true, y_pred, ref_labels=None, ref_embeddings=None, remove_diagonal=True, gamma=80.0, margin=0.4):
    gamma, margin = _number("gamma", gamma), _number("margin", margin)
    labels = np.asarray(y_true).reshape(-1)
    embeddings = _f64(y_pred)
    if embeddings.ndim != 2 or labels.shape[0] != embeddings.shape[0]:
        raise ValueError(f"circle takes y_pred of shape (batch, dim) and one label per row. Received: y_pred {embeddings.shape}, y_true {np.shape(y_true)}")
    ref_labels = labels if ref_labels is None else np.asarray(ref_labels).reshape(-1)
    ref_embeddings = embeddings if ref_embeddings is None else _f64(ref_embeddings)
    s = embeddings @ ref_embeddings.T
    same = labels[:, None] == ref_labels[None, :]
    positive = same & ~np.eye(*s.shape, dtype=bool) if remove_diagonal else same
    negative = ~same
    alpha_p = np.maximum(1.0 + margin - s, 0.0)
    alpha_n = np.maximum(s + margin, 0.0)
    logit_p = -gamma * alpha_p * (s - (1.0 - margin))
    logit_n = gamma * alpha_n * (s - margin)
    return _softplus(_logsumexp(logit_n, negative) + _logsumexp(logit_p, positive))


def ctc(y_true, y_pred):
    """Negative log-likelihood of each label sequence (the non-zero labels of a row, blank = 0)."""
    labels = np.asarray(y_true).astype(np.int64)
    log_p = _log_softmax(_f64(y_pred), -1)
    batch, steps, classes = log_p.shape
    if labels.ndim != 2 or labels.shape[0] != batch or np.any((labels < 0) | (labels >= classes)):
        raise ValueError(f"y_true must be (batch, max_length) labels in [0, {classes}). Received: {labels.tolist()}")
    sequences = [row[row != 0] for row in labels]
    width = 2 * max((len(s) for s in sequences), default=0) + 1
    # the extended sequence: a blank before, between and after the labels
    extended = np.zeros((batch, width), np.int64)
    lengths = np.array([2 * len(s) + 1 for s in sequences])
    for b, s in enumerate(sequences):
        extended[b, 1:2 * len(s):2] = s
    valid = np.arange(width)[None, :] < lengths[:, None]
    # a skip from s - 2 is allowed onto a label that differs from the label two back
    skip = np.zeros((batch, width), bool)
    skip[:, 2:] = (extended[:, 2:] != 0) & (extended[:, 2:] != extended[:, :-2])
    emit = np.take_along_axis(log_p, np.broadcast_to(extended[:, None, :], (batch, steps, width)), axis=2)
    alpha = np.full((batch, width), -np.inf)
    alpha[:, 0] = emit[:, 0, 0]
    alpha[:, 1] = np.where(lengths > 1, emit[:, 0, 1], -np.inf)
    for t in range(1, steps):
        stay = alpha
        step = np.concatenate([np.full((batch, 1), -np.inf), alpha[:, :-1]], axis=1)
        jump = np.where(skip, np.concatenate([np.full((batch, 2), -np.inf), alpha[:, :-2]], axis=1), -np.inf)
        alpha = np.where(valid, np.logaddexp(np.logaddexp(stay, step), jump) + emit[:, t], -np.inf)
    last = alpha[np.arange(batch), lengths - 1]
    before = np.where(lengths > 1, alpha[np.arange(batch), np.maximum(lengths - 2, 0)], -np.inf)
    return -np.logaddexp(last, before)


# --- the classes: weighting and reduction -------------------------------------------------

def weigh_and_reduce(losses, sample_weight=None, reduction="sum_over_batch_size", ignored=None):
    """The Loss class's reduction of per-sample `losses` (see the module docstring). `ignored`
    marks losses outside the sample (sparse_categorical_crossentropy's ignore_class)."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"`reduction` must be one of {REDUCTIONS}. Received: reduction={reduction!r}")
    losses = _f64(losses)
    weights = np.ones(losses.shape)
    if sample_weight is not None:
        weights = _broadcast_weight(_f64(sample_weight), losses.shape) * weights
        given_total = np.sum(_f64(sample_weight))
    if ignored is not None:
        weights = np.where(ignored, 0.0, weights)
    with np.errstate(invalid="ignore"):
        weighted = np.where(weights == 0, 0.0, losses * weights)  # a zero weight removes the loss
    if reduction in ("none", None):
        return weighted
    total = np.sum(weighted)
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        # ignored losses are not part of the sample: their weights leave the divisor too
        return total / (given_total if ignored is None else np.sum(weights))
    count = losses.size if ignored is None else np.count_nonzero(~np.broadcast_to(ignored, losses.shape))
    return total / count


def _broadcast_weight(weight, shape):
    """A scalar, a [batch_size] vector along the first axis, or a shape broadcast to `shape`."""
    if weight.ndim == 1 and len(shape) > 1 and weight.shape[0] == shape[0]:
        weight = weight.reshape((-1,) + (1,) * (len(shape) - 1))
    try:
        return np.broadcast_to(weight, shape)
    except ValueError:
        raise ValueError(f"sample_weight of shape {weight.shape} cannot weigh losses of shape {shape}") from None


# name of the class -> (its function, the function arguments the class takes)
FUNCTIONS = {
    "MeanSquaredError": mean_squared_error,
    "MeanAbsoluteError": mean_absolute_error,
    "MeanAbsolutePercentageError": mean_absolute_percentage_error,
    "MeanSquaredLogarithmicError": mean_squared_logarithmic_error,
    "Huber": huber,
    "LogCosh": log_cosh,
    "Poisson": poisson,
    "KLDivergence": kl_divergence,
    "CosineSimilarity": cosine_similarity,
    "Hinge": hinge,
    "SquaredHinge": squared_hinge,
    "CategoricalHinge": categorical_hinge,
    "BinaryCrossentropy": binary_crossentropy,
    "BinaryFocalCrossentropy": binary_focal_crossentropy,
    "CategoricalCrossentropy": categorical_crossentropy,
    "CategoricalFocalCrossentropy": categorical_focal_crossentropy,
    "SparseCategoricalCrossentropy": sparse_categorical_crossentropy,
    "CategoricalGeneralizedCrossEntropy": categorical_generalized_cross_entropy,
    "Dice": dice,
    "Tversky": tversky,
    "Circle": circle,
    "CTC": ctc,
}


def loss_class(name, y_true, y_pred, sample_weight=None, reduction="sum_over_batch_size", **params):
    """keras.losses.<name>(reduction=..., **params)(y_true, y_pred, sample_weight)."""
    function = FUNCTIONS[name]
    losses = function(y_true, y_pred, **params)
    ignored = None
    if function is sparse_categorical_crossentropy and params.get("ignore_class") is not None:
        ignored = sparse_ignored(y_true, y_pred, params["ignore_class"], params.get("axis", -1))
    return weigh_and_reduce(losses, sample_weight, reduction, ignored)


# --- error bounds --------------------------------------------------------------------------------
#
# How far a correct evaluation of each loss's documented formula in a floating-point format
# (reference_impl.rounding.Format) may land from the exact value on the same inputs (Higham,
# *Accuracy and Stability of Numerical Algorithms*, ch. 2-3). Each loss is written once more on
# Bounded values: a float64 value beside a bound e >= 0 on the absolute error that the rounded
# evaluation of the same formula carries, propagated operation by operation (running error
# analysis, Higham section 3.3, to first order in the errors plus the exact second-order term of a
# product). Inputs are exact (already rounded to the case's dtype); a Python constant (epsilon,
# delta, label smoothing) enters with its own rounding to the format. Each operation's term, u the
# unit roundoff and tiny the smallest normal number (a result flushed to zero loses up to tiny):
#
#   a +- b          e_a + e_b + u (|a +- b| + e) + tiny, e the propagated part (the rounding
#   a * b           |b| e_a + |a| e_b + e_a e_b + u (|a b| + e) + tiny      scales the computed
#   a / b           (e_a + |a / b| e_b) / (|b| - e_b) + u (|a / b| + e) + tiny    result)
#                   (inf where |b| <= e_b); 0 where the operands are exact and the exact result
#                   is a number of the format (a correctly rounded operation returns it)
#   f(a)            rounding.through: how far f moves over [a - e_a, a + e_a], plus f's own
#                   few ulps, its condition term and the magnitude its formula cancels
#   max, min, abs,  max of the operands' e: these functions are 1-Lipschitz and round nothing
#   clip, select
#   sum of n terms  sum e_i + gamma_n sum (|x_i| + e_i) + 2 n tiny, in any order (Higham (3.5)
#                   on the computed terms); 0 for exact integers whose magnitudes sum to <= 2**p
#   mean of n       the sum's e / n (= e') + 2 u (|mean| + e') + tiny (a division by n, or a product with a
#                   rounded 1/n); no 2 u term for n a power of two (an exact scaling)
#
# Where implementations rearrange a formula so that it cancels larger magnitudes than the
# documented one (log-sum-exp unshifted, log(t / p) as log t - log p, log cosh through softplus
# of -2x), the loss's bound takes the larger of both arrangements, as its docstring says. A bound
# that comes out infinite or NaN (a log of an interval reaching 0) bounds nothing: the caller
# falls back to the flat tolerance.


class Bounded:
    """A value v (float64 array) and a bound e on the error of its evaluation in `fmt`."""

    __slots__ = ("v", "e", "fmt")

    def __init__(self, v, e, fmt):
        self.v = np.asarray(v, dtype=np.float64)
        self.e = np.broadcast_to(np.asarray(e, dtype=np.float64), self.v.shape)
        self.fmt = fmt

    @classmethod
    def exact(cls, x, fmt):
        """An input: already a number of the format."""
        return cls(_f64(x), 0.0, fmt)

    @classmethod
    def constant(cls, c, fmt):
        """A Python constant rounded to the format: its rounding error exactly (0 for 1, 0.5, 100)."""
        c = _f64(c)
        return cls(c, np.abs(_rounded(c, fmt) - c), fmt)

    def _wrap(self, other):
        return other if isinstance(other, Bounded) else Bounded.constant(other, self.fmt)

    def _round(self, v, e):
        """The result of one basic operation: u |v| + tiny more, except where the operands are
        exact and the exact result is a number of the format (0, or normal), which a correctly
        rounded operation returns exactly (a count, t * p with t in {0, 1}, 1 - 0.25)."""
        u, tiny = self.fmt.unit_roundoff, self.fmt.smallest_normal
        with np.errstate(all="ignore"):
            v = np.asarray(v, dtype=np.float64)
            e = np.asarray(e, dtype=np.float64)
            exact = (e == 0) & (_rounded(v, self.fmt) == v) & ((v == 0) | (np.abs(v) >= tiny))
            # the computed result, which the rounding scales, is within e of v
            return Bounded(v, np.where(exact, 0.0, e + u * (np.abs(v) + e) + tiny), self.fmt)

    def __add__(self, other):
        other = self._wrap(other)
        return self._round(self.v + other.v, self.e + other.e)

    __radd__ = __add__

    def __sub__(self, other):
        other = self._wrap(other)
        return self._round(self.v - other.v, self.e + other.e)

    def __rsub__(self, other):
        return self._wrap(other) - self

    def __neg__(self):
        return Bounded(-self.v, self.e, self.fmt)

    def __mul__(self, other):
        other = self._wrap(other)
        with np.errstate(all="ignore"):
            e = np.abs(other.v) * self.e + np.abs(self.v) * other.e + self.e * other.e
            return self._round(self.v * other.v, e)

    __rmul__ = __mul__

    def __truediv__(self, other):
        other = self._wrap(other)
        with np.errstate(all="ignore"):
            v = self.v / other.v
            margin = np.abs(other.v) - other.e
            e = np.where(margin > 0, (self.e + np.abs(v) * other.e) / np.where(margin > 0, margin, 1.0), np.inf)
            return self._round(v, e)

    def __rtruediv__(self, other):
        return self._wrap(other) / self

    def __abs__(self):
        return Bounded(np.abs(self.v), self.e, self.fmt)

    def apply(self, f, cancelled=None):
        """f(self) elementwise: rounding.through."""
        from reference_impl import rounding
        with np.errstate(all="ignore"):
            return Bounded(f(self.v), rounding.through(f, self.v, self.e, self.fmt, cancelled), self.fmt)

    def sum(self, axis=-1, keepdims=False):
        from reference_impl import rounding
        n = _count(self.v.shape, axis)
        if n == 1:  # one term: no addition
            return Bounded(np.sum(self.v, axis=axis, keepdims=keepdims), np.sum(self.e, axis=axis, keepdims=keepdims), self.fmt)
        if n * self.fmt.unit_roundoff >= 1:
            return Bounded(np.sum(self.v, axis=axis, keepdims=keepdims), np.inf, self.fmt)
        with np.errstate(all="ignore"):
            # the terms summed are the computed ones, within e_i of v_i (rounding.perturbed_sum_of_products)
            magnitude = np.sum(np.abs(self.v) + self.e, axis=axis, keepdims=keepdims)
            e = np.sum(self.e, axis=axis, keepdims=keepdims) + rounding.sum_of_products(magnitude, n, self.fmt)
            # exact integers whose magnitudes sum to at most 2**p: every partial sum, in any
            # order, is an integer the format holds, so the sum is exact (counts)
            integers = np.all((self.e == 0) & (self.v == np.round(self.v)), axis=axis, keepdims=keepdims)
            e = np.where(integers & (magnitude <= 2.0 ** self.fmt.precision), 0.0, e)
            return Bounded(np.sum(self.v, axis=axis, keepdims=keepdims), e, self.fmt)

    def mean(self, axis=-1, keepdims=False):
        n = _count(self.v.shape, axis)
        total = self.sum(axis, keepdims)
        v = total.v / max(n, 1)
        e = total.e / max(n, 1)
        if n & (n - 1) == 0:  # a division by a power of two (or a product with its exact inverse) is
            # exact unless the quotient falls below the normal range (and may be flushed)
            small = (np.abs(v) + e < self.fmt.smallest_normal) & ~((v == 0) & (e == 0))
            return Bounded(v, e + np.where(small, self.fmt.smallest_normal, 0.0), self.fmt)
        return Bounded(v, e + 2 * self.fmt.unit_roundoff * (np.abs(v) + e) + self.fmt.smallest_normal, self.fmt)

    def amax(self, axis=-1, keepdims=False):
        return Bounded(np.max(self.v, axis=axis, keepdims=keepdims), np.max(self.e, axis=axis, keepdims=keepdims), self.fmt)

    def widened(self, extra):
        """The same value with `extra` more error (another arrangement's, an ambiguity's)."""
        return Bounded(self.v, self.e + extra, self.fmt)


def _rounded(c, fmt):
    """c rounded to nearest in fmt's significand (the normal range; below it, to the subnormal spacing)."""
    c = _f64(c)
    with np.errstate(all="ignore"):
        mantissa, exponent = np.frexp(c)
        exponent = np.maximum(exponent, fmt.min_exponent + 1)
        scale = np.ldexp(1.0, exponent - fmt.precision)
        return np.where(np.isfinite(c), np.round(c / scale) * scale, c)


def _count(shape, axis):
    if axis is None:
        return int(np.prod(shape))
    axes = axis if isinstance(axis, tuple) else (axis,)
    return int(np.prod([shape[a] for a in axes]))


def _maximum(a, b):
    """max(a, b): 1-Lipschitz in each, no rounding."""
    b = a._wrap(b)
    return Bounded(np.maximum(a.v, b.v), np.maximum(a.e, b.e), a.fmt)


def _minimum(a, b):
    b = a._wrap(b)
    return Bounded(np.minimum(a.v, b.v), np.maximum(a.e, b.e), a.fmt)


def _select(condition, a, b):
    """where(condition, a, b) for a condition on exact inputs (no branch can flip)."""
    return Bounded(np.where(condition, a.v, b.v), np.where(condition, a.e, b.e), a.fmt)


def _worst(*forms):
    """Several arrangements of one formula: the value of the first, the largest bound."""
    return Bounded(forms[0].v, np.maximum.reduce([f.e for f in forms]), forms[0].fmt)


def _bounded_xlogy(t, log_p):
    """t log p, exactly 0 where t is exactly 0 (a label weight of 0: the term is left out)."""
    zero = (t.v == 0) & (t.e == 0)
    safe = Bounded(np.where(zero, 0.0, log_p.v), np.where(zero, 0.0, log_p.e), t.fmt)
    product = t * safe
    return Bounded(np.where(zero, 0.0, product.v), np.where(zero, 0.0, product.e), t.fmt)


def _bounded_log(x):
    with np.errstate(all="ignore"):
        return x.apply(np.log)


_ONE = lambda x, **_: np.ones_like(x)  # noqa: E731  the 1 of log(1 + exp(.)), rounded with the sum


def _bounded_softplus(x):
    """log(1 + exp(x)): the 1 + exp(x) it cancels is about 1 where the result is small."""
    return x.apply(_softplus, _ONE)


def _smoothed(y, fmt, label_smoothing, shift):
    """y (1 - ls) + shift, with 1 - ls and shift rounded to the format as the constants are."""
    y = Bounded.exact(y, fmt)
    if not label_smoothing:
        return y
    return y * (1.0 - label_smoothing) + shift


def _renormalized(p, axis):
    """p as the reference takes it, widened by |p / sum(p) - p| plus the rounding of that
    division: y_pred is documented as a probability distribution along `axis`, and an
    implementation may divide by its sum (a no-op on the simplex); inputs rounded to the format
    sit off the simplex by up to n u, so both readings are correct evaluations."""
    total = p.sum(axis, keepdims=True)
    normalized = p / total
    with np.errstate(all="ignore"):
        return Bounded(p.v, np.maximum(p.e, normalized.e) + np.abs(normalized.v - p.v), p.fmt)


def _bounded_log_softmax(z, axis):
    """log softmax(z) = (z - m) - log(sum(exp(z - m))), m = max(z) (exact): each step bounded;
    an implementation that computes z - (m + lse) instead rounds m + lse, of size |m| + |lse|,
    and z - that, of size |z| + |m| + |lse|: 2 u (|z| + |m| + lse) more, added."""
    m = z.amax(axis, keepdims=True)
    shifted = z - Bounded(m.v, 0.0, z.fmt)
    lse = shifted.apply(np.exp).sum(axis, keepdims=True)
    lse = _bounded_log(lse)
    out = shifted - lse
    return out.widened(2 * z.fmt.unit_roundoff * (np.abs(z.v) + np.abs(m.v) + np.abs(lse.v)))


def _bounded_softmax(z, axis):
    m = z.amax(axis, keepdims=True)
    ex = (z - Bounded(m.v, 0.0, z.fmt)).apply(np.exp)
    return ex / ex.sum(axis, keepdims=True)


def _bounded_log_sigmoid(z):
    """log sigmoid(z) = -softplus(-z)."""
    return -_bounded_softplus(-z)


def _bounded_l2_normalize(x, axis):
    """x / sqrt(sum(x^2)); a zero vector stays exactly zero. x * rsqrt(sum x^2) rounds as many
    times (rsqrt's few ulps for sqrt's and the division's)."""
    norm = (x * x).sum(axis, keepdims=True).apply(np.sqrt)
    zero = norm.v == 0
    safe = Bounded(np.where(zero, 1.0, norm.v), np.where(zero, 0.0, norm.e), x.fmt)
    out = x / safe
    return Bounded(np.where(zero, 0.0, out.v), np.where(zero, 0.0, out.e), x.fmt)


def _bounded_binary(y_true, y_pred, fmt, from_logits, label_smoothing):
    """(t, p, elementwise binary crossentropy), Bounded.

    Probabilities: -(t log p + (1 - t) log(1 - p)); 1 - p is exact for p >= 1/2 and rounds once
    below, and the logarithm's condition turns either into an absolute error of order u.
    Logits: the larger bound of the two arrangements implementations use,
    max(z, 0) - z t + log(1 + exp(-|z|)) (which cancels |z| + |z t| where the loss is small) and
    t softplus(-z) + (1 - t) softplus(z)."""
    t = _smoothed(y_true, fmt, label_smoothing, 0.5 * label_smoothing)
    z = Bounded.exact(y_pred, fmt)
    if from_logits:
        stable = _maximum(z, 0.0) - z * t + z.apply(lambda x: np.log1p(np.exp(-np.abs(x))), _ONE)
        split = t * _bounded_softplus(-z) + (1.0 - t) * _bounded_softplus(z)
        bce = _worst(Bounded(_binary_elementwise(y_true, y_pred, True, label_smoothing)[2], 0.0, fmt), stable, split)
        p = z.apply(sigmoid)
    else:
        p = z
        bce = -(_bounded_xlogy(t, _bounded_log(p)) + _bounded_xlogy(1.0 - t, _bounded_log(1.0 - p)))
    return t, p, bce


def _bounded_categorical(y_true, y_pred, fmt, from_logits, label_smoothing, axis):
    """(t, p, log p) along `axis`, Bounded: log-softmax from logits; probabilities renormalized
    (see _renormalized)."""
    n = np.shape(y_true)[axis]
    t = _smoothed(y_true, fmt, label_smoothing, label_smoothing / n)
    z = Bounded.exact(y_pred, fmt)
    if from_logits:
        return t, _bounded_softmax(z, axis), _bounded_log_softmax(z, axis)
    p = _renormalized(z, axis)
    return t, p, _bounded_log(p)


def _bound_mse(y_true, y_pred, fmt):
    """mean(d d), d = y_pred - y_true: a rounded difference, a product, a mean."""
    d = Bounded.exact(y_pred, fmt) - Bounded.exact(y_true, fmt)
    return (d * d).mean(-1)


def _bound_mae(y_true, y_pred, fmt):
    """mean(|y_pred - y_true|): a rounded difference, a mean."""
    return abs(Bounded.exact(y_pred, fmt) - Bounded.exact(y_true, fmt)).mean(-1)


def _bound_mape(y_true, y_pred, fmt):
    """100 mean(|(t - p) / max(|t|, eps)|): a difference, a division (eps rounded), a mean, a
    product with 100 (exact constant, one rounding)."""
    t = Bounded.exact(y_true, fmt)
    ratio = (t - Bounded.exact(y_pred, fmt)) / _maximum(abs(t), EPSILON)
    return abs(ratio).mean(-1) * 100.0


def _bound_msle(y_true, y_pred, fmt):
    """log(y + 1) rounds y + 1 (u (1 + y)) and the log's argument: an absolute error of order u
    even where log1p(y) is tiny; y <= 0 replaced by epsilon (rounded)."""
    def log1p(y):
        y = _f64(y)
        positive = _select(y > 0, Bounded.exact(y, fmt), Bounded.constant(np.full(y.shape, EPSILON), fmt))
        return _bounded_log(positive + 1.0)
    d = log1p(y_true) - log1p(y_pred)
    return (d * d).mean(-1)


def _bound_huber(y_true, y_pred, fmt, delta=1.0):
    """0.5 x^2 or delta |x| - 0.5 delta^2; where |x| is within its error of delta the branch may
    flip, which moves the loss by 0.5 (|x| - delta)^2 at most (the branches meet at delta with the
    same slope)."""
    delta = _number("delta", delta, low=0)
    x = abs(Bounded.exact(y_pred, fmt) - Bounded.exact(y_true, fmt))
    d = Bounded.constant(delta, fmt)
    quadratic = 0.5 * (x * x)
    linear = d * x - 0.5 * (d * d)
    loss = _select(x.v <= delta, quadratic, linear)
    near = np.abs(x.v - delta) <= x.e + d.e
    flip = np.where(near, 0.5 * np.square(np.abs(x.v - delta) + x.e + d.e), 0.0)
    return loss.widened(flip).mean(-1)


def _bound_log_cosh(y_true, y_pred, fmt):
    """x + softplus(-2x) - log 2 with x = y_pred - y_true, and the same with -x (log cosh is
    even; the reference's |x| + log1p(exp(-2|x|)) - log 2 is one of the two): for x < 0 the first
    cancels softplus(-2x), about 2|x|, against x. The larger bound of the two."""
    x = Bounded.exact(y_pred, fmt) - Bounded.exact(y_true, fmt)

    def form(x):
        return x + _bounded_softplus(-2.0 * x) - LOG_2
    return _worst(form(x), form(-x)).mean(-1)


def _bound_poisson(y_true, y_pred, fmt):
    """mean(q - t log q), q = y_pred + eps: the sum q rounds, the log's argument error and its
    few ulps, t log q a product (0 where t is 0), the difference cancels |q| + |t log q|."""
    t = Bounded.exact(y_true, fmt)
    q = Bounded.exact(y_pred, fmt) + EPSILON
    return (q - _bounded_xlogy(t, _bounded_log(q))).mean(-1)


def _bound_kld(y_true, y_pred, fmt):
    """t log(t / p) and t (log t - log p), both clipped to [eps, 1]: the larger bound."""
    def clip(y):
        return _minimum(_maximum(Bounded.exact(y, fmt), EPSILON), 1.0)
    t, p = clip(y_true), clip(y_pred)
    ratio = t * _bounded_log(t / p)
    difference = t * (_bounded_log(t) - _bounded_log(p))
    return _worst(ratio, difference).sum(-1)


def _bound_cosine(y_true, y_pred, fmt, axis=-1):
    """-sum(l2_norm(t) l2_norm(p)): each norm a sum of squares (gamma_n), a square root and a
    division (_bounded_l2_normalize), then an inner product of n terms."""
    a = _bounded_l2_normalize(Bounded.exact(y_true, fmt), axis)
    b = _bounded_l2_normalize(Bounded.exact(y_pred, fmt), axis)
    return -(a * b).sum(axis)


def _bounded_signs(y_true, fmt):
    return Bounded.exact(_signed_labels(_f64(y_true)), fmt)  # 2 y - 1 of 0/1 labels is exact


def _bound_hinge(y_true, y_pred, fmt):
    """mean(max(1 - t p, 0)), t = +-1 (t p exact): one difference, max 1-Lipschitz, a mean."""
    return _maximum(1.0 - _bounded_signs(y_true, fmt) * Bounded.exact(y_pred, fmt), 0.0).mean(-1)


def _bound_squared_hinge(y_true, y_pred, fmt):
    """mean(m m), m = max(1 - t p, 0)."""
    m = _maximum(1.0 - _bounded_signs(y_true, fmt) * Bounded.exact(y_pred, fmt), 0.0)
    return (m * m).mean(-1)


def _bound_categorical_hinge(y_true, y_pred, fmt):
    """max(neg - pos + 1, 0): pos a sum of n products, neg a max of products (1-Lipschitz)."""
    t, p = Bounded.exact(y_true, fmt), Bounded.exact(y_pred, fmt)
    pos = (t * p).sum(-1)
    neg = ((1.0 - t) * p).amax(-1)
    return _maximum(neg - pos + 1.0, 0.0)


def _bound_bce(y_true, y_pred, fmt, from_logits=False, label_smoothing=0.0, axis=-1):
    """mean over `axis` of the elementwise binary crossentropy (_bounded_binary)."""
    _, _, bce = _bounded_binary(y_true, y_pred, fmt, from_logits, _smoothing(label_smoothing))
    return bce.mean(axis)


def _bound_binary_focal(y_true, y_pred, fmt, apply_class_balancing=False, alpha=0.25, gamma=2.0,
                        from_logits=False, label_smoothing=0.0, axis=-1):
    """w (1 - p_t)^gamma bce, p_t = t p + (1 - t)(1 - p): 1 - p_t cancels where p_t is near 1
    (a confident right answer), which the propagation keeps; the power through its secant."""
    alpha, gamma = _number("alpha", alpha), _number("gamma", gamma, low=0)
    t, p, bce = _bounded_binary(y_true, y_pred, fmt, from_logits, _smoothing(label_smoothing))
    p_t = t * p + (1.0 - t) * (1.0 - p)
    focal = (1.0 - p_t).apply(lambda x: np.power(np.maximum(x, 0.0), gamma))
    loss = focal * bce
    if apply_class_balancing:
        loss = (t * alpha + (1.0 - t) * (1.0 - alpha)) * loss
    return loss.mean(axis)


def _bound_cce(y_true, y_pred, fmt, from_logits=False, label_smoothing=0.0, axis=-1):
    """-sum(t log p) over `axis`: log p the log-softmax of the logits (_bounded_log_softmax:
    shifted and unshifted arrangements), or the log of the probabilities as given or divided by
    their sum (_renormalized); t smoothed with rounded constants; t log p 0 where t is 0."""
    t, _, log_p = _bounded_categorical(y_true, y_pred, fmt, from_logits, _smoothing(label_smoothing), axis)
    return -_bounded_xlogy(t, log_p).sum(axis)


def _bound_categorical_focal(y_true, y_pred, fmt, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0,
                             axis=-1):
    """sum(alpha (1 - p)^gamma (-t log p)), p = softmax(z) when from_logits (then log p is the
    log of the rounded softmax, as implementations that take the softmax first compute it); the
    probabilities renormalized (_renormalized); alpha a scalar or one per class, rounded;
    (1 - p)^gamma through its secant, 1 - p cancelling where p is near 1."""
    gamma = _number("gamma", gamma, low=0)
    t, p, log_p = _bounded_categorical(y_true, y_pred, fmt, from_logits, _smoothing(label_smoothing), axis)
    if from_logits:  # the softmax, renormalized by its computed sum as probabilities are, then its log
        p = _renormalized(p, axis)
        log_p = _bounded_log(p)
    alphas = _f64(alpha)
    if alphas.ndim == 1:
        shape = [1] * t.v.ndim
        shape[axis] = -1
        alphas = alphas.reshape(shape)
    modulating = (1.0 - p).apply(lambda x: np.power(np.maximum(x, 0.0), gamma))
    return -(Bounded.constant(alphas, fmt) * modulating * _bounded_xlogy(t, log_p)).sum(axis)


def _bound_sparse_cce(y_true, y_pred, fmt, from_logits=False, ignore_class=None, axis=-1):
    """-log p[label]: the categorical bound on the one-hot labels; ignored entries exactly 0."""
    y_pred = _f64(y_pred)
    labels = _class_indices(y_true, y_pred, axis)
    ignored = labels == ignore_class if ignore_class is not None else np.zeros(labels.shape, bool)
    classes = y_pred.shape[axis]
    one_hot = np.moveaxis(np.eye(classes)[np.where(ignored, 0, labels)], -1, axis % y_pred.ndim)
    loss = _bound_cce(one_hot, y_pred, fmt, from_logits, 0.0, axis)
    return Bounded(np.where(ignored, 0.0, loss.v), np.where(ignored, 0.0, loss.e), fmt)


def _bound_generalized(y_true, y_pred, fmt, q=0.5):
    """(1 - p^q) / q, p the true class's probability (as given or renormalized): the power
    through its secant and ulps, 1 - p^q cancelling where p^q is near 1, a division by q
    (rounded)."""
    q = _number("q", q)
    y_pred = _f64(y_pred)
    labels = _class_indices(y_true, y_pred, -1)
    p = _renormalized(Bounded.exact(y_pred, fmt), -1)
    picked = Bounded(_pick(p.v, labels, -1), _pick(p.e, labels, -1), fmt)
    return (1.0 - picked.apply(lambda x: np.power(np.maximum(x, 0.0), q))) / q


def _bound_dice(y_true, y_pred, fmt, axis=None):
    """1 - 2 sum(t p) / (sum t + sum p) over `axis`: three sums (gamma_n), a division, 1 - it
    (cancelling where the overlap is nearly complete)."""
    axis = _axes(axis)
    t, p = Bounded.exact(y_true, fmt), Bounded.exact(y_pred, fmt)
    overlap = (t * p).sum(axis)
    return 1.0 - 2.0 * overlap / (t.sum(axis) + p.sum(axis))


def bounded_share(a: Bounded, b: Bounded) -> Bounded:
    """a / (a + b) for a, b >= 0 where the one computed a enters the numerator and the sum (a
    ratio of counts or of overlaps: TP / (TP + FP)). With a' = a + da, b' = b + db,

        a' / (a' + b') - a / (a + b) = (b da - a db) / ((a' + b')(a + b)),

    so |error| <= (b e_a + a e_b) / ((a + b)(a + b - e_a - e_b)), plus the sum's and the
    division's roundings, 2 u (|v| + e) / (1 - u): an error of a moves the numerator and the
    denominator together, which a / (a + b) as two independent operands would count twice.
    Elsewhere (a negative operand, a sum within its error of 0) the general quotient."""
    fmt = a.fmt
    u = fmt.unit_roundoff
    with np.errstate(all="ignore"):
        total = a.v + b.v
        margin = total - a.e - b.e
        v = a.v / total
        e = (np.abs(b.v) * a.e + np.abs(a.v) * b.e) / (np.abs(total) * margin)
        e = e + 2 * u * (np.abs(v) + e) / (1 - u) + 2 * fmt.smallest_normal
        e = np.where((a.v == 0) & (a.e == 0), 0.0, e)  # 0 / (0 + b): exactly 0
        general = a / (a + b)
        usable = (a.v >= 0) & (b.v >= 0) & (margin > 0)
        return Bounded(np.where(usable, v, general.v), np.where(usable, e, general.e), fmt)


def _bound_tversky(y_true, y_pred, fmt, alpha=0.5, beta=0.5, axis=None):
    """1 - TP / (TP + alpha FP + beta FN): TP, FP and FN sums of products (gamma_n), the
    index as bounded_share (TP computed once enters both), then 1 - it."""
    alpha, beta = _number("alpha", alpha), _number("beta", beta)
    axis = _axes(axis)
    t, p = Bounded.exact(y_true, fmt), Bounded.exact(y_pred, fmt)
    tp = (t * p).sum(axis)
    fp = ((1.0 - t) * p).sum(axis)
    fn = (t * (1.0 - p)).sum(axis)
    return 1.0 - bounded_share(tp, alpha * fp + beta * fn)


def _bounded_logsumexp(x: Bounded, mask, axis=-1):
    """log(sum(exp(x))) over the entries where mask is true (-inf for none, exactly). lse is
    1-Lipschitz in the largest change of an entry, so the inputs' errors add max e_i; its own
    evaluation m + log(sum(exp(x - m))), m the largest entry (exact), adds the rounding of
    x - m, of exp (a few ulps of values <= 1), of a sum of n terms in [0, n] (gamma_n n), of the
    log of a number in [1, n] and of m + log(.)."""
    fmt = x.fmt
    value = _logsumexp(x.v, mask, axis)
    exact = Bounded(np.where(mask, x.v, 0.0), 0.0, fmt)
    top = np.max(np.where(mask, x.v, -np.inf), axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    terms = (exact - Bounded(top, 0.0, fmt)).apply(np.exp)
    terms = Bounded(np.where(mask, terms.v, 0.0), np.where(mask, terms.e, 0.0), fmt)
    own = (Bounded(np.squeeze(top, axis), 0.0, fmt) + _bounded_log(terms.sum(axis))).e
    inputs = np.max(np.where(mask, x.e, 0.0), axis=axis)
    empty = ~np.any(mask, axis=axis)
    return Bounded(value, np.where(empty, 0.0, own + inputs), fmt)


def _bound_circle(y_true, y_pred, fmt, ref_labels=None, ref_embeddings=None, remove_diagonal=True, gamma=80.0,
                  margin=0.4):
    """s = y_pred ref_embeddings^T (inner products: gamma_d sum |x_i y_i|), then per pair the
    logits -gamma max(1 + m - s, 0)(s - (1 - m)) and gamma max(s + m, 0)(s - m), and the same
    through the distance d = max(1 - s, 0) (m + d, m - d, 1 + m - d, 1 - m - d: the arrangement
    implementations use; the clip at 0 moves nothing but s above 1 by its rounding): the larger
    bound of the two; then two masked log-sum-exps, their sum and softplus. gamma (up to 80)
    multiplies the errors of s."""
    gamma, margin = _number("gamma", gamma), _number("margin", margin)
    labels = np.asarray(y_true).reshape(-1)
    embeddings = _f64(y_pred)
    references = embeddings if ref_embeddings is None else _f64(ref_embeddings)
    ref_labels = labels if ref_labels is None else np.asarray(ref_labels).reshape(-1)
    x = Bounded.exact(embeddings[:, None, :], fmt)
    r = Bounded.exact(references[None, :, :], fmt)
    s = (x * r).sum(-1)
    same = labels[:, None] == ref_labels[None, :]
    positive = same & ~np.eye(*s.v.shape, dtype=bool) if remove_diagonal else same
    negative = ~same
    g, m = Bounded.constant(gamma, fmt), Bounded.constant(margin, fmt)
    by_similarity = (-g * _maximum(1.0 + m - s, 0.0) * (s - (1.0 - m)), g * _maximum(s + m, 0.0) * (s - m))
    d = _maximum(1.0 - s, 0.0)
    by_distance = (-g * _maximum(m + d, 0.0) * (m - d), g * _maximum(1.0 + m - d, 0.0) * ((1.0 - m) - d))
    logit_p = _worst(by_similarity[0], by_distance[0])
    logit_n = _worst(by_similarity[1], by_distance[1])
    total = _bounded_logsumexp(logit_n, negative) + _bounded_logsumexp(logit_p, positive)
    finite = np.isfinite(total.v)
    total = Bounded(np.where(finite, total.v, -np.inf), np.where(finite, total.e, 0.0), fmt)
    out = _bounded_softplus(total)
    return Bounded(out.v, np.where(finite, out.e, 0.0), fmt)


def _bounded_logaddexp(a: Bounded, b: Bounded) -> Bounded:
    """log(exp(a) + exp(b)) = max + log1p(exp(-|a - b|)): 1-Lipschitz in the larger change of
    a or b (max(e_a, e_b)); its own rounding: |a - b| rounded moves log1p(exp(-x)) by at most
    u x exp(-x) <= u, log1p and exp a few ulps of results below log 2 (4 u each, generously),
    and the final sum u |result|; an implementation that adds the two exponentials of the
    shifted arguments instead rounds as much. -inf (no path) stays exact."""
    fmt = a.fmt
    u = fmt.unit_roundoff
    with np.errstate(all="ignore"):
        v = np.logaddexp(a.v, b.v)
        own = 10 * u + 2 * u * np.abs(np.where(np.isfinite(v), v, 0.0)) + 2 * fmt.smallest_normal
        e = np.where(np.isneginf(a.v), b.e, np.where(np.isneginf(b.v), a.e, np.maximum(a.e, b.e) + own))
    return Bounded(v, np.where(np.isneginf(v), 0.0, e), fmt)


def _bound_ctc(y_true, y_pred, fmt):
    """The forward recursion of ctc on Bounded values: log p = log_softmax(y_pred) per step
    (_bounded_log_softmax), then per step alpha = logaddexp(stay, step, jump) + emit (each
    bounded as _bounded_logaddexp, the addition rounding u |alpha|), and -logaddexp of the last
    two states: the errors add up over the time steps, as the recursion's do."""
    labels = np.asarray(y_true).astype(np.int64)
    z = Bounded.exact(y_pred, fmt)
    log_p = _bounded_log_softmax(z, -1)
    batch, steps, classes = log_p.v.shape
    sequences = [row[row != 0] for row in labels]
    width = 2 * max((len(q) for q in sequences), default=0) + 1
    extended = np.zeros((batch, width), np.int64)
    lengths = np.array([2 * len(q) + 1 for q in sequences])
    for b, q in enumerate(sequences):
        extended[b, 1:2 * len(q):2] = q
    valid = np.arange(width)[None, :] < lengths[:, None]
    skip = np.zeros((batch, width), bool)
    skip[:, 2:] = (extended[:, 2:] != 0) & (extended[:, 2:] != extended[:, :-2])
    index = np.broadcast_to(extended[:, None, :], (batch, steps, width))
    emit = Bounded(np.take_along_axis(log_p.v, index, axis=2), np.take_along_axis(log_p.e, index, axis=2), fmt)
    none = Bounded(np.full((batch, width), -np.inf), 0.0, fmt)
    start = np.zeros((batch, width), bool)
    start[:, 0] = True
    start[:, 1] = lengths > 1
    alpha = Bounded(np.where(start, emit.v[:, 0], -np.inf), np.where(start, emit.e[:, 0], 0.0), fmt)

    def shifted(x, k):
        return Bounded(np.concatenate([np.full((batch, k), -np.inf), x.v[:, :-k]], axis=1),
                       np.concatenate([np.zeros((batch, k)), x.e[:, :-k]], axis=1), fmt)

    def masked(x, where):
        return Bounded(np.where(where, x.v, -np.inf), np.where(where, x.e, 0.0), fmt)

    for t in range(1, steps):
        jump = masked(shifted(alpha, 2), skip) if width > 2 else none
        paths = _bounded_logaddexp(_bounded_logaddexp(alpha, shifted(alpha, 1) if width > 1 else none), jump)
        step_emit = Bounded(emit.v[:, t], emit.e[:, t], fmt)
        total = paths + step_emit
        finite = np.isfinite(total.v)
        alpha = masked(Bounded(np.where(finite, total.v, -np.inf), np.where(finite, total.e, 0.0), fmt), valid)
    rows = np.arange(batch)
    last = Bounded(alpha.v[rows, lengths - 1], alpha.e[rows, lengths - 1], fmt)
    before_index = np.maximum(lengths - 2, 0)
    before = Bounded(np.where(lengths > 1, alpha.v[rows, before_index], -np.inf),
                     np.where(lengths > 1, alpha.e[rows, before_index], 0.0), fmt)
    return -_bounded_logaddexp(last, before)


# loss name -> its bound (y_true, y_pred, fmt, **params) -> Bounded per-sample losses.
BOUNDS = {
    "MeanSquaredError": _bound_mse,
    "MeanAbsoluteError": _bound_mae,
    "MeanAbsolutePercentageError": _bound_mape,
    "MeanSquaredLogarithmicError": _bound_msle,
    "Huber": _bound_huber,
    "LogCosh": _bound_log_cosh,
    "Poisson": _bound_poisson,
    "KLDivergence": _bound_kld,
    "CosineSimilarity": _bound_cosine,
    "Hinge": _bound_hinge,
    "SquaredHinge": _bound_squared_hinge,
    "CategoricalHinge": _bound_categorical_hinge,
    "BinaryCrossentropy": _bound_bce,
    "BinaryFocalCrossentropy": _bound_binary_focal,
    "CategoricalCrossentropy": _bound_cce,
    "CategoricalFocalCrossentropy": _bound_categorical_focal,
    "SparseCategoricalCrossentropy": _bound_sparse_cce,
    "CategoricalGeneralizedCrossEntropy": _bound_generalized,
    "Dice": _bound_dice,
    "Tversky": _bound_tversky,
    "Circle": _bound_circle,
    "CTC": _bound_ctc,
}


def bounded_losses(name, y_true, y_pred, fmt, **params):
    """The per-sample losses of loss `name` as Bounded, or None where no bound is derived."""
    bound = BOUNDS.get(name)
    if bound is None:
        return None
    with np.errstate(all="ignore"):
        return bound(y_true, y_pred, fmt, **params)


def bounded_reduction(losses, sample_weight=None, reduction="sum_over_batch_size", ignored=None):
    """weigh_and_reduce on Bounded losses: the weighted losses w l (a product each), their sum
    over all N of them (gamma_N), and the division by the count (exact integer, one rounding) or
    by the sum of the weights (itself a sum of N terms, gamma_N)."""
    fmt = losses.fmt
    weights = np.ones(losses.v.shape)
    if sample_weight is not None:
        weights = _broadcast_weight(_f64(sample_weight), losses.v.shape) * weights
    if ignored is not None:
        weights = np.where(ignored, 0.0, weights)
    w = Bounded.exact(weights, fmt)
    product = losses * w
    removed = weights == 0
    weighted = Bounded(np.where(removed, 0.0, product.v), np.where(removed, 0.0, product.e), fmt)
    if reduction in ("none", None):
        return weighted
    total = weighted.sum(None)
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        given = Bounded.exact(sample_weight, fmt) if ignored is None else w
        return total / given.sum(None)
    count = losses.v.size if ignored is None else np.count_nonzero(~np.broadcast_to(ignored, losses.v.shape))
    return total / float(count)


def class_error_bound(name, y_true, y_pred, sample_weight, fmt, reduction="sum_over_batch_size", **params):
    """Per-element bound on keras.losses.<name>(reduction, **params)(y_true, y_pred,
    sample_weight) evaluated in `fmt`: the loss's bound (BOUNDS), then the reduction's
    (bounded_reduction); None where the loss has none."""
    losses = bounded_losses(name, y_true, y_pred, fmt, **params)
    if losses is None:
        return None
    ignored = None
    if name == "SparseCategoricalCrossentropy" and params.get("ignore_class") is not None:
        ignored = sparse_ignored(y_true, y_pred, params["ignore_class"], params.get("axis", -1))
    with np.errstate(all="ignore"):
        return bounded_reduction(losses, sample_weight, reduction, ignored).e


def function_error_bound(name, y_true, y_pred, fmt, **params):
    """Per-sample bound on the function form of loss `name` in `fmt`; None where it has none."""
    losses = bounded_losses(name, y_true, y_pred, fmt, **params)
    return None if losses is None else losses.e
