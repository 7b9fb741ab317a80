"""reference_impl.losses: hand-computed losses and reductions, the docstrings' examples, and
independent formulations (explicit loops, brute-force CTC over every alignment, identities
between losses)."""
import itertools
import math

import numpy as np
import pytest

from reference_impl import losses as L


def close(got, want, rtol=1e-13, atol=1e-15):
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


# --- regression losses, by hand ------------------------------------------------------------------

T = np.array([[1.0, 2.0], [0.5, -1.0]])
P = np.array([[1.5, 1.0], [0.5, 1.0]])
# errors y_pred - y_true: [[0.5, -1.0], [0.0, 2.0]]


def test_mean_errors_by_hand():
    close(L.mean_squared_error(T, P), [(0.25 + 1.0) / 2, (0.0 + 4.0) / 2])
    close(L.mean_absolute_error(T, P), [(0.5 + 1.0) / 2, (0.0 + 2.0) / 2])
    close(L.mean_absolute_percentage_error(T, P), [100 * (0.5 / 1 + 1 / 2) / 2, 100 * (0 / 0.5 + 2 / 1) / 2])
    close(L.mean_squared_logarithmic_error(T, P),
          [((math.log(2) - math.log(2.5)) ** 2 + (math.log(3) - math.log(2)) ** 2) / 2,
           # -1 is replaced by 1e-7 before log(y + 1)
           ((math.log(1.5) - math.log(1.5)) ** 2 + (math.log1p(1e-7) - math.log(2)) ** 2) / 2])


def test_mape_divides_by_the_magnitude_floored_at_epsilon():
    close(L.mean_absolute_percentage_error([[0.0, -4.0]], [[0.5, -3.0]]), [100 * (0.5 / 1e-7 + 1.0 / 4.0) / 2])


def test_huber_and_log_cosh_by_hand():
    # |x| = 0.5 (quadratic: 0.125), 1.0 (at delta: 0.5), 0.0, 2.0 (linear: 2 - 0.5 = 1.5)
    close(L.huber(T, P), [(0.125 + 0.5) / 2, (0.0 + 1.5) / 2])
    close(L.huber(T, P, delta=0.25), [(0.25 * 0.5 - 0.03125 + 0.25 - 0.03125) / 2, (0.0 + 0.5 - 0.03125) / 2])
    x = P - T
    close(L.log_cosh(T, P), np.log(np.cosh(x)).mean(axis=-1))
    # far in the tail cosh overflows; the reference's form gives |x| - log 2
    close(L.log_cosh([[0.0]], [[800.0]]), [800.0 - math.log(2)])


def test_poisson_with_the_examples_epsilon_in_both_terms():
    t, p = np.array([[1.0, 0.0, 2.0]]), np.array([[0.5, 1.5, 2.5]])
    q = p + 1e-7
    close(L.poisson(t, p), [np.mean(q - t * np.log(q))])
    assert L.poisson([[0.0]], [[0.0]])[0] == pytest.approx(1e-7)  # 0 log 0 contributes 0


def test_kl_divergence_clipped_to_epsilon():
    close(L.kl_divergence([[0.25, 0.75]], [[0.5, 0.5]]), [0.25 * math.log(0.5) + 0.75 * math.log(1.5)])
    close(L.kl_divergence([[0.0, 1.0]], [[0.5, 0.5]]), [1e-7 * math.log(1e-7 / 0.5) + math.log(2.0)])


def test_cosine_similarity_docstring_and_zero_vectors():
    close(L.cosine_similarity([[0.0, 1.0], [1.0, 1.0], [1.0, 1.0]], [[1.0, 0.0], [1.0, 1.0], [-1.0, -1.0]]), [0.0, -1.0, 1.0])
    close(L.cosine_similarity([[0.0, 0.0], [3.0, 4.0]], [[1.0, 2.0], [0.0, 0.0]]), [0.0, 0.0])
    # along axis 0: one cosine per column
    a, b = np.array([[1.0, 2.0], [2.0, 0.0]]), np.array([[2.0, 1.0], [4.0, 1.0]])
    close(L.cosine_similarity(a, b, axis=0), [-(2 + 8) / (math.sqrt(5) * math.sqrt(20)), -2 / (2 * math.sqrt(2))])


# --- hinge -----------------------------------------------------------------------------------------

def test_hinge_converts_zero_one_labels():
    # [0, 1] -> [-1, 1]; margins 1 + 0.3 and 1 + 0.2
    close(L.hinge([[0, 1]], [[0.3, -0.2]]), [1.25])
    close(L.squared_hinge([[0, 1]], [[0.3, -0.2]]), [(1.69 + 1.44) / 2])
    close(L.hinge([[-1, 1]], [[0.3, 2.0]]), [(1.3 + 0.0) / 2])  # signed labels as they are


