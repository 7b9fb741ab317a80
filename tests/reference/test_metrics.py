"""reference_impl.metrics: hand-computed results (an AUC on six points by every summation method,
counts, IoUs, R2, F-scores), the docstrings' examples, and independent formulations (loops over
entries and thresholds, the Mann-Whitney statistic for the ROC area, numerical integration of the
interpolated PR curve, weighted means accumulated batch by batch)."""
import math

import numpy as np
import pytest

from reference_impl import losses as L
from reference_impl import metrics as M


def close(got, want, rtol=1e-13, atol=1e-15):
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


def batch(y_true, y_pred, sample_weight=None):
    out = {"y_true": np.asarray(y_true, dtype=np.float64), "y_pred": np.asarray(y_pred, dtype=np.float64)}
    if sample_weight is not None:
        out["sample_weight"] = np.asarray(sample_weight, dtype=np.float64)
    return out


# --- AUC on six points, by hand ----------------------------------------------------------------

LABELS = [1, 0, 1, 1, 0, 0]
SCORES = [0.9, 0.8, 0.6, 0.35, 0.3, 0.1]
# num_thresholds=3: thresholds [-1e-7, 0.5, 1 + 1e-7]
#   -eps : every score above: tp 3, fp 3, fn 0, tn 0 -> tpr 1,   fpr 1,   precision 1/2
#   0.5  : 0.9, 0.8, 0.6 above: tp 2, fp 1, fn 1, tn 2 -> tpr 2/3, fpr 1/3, precision 2/3
#   1+eps: none above: tp 0, fp 0, fn 3, tn 3 -> tpr 0, fpr 0, precision 0 (0/0 read as 0)
SIX = [batch(LABELS, SCORES)]


@pytest.mark.parametrize("curve, method, want", [
    ("ROC", "interpolation", (2 / 3) * (1 + 2 / 3) / 2 + (1 / 3) * (2 / 3 + 0) / 2),  # 2/3
    ("ROC", "minoring", (2 / 3) * (2 / 3) + (1 / 3) * 0),                            # 4/9
    ("ROC", "majoring", (2 / 3) * 1 + (1 / 3) * (2 / 3)),                            # 8/9
    ("PR", "minoring", (1 / 3) * (1 / 2) + (2 / 3) * 0),                             # 1/6
    ("PR", "majoring", (1 / 3) * (2 / 3) + (2 / 3) * (2 / 3)),                       # 2/3
    # Davis & Goadrich: segment 1 (p 6 -> 3, tp 3 -> 2): slope 1/3, intercept 1, area (1/3)(1 + ln 2)/3;
    # segment 2 (p 3 -> 0, tp 2 -> 0): slope 2/3, intercept 0, area (2/3)(2)/3
    ("PR", "interpolation", (1 + math.log(2)) / 9 + 4 / 9),
])
def test_auc_on_six_points_by_hand(curve, method, want):
    close(M.result("AUC", SIX, num_thresholds=3, curve=curve, summation_method=method), want)


def test_auc_docstring_example():
    # "tp = [2, 1, 0], fp = [2, 0, 0], fn = [0, 1, 2], tn = [0, 2, 2] ... auc = 0.75"; weighted 1.0
    close(M.result("AUC", [batch([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])], num_thresholds=3), 0.75)
    close(M.result("AUC", [batch([0, 0, 1, 1], [0, 0.5, 0.3, 0.9], [1, 0, 0, 1])], num_thresholds=3), 1.0)
    c = M.confusion_counts(np.array([[0], [0], [1], [1]], bool), np.array([[0], [0.5], [0.3], [0.9]]),
                           np.ones((4, 1)), M.curve_thresholds(3))
    assert [c[k][:, 0].tolist() for k in ("tp", "fp", "fn", "tn")] == [[2, 1, 0], [2, 0, 0], [0, 1, 2], [0, 2, 2]]


def test_roc_area_with_fine_thresholds_is_the_mann_whitney_statistic():
    # scores at least 1/1000 apart and off the grid: each bucket holds one score, so the
    # trapezoids sum to the fraction of (positive, negative) pairs ordered correctly
    rng = np.random.default_rng(3)
    scores = (rng.permutation(900)[:40] + 0.5) / 1000
    labels = rng.random(40) < 0.4
    pairs = [(p, n) for p in scores[labels] for n in scores[~labels]]
    want = np.mean([1.0 if p > n else 0.0 for p, n in pairs])
    close(M.result("AUC", [batch(labels, scores)], num_thresholds=1001), want, rtol=1e-12)


def test_pr_interpolation_is_the_integral_of_precision_along_linear_counts():
    # integrate precision d(recall) numerically where tp and fp move linearly between thresholds
    rng = np.random.default_rng(4)
    labels, scores = rng.random(30) < 0.5, rng.random(30)
    cuts = M.curve_thresholds(6)
    c = M.confusion_counts(labels[:, None], scores[:, None], np.ones((30, 1)), cuts)
    tp, fp, positives = c["tp"][:, 0], c["fp"][:, 0], c["tp"][0, 0] + c["fn"][0, 0]
    total = 0.0
    for i in range(len(cuts) - 1):
        n = 100000
        s = (np.arange(n) + 0.5) / n  # midpoints, from threshold i + 1 (s = 0) to i (s = 1)
        tp_s = tp[i + 1] + s * (tp[i] - tp[i + 1])
        p_s = tp_s + fp[i + 1] + s * (fp[i] - fp[i + 1])
        precision = np.where(p_s > 0, tp_s / np.where(p_s > 0, p_s, 1.0), 0.0)
        total += np.sum(precision) * (tp[i] - tp[i + 1]) / n / positives
    close(M.result("AUC", [batch(labels, scores)], num_thresholds=6, curve="PR"), total, rtol=1e-6)


def test_auc_minoring_and_majoring_bound_the_interpolation():
    rng = np.random.default_rng(5)
    b = [batch(rng.random(25) < 0.5, rng.random(25), rng.random(25))]
    for curve in ("ROC", "PR"):
        low, mid, high = (M.result("AUC", b, num_thresholds=8, curve=curve, summation_method=m)
                          for m in ("minoring", "interpolation", "majoring"))
        assert low <= mid <= high


def test_auc_given_thresholds_and_multi_label():
    y_true = np.array([[1, 0], [0, 1], [1, 1], [0, 0]])
    y_pred = np.array([[0.9, 0.2], [0.4, 0.7], [0.6, 0.3], [0.2, 0.8]])
    # column 0 alone: positives 0.9, 0.6; negatives 0.4, 0.2: thresholds [-eps, 0.5, 1 + eps]
    # -> ROC points (1, 1), (0, 1), (0, 0): area 1
    col0 = M.result("AUC", [batch(y_true[:, 0], y_pred[:, 0])], thresholds=[0.5])
    col1 = M.result("AUC", [batch(y_true[:, 1], y_pred[:, 1])], thresholds=[0.5])
    close(col0, 1.0)
    # column 1: positives 0.7, 0.3; negatives 0.2, 0.8 -> at 0.5 tpr 1/2, fpr 1/2: area 1/2
    close(col1, 0.5)
    close(M.result("AUC", [batch(y_true, y_pred)], thresholds=[0.5], multi_label=True), 0.75)
    close(M.result("AUC", [batch(y_true, y_pred)], thresholds=[0.5], multi_label=True, label_weights=[3, 1]),
          (3 * 1.0 + 1 * 0.5) / 4)
    # without multi_label, label_weights weigh each prediction by its column: weight 0 drops column 1
    close(M.result("AUC", [batch(y_true, y_pred)], thresholds=[0.5], label_weights=[1, 0]), col0)
    # from_logits: the sigmoid of the logits
    logits = np.log(y_pred / (1 - y_pred))
    close(M.result("AUC", [batch(y_true, logits)], from_logits=True, num_thresholds=9),
          M.result("AUC", [batch(y_true, y_pred)], num_thresholds=9), rtol=1e-12)


