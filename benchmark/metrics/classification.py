"""Binary classification metrics of paper Table 5: loss, accuracy, AUC, precision, recall, F1.

Pure functions over arrays. The counts, rates and AUC come from :mod:`benchmark.metrics.rates`,
the base the fairness audit shares. Undefined values are NaN with a reason (AUC with one class
present, precision without predicted positives, recall and F1 without positives), never 0 or 1.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from benchmark.metrics.rates import confusion, confusion_rates, roc_auc

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
    """ROC AUC of (n,) 0/1 labels and (n,) probabilities; NaN when only one class is present."""
    truth, score = _arrays(y_true, y_score)
    return roc_auc(truth, score).value


# Table 5's rate metrics and the base rate each one is (recall is sensitivity).
_TABLE5_RATES = {"precision": "precision", "recall": "sensitivity", "f1": "f1"}


def binary_summary(
    y_true: ArrayLike,
    y_score: ArrayLike,
    threshold: float = 0.5,
    class_weights: tuple[float, float] = (1.0, 1.0),
) -> dict[str, Any]:
    """Table 5's metrics at ``threshold`` (predicted positive when ``y_score >= threshold``).

    Args:
        y_true: Labels, 0 or 1, shape (n,).
        y_score: Probabilities of class 1 in [0, 1], shape (n,).
        threshold: Decision threshold.
        class_weights: Loss weights of classes 0 and 1 (:func:`weighted_log_loss`).

    Returns:
        ``loss``, ``accuracy``, ``auc``, ``precision``, ``recall``, ``f1``, ``n``,
        ``positives`` and ``undefined`` (metric -> reason) for the NaN ones among ``auc``,
        ``precision``, ``recall`` and ``f1``.
    """
    truth, score = _arrays(y_true, y_score)
    counts = confusion(truth, score >= threshold)
    base = confusion_rates(counts)
    table = {name: base[rate] for name, rate in _TABLE5_RATES.items()}
    table["auc"] = roc_auc(truth, score)
    # Accuracy (NaN only without rows) has never been listed here; the key set stays as it was.
    undefined = {m: r.reason for m, r in table.items() if r.reason is not None}
    return {
        "loss": weighted_log_loss(truth, score, class_weights),
        "accuracy": base["accuracy"].value,
        "auc": table["auc"].value,
        **{m: table[m].value for m in _TABLE5_RATES},
        "n": counts.n,
        "positives": counts.positives,
        "undefined": undefined,
    }