def test_categorical_hinge_by_hand():
    close(L.categorical_hinge([[0, 1, 0], [1, 0, 0]], [[0.2, 0.5, 0.9], [2.0, 0.5, -1.0]]), [0.9 - 0.5 + 1, 0.0])


# --- crossentropies ----------------------------------------------------------------------------

def test_binary_crossentropy_by_hand_and_docstring():
    close(L.binary_crossentropy([[0.0, 1.0]], [[0.25, 0.75]]), [-math.log(0.75)])
    got = L.binary_crossentropy([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]])
    close(got, [(-math.log(0.4) - math.log(0.4)) / 2, (-math.log(0.6) - math.log(0.4)) / 2])
    close(got, [0.916, 0.714], rtol=1e-3)  # the function's docstring
    yt, yp = np.array([[0, 1], [0, 0]]), np.array([[-18.6, 0.51], [2.94, -12.8]])
    assert L.loss_class("BinaryCrossentropy", yt, yp, from_logits=True) == pytest.approx(0.8654, abs=1e-4)
    assert L.loss_class("BinaryCrossentropy", yt, yp, [0.8, 0.2], from_logits=True) == pytest.approx(0.243, abs=1e-3)
    assert L.loss_class("BinaryCrossentropy", yt, yp, reduction="sum", from_logits=True) == pytest.approx(1.730, abs=1e-3)


def test_binary_label_smoothing_squeezes_towards_a_half():
    # label_smoothing 0.2: 1 -> 0.9, 0 -> 0.1
    t = 0.9
    close(L.binary_crossentropy([[1.0]], [[0.7]], label_smoothing=0.2), [-(t * math.log(0.7) + (1 - t) * math.log(0.3))])
    close(L.binary_crossentropy([[0.0, 1.0]], [[0.3, 0.8]], label_smoothing=1.0),
          [-(0.5 * math.log(0.3) + 0.5 * math.log(0.7) + 0.5 * math.log(0.8) + 0.5 * math.log(0.2)) / 2])


def test_logits_and_probabilities_agree():
    rng = np.random.default_rng(3)
    z = rng.normal(size=(4, 5))
    t = rng.random((4, 5))
    close(L.binary_crossentropy(t, z, from_logits=True), L.binary_crossentropy(t, 1 / (1 + np.exp(-z))), rtol=1e-12)
    soft = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    labels = rng.random((4, 5))
    labels /= labels.sum(axis=1, keepdims=True)
    close(L.categorical_crossentropy(labels, z, from_logits=True), L.categorical_crossentropy(labels, soft), rtol=1e-12)
    close(L.sparse_categorical_crossentropy([0, 3, 1, 4], z, from_logits=True),
          -np.log(soft[np.arange(4), [0, 3, 1, 4]]), rtol=1e-12)
    # large logits: the log-sum-exp form stays finite where the probabilities underflow
    close(L.categorical_crossentropy([[0, 1, 0]], [[60.0, -60.0, 3.5]], from_logits=True), [120.0 + math.log1p(math.exp(-56.5) + math.exp(-120))])


def test_categorical_crossentropy_docstring_and_smoothing():
    yt, yp = np.array([[0, 1, 0], [0, 0, 1]]), np.array([[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]])
    close(L.categorical_crossentropy(yt, yp), [-math.log(0.95), -math.log(0.1)])
    assert L.loss_class("CategoricalCrossentropy", yt, yp) == pytest.approx(1.177, abs=1e-3)
    assert L.loss_class("CategoricalCrossentropy", yt, yp, np.array([0.3, 0.7])) == pytest.approx(0.814, abs=1e-3)
    assert L.loss_class("CategoricalCrossentropy", yt, yp, reduction="sum") == pytest.approx(2.354, abs=1e-3)
    # label_smoothing 0.3 over 3 classes: [0.1, 0.8, 0.1]; the zero probability now has weight: inf
    close(L.categorical_crossentropy([[0, 1, 0]], [[0.2, 0.5, 0.3]], label_smoothing=0.3),
          [-(0.1 * math.log(0.2) + 0.8 * math.log(0.5) + 0.1 * math.log(0.3))])
    assert L.categorical_crossentropy(yt, yp, label_smoothing=0.3)[0] == np.inf


def test_zero_probability_with_zero_label_weight_contributes_nothing():
    close(L.binary_crossentropy([[0.0, 1.0]], [[0.0, 1.0]]), [0.0])
    assert L.binary_crossentropy([[1.0]], [[0.0]])[0] == np.inf


