"""Binary classification metrics of paper Table 5: loss, accuracy, AUC, precision, recall, F1.

Pure functions over arrays. Undefined values are NaN with a reason (AUC with one class
present, precision without predicted positives, recall without positives), never 0 or 1.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.metrics import roc_auc_score

EPS = 1e-7  # probabilities are clipped to [EPS, 1 - EPS] in the log loss


def _arrays(y_true: ArrayLike, y_score: ArrayLike) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    truth = np.asarray(y_true)
    score = np.asarray(y_score, dtype=np.float64)
    if truth.shape != score.shape or truth.ndim != 1:
        raise ValueError(f"y_true {truth.shape} and y_score {score.shape} must be equal 1-D")
    if not np.isin(truth, (0, 1)).all():
        raise ValueError("y_true must be 0/1")
    if not np.isfinite(score).all() or (score < 0).any() or (score > 1).any():
        raise ValueError("y_score must be finite probabilities in [0, 1]")
    return truth.astype(np.int64), score


def weighted_log_loss(
    y_true: ArrayLike, y_score: ArrayLike, class_weights: tuple[float, float] = (1.0, 1.0)
) -> float:
    """Cross-entropy as ``torch.nn.CrossEntropyLoss(weight=...)`` computes it (nats).

    ``sum(w[y] * -log p[y]) / sum(w[y])`` with ``p[1] = y_score``; NaN for no rows.
    """
    truth, score = _arrays(y_true, y_score)
    if len(truth) == 0:
        return math.nan
    p_true = np.clip(np.where(truth == 1, score, 1.0 - score), EPS, 1.0 - EPS)
    weights = np.asarray(class_weights, dtype=np.float64)[truth]
    return float(np.sum(weights * -np.log(p_true)) / np.sum(weights))


def auc(y_true: ArrayLike, y_score: ArrayLike) -> float:
    """ROC AUC; NaN when only one class is present."""
    truth, score = _arrays(y_true, y_score)
    if len(np.unique(truth)) < 2:
        return math.nan
    return float(roc_auc_score(truth, score))


def binary_summary(
    y_true: ArrayLike,
    y_score: ArrayLike,
    threshold: float = 0.5,
    class_weights: tuple[float, float] = (1.0, 1.0),
) -> dict[str, Any]:
    """Table 5's metrics at ``threshold`` (predicted positive when ``y_score >= threshold``).

    Returns:
        ``loss``, ``accuracy``, ``auc``, ``precision``, ``recall``, ``f1``, ``n``,
        ``positives`` and ``undefined`` (metric -> reason) for the NaN ones.
    """
    truth, score = _arrays(y_true, y_score)
    pred = (score >= threshold).astype(np.int64)
    tp = int(np.sum((pred == 1) & (truth == 1)))
    fp = int(np.sum((pred == 1) & (truth == 0)))
    fn = int(np.sum((pred == 0) & (truth == 1)))
    undefined: dict[str, str] = {}
    precision = tp / (tp + fp) if tp + fp else math.nan
    recall = tp / (tp + fn) if tp + fn else math.nan
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else math.nan
    if tp + fp == 0:
        undefined["precision"] = "no predicted positives"
    if tp + fn == 0:
        undefined["recall"] = undefined["f1"] = "no positives"
    value_auc = auc(truth, score)
    if math.isnan(value_auc):
        undefined["auc"] = "one class only"
    return {
        "loss": weighted_log_loss(truth, score, class_weights),
        "accuracy": float(np.mean(pred == truth)) if len(truth) else math.nan,
        "auc": value_auc,
        "precision": precision,
        "recall": recall,
        "f1": f1 if tp + fn else math.nan,
        "n": len(truth),
        "positives": int(truth.sum()),
        "undefined": undefined,
    }
