"""The one base of the binary classification metrics: confusion counts, rates and ROC AUC.

Modelled on fairlearn's base metrics: functions over arrays (``y_true`` with ``y_pred`` or
``y_score``), from which :mod:`benchmark.metrics.classification` (the Table 5 summary) and
:mod:`benchmark.metrics.fairness` (the per-group audit) derive everything they report. Each
returns a :class:`Rate`: the value, the count it is over (its support) and, when the value is
undefined, NaN with the reason, never the silent 0 of scikit-learn's ``zero_division``.

====================  =========================  =====================================
metric                formula                    NaN when (reason)
====================  =========================  =====================================
accuracy              (TP + TN) / n              n = 0 (no rows)
sensitivity (recall)  TP / P                     P = 0 (no positives)
specificity           TN / N                     N = 0 (no negatives)
precision             TP / (TP + FP)             TP + FP = 0 (no predicted positives)
f1                    2TP / (2TP + FP + FN)      P = 0 (no positives)
selection_rate        (TP + FP) / n              n = 0 (no rows)
auc                   ROC AUC of the scores      P = 0 or N = 0 (one class only)
====================  =========================  =====================================

F1 is NaN without positives even when FP > 0 (where the formula gives 0): without positives
there is no detection performance to score, and a 0 would rank the group as the worst.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.metrics import roc_auc_score

NO_ROWS, NO_POS, NO_NEG = "no rows", "no positives", "no negatives"
NO_PRED, ONE_CLASS = "no predicted positives", "one class only"
RATES = ("accuracy", "sensitivity", "specificity", "precision", "f1", "selection_rate")


@dataclass(frozen=True)
class Rate:
    """One metric value with its support.

    Attributes:
        value: The value, or NaN when undefined.
        support: The count the value is over (its denominator; rows for AUC).
        reason: Why the value is NaN; None when it is defined.
    """

    value: float
    support: int
    reason: str | None = None

    @property
    def defined(self) -> bool:
        """Whether the value is a number (``reason`` is None)."""
        return self.reason is None


@dataclass(frozen=True)
class Confusion:
    """Confusion counts of binary predictions (positive class 1)."""

    tp: int
    fp: int
    fn: int
    tn: int

    @classmethod
    def from_counts(cls, n: int, positives: int, tp: int, fp: int) -> Confusion:
        """The counts from rows, positives, true and false positives (as a MetricFrame has)."""
        return cls(tp=tp, fp=fp, fn=positives - tp, tn=n - positives - fp)

    @property
    def n(self) -> int:
        """Rows."""
        return self.tp + self.fp + self.fn + self.tn

    @property
    def positives(self) -> int:
        """Rows with label 1 (P)."""
        return self.tp + self.fn

    @property
    def negatives(self) -> int:
        """Rows with label 0 (N)."""
        return self.fp + self.tn

    @property
    def predicted_positives(self) -> int:
        """Rows predicted 1 (TP + FP)."""
        return self.tp + self.fp


def _binary(values: ArrayLike, name: str) -> NDArray[np.bool_]:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if not np.isin(arr, (0, 1)).all():
        raise ValueError(f"{name} must be 0/1")
    return np.asarray(arr == 1, dtype=np.bool_)


def confusion(y_true: ArrayLike, y_pred: ArrayLike) -> Confusion:
    """Confusion counts of predictions against labels.

    Args:
        y_true: Labels, 0 or 1, shape (n,).
        y_pred: Predictions, 0/1 or bool, shape (n,).

    Raises:
        ValueError: Not 1-D of equal length, or a value other than 0/1.
    """
    truth, pred = _binary(y_true, "y_true"), _binary(y_pred, "y_pred")
    if truth.shape != pred.shape:
        raise ValueError(f"y_true {truth.shape} and y_pred {pred.shape} must be equal 1-D")
    tp = int(np.sum(pred & truth))
    fp = int(np.sum(pred & ~truth))
    fn = int(np.sum(~pred & truth))
    return Confusion(tp=tp, fp=fp, fn=fn, tn=len(truth) - tp - fp - fn)


def _share(numerator: int, denominator: int, reason: str) -> Rate:
    # Exact integer counts divide once: the same float as any other order of the same counts.
    if denominator == 0:
        return Rate(math.nan, 0, reason)
    return Rate(numerator / denominator, denominator)


def confusion_rates(counts: Confusion) -> dict[str, Rate]:
    """Every rate of :data:`RATES` from one set of counts (see the module table).

    Args:
        counts: Confusion counts of one set of rows.

    Returns:
        ``{metric: Rate}`` in :data:`RATES` order.
    """
    c = counts
    # Guarded by P, not by its denominator: NaN even where FP > 0 makes the formula 0.
    f1 = Rate(2 * c.tp / (2 * c.tp + c.fp + c.fn), c.positives) if c.positives else None
    return {
        "accuracy": _share(c.tp + c.tn, c.n, NO_ROWS),
        "sensitivity": _share(c.tp, c.positives, NO_POS),
        "specificity": _share(c.tn, c.negatives, NO_NEG),
        "precision": _share(c.tp, c.predicted_positives, NO_PRED),
        "f1": f1 if f1 is not None else Rate(math.nan, 0, NO_POS),
        "selection_rate": _share(c.predicted_positives, c.n, NO_ROWS),
    }


def _from_arrays(metric: str) -> Callable[[ArrayLike, ArrayLike], Rate]:
    def fn(y_true: ArrayLike, y_pred: ArrayLike) -> Rate:
        return confusion_rates(confusion(y_true, y_pred))[metric]

    fn.__name__ = fn.__qualname__ = metric
    fn.__doc__ = (
        f"{metric.replace('_', ' ').capitalize()} of (n,) 0/1 predictions ``y_pred`` against "
        "(n,) 0/1 labels ``y_true``; NaN with the reason where undefined (module table)."
    )
    return fn


# The array form of each rate, as fairlearn's base metrics take (y_true, y_pred).
accuracy = _from_arrays("accuracy")
sensitivity = _from_arrays("sensitivity")
recall = sensitivity
specificity = _from_arrays("specificity")
precision = _from_arrays("precision")
f1_score = _from_arrays("f1")
selection_rate = _from_arrays("selection_rate")


def roc_auc(y_true: ArrayLike, y_score: ArrayLike) -> Rate:
    """ROC AUC (``sklearn.metrics.roc_auc_score``; tied scores count 1/2).

    Args:
        y_true: Labels, 0 or 1, shape (n,).
        y_score: Scores for class 1, shape (n,).

    Returns:
        The AUC over the n rows; NaN with :data:`ONE_CLASS` unless both classes are present.

    Raises:
        ValueError: Not 1-D of equal length, or a label other than 0/1.
    """
    truth = np.asarray(y_true)
    score = np.asarray(y_score, dtype=np.float64)
    positives = int(_binary(truth, "y_true").sum())
    if score.shape != truth.shape:
        raise ValueError(f"y_true {truth.shape} and y_score {score.shape} must be equal 1-D")
    if positives == 0 or positives == len(truth):
        return Rate(math.nan, len(truth), ONE_CLASS)
    return Rate(float(roc_auc_score(truth, score)), len(truth))