def test_crossentropy_axis():
    rng = np.random.default_rng(5)
    z = rng.normal(size=(2, 4, 3))
    labels = np.array([[0, 3, 1], [2, 2, 0]])
    one_hot = np.moveaxis(np.eye(4)[labels], -1, 1)
    want = np.array([[-(z[b, labels[b, s], s] - np.log(np.exp(z[b, :, s]).sum())) for s in range(3)] for b in range(2)])
    close(L.categorical_crossentropy(one_hot, z, from_logits=True, axis=1), want, rtol=1e-12)
    close(L.categorical_crossentropy(one_hot, z, from_logits=True, axis=-2), want, rtol=1e-12)
    close(L.sparse_categorical_crossentropy(labels, z, from_logits=True, axis=1), want, rtol=1e-12)


def test_focal_losses_by_hand_and_docstrings():
    # binary: p_t = 0.4 for the true class 1 and 0.4 for the false class 0 (p = 0.6)
    got = L.binary_focal_crossentropy([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]], gamma=2)
    close(got, [(0.36 * -math.log(0.4) + 0.36 * -math.log(0.4)) / 2, (0.16 * -math.log(0.6) + 0.36 * -math.log(0.4)) / 2])
    close(got, [0.330, 0.206], rtol=2e-3)
    yt, yp = np.array([[0, 1], [0, 0]]), np.array([[-18.6, 0.51], [2.94, -12.8]])
    close(L.loss_class("BinaryFocalCrossentropy", yt, yp, reduction=None, gamma=5, from_logits=True, apply_class_balancing=True),
          [0.0004, 0.8670], atol=1e-4)
    # class balancing: alpha for class 1, 1 - alpha for class 0
    close(L.binary_focal_crossentropy([[1.0, 0.0]], [[0.7, 0.2]], apply_class_balancing=True, alpha=0.8, gamma=1.0),
          [(0.8 * 0.3 * -math.log(0.7) + 0.2 * 0.2 * -math.log(0.8)) / 2])
    # categorical: alpha (1 - p)^gamma (-log p) of the true class
    close(L.categorical_focal_crossentropy([[0, 1, 0], [0, 0, 1]], [[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]]),
          [0.25 * 0.05 ** 2 * -math.log(0.95), 0.25 * 0.9 ** 2 * -math.log(0.1)])
    close(L.categorical_focal_crossentropy([[0, 1, 0], [0, 0, 1]], [[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]]),
          [3.2058331e-05, 4.6627346e-01], rtol=1e-6)
    # alpha per class
    close(L.categorical_focal_crossentropy([[0, 0, 1]], [[0.2, 0.3, 0.5]], alpha=[0.1, 0.2, 0.7], gamma=1.0),
          [0.7 * 0.5 * -math.log(0.5)])


def test_focal_with_gamma_zero_is_the_crossentropy():
    rng = np.random.default_rng(7)
    p = rng.uniform(0.05, 0.95, size=(3, 4))
    t = (rng.random((3, 4)) < 0.5).astype(float)
    close(L.binary_focal_crossentropy(t, p, gamma=0.0), L.binary_crossentropy(t, p), rtol=1e-14)
    soft = p / p.sum(axis=1, keepdims=True)
    hot = np.eye(4)[[0, 2, 3]]
    close(L.categorical_focal_crossentropy(hot, soft, alpha=1.0, gamma=0.0), L.categorical_crossentropy(hot, soft), rtol=1e-14)


def test_sparse_crossentropy_and_ignore_class():
    p = np.array([[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]])
    close(L.sparse_categorical_crossentropy([1, 2], p), [-math.log(0.95), -math.log(0.1)])
    close(L.sparse_categorical_crossentropy([[1], [2]], p), [-math.log(0.95), -math.log(0.1)])  # (batch, 1)
    close(L.sparse_categorical_crossentropy([1, -1], p, ignore_class=-1), [-math.log(0.95), 0.0])
    # the classes leave an ignored entry out of the mean: one entry counts
    close(L.loss_class("SparseCategoricalCrossentropy", [1, -1], p, ignore_class=-1), -math.log(0.95))
    close(L.loss_class("SparseCategoricalCrossentropy", [1, -1], p, reduction="sum", ignore_class=-1), -math.log(0.95))
    # weighted: the ignored entry's weight (3) leaves the divisor of mean_with_sample_weight too
    close(L.loss_class("SparseCategoricalCrossentropy", [1, -1], p, [2.0, 3.0], reduction="mean_with_sample_weight",
                       ignore_class=-1), 2.0 * -math.log(0.95) / 2.0)


