"""The audit's metrics over many weightings of the same images at once.

A bootstrap resample is a weighting of the images (how often each one's patient was drawn);
a permutation is a new membership of images in groups. Both are a (B, S, n) array ``W`` of
image weights for B draws and S sets of images (a group, a pooled pair of skin types, all
images), and every metric follows from it:

- counts ``n``, ``positives``, ``tp``, ``fp``: weighted sums (whole numbers, so exact in
  float64 and independent of the summation order);
- the rates of :mod:`benchmark.metrics.rates`, NaN where their denominator is 0;
- ROC AUC as the weighted Mann-Whitney statistic: per distinct score (images sorted once),
  the positive and negative weight; wins = sum over positives of the negative weight below
  plus half the tied negative weight (the AUC of :func:`~benchmark.metrics.rates.roc_auc`
  at unit weights).

Draws are processed in chunks so that memory stays near :data:`CHUNK` floats whatever B.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]
METRICS = ("accuracy", "sensitivity", "specificity", "precision", "f1", "auc", "selection_rate")
COUNTS = ("n", "positives", "tp", "fp")
CHUNK = 4_000_000  # floats of one (draws, sets, images) block


def _ratio(num: F64, den: F64) -> F64:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def rates(n: F64, pos: F64, tp: F64, fp: F64, auc: F64) -> dict[str, F64]:
    """Every metric of :data:`METRICS` from count arrays of one shape; NaN where undefined."""
    neg, fn = n - pos, pos - tp
    return {
        "accuracy": _ratio(tp + neg - fp, n),
        "sensitivity": _ratio(tp, pos),
        "specificity": _ratio(neg - fp, neg),
        "precision": _ratio(tp, tp + fp),
        # NaN without positives even when FP > 0 (rates.py: no detection to score).
        "f1": np.where(pos > 0, _ratio(2 * tp, 2 * tp + fp + fn), np.nan),
        "auc": np.where((pos > 0) & (neg > 0), auc, np.nan),
        "selection_rate": _ratio(tp + fp, n),
    }


def weighted_auc(pos: F64, neg: F64) -> F64:
    """(..., U) positive and negative weight per distinct score (ascending) -> (...) AUC."""
    below = np.cumsum(neg, axis=-1) - neg
    wins = np.sum(pos * (below + 0.5 * neg), axis=-1)
    return _ratio(wins, pos.sum(axis=-1) * neg.sum(axis=-1))


class Scored:
    """One run's labels, scores and decisions, sorted once by score for the AUC.

    Args:
        y_true: (n,) 0/1 labels.
        y_score: (n,) scores (any real numbers; only their order matters for the AUC).
        y_pred: (n,) 0/1 decisions.
    """

    def __init__(self, y_true: NDArray[np.int64], y_score: F64, y_pred: NDArray[np.bool_]):
        self.order = np.argsort(y_score, kind="stable")
        ordered = y_score[self.order]
        self.starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
        truth = y_true.astype(bool)
        self.decisions = np.asarray(y_pred, dtype=np.bool_)
        self.columns = np.stack([np.ones(len(truth)), truth, y_pred & truth, y_pred & ~truth])
        self.pos_sorted = truth[self.order].astype(float)

    @property
    def n(self) -> int:
        """Images."""
        return int(self.columns.shape[1])

    def metrics(self, weights: F64) -> dict[str, F64]:
        """(B, S) values of every metric and count under (B, S, n) image weights."""
        b, s, n = weights.shape
        step = max(1, CHUNK // max(1, s * n))
        parts = [self._block(weights[i : i + step]) for i in range(0, b, step)]
        return {m: np.concatenate([p[m] for p in parts]) for m in (*METRICS, *COUNTS)}

    def _block(self, w: F64) -> dict[str, F64]:
        n, pos, tp, fp = (w @ c for c in self.columns)
        ordered = w[..., self.order]
        wpos = np.add.reduceat(ordered * self.pos_sorted, self.starts, axis=-1)
        wall = np.add.reduceat(ordered, self.starts, axis=-1)
        counts = dict(zip(COUNTS, (n, pos, tp, fp), strict=True))
        return rates(n, pos, tp, fp, weighted_auc(wpos, wall - wpos)) | counts