# --- counts, precision, recall: loops ------------------------------------------------------------

def loop_counts(y_true, y_pred, weights, threshold):
    tp = fp = fn = tn = 0.0
    for t, p, w in zip(np.ravel(y_true), np.ravel(y_pred), np.ravel(weights)):
        if p > threshold:
            tp, fp = (tp + w, fp) if t else (tp, fp + w)
        else:
            fn, tn = (fn + w, tn) if t else (fn, tn + w)
    return tp, fp, fn, tn


def test_counts_precision_recall_against_loops_over_two_batches():
    rng = np.random.default_rng(6)
    batches = [batch(rng.random((5, 3)) < 0.4, rng.random((5, 3)), rng.random((5, 1)) + 0.2) for _ in range(2)]
    thresholds = [0.2, 0.5, 0.75]
    sums = np.zeros((3, 4))
    for b in batches:
        w = np.broadcast_to(b["sample_weight"], b["y_true"].shape)
        sums += [loop_counts(b["y_true"], b["y_pred"], w, t) for t in thresholds]
    tp, fp, fn, tn = sums.T
    for name, want in (("TruePositives", tp), ("FalsePositives", fp), ("FalseNegatives", fn), ("TrueNegatives", tn)):
        close(M.result(name, batches, thresholds=thresholds), want)
    close(M.result("Precision", batches, thresholds=thresholds), tp / (tp + fp))
    close(M.result("Recall", batches, thresholds=thresholds), tp / (tp + fn))
    close(M.result("TruePositives", batches), sum(loop_counts(b["y_true"], b["y_pred"], np.broadcast_to(
        b["sample_weight"], b["y_true"].shape), 0.5)[0] for b in batches))


def test_precision_recall_docstring_examples():
    close(M.result("Precision", [batch([0, 1, 1, 1], [1, 0, 1, 1])]), 2 / 3)
    close(M.result("Precision", [batch([0, 1, 1, 1], [1, 0, 1, 1], [0, 0, 1, 0])]), 1.0)
    close(M.result("Recall", [batch([0, 1, 1, 1], [1, 0, 1, 1])]), 2 / 3)
    # top_k over a row of ties: the first k entries ("over y_true[:2]")
    close(M.result("Precision", [batch([0, 0, 1, 1], [1, 1, 1, 1])], top_k=2), 0.0)
    close(M.result("Precision", [batch([0, 0, 1, 1], [1, 1, 1, 1])], top_k=4), 0.5)
    close(M.result("TruePositives", [batch([0, 1, 1, 1], [1, 0, 1, 1], [0, 0, 1, 0])]), 1.0)


def test_top_k_and_class_id_by_hand():
    y_true = [[0, 1, 0, 1], [1, 0, 0, 0]]
    y_pred = [[0.1, 0.4, 0.3, 0.2], [0.5, 0.6, 0.05, 0.7]]
    # top 2: row 0 classes 1, 2 (tp 1, fp 1, fn 1); row 1 classes 3, 1 (tp 0, fp 2, fn 1)
    close(M.result("Precision", [batch(y_true, y_pred)], top_k=2), 1 / 4)
    close(M.result("Recall", [batch(y_true, y_pred)], top_k=2), 1 / 3)
    # with a threshold too: row 0 keeps none above 0.45 ... row 1 keeps 0.7, 0.6
    close(M.result("Precision", [batch(y_true, y_pred)], top_k=2, thresholds=0.45), 0.0)
    # class_id 1 alone: predictions 0.4 (label 1), 0.6 (label 0) at 0.5 -> tp 0, fp 1, fn 1
    close(M.result("Precision", [batch(y_true, y_pred)], class_id=1), 0.0)
    close(M.result("Recall", [batch(y_true, y_pred)], class_id=1, thresholds=0.3), 1.0)
    # class_id after top_k: class 3 is in row 1's top 2 (label 0) and not in row 0's (label 1)
    close(M.result("Recall", [batch(y_true, y_pred)], class_id=3, top_k=2), 0.0)
    close(M.result("Precision", [batch(y_true, y_pred)], class_id=3, top_k=3), 1 / 2)


def test_empty_denominators_give_zero():
    close(M.result("Precision", [batch([1, 0], [0.1, 0.2])]), 0.0)
    close(M.result("Recall", [batch([0, 0], [0.9, 0.2])]), 0.0)


# --- rates at a constrained rate ----------------------------------------------------------------

@pytest.mark.parametrize("name, argument, target, weights, want", [
    ("PrecisionAtRecall", "recall", 0.5, None, 0.5),
    ("PrecisionAtRecall", "recall", 0.5, [2, 2, 2, 1, 1], 1 / 3),
    ("SensitivityAtSpecificity", "specificity", 0.5, None, 0.5),
    ("SensitivityAtSpecificity", "specificity", 0.5, [1, 1, 2, 2, 1], 1 / 3),
    ("SpecificityAtSensitivity", "sensitivity", 0.5, None, 2 / 3),
    ("SpecificityAtSensitivity", "sensitivity", 0.5, [1, 1, 2, 2, 2], 0.5),
])
def test_rate_at_rate_docstring_examples(name, argument, target, weights, want):
    b = [batch([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8], weights)]
    close(M.result(name, b, **{argument: target}), want)


def test_recall_at_precision_docstring_and_unreachable():
    close(M.result("RecallAtPrecision", [batch([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])], precision=0.8), 0.5)
    close(M.result("RecallAtPrecision", [batch([0, 0, 1, 1], [0, 0.5, 0.3, 0.9], [1, 0, 0, 1])], precision=0.8), 1.0)
    # every positive scores below every negative: no threshold reaches precision 0.9
    close(M.result("RecallAtPrecision", [batch([0, 1, 0, 1], [0.9, 0.2, 0.8, 0.3])], precision=0.9), 0.0)


