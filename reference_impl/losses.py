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
