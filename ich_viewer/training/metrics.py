"""Detection and pixel metrics (numpy only); Dice is the findings' own (analysis.dice)."""

from __future__ import annotations

import numpy as np

from ich_viewer.analysis.findings import dice, per_slice_dice  # noqa: F401  (one Dice for all)


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney, ties counted half)."""
    scores = np.asarray(scores, dtype=np.float64).ravel()
    labels = np.asarray(labels, dtype=bool).ravel()
    n_pos, n_neg = int(labels.sum()), int((~labels).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores), dtype=np.float64)
    sorted_scores = scores[order]
    # Average ranks over ties.
    _, first, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    average = first + (counts + 1) / 2.0
    ranks[order] = np.repeat(average, counts)
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def binned_auc(hist_pos: np.ndarray, hist_neg: np.ndarray) -> float:
    """ROC AUC from histograms of scores (for millions of pixels)."""
    pos, neg = hist_pos.astype(np.float64), hist_neg.astype(np.float64)
    if pos.sum() == 0 or neg.sum() == 0:
        return float("nan")
    neg_below = np.cumsum(neg) - neg
    return float((pos * (neg_below + neg / 2)).sum() / (pos.sum() * neg.sum()))


def sensitivity_specificity(predicted: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    predicted, labels = np.asarray(predicted, bool), np.asarray(labels, bool)
    tp = int((predicted & labels).sum())
    tn = int((~predicted & ~labels).sum())
    sensitivity = tp / labels.sum() if labels.any() else float("nan")
    specificity = tn / (~labels).sum() if (~labels).any() else float("nan")
    return float(sensitivity), float(specificity)


class PixelTally:
    """Pixel-level confusion matrix and score histograms, accumulated slice by slice.

    The histograms are binned on the logit scale, not on [0, 1]: a confident
    network puts most pixels below 0.001, where equal-width bins would tie a
    missed bleed with the skull and understate the AUC (0.905 instead of 0.992
    for our network on the notebook's split). Logit bins 0.001 wide match the
    exact AUC to the fourth decimal.
    """

    LOGIT_RANGE = 40.0  # probabilities closer to 0 or 1 than sigmoid(-40) share the end bins
    BINS = 80_000

    def __init__(self, threshold: float = 0.5):
        self.threshold = threshold
        self.confusion = np.zeros((2, 2), dtype=np.int64)  # [truth][prediction]
        self.hist_pos = np.zeros(self.BINS, dtype=np.int64)
        self.hist_neg = np.zeros(self.BINS, dtype=np.int64)

    def _bins(self, probability: np.ndarray) -> np.ndarray:
        p = np.asarray(probability, dtype=np.float64)
        with np.errstate(divide="ignore"):
            logit = np.log(p) - np.log1p(-p)
        scaled = (logit + self.LOGIT_RANGE) / (2 * self.LOGIT_RANGE) * self.BINS
        return np.clip(np.nan_to_num(scaled, nan=0.0, posinf=self.BINS, neginf=0.0), 0,
                       self.BINS - 1).astype(np.int64)

    def add(self, probability: np.ndarray, truth: np.ndarray) -> None:
        predicted = probability >= self.threshold
        truth = truth.astype(bool)
        for t in (0, 1):
            for p in (0, 1):
                self.confusion[t, p] += int(((truth == t) & (predicted == p)).sum())
        bins = self._bins(probability)
        self.hist_pos += np.bincount(bins[truth], minlength=self.BINS)
        self.hist_neg += np.bincount(bins[~truth], minlength=self.BINS)

    def summary(self) -> dict:
        (tn, fp), (fn, tp) = self.confusion
        f1_hem = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else float("nan")
        f1_bg = 2 * tn / (2 * tn + fp + fn) if tn + fp + fn else float("nan")
        iou = tp / (tp + fp + fn) if tp + fp + fn else float("nan")
        iou_background = tn / (tn + fp + fn) if tn + fp + fn else float("nan")
        sensitivity = tp / (tp + fn) if tp + fn else float("nan")
        specificity = tn / (tn + fp) if tn + fp else float("nan")
        return {
            "pixel_auc": binned_auc(self.hist_pos, self.hist_neg),
            "iou": iou,
            # Two other figures a notebook may have reported as "IoU" and "AUC": Keras's MeanIoU
            # (both classes averaged) and the AUC of the thresholded mask ((sensitivity + specificity) / 2).
            "mean_iou_two_classes": (iou + iou_background) / 2,
            "auc_of_mask": (sensitivity + specificity) / 2,
            "confusion_matrix": {"tn": int(tn), "fp": int(fp), "fn": int(fn), "tp": int(tp)},
            "f1_hemorrhage": f1_hem,
            "f1_background": f1_bg,
        }