def test_rate_at_rate_against_a_brute_force_loop():
    rng = np.random.default_rng(7)
    labels, scores = rng.random(20) < 0.5, rng.random(20)
    cuts = M.curve_thresholds(9)
    rates = []
    for t in cuts:
        tp, fp, fn, tn = loop_counts(labels, scores, np.ones(20), t)
        rates.append({"precision": tp / (tp + fp) if tp + fp else 0.0, "recall": tp / (tp + fn),
                      "specificity": tn / (tn + fp)})
    for name, value, constrained in (("PrecisionAtRecall", "precision", "recall"),
                                     ("RecallAtPrecision", "recall", "precision"),
                                     ("SensitivityAtSpecificity", "recall", "specificity"),
                                     ("SpecificityAtSensitivity", "specificity", "recall")):
        argument = {"PrecisionAtRecall": "recall", "RecallAtPrecision": "precision",
                    "SensitivityAtSpecificity": "specificity", "SpecificityAtSensitivity": "sensitivity"}[name]
        for target in (0.2, 0.6, 0.9):
            feasible = [r[value] for r in rates if r[constrained] >= target]
            close(M.result(name, [batch(labels, scores)], num_thresholds=9, **{argument: target}), max(feasible, default=0.0))


# --- IoU ------------------------------------------------------------------------------------------

def test_iou_docstring_examples_by_hand():
    b = [batch([0, 0, 1, 1], [0, 1, 0, 1], [0.3, 0.3, 0.3, 0.1])]
    # cm = [[0.3, 0.3], [0.3, 0.1]]: iou = [0.3 / 0.9, 0.1 / 0.7]
    close(M.result("MeanIoU", b, num_classes=2), (0.3 / 0.9 + 0.1 / 0.7) / 2)
    close(M.result("IoU", b, num_classes=2, target_class_ids=[0]), 0.3 / 0.9)
    close(M.result("BinaryIoU", [batch([0, 1, 0, 1], [0.1, 0.2, 0.4, 0.7], [0.2, 0.3, 0.4, 0.1])], threshold=0.3),
          (0.2 / (0.6 + 0.5 - 0.2) + 0.1 / (0.4 + 0.5 - 0.1)) / 2)
    y_true = [[0, 0, 1], [1, 0, 0], [0, 1, 0], [1, 0, 0]]
    y_pred = [[0.2, 0.3, 0.5], [0.1, 0.2, 0.7], [0.5, 0.3, 0.1], [0.1, 0.4, 0.5]]
    one_hot = [batch(y_true, y_pred, [0.1, 0.2, 0.3, 0.4])]
    close(M.result("OneHotIoU", one_hot, num_classes=3, target_class_ids=[0, 2]), (0 / 0.9 + 0.1 / 0.7) / 2)
    close(M.result("OneHotMeanIoU", one_hot, num_classes=3), (0 + 0 + 0.1 / 0.7) / 3)


def test_iou_ignore_class_dense_inputs_and_the_binary_threshold():
    # ignore class 2: the entries labelled 2 leave the matrix
    b = [batch([0, 2, 1, 2, 1], [0, 1, 1, 2, 2])]
    # kept: (0, 0), (1, 1), (1, 2): iou 0: 1/1, 1: 1/2, 2: 0/1
    close(M.result("MeanIoU", b, num_classes=3, ignore_class=2), (1 + 0.5 + 0) / 3)
    # dense labels and scores along axis 1 (classes first)
    y_true = np.array([[[1, 0], [0, 1]]])      # classes on axis 1: labels [0, 1]
    y_pred = np.array([[[0.2, 0.1], [0.8, 0.9]]])  # argmax over axis 1: [1, 1]
    close(M.result("MeanIoU", [batch(y_true, y_pred)], num_classes=2, sparse_y_true=False, sparse_y_pred=False, axis=1),
          (0 + 1 / 2) / 2)
    # "1 for values that are larger or equal to the threshold"
    close(M.result("BinaryIoU", [batch([1, 0], [0.5, 0.2])], threshold=0.5), 1.0)


def test_iou_over_batches_against_a_loop_confusion_matrix():
    rng = np.random.default_rng(8)
    batches = [batch(rng.integers(0, 4, (3, 5)), rng.integers(0, 4, (3, 5)), rng.random((3, 5))) for _ in range(3)]
    cm = np.zeros((4, 4))
    for b in batches:
        for t, p, w in zip(b["y_true"].ravel(), b["y_pred"].ravel(), b["sample_weight"].ravel()):
            cm[int(t), int(p)] += w
    iou = [cm[c, c] / (cm[c, :].sum() + cm[:, c].sum() - cm[c, c]) for c in range(4)]
    close(M.result("MeanIoU", batches, num_classes=4), np.mean(iou))
    close(M.result("IoU", batches, num_classes=4, target_class_ids=[3, 1]), (iou[3] + iou[1]) / 2)


# --- R2, F-scores ---------------------------------------------------------------------------------

def test_r2_docstring_example_and_adjusted_by_hand():
    b = [batch([[1], [4], [3]], [[2], [4], [4]])]
    # mean 8/3; residuals 1 + 0 + 1 = 2; spread 25/9 + 16/9 + 1/9 = 42/9; 1 - 18/42 = 4/7
    close(M.result("R2Score", b), 4 / 7)
    close(M.result("R2Score", b, num_regressors=1), 1 - (3 / 7) * (3 - 1) / (3 - 1 - 1))


def test_r2_aggregations_and_weights_against_a_loop():
    rng = np.random.default_rng(9)
    batches = [batch(rng.normal(size=(4, 3)), rng.normal(size=(4, 3)), rng.random((4, 1)) + 0.5) for _ in range(2)]
    t = np.concatenate([b["y_true"] for b in batches])
    p = np.concatenate([b["y_pred"] for b in batches])
    w = np.concatenate([b["sample_weight"][:, 0] for b in batches])
    scores, spreads = [], []
    for j in range(3):
        centre = sum(wi * ti for wi, ti in zip(w, t[:, j])) / w.sum()
        residual = sum(wi * (ti - pi) ** 2 for wi, ti, pi in zip(w, t[:, j], p[:, j]))
        spread = sum(wi * (ti - centre) ** 2 for wi, ti in zip(w, t[:, j]))
        scores.append(1 - residual / spread)
        spreads.append(spread)
    close(M.result("R2Score", batches, class_aggregation=None), scores, rtol=1e-12)
    close(M.result("R2Score", batches), np.mean(scores), rtol=1e-12)
    close(M.result("R2Score", batches, class_aggregation="variance_weighted_average"),
          np.dot(spreads, scores) / np.sum(spreads), rtol=1e-12)


def test_f_scores_docstring_examples_and_averages_by_hand():
    y_true = [[1, 1, 1], [1, 0, 0], [1, 1, 0]]
    y_pred = [[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]]
    b = [batch(y_true, y_pred)]
    # at 0.5: class 0 tp 1, fn 2; class 1 tp 2, fp 1; class 2 tp 1, fp 1
    close(M.result("F1Score", b, threshold=0.5), [0.5, 0.8, 2 / 3])
    close(M.result("FBetaScore", b, beta=2.0, threshold=0.5), [5 * 1 * (1 / 3) / (4 + 1 / 3), 5 * (2 / 3) / (4 * 2 / 3 + 1),
                                                              5 * 0.5 / (4 * 0.5 + 1)])
    close(M.result("F1Score", b, threshold=0.5, average="macro"), (0.5 + 0.8 + 2 / 3) / 3)
    # micro: tp 4, fp 2, fn 2 -> precision = recall = 2/3
    close(M.result("F1Score", b, threshold=0.5, average="micro"), 2 / 3)
    # weighted by support (true instances per class: 3, 2, 1)
    close(M.result("F1Score", b, threshold=0.5, average="weighted"), (3 * 0.5 + 2 * 0.8 + 1 * 2 / 3) / 6)
    # threshold None: one-hot at each row's argmax, classes 2, 1, 1 (no ties): class 0 tp 0; class 1
    # tp 1 (row 2), fp 1 (row 1), fn 1 (row 0): 1/2; class 2 tp 1: 1
    untied = [[0.2, 0.6, 0.7], [0.2, 0.6, 0.5], [0.6, 0.8, 0.0]]
    close(M.result("F1Score", [batch(y_true, untied)]), [0.0, 0.5, 1.0])