def test_generalized_cross_entropy_by_hand():
    p = np.array([[0.7, 0.3], [0.2, 0.8], [0.6, 0.4], [0.4, 0.6]])
    close(L.categorical_generalized_cross_entropy([0, 1, 0, 1], p), (1 - np.sqrt([0.7, 0.8, 0.6, 0.6])) / 0.5)
    close(L.categorical_generalized_cross_entropy([[0], [1], [0], [1]], p, q=0.25), (1 - np.array([0.7, 0.8, 0.6, 0.6]) ** 0.25) / 0.25)


# --- overlap losses --------------------------------------------------------------------------------

def test_dice_docstring_and_tversky_identities():
    yt = [[[[1.0], [1.0]], [[0.0], [0.0]]], [[[1.0], [1.0]], [[0.0], [0.0]]]]
    yp = [[[[0.0], [1.0]], [[0.0], [1.0]]], [[[0.4], [0.0]], [[0.0], [0.9]]]]
    close(L.dice(yt, yp, axis=(1, 2, 3)), [0.5, 1 - 0.8 / 3.3])
    close(L.dice(yt, yp), 1 - 2 * 1.4 / (4 + 3.3))
    assert L.dice(yt, yp).shape == ()
    close(L.tversky(yt, yp, axis=(1, 2, 3)), L.dice(yt, yp, axis=(1, 2, 3)))  # alpha = beta = 0.5
    rng = np.random.default_rng(11)
    t, p = rng.random((3, 6)), rng.random((3, 6))
    tp = (t * p).sum(axis=1)
    # alpha = beta = 1 is the Jaccard (Tanimoto) loss 1 - TP / (sum t + sum p - TP)
    close(L.tversky(t, p, alpha=1.0, beta=1.0, axis=1), 1 - tp / (t.sum(axis=1) + p.sum(axis=1) - tp))
    # alpha weighs the false positives: predictions where the label is 0
    close(L.tversky([[1.0, 0.0]], [[1.0, 1.0]], alpha=0.9, beta=0.1, axis=1), [1 - 1 / (1 + 0.9)])
    close(L.tversky([[1.0, 1.0]], [[1.0, 0.0]], alpha=0.9, beta=0.1, axis=1), [1 - 1 / (1 + 0.1)])


# --- Circle and CTC against explicit formulations ----------------------------------------------------

def _circle_loop(labels, e, gamma, margin, remove_diagonal):
    out = []
    for i in range(len(labels)):
        pos, neg = [], []
        for j in range(len(labels)):
            s = float(np.dot(e[i], e[j]))
            if labels[i] == labels[j] and not (remove_diagonal and i == j):
                pos.append(math.exp(-gamma * max(1 + margin - s, 0) * (s - (1 - margin))))
            elif labels[i] != labels[j]:
                neg.append(math.exp(gamma * max(s + margin, 0) * (s - margin)))
        out.append(math.log1p(sum(neg) * sum(pos)))
    return np.array(out)


@pytest.mark.parametrize("remove_diagonal", [True, False])
@pytest.mark.parametrize("gamma, margin", [(1.0, 0.25), (4.0, 0.4), (2.0, 0.0)])
def test_circle_against_a_loop(gamma, margin, remove_diagonal):
    rng = np.random.default_rng(13)
    e = rng.normal(size=(7, 3))
    e /= np.linalg.norm(e, axis=1, keepdims=True)
    labels = np.array([0, 1, 0, 2, 1, 1, 3])  # 2 and 3 occur once: no positive without the diagonal
    close(L.circle(labels, e, gamma=gamma, margin=margin, remove_diagonal=remove_diagonal),
          _circle_loop(labels, e, gamma, margin, remove_diagonal), rtol=1e-12)


def _ctc_brute_force(labels, logits):
    """-log of the summed probability of every path that collapses to the labels."""
    log_p = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
    steps, classes = log_p.shape
    target = [k for k in labels if k != 0]
    total = 0.0
    for path in itertools.product(range(classes), repeat=steps):
        collapsed = [k for k, _ in itertools.groupby(path) if k != 0]
        if collapsed == target:
            total += math.exp(sum(log_p[t, k] for t, k in enumerate(path)))
    return -math.log(total)


def test_ctc_against_every_alignment():
    rng = np.random.default_rng(17)
    logits = rng.normal(size=(4, 5, 3))
    labels = np.array([[1, 2, 0], [1, 1, 0], [2, 0, 0], [2, 1, 2]])  # a repeat needs a blank between
    close(L.ctc(labels, logits), [_ctc_brute_force(row, logits[b]) for b, row in enumerate(labels)], rtol=1e-12)


# --- reductions and sample weights ----------------------------------------------------------------