# --- the mean metrics -----------------------------------------------------------------------------

def test_means_accumulate_over_batches_of_different_sizes():
    b1 = batch([[0.0, 1.0], [2.0, 2.0]], [[1.0, 1.0], [2.0, 0.0]], [1.0, 3.0])   # mse per sample 0.5, 2
    b2 = batch([[1.0, 1.0]], [[0.0, -1.0]], [0.5])                               # mse 2.5
    close(M.result("MeanSquaredError", [b1, b2]), (0.5 * 1 + 2 * 3 + 2.5 * 0.5) / 4.5)
    close(M.result("RootMeanSquaredError", [b1, b2]), math.sqrt((0.5 * 1 + 2 * 3 + 2.5 * 0.5) / 4.5))
    close(M.result("MeanAbsoluteError", [b1, b2]), (0.5 * 1 + 1 * 3 + 1.5 * 0.5) / 4.5)


def test_mean_and_sum_docstring_examples():
    values = {"values": np.array([1.0, 3.0, 5.0, 7.0])}
    close(M.result("Mean", [values]), 4.0)
    close(M.result("Mean", [{**values, "sample_weight": np.array([1, 1, 0, 0])}]), 2.0)
    close(M.result("Sum", [values]), 16.0)
    close(M.result("Sum", [{**values, "sample_weight": np.array([1, 1, 0, 0])}]), 4.0)


def test_accuracies_docstring_examples():
    close(M.result("Accuracy", [batch([[1], [2], [3], [4]], [[0], [2], [3], [4]], [1, 1, 0, 0])]), 0.5)
    close(M.result("BinaryAccuracy", [batch([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]])]), 0.75)
    close(M.result("CategoricalAccuracy", [batch([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]], [0.7, 0.3])]), 0.3)
    close(M.result("SparseCategoricalAccuracy", [batch([[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]], [0.7, 0.3])]), 0.3)
    close(M.result("TopKCategoricalAccuracy", [batch([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])], k=1), 0.5)
    close(M.result("SparseTopKCategoricalAccuracy", [batch([2, 1], [[1, 0, 3], [1, 2, 3]])], k=1, from_sorted_ids=True), 0.5)


def test_top_k_accuracy_against_a_sort():
    rng = np.random.default_rng(10)
    scores, labels = rng.random((12, 6)), rng.integers(0, 6, 12)
    for k in (1, 2, 5):
        want = np.mean([label in np.argsort(-row)[:k] for row, label in zip(scores, labels)])
        close(M.result("SparseTopKCategoricalAccuracy", [batch(labels, scores)], k=k), want)
        close(M.result("TopKCategoricalAccuracy", [batch(np.eye(6)[labels], scores)], k=k), want)


def test_probabilistic_metrics_are_the_per_sample_losses_averaged():
    rng = np.random.default_rng(11)
    t, p, w = L.softmax(rng.normal(size=(5, 4))), L.softmax(rng.normal(size=(5, 4))), rng.random(5)
    for name, loss in (("KLDivergence", L.kl_divergence), ("CategoricalCrossentropy", L.categorical_crossentropy),
                       ("Poisson", L.poisson), ("LogCoshError", L.log_cosh)):
        close(M.result(name, [batch(t, p, w)]), np.dot(w, loss(t, p)) / w.sum())
    close(M.result("CosineSimilarity", [batch(t, p)]), np.mean(-L.cosine_similarity(t, p)))


def test_sparse_crossentropy_ignore_class_leaves_the_entries_out():
    y_pred = np.array([[0.7, 0.2, 0.1], [0.3, 0.6, 0.1], [0.2, 0.2, 0.6]])
    close(M.result("SparseCategoricalCrossentropy", [batch([0, 1, 2], y_pred)], ignore_class=1),
          -(math.log(0.7) + math.log(0.6)) / 2)


def test_arguments_are_checked():
    with pytest.raises(ValueError, match="summation_method"):
        M.result("AUC", SIX, summation_method="trapezoid")
    with pytest.raises(ValueError, match="num_thresholds"):
        M.result("AUC", SIX, num_thresholds=1)
    with pytest.raises(ValueError, match="class_id"):
        M.result("Precision", [batch([[1, 0]], [[0.5, 0.2]])], class_id=2)
    with pytest.raises(ValueError, match="class indices"):
        M.result("MeanIoU", [batch([0, 3], [0, 1])], num_classes=3)
    with pytest.raises(ValueError, match="average"):
        M.result("F1Score", [batch([[1, 0]], [[0.5, 0.2]])], average="samples")


def test_correlations_docstring_examples_and_numpy_formulas():
    b = [batch([[0, 1, 0.5], [1, 1, 0.2]], [[0.1, 0.9, 0.5], [1, 0.9, 0.2]])]
    close(M.result("PearsonCorrelation", b), 0.9966996338993913)
    close(M.result("ConcordanceCorrelation", b), 0.9816320385426076)
    rng = np.random.default_rng(12)
    t, p = rng.normal(size=(4, 6)), rng.normal(size=(4, 6))
    pearson = [np.corrcoef(ti, pi)[0, 1] for ti, pi in zip(t, p)]
    close(M.result("PearsonCorrelation", [batch(t, p)]), np.mean(pearson), rtol=1e-12)
    # Lin's concordance from the biased covariance matrix
    lin = [2 * np.cov(ti, pi, bias=True)[0, 1] / (ti.var() + pi.var() + (ti.mean() - pi.mean()) ** 2) for ti, pi in zip(t, p)]
    close(M.result("ConcordanceCorrelation", [batch(t, p)]), np.mean(lin), rtol=1e-12)
    close(M.result("PearsonCorrelation", [batch(t, p)], axis=0), np.mean([np.corrcoef(t[:, j], p[:, j])[0, 1] for j in range(6)]),
          rtol=1e-12)


def test_thresholds_one_value_each_and_their_range():
    b = [batch([0, 1, 1], [0.3, 0.6, 0.2])]
    assert np.ndim(M.result("Precision", b, thresholds=[0.4])) == 0
    close(M.result("TruePositives", b, thresholds=[0.1, 0.4]), [2.0, 1.0])
    with pytest.raises(ValueError, match="thresholds"):
        M.result("Recall", b, thresholds=[0.5, 1.5])


# --- error bounds ----------------------------------------------------------------------------------
#
# reference_impl.metrics.error_bound must hold for correct evaluations of the metrics in float32 and
# float16 (state accumulated batch by batch in that dtype, sums in two orders), and planted faults
# must exceed it.

from reference_impl import rounding  # noqa: E402

LOW = {"float32": (np.float32, rounding.FORMATS["float32"]), "float16": (np.float16, rounding.FORMATS["float16"])}


def low_batches(seed, dtype, calls=3, shape=(7, 4), weighted=True):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(calls):
        b = {"y_true": rng.normal(size=shape).astype(dtype).astype(np.float64),
             "y_pred": rng.normal(size=shape).astype(dtype).astype(np.float64)}
        if weighted:
            b["sample_weight"] = np.exp(rng.normal(size=shape[:1])).astype(dtype).astype(np.float64)
        out.append(b)
    return out


def accumulate(parts, dtype, order):
    total = dtype(0)
    for part in parts[::order]:
        total = dtype(total + dtype(part))
    return total


def mse_metric_low(batches, dtype, order):
    """total += sum(w * mean((p - t)^2)), count += sum(w) per batch in `dtype`; total / count."""
    totals, counts = [], []
    for b in batches:
        d = (b["y_pred"].astype(dtype) - b["y_true"].astype(dtype)).astype(dtype)
        values = (accumulate(list((d * d).astype(dtype).T), dtype, order) / dtype(d.shape[-1])).astype(dtype)
        w = b["sample_weight"].astype(dtype)
        totals.append(accumulate(list((values * w).astype(dtype)), dtype, order))
        counts.append(accumulate(list(w), dtype, order))
    return float(dtype(accumulate(totals, dtype, order) / accumulate(counts, dtype, order)))


def r2_one_pass_low(batches, dtype, order):
    """R2 (uniform average) from the running sums implementations keep: sum w, sum w t,
    sum w t^2, sum w (t - p)^2; the spread as sum w t^2 - (sum w t)^2 / sum w."""
    def column(x):
        return np.array([accumulate(list(x[:, j]), dtype, order) for j in range(x.shape[1])], dtype=dtype)
    sums = {k: np.zeros(4, dtype) for k in ("w", "wt", "wtt", "res")}
    for b in batches:
        t, p = b["y_true"].astype(dtype), b["y_pred"].astype(dtype)
        w = np.broadcast_to(b["sample_weight"].astype(dtype)[:, None], t.shape)
        d = (t - p).astype(dtype)
        for k, x in (("w", w), ("wt", (w * t).astype(dtype)), ("wtt", ((w * t).astype(dtype) * t).astype(dtype)),
                     ("res", ((w * d).astype(dtype) * d).astype(dtype))):
            sums[k] = (sums[k] + column(x)).astype(dtype)
    mean = (sums["wt"] / sums["w"]).astype(dtype)
    spread = (sums["wtt"] - (sums["wt"] * mean).astype(dtype)).astype(dtype)
    scores = (dtype(1) - (sums["res"] / spread).astype(dtype)).astype(dtype)
    return float(accumulate(list(scores), dtype, order) / dtype(4))


@pytest.mark.parametrize("dtype_name", ["float32", "float16"])
@pytest.mark.parametrize("seed", range(6))
def test_the_bound_holds_for_metrics_accumulated_in_low_precision(dtype_name, seed):
    dtype, fmt = LOW[dtype_name]
    batches = low_batches(seed, dtype)
    want, bound = M.result("MeanSquaredError", batches), M.error_bound("MeanSquaredError", batches, fmt)
    for order in (1, -1):
        assert abs(mse_metric_low(batches, dtype, order) - want) <= bound
    want, bound = M.result("R2Score", batches), M.error_bound("R2Score", batches, fmt)
    for order in (1, -1):
        assert abs(r2_one_pass_low(batches, dtype, order) - want) <= bound


def test_a_prediction_at_a_rounded_threshold_widens_the_count_by_its_weight():
    fmt = rounding.FORMATS["float16"]
    at = float(np.float16(0.3))  # 0.30004883: above 0.3, not above its rounding
    batches = [batch([1, 0, 1], [at, 0.9, 0.1], [2.0, 1.0, 1.0])]
    assert M.result("TruePositives", batches, thresholds=0.3) == 2.0
    assert M.error_bound("TruePositives", batches, fmt, thresholds=0.3) >= 2.0
    # away from the threshold the counts are exact sums: a few units of roundoff
    far = [batch([1, 0, 1], [0.5, 0.9, 0.1], [2.0, 1.0, 1.0])]
    assert M.error_bound("TruePositives", far, fmt, thresholds=0.3) < 0.01


def test_exact_accuracies_have_only_the_division_to_round():
    fmt = rounding.FORMATS["float32"]
    # 3 of 4: integer counts and 3 / 4 are numbers of the format, a correct evaluation is exact
    batches = [batch([[1], [2], [3], [4]], [[0], [2], [3], [4]])]
    assert M.result("Accuracy", batches) == 0.75
    assert M.error_bound("Accuracy", batches, fmt) == 0.0
    # 2 of 3: one rounded division
    batches = [batch([[1], [2], [3]], [[0], [2], [3]])]
    assert 0 < M.error_bound("Accuracy", batches, fmt) <= 2 * fmt.unit_roundoff


def test_auc_bounds_and_where_it_has_none():
    fmt = rounding.FORMATS["float32"]
    # unit weights: exact counts, so the areas carry only the rates' and the sums' rounding
    for curve, method in (("ROC", "interpolation"), ("PR", "interpolation"), ("PR", "minoring")):
        bound = M.error_bound("AUC", SIX, fmt, num_thresholds=3, curve=curve, summation_method=method)
        assert 0 < bound < 1e-6
    # a prediction within rounding of a threshold is counted on either side: the bound holds the jump
    near = [batch(LABELS, [0.9, 0.8, 0.6, 0.35, 0.3, 0.5 + 2.0 ** -25])]
    jump = abs(M.result("AUC", near, num_thresholds=3) - M.result("AUC", [batch(LABELS, [0.9, 0.8, 0.6, 0.35, 0.3, 0.5])],
                                                                     num_thresholds=3))
    assert jump > 0.1
    assert M.error_bound("AUC", near, fmt, num_thresholds=3) >= jump
    # the PR interpolation divides by differences of weighted counts: bounded with non-integer
    # weights (a segment with nothing between its thresholds adds exactly 0), not with a negative
    # weight (a difference of 0 may hide weights that cancel)
    weighted = [batch(LABELS, SCORES, [0.3, 1.7, 0.9, 1.1, 0.25, 2.5])]
    assert 0 < M.error_bound("AUC", weighted, fmt, num_thresholds=3, curve="PR") < 1e-5
    assert M.error_bound("AUC", weighted, fmt, num_thresholds=3, curve="ROC") is not None
    signed = [batch(LABELS, SCORES, [0.3, 1.7, -0.9, 1.1, 0.25, 2.5])]
    assert M.error_bound("AUC", signed, fmt, num_thresholds=3, curve="PR") is None