LOSSES = np.array([[1.0, 2.0], [3.0, 6.0], [0.5, 0.5]])  # per-sample losses (3 samples, 2 steps)


@pytest.mark.parametrize("reduction, want", [
    ("sum", 13.0), ("sum_over_batch_size", 13.0 / 6), ("mean", 13.0 / 6), ("mean_with_sample_weight", 13.0 / 6),
    ("none", LOSSES), (None, LOSSES),
])
def test_reductions_without_weights(reduction, want):
    close(L.weigh_and_reduce(LOSSES, None, reduction), want)


def test_reductions_with_weights():
    w = np.array([2.0, 0.0, 0.5])  # one per sample: rows
    weighted = LOSSES * w[:, None]
    close(L.weigh_and_reduce(LOSSES, w, "none"), weighted)
    close(L.weigh_and_reduce(LOSSES, w, "sum"), 6.0 + 0.5)
    close(L.weigh_and_reduce(LOSSES, w, "sum_over_batch_size"), 6.5 / 6)  # zero weights still count
    close(L.weigh_and_reduce(LOSSES, w, "mean_with_sample_weight"), 6.5 / 2.5)  # the weights' sum
    close(L.weigh_and_reduce(LOSSES, 2.5, "sum"), 32.5)  # a scalar scales the loss
    close(L.weigh_and_reduce(LOSSES, 2.5, "mean_with_sample_weight"), 32.5 / 2.5)
    full = np.array([[1.0, 0.0], [0.5, 0.5], [2.0, 1.0]])
    close(L.weigh_and_reduce(LOSSES, full, "sum"), 1 + 1.5 + 3 + 1 + 0.5)
    # a square case: a [batch_size] weight rescales rows, not columns
    square = np.array([[1.0, 2.0], [3.0, 4.0]])
    close(L.weigh_and_reduce(square, [10.0, 0.0], "none"), [[10.0, 20.0], [0.0, 0.0]])


def test_class_is_function_then_reduction():
    rng = np.random.default_rng(19)
    t, p = rng.normal(size=(2, 4, 3, 5))
    per_sample = L.mean_squared_error(t, p)
    assert per_sample.shape == (4, 3)
    close(L.loss_class("MeanSquaredError", t, p), per_sample.mean())
    close(L.loss_class("MeanSquaredError", t, p, reduction="sum"), per_sample.sum())
    w = rng.random(4)
    close(L.loss_class("MeanSquaredError", t, p, w, reduction="sum"), sum(w[b] * per_sample[b].sum() for b in range(4)))


# --- rejected arguments ----------------------------------------------------------------------------

@pytest.mark.parametrize("call, words", [
    (lambda: L.weigh_and_reduce(LOSSES, None, "average"), "reduction"),
    (lambda: L.categorical_generalized_cross_entropy([0], [[0.5, 0.5]], q=1.0), "q"),
    (lambda: L.sparse_categorical_crossentropy([3], [[0.5, 0.5]]), "outside"),
    (lambda: L.categorical_focal_crossentropy([[0, 1]], [[0.5, 0.5]], alpha=[0.1, 0.2, 0.3]), "alpha"),
    (lambda: L.binary_crossentropy([[1.0]], [[0.5]], label_smoothing=1.5), "label_smoothing"),
    (lambda: L.weigh_and_reduce(LOSSES, [1.0, 2.0, 3.0, 4.0], "sum"), "sample_weight"),
    (lambda: L.circle([0, 1], np.ones((2, 2, 2))), "circle"),
])
def test_rejections_name_the_argument(call, words):
    with pytest.raises(ValueError, match=words):
        call()


# --- error bounds ----------------------------------------------------------------------------------
#
# The bound of reference_impl.losses (Bounded, BOUNDS, bounded_reduction) must hold for correct
# evaluations of the formula in float32 and float16, computed here independently in NumPy in that
# dtype, each sum in two orders (first to last, last to first) and each loss in the arrangements
# implementations use; and planted faults must exceed it.

from reference_impl import rounding  # noqa: E402

F32, F16 = rounding.FORMATS["float32"], rounding.FORMATS["float16"]
DTYPES = {"float32": (np.float32, F32), "float16": (np.float16, F16)}


def rounded(x, dtype):
    return np.asarray(x, dtype=np.float64).astype(dtype)


def running_sum(x, axis, order, dtype):
    """Sum along `axis` one term at a time in `dtype`, first to last (order 1) or last to first (-1)."""
    x = np.moveaxis(np.asarray(x, dtype=dtype), axis, 0)[::order]
    total = np.zeros(x.shape[1:], dtype=dtype)
    for term in x:
        total = (total + term).astype(dtype)
    return total