def _counts_in(dtype, labels, scores, weights, cuts):
    """tp, fp, fn, tn at each threshold, each a sum of weights in dtype entry by entry, in order."""
    above = scores[None, :] > cuts[:, None]
    w = weights.astype(dtype)

    def summed(mask):
        total = np.zeros(len(cuts), dtype=dtype)
        for j in range(len(scores)):
            total = (total + np.where(mask[:, j], w[j], dtype(0))).astype(dtype)
        return total
    return (summed(above & labels[None]), summed(above & ~labels[None]), summed(~above & labels[None]),
            summed(~above & ~labels[None]))


def _pr_auc_in(dtype, labels, scores, weights, cuts):
    """The PR interpolation with every count and every operation rounded to dtype: the counts
    summed entry by entry in order, then Davis & Goadrich's pieces (segments without
    predictions skipped), summed in order, over the positives."""
    t = dtype
    tp, fp, fn, _ = _counts_in(dtype, labels, scores, weights, cuts)
    positives = t(tp[0] + fn[0])
    p = (tp + fp).astype(t)
    area = t(0)
    for i in range(len(cuts) - 1):
        d_tp, d_p = t(tp[i] - tp[i + 1]), t(p[i] - p[i + 1])
        if d_p == 0:
            continue
        slope = t(d_tp / d_p)
        intercept = t(tp[i + 1] - t(slope * p[i + 1]))
        log_term = t(intercept * t(np.log(t(p[i] / p[i + 1])))) if p[i + 1] > 0 and intercept != 0 else t(0)
        area = t(area + t(slope * t(d_tp + log_term)))
    return float(t(area / positives))


@pytest.mark.parametrize("dtype_name", ["float32", "float16"])
def test_weighted_pr_interpolation_bound_holds_in_the_format_and_catches_a_scale_error(dtype_name):
    dtype, fmt = LOW[dtype_name]
    rng = np.random.default_rng(31)
    cuts = M.curve_thresholds(11)
    ratios = []
    for trial in range(30):
        labels = rng.random(40) < 0.4
        labels[:2] = (True, False)
        scores = rng.random(40).astype(dtype).astype(np.float64)
        weights = rng.uniform(0.1, 3.0, 40).astype(dtype).astype(np.float64)
        batches = [batch(labels.astype(np.float64), scores, weights)]
        want = M.result("AUC", batches, num_thresholds=11, curve="PR")
        bound = M.error_bound("AUC", batches, fmt, num_thresholds=11, curve="PR")
        # measured: 200 to 610 units of roundoff (the ROC curve's about 200)
        assert bound is not None and bound < 800 * fmt.unit_roundoff, trial
        error = abs(_pr_auc_in(dtype, labels, scores, weights, cuts) - want)
        assert error <= bound, trial
        ratios.append(error / bound)
        assert abs(want * 1.05 - want) > bound or dtype_name == "float16", trial  # a 5% scale error
    assert max(ratios) > 0.001  # errors of a unit or two against a worst case of 40 weighted sums


def _roc_auc_in(dtype, labels, scores, weights, cuts, method):
    """The ROC area with every count summed entry by entry in dtype, the rates, widths, heights
    and the sum over the segments rounded to dtype."""
    t = dtype
    tp, fp, fn, tn = _counts_in(dtype, labels, scores, weights, cuts)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = lambda a, b: np.where((a + b) > 0, (a / (a + b).astype(t)).astype(t), t(0)).astype(t)  # noqa: E731
        x, h = rate(fp, tn), rate(tp, fn)
    area = t(0)
    for i in range(len(cuts) - 1):
        g = t(t(h[i] + h[i + 1]) / t(2)) if method == "interpolation" else min(h[i], h[i + 1])
        area = t(area + t(t(x[i] - x[i + 1]) * g))
    return float(area)


@pytest.mark.parametrize("dtype_name", ["float32", "float16"])
def test_the_area_summed_by_parts_holds_for_weighted_counts_over_200_thresholds(dtype_name):
    """40 non-integer weights, 200 thresholds: the widths' errors summed segment by segment
    would pass 1 in float16; by parts the bound is a few rates' errors (measured 26 to 31 units
    of roundoff in float32, 56 to 83 in float16, against errors of one or two)."""
    dtype, fmt = LOW[dtype_name]
    rng = np.random.default_rng(33)
    cuts = M.curve_thresholds(200)
    for trial in range(4):
        labels = rng.random(40) < 0.5
        scores = rng.random(40).astype(dtype).astype(np.float64)
        weights = rng.uniform(0.1, 3.0, 40).astype(dtype).astype(np.float64)
        batches = [batch(labels.astype(np.float64), scores, weights)]
        for method in ("interpolation", "minoring"):
            want = M.result("AUC", batches, num_thresholds=200, summation_method=method)
            bound = M.error_bound("AUC", batches, fmt, num_thresholds=200, summation_method=method)
            assert bound is not None and bound < 100 * fmt.unit_roundoff, (trial, method)
            assert abs(_roc_auc_in(dtype, labels, scores, weights, cuts, method) - want) <= bound, (trial, method)
            assert abs(want * (1.1 if dtype_name == "float16" else 1.0001) - want) > bound  # a scale error


def test_the_pr_interpolations_form_without_cancellation_is_equal():
    fmt = rounding.FORMATS["float32"]
    rng = np.random.default_rng(32)
    for trial in range(5):
        weights, labels, scores = rng.uniform(0.1, 3, 30), rng.random(30) < 0.4, rng.random(30)
        c = M.confusion_counts(labels[:, None], scores[:, None], weights[:, None], M.curve_thresholds(11))
        exact = {k: M.Bounded.exact(v, fmt) for k, v in c.items()}
        close(M._pr_interpolation_moved(exact["tp"], exact["fp"], exact["fn"]).v,
              M._pr_interpolated(c["tp"], c["fp"], c["fn"]), rtol=1e-12)


def test_rates_at_a_constrained_rate_need_every_threshold_decided():
    fmt = rounding.FORMATS["float32"]
    # recall at the thresholds: 1, 2/3, 0 against the target 2/3, exactly met by exact counts
    assert M.result("PrecisionAtRecall", SIX, recall=2 / 3, num_thresholds=3) == pytest.approx(2 / 3)
    assert M.error_bound("PrecisionAtRecall", SIX, fmt, recall=2 / 3, num_thresholds=3) is not None
    # a target within rounding of a rate the counts give: feasibility undecided, no bound
    assert M.error_bound("PrecisionAtRecall", SIX, fmt, recall=2 / 3 + 1e-9, num_thresholds=3) is None


def test_planted_metric_faults_exceed_the_bound():
    dtype, fmt = LOW["float32"]
    batches = low_batches(3, dtype)
    want, bound = M.result("MeanSquaredError", batches), M.error_bound("MeanSquaredError", batches, fmt)
    assert abs(mse_metric_low(batches, dtype, 1) * (1 + 1e-3) - want) > 10 * bound  # a 1e-3 scale error
    # a mean over the batches' means instead of over every sample (the wrong count)
    per_batch = np.mean([M.result("MeanSquaredError", [b]) for b in batches])
    assert abs(per_batch - want) > 10 * bound
    # the state accumulated in float16 in a float32 metric
    assert abs(mse_metric_low(batches, np.float16, 1) - want) > bound


@pytest.mark.parametrize("dtype_name", ["float32", "float16"])
def test_the_mean_bound_holds_where_each_samples_values_are_averaged_first(dtype_name):
    """A metric may reduce each sample's values to their mean before it weighs them (the same
    value, other roundings): Accuracy on (4, 3, 5) labels, 0/1 values averaged over the last
    axis in the dtype, then summed batch by batch."""
    dtype, fmt = LOW[dtype_name]
    rng = np.random.default_rng(7)
    batches = [batch(rng.integers(0, 3, (4, 3, 5)), rng.integers(0, 3, (4, 3, 5))) for _ in range(3)]
    want, bound = M.result("Accuracy", batches), M.error_bound("Accuracy", batches, fmt)
    for order in (1, -1):
        means = [(np.sum((b["y_true"] == b["y_pred"]).astype(dtype), axis=-1, dtype=dtype) / dtype(5)).astype(dtype)
                 for b in batches]
        total = accumulate([accumulate(list(np.ravel(m)), dtype, order) for m in means], dtype, order)
        got = float(dtype(total / dtype(36)))
        assert abs(got - want) <= bound, (order, got, want, bound)


@pytest.mark.parametrize("curve, method", [("PR", "majoring"), ("PR", "minoring"), ("PR", "interpolation"),
                                           ("ROC", "interpolation")])
def test_a_prediction_that_may_empty_the_top_threshold_is_placed_on_both_sides(curve, method):
    """float16(0.3) = 0.30004883 is above the threshold 0.3 and not above its rounding: the one
    prediction above it may count there or not, so the precision at that threshold is 1 or
    empty (0). The bound covers the areas of both placements, computed as the reference on the
    two scores, and no more than the jump plus a few units of roundoff."""
    fmt = rounding.FORMATS["float16"]
    at = float(np.float16(0.3))
    scores = [at, 0.2, 0.25, 0.1, 0.05, 0.15]
    near = [batch(LABELS, scores)]
    moved = [batch(LABELS, [0.3] + scores[1:])]
    jump = abs(M.result("AUC", near, thresholds=[0.3], curve=curve, summation_method=method)
               - M.result("AUC", moved, thresholds=[0.3], curve=curve, summation_method=method))
    assert jump > 0.1
    bound = M.error_bound("AUC", near, fmt, thresholds=[0.3], curve=curve, summation_method=method)
    assert jump <= bound <= jump + 20 * fmt.unit_roundoff
    # the precision at the threshold: 1 of 1, or no prediction above it (0): a bound of 1 would
    # pass any rate, so there is none (the flat tolerance judges)
    assert M.result("Precision", near, thresholds=0.3) == 1.0
    assert M.error_bound("Precision", near, fmt, thresholds=0.3) is None
    # with a negative prediction above the threshold too, decided, the precision is 1/2 or 0
    two = [batch(LABELS, [at, 0.2, 0.25, 0.1, 0.05, 0.35])]
    assert M.result("Precision", two, thresholds=0.3) == 0.5
    assert 0.5 <= M.error_bound("Precision", two, fmt, thresholds=0.3) <= 0.5 + 4 * fmt.unit_roundoff


def bucketed_counts(batches, dtype, n):
    """Counts at AUC's n thresholds from buckets: each score's bucket floor(score (n - 1))
    computed in `dtype` (an implementation's way of finding which of the evenly spaced
    thresholds i / (n - 1) a score is above), the counts then exact (unit weights)."""
    thresholds = M.curve_thresholds(n)
    counts = {k: np.zeros((n, 1)) for k in ("tp", "fp", "fn", "tn")}
    for b in batches:
        s, t = b["y_pred"].ravel(), b["y_true"].ravel() != 0
        bucket = np.floor((s.astype(dtype) * dtype(n - 1)).astype(dtype).astype(np.float64))
        # above threshold i (1 <= i <= n - 2) when bucket >= i; every score is above the first
        # (-1e-7) and none above the last (1 + 1e-7)
        index = np.arange(n)[:, None]
        above = np.where(index == 0, True, np.where(index == n - 1, False, bucket[None, :] >= index))
        for kind, label, side in (("tp", True, True), ("fp", False, True), ("fn", True, False), ("tn", False, False)):
            counts[kind][:, 0] += np.sum((t == label)[None, :] & (above == side), axis=1)
    assert np.all(thresholds[1:-1] == np.arange(1, n - 1) / (n - 1))
    return counts


def bucketed_auc(batches, dtype, n, curve, method):
    """The reference's area on bucketed_counts."""
    return float(M.area(bucketed_counts(batches, dtype, n), curve, method)[0])


@pytest.mark.parametrize("dtype_name, dtype, n", [("float16", np.float16, 200), ("bfloat16", None, 10)])
@pytest.mark.parametrize("seed", range(4))
def test_the_auc_bound_holds_for_bucketed_and_rounded_threshold_evaluations(dtype_name, dtype, n, seed):
    """Scores of the format drawn next to AUC's thresholds, where a correct evaluation may put
    them on either side: the AUC with thresholds rounded to the format, and the AUC from buckets
    computed in the format, are within the bound of the exact one, and the bound is finite."""
    if dtype is None:
        dtype = pytest.importorskip("ml_dtypes").bfloat16
    fmt = rounding.FORMATS[dtype_name]
    rng = np.random.default_rng(seed)
    inner = np.arange(1, n - 1) / (n - 1)
    near = rng.choice(inner, 6) * (1 + rng.choice([-1, 1], 6) * rng.uniform(0, 2 * fmt.unit_roundoff, 6))
    scores = np.concatenate([near, rng.uniform(0, 1, 10)]).astype(dtype).astype(np.float64)
    labels = rng.integers(0, 2, scores.size)
    batches = [batch(labels, scores)]
    rounded = M.curve_thresholds(n).astype(dtype).astype(np.float64)
    for curve, method in (("ROC", "interpolation"), ("PR", "majoring"), ("PR", "interpolation")):
        want = M.result("AUC", batches, num_thresholds=n, curve=curve, summation_method=method)
        bound = M.error_bound("AUC", batches, fmt, num_thresholds=n, curve=curve, summation_method=method)
        assert np.isfinite(bound) and bound < 1
        by_rounded = M.result("AUC", batches, thresholds=list(rounded[1:-1]), curve=curve, summation_method=method)
        for got in (by_rounded, bucketed_auc(batches, dtype, n, curve, method)):
            assert abs(got - want) <= bound, (curve, method, got, want, bound)


def r2_two_pass_low(batches, dtype):
    """R2 (uniform average) by the docstring's formula evaluated in `dtype`: the weighted mean of
    y_true, then sum w (t - mean)^2 and sum w (t - p)^2, over every batch's rows at once."""
    t = np.concatenate([b["y_true"] for b in batches]).astype(dtype)
    p = np.concatenate([b["y_pred"] for b in batches]).astype(dtype)
    w = np.broadcast_to(np.concatenate([b["sample_weight"] for b in batches]).astype(dtype)[:, None], t.shape)
    mean = (accumulate(list((w * t).astype(dtype)), dtype, 1) / accumulate(list(w), dtype, 1)).astype(dtype)
    c = (t - mean).astype(dtype)
    spread = accumulate(list(((w * c).astype(dtype) * c).astype(dtype)), dtype, 1)
    d = (t - p).astype(dtype)
    res = accumulate(list(((w * d).astype(dtype) * d).astype(dtype)), dtype, 1)
    scores = (dtype(1) - (res / spread).astype(dtype)).astype(dtype)
    return float(accumulate(list(scores), dtype, 1) / dtype(4))