def cce_from_logits_low(t, z, dtype, order, shifted=True):
    """-sum t log softmax(z) over the last axis in `dtype`: shifted (t (lse - (z - m))) or not
    (t ((m + lse) - z)), then the mean over the batch."""
    m = np.max(z, axis=-1, keepdims=True)
    d = (z - m).astype(dtype)
    lse = np.log(running_sum(np.exp(d), -1, order, dtype)[..., None]).astype(dtype)
    nll = (lse - d) if shifted else ((m + lse).astype(dtype) - z)
    per_sample = running_sum((t * nll.astype(dtype)).astype(dtype), -1, order, dtype)
    return (running_sum(per_sample, 0, order, dtype) / dtype(per_sample.size)).astype(dtype)


def huber_low(t, p, delta, dtype, order):
    x = np.abs((p - t).astype(dtype))
    d = dtype(delta)
    loss = np.where(x <= d, (dtype(0.5) * (x * x).astype(dtype)).astype(dtype),
                    ((d * x).astype(dtype) - (dtype(0.5) * (d * d).astype(dtype))).astype(dtype))
    per_sample = (running_sum(loss, -1, order, dtype) / dtype(loss.shape[-1])).astype(dtype)
    return (running_sum(per_sample, 0, order, dtype) / dtype(per_sample.size)).astype(dtype)


def cosine_low(t, p, dtype, order, rsqrt=False):
    def normalize(v):
        s = running_sum((v * v).astype(dtype), -1, order, dtype)[..., None]
        if rsqrt:
            return (v * (dtype(1) / np.sqrt(s)).astype(dtype)).astype(dtype)
        return (v / np.sqrt(s).astype(dtype)).astype(dtype)
    per_sample = -running_sum((normalize(t) * normalize(p)).astype(dtype), -1, order, dtype)
    return (running_sum(per_sample, 0, order, dtype) / dtype(per_sample.size)).astype(dtype)


def draws(seed, shape=(6, 5)):
    rng = np.random.default_rng(seed)
    return rng.normal(size=shape), rng.normal(size=shape), rng.integers(0, shape[-1], size=shape[:-1])


@pytest.mark.parametrize("dtype_name", ["float32", "float16"])
@pytest.mark.parametrize("seed", range(8))
def test_the_bound_holds_for_low_precision_evaluations_in_two_orders(dtype_name, seed):
    dtype, fmt = DTYPES[dtype_name]
    a, b, labels = draws(seed)
    # crossentropy from logits (scaled up so the log-sum-exp's shift matters), one-hot labels
    z = rounded(3.0 * b, dtype)
    t = np.eye(5)[labels]
    want = L.loss_class("CategoricalCrossentropy", t, z, from_logits=True)
    bound = L.class_error_bound("CategoricalCrossentropy", t, z, None, fmt, from_logits=True)
    for order in (1, -1):
        for shifted in (True, False):
            got = float(cce_from_logits_low(rounded(t, dtype), z, dtype, order, shifted))
            assert abs(got - want) <= bound, (order, shifted, got, want, bound)
    # Huber with a delta that is not a number of the format and errors on both branches
    t, p = rounded(a, dtype), rounded(a + 1.5 * b, dtype)
    want = L.loss_class("Huber", t, p, delta=0.7)
    bound = L.class_error_bound("Huber", t, p, None, fmt, delta=0.7)
    for order in (1, -1):
        got = float(huber_low(t, p, 0.7, dtype, order))
        assert abs(got - want) <= bound, (order, got, want, bound)
    # cosine similarity, by division and by the reciprocal square root
    t, p = rounded(a, dtype), rounded(b, dtype)
    want = L.loss_class("CosineSimilarity", t, p)
    bound = L.class_error_bound("CosineSimilarity", t, p, None, fmt)
    for order in (1, -1):
        for rsqrt in (False, True):
            got = float(cosine_low(t, p, dtype, order, rsqrt))
            assert abs(got - want) <= bound, (order, rsqrt, got, want, bound)


def test_the_bound_is_tighter_than_the_flat_tolerance_and_of_the_rounding_size():
    a, b, labels = draws(0)
    z = rounded(3.0 * b, np.float32)
    bound = L.class_error_bound("CategoricalCrossentropy", np.eye(5)[labels], z, None, F32, from_logits=True)
    want = L.loss_class("CategoricalCrossentropy", np.eye(5)[labels], z, from_logits=True)
    assert 1e-7 < bound < 1e-5 + 1e-5 * want  # above float32's rounding, below the flat tolerance
    assert bound / F32.unit_roundoff == pytest.approx(bound / F32.unit_roundoff)  # finite
    # the bound scales with the unit roundoff: float16's is 2**13 times float32's, within 2x
    bound16 = L.class_error_bound("CategoricalCrossentropy", np.eye(5)[labels], rounded(z, np.float16), None, F16,
                                  from_logits=True)
    assert 2 ** 12 < bound16 / bound < 2 ** 14