def test_r2_where_the_one_pass_sums_cancel_is_judged_by_the_documented_formula():
    """y_true near 30 with a spread of about 2, in float16: sum w t^2 is about 2e4, whose
    rounding (gamma_n times it, about a thousand) swamps the spread of about a hundred, so the one-pass
    sum w t^2 - (sum w t)^2 / sum w may be anything; the docstring's sum w (t - mean)^2 is
    accurate. The bound is the documented formula's: finite, it holds for that formula
    evaluated in float16, and a metric that keeps the one-pass sums in float16 falls outside it."""
    dtype, fmt = LOW["float16"]
    rng = np.random.default_rng(5)
    batches = []
    for _ in range(2):
        t = (30 + 2 * rng.normal(size=(7, 4))).astype(dtype).astype(np.float64)
        batches.append({"y_true": t, "y_pred": (t + 0.5 * rng.normal(size=t.shape)).astype(dtype).astype(np.float64),
                        "sample_weight": np.exp(rng.normal(size=7)).astype(dtype).astype(np.float64)})
    want, bound = M.result("R2Score", batches), M.error_bound("R2Score", batches, fmt)
    assert bound is not None and bound < 0.5
    assert abs(r2_two_pass_low(batches, dtype) - want) <= bound
    assert abs(r2_one_pass_low(batches, dtype, 1) - want) > bound


def test_rates_with_more_undecided_entries_than_placements_bound_their_range():
    """Twelve predictions at float16(0.3), above 0.3 and not above its rounding, six of each
    label, beside four positives at 0.9: 4096 placements, more than are enumerated, so each
    count is an interval: tp in [4, 10], fp in [0, 6]. The precision (10 / 16 exactly) lies
    between 4 / 10 and 10 / 10, and the bound is that range, 0.375, plus roundoff."""
    fmt = rounding.FORMATS["float16"]
    at = float(np.float16(0.3))
    near = [batch([1] * 6 + [0] * 6 + [1] * 4, [at] * 12 + [0.9] * 4)]
    assert 2 ** 12 > M.MAX_ASSIGNMENTS
    assert M.result("Precision", near, thresholds=0.3) == 0.625
    bound = M.error_bound("Precision", near, fmt, thresholds=0.3)
    assert 0.375 <= bound <= 0.375 + 4 * fmt.unit_roundoff
    # every placement of the twelve within it: k positives and j negatives counted above
    k, j = np.meshgrid(np.arange(7), np.arange(7))
    assert np.all(np.abs((4 + k) / (4 + k + j) - 0.625) <= bound)


def test_the_best_precision_is_bounded_when_too_many_predictions_sit_at_thresholds():
    """bfloat16, 200 thresholds 0.005 apart, 30 of 40 predictions within rounding of one: too
    many placements to enumerate, so each count is an interval (unit weights: exact integers
    however many terms). PrecisionAtRecall(recall=0) is the largest precision over the
    thresholds: it lies between the largest lower and the largest upper end of their
    intervals, a bound below 1, which holds for the bucketed evaluation in bfloat16."""
    ml_dtypes = pytest.importorskip("ml_dtypes")
    fmt, n = rounding.FORMATS["bfloat16"], 200
    for seed in range(3):
        rng = np.random.default_rng(seed)
        inner = np.arange(1, n - 1) / (n - 1)
        near = rng.choice(inner, 30) * (1 + rng.choice([-1, 1], 30) * rng.uniform(0, 2 * fmt.unit_roundoff, 30))
        scores = np.concatenate([near, rng.uniform(0, 1, 10)]).astype(ml_dtypes.bfloat16).astype(np.float64)
        batches = [batch(rng.integers(0, 2, scores.size), scores)]
        want = M.result("PrecisionAtRecall", batches, recall=0.0, num_thresholds=n)
        bound = M.error_bound("PrecisionAtRecall", batches, fmt, recall=0.0, num_thresholds=n)
        assert bound is not None and bound < 0.5
        c = bucketed_counts(batches, ml_dtypes.bfloat16, n)
        counted = c["tp"] + c["fp"]
        precision = np.where(counted > 0, c["tp"] / np.where(counted > 0, counted, 1.0), 0.0)
        assert abs(np.max(precision) - want) <= bound, (seed, np.max(precision), want, bound)
        # the AUC through intervals that wide: summed by parts, its bound is a few rates' errors
        # (the widths' errors summed over 200 segments would exceed 1), and holds for the buckets
        area_bound = M.error_bound("AUC", batches, fmt, num_thresholds=n)
        assert area_bound is not None and area_bound < 0.5
        got = bucketed_auc(batches, ml_dtypes.bfloat16, n, "ROC", "interpolation")
        assert abs(got - M.result("AUC", batches, num_thresholds=n)) <= area_bound, seed


def test_the_area_by_parts_by_hand():
    # x = [1, 0.5, 0] with the middle rate's error 0.01, h = [1, 0.6, 0] with 0.02: heights
    # g = [0.8, 0.3] each moving by eg = 0.01; the middle rate's coefficient g_1 - g_0 = -0.5
    # moves by eg_0 + eg_1: 0.01 (0.5 + 0.02) = 0.0052; the widths 0.5, 0.5 times eg: 0.01.
    # Own rounding: (4u + gamma_2 (1 + 4u)) (0.51 * 0.81 + 0.51 * 0.31) + 2 tiny
    fmt = rounding.FORMATS["float32"]
    u, tiny = fmt.unit_roundoff, fmt.smallest_normal
    x = M.Bounded(np.array([[1.0], [0.5], [0.0]]), np.array([[0.0], [0.01], [0.0]]), fmt)
    h = M.Bounded(np.array([[1.0], [0.6], [0.0]]), np.array([[0.0], [0.02], [0.0]]), fmt)
    area = M.Bounded(np.array([0.55]), np.array([np.inf]), fmt)
    gamma2 = 2 * u / (1 - 2 * u)
    want = 0.0052 + 0.01 + (4 * u + gamma2 * (1 + 4 * u)) * (0.51 * 0.81 + 0.51 * 0.31) + 2 * tiny
    close(M._by_parts(area, x, h, "interpolation").e, [want], rtol=1e-12)
    # minoring: g = [0.6, 0], eg = max of the ends = [0.02, 0.02]: 0.01 (0.6 + 0.04) + 0.5 * 0.04
    want_min = 0.0064 + 0.02 + (4 * u + gamma2 * (1 + 4 * u)) * (0.51 * 0.62 + 0.51 * 0.02) + 2 * tiny
    close(M._by_parts(area, x, h, "minoring").e, [want_min], rtol=1e-12)