def test_log_of_one_minus_p_keeps_an_absolute_error_of_order_u():
    # near p = 1, log(1 - p) is large and its absolute error about u: the bound of the term
    # -(1 - t) log(1 - p) at t = 0 is several u times |log(1 - p)|'s size, not u times p
    p = np.array([[1 - 2.0 ** -20]], dtype=np.float32).astype(np.float64)
    bound = L.function_error_bound("BinaryCrossentropy", np.zeros((1, 1)), p, F32)
    value = L.binary_crossentropy(np.zeros((1, 1)), p)
    assert value[0] == pytest.approx(20 * math.log(2))
    assert F32.unit_roundoff * value[0] < bound[0] < 20 * F32.unit_roundoff * value[0]


@pytest.mark.parametrize("reduction", ["sum", "sum_over_batch_size", "mean_with_sample_weight", "none"])
def test_reductions_bound_the_weighted_sums(reduction):
    a, b, _ = draws(4, (5, 4, 3))
    t, p = rounded(a, np.float32), rounded(b, np.float32)
    w = rounded(np.exp(a[:, :, 0]), np.float32)
    want = L.loss_class("MeanSquaredError", t, p, w, reduction=reduction)
    bound = L.class_error_bound("MeanSquaredError", t, p, w, F32, reduction=reduction)
    assert np.shape(bound) == np.shape(want)
    losses = np.mean(np.square((t - p).astype(np.float32)), axis=-1, dtype=np.float32)
    weighted = (losses * w.astype(np.float32)).astype(np.float32)
    for order in (1, -1):
        if reduction == "none":
            got = weighted
        else:
            total = running_sum(running_sum(weighted, 1, order, np.float32), 0, order, np.float32)
            divisor = {"sum": 1.0, "sum_over_batch_size": 20.0,
                       "mean_with_sample_weight": running_sum(running_sum(w.astype(np.float32), 1, order, np.float32), 0, order, np.float32)}[reduction]
            got = total / np.float32(divisor)
        assert np.all(np.abs(got - want) <= bound)


# planted faults: each exceeds the bound by far

def test_a_scale_error_of_1e_3_is_caught():
    for seed in range(4):
        a, b, labels = draws(seed)
        z = rounded(3.0 * b, np.float32)
        t = np.eye(5)[labels]
        want = L.loss_class("CategoricalCrossentropy", t, z, from_logits=True)
        bound = L.class_error_bound("CategoricalCrossentropy", t, z, None, F32, from_logits=True)
        got = float(cce_from_logits_low(t.astype(np.float32), z, np.float32, 1)) * (1 + 1e-3)
        assert abs(got - want) > 10 * bound


def test_a_reduction_that_divides_by_the_batch_size_is_caught():
    # (5, 4) per-sample losses: sum_over_batch_size divides by 20, not by the 5 samples
    a, b, _ = draws(1, (5, 4, 3))
    t, p = rounded(a, np.float32), rounded(b, np.float32)
    want = L.loss_class("MeanSquaredError", t, p)
    bound = L.class_error_bound("MeanSquaredError", t, p, None, F32)
    wrong = L.loss_class("MeanSquaredError", t, p, reduction="sum") / 5
    assert abs(wrong - want) > 1e4 * bound


def test_a_float16_accumulation_in_a_float32_loss_is_caught():
    a, b, _ = draws(2, (64, 8))
    t, p = rounded(a, np.float32), rounded(a + b, np.float32)
    want = L.loss_class("Huber", t, p, reduction="sum")
    bound = L.class_error_bound("Huber", t, p, None, F32, reduction="sum")
    per_sample = L.huber(t, p).astype(np.float16)
    got = float(running_sum(per_sample, 0, 1, np.float16))
    assert abs(got - want) > bound


@pytest.mark.parametrize("dtype_name", ["float32", "float64"])
def test_crossentropy_probabilities_changed_by_an_epsilon_are_caught(dtype_name):
    """The documented crossentropy takes the probabilities as given (the module docstring):
    clipping them to [1e-7, 1 - 1e-7] where one is below 1e-7, or adding 1e-7 inside the
    logarithm (Keras 2's binary crossentropy), moves the loss beyond the bound."""
    fmt = rounding.FORMATS[dtype_name]
    dtype = np.float32 if dtype_name == "float32" else np.float64
    t = np.array([[1.0, 0.0, 1.0, 0.0]])
    p = rounded([[1e-9, 0.25, 0.75, 0.5]], dtype).astype(np.float64)
    want = L.binary_crossentropy(t, p)
    bound = L.function_error_bound("BinaryCrossentropy", t, p, fmt)
    clipped = L.binary_crossentropy(t, np.clip(p, 1e-7, 1 - 1e-7))
    assert abs(clipped - want)[0] > 100 * bound[0]
    if dtype_name == "float64":
        # away from the edges: log(p + 1e-7), an error of about 1e-7 / p
        t2, p2 = np.array([[1.0, 0.0]]), np.array([[0.3, 0.6]])
        with_epsilon = -np.mean(t2 * np.log(p2 + 1e-7) + (1 - t2) * np.log(1 - p2 + 1e-7), axis=-1)
        bound2 = L.function_error_bound("BinaryCrossentropy", t2, p2, fmt)
        assert abs(with_epsilon - L.binary_crossentropy(t2, p2))[0] > 10 * bound2[0]


def ctc_low(labels, z, dtype):
    """ctc's forward recursion evaluated in `dtype` (log-softmax and logaddexp in that dtype)."""
    z = z.astype(dtype)
    log_p = (z - np.max(z, -1, keepdims=True)).astype(dtype)
    log_p = (log_p - np.log(np.sum(np.exp(log_p), -1, keepdims=True, dtype=dtype))).astype(dtype)
    out = []
    for row, lp in zip(labels, log_p):
        seq = row[row != 0]
        ext = np.zeros(2 * len(seq) + 1, np.int64)
        ext[1::2] = seq
        alpha = np.full(len(ext), -np.inf, dtype)
        alpha[0] = lp[0, 0]
        if len(ext) > 1:
            alpha[1] = lp[0, ext[1]]
        for t in range(1, lp.shape[0]):
            new = np.full(len(ext), -np.inf, dtype)
            for s in range(len(ext)):
                acc = alpha[s]
                if s >= 1:
                    acc = np.logaddexp(acc, alpha[s - 1]).astype(dtype)
                if s >= 2 and ext[s] != 0 and ext[s] != ext[s - 2]:
                    acc = np.logaddexp(acc, alpha[s - 2]).astype(dtype)
                new[s] = (acc + lp[t, ext[s]]).astype(dtype)
            alpha = new
        out.append(-np.logaddexp(alpha[-1], alpha[-2] if len(ext) > 1 else -np.inf))
    return np.array(out, dtype=np.float64)


@pytest.mark.parametrize("dtype_name", ["float32", "float16"])
def test_the_ctc_and_circle_bounds_hold_for_low_precision_evaluations(dtype_name):
    dtype, fmt = DTYPES[dtype_name]
    rng = np.random.default_rng(11)
    z = rounded(2.0 * rng.normal(size=(3, 7, 4)), dtype).astype(np.float64)
    labels = np.array([[1, 2, 0], [3, 3, 0], [2, 1, 2]])
    got, want = ctc_low(labels, z, dtype), L.ctc(labels, z)
    assert np.all(np.abs(got - want) <= L.function_error_bound("CTC", labels, z, fmt))
    # circle: the similarities, logits, log-sum-exps and softplus in `dtype`
    x = rounded(L.l2_normalize(rng.normal(size=(6, 4))), dtype).astype(np.float64)
    y = np.array([0, 1, 0, 1, 2, 2])
    for gamma in (2.0, 80.0):
        bound = L.function_error_bound("Circle", y, x, fmt, gamma=gamma)
        s = (x.astype(dtype) @ x.astype(dtype).T).astype(dtype)
        same = y[:, None] == y[None, :]
        pos, neg = same & ~np.eye(6, dtype=bool), ~same
        d = np.maximum(dtype(1) - s, dtype(0))
        m, g = dtype(0.4), dtype(gamma)
        lp = (-g * np.maximum(m + d, 0) * (m - d)).astype(dtype)
        ln = (g * np.maximum(dtype(1) + m - d, 0) * (dtype(1) - m - d)).astype(dtype)

        def lse(v, mask):
            v = np.where(mask, v, -np.inf).astype(dtype)
            top = np.max(v, axis=1, keepdims=True)
            return (top[:, 0] + np.log(np.sum(np.exp(v - top), axis=1, dtype=dtype))).astype(dtype)
        total = (lse(ln, neg) + lse(lp, pos)).astype(dtype)
        got = (np.maximum(total, 0) + np.log1p(np.exp(-np.abs(total)))).astype(np.float64)
        assert np.all(np.abs(got - L.circle(y, x, gamma=gamma)) <= bound), gamma
