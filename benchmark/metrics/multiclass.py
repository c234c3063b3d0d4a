"""Multi-class metrics per group: balanced accuracy, one-vs-rest rates and AUC, macro AUC.

Predictions are a probability per class, shape (n, K), and the decision rule is the arg-max
(ties go to the first class in ``classes`` order, as ``numpy.argmax``): the ISIC 2019
challenge scores balanced multi-class accuracy of exactly that prediction. Per-class
thresholds are not applied: they would have to come from validation data, and a user who
has them can audit each class's one-vs-rest column with the binary audit.

==================  ===================================================  ===========================
metric              formula                                              NaN when (reason)
==================  ===================================================  ===========================
balanced_accuracy   mean over classes present in the group of recall     no rows
sensitivity[k]      TP_k / P_k (one-vs-rest, arg-max prediction)         class k absent from group
specificity[k]      TN_k / N_k                                           only class k in the group
auc[k]              ROC AUC of score k, class k against the rest         class k absent, or only k
macro_auc           mean of auc[k] over all K classes                    any auc[k] undefined
==================  ===================================================  ===========================

Balanced accuracy is scikit-learn's ``balanced_accuracy_score`` (recall averaged over the
classes that occur in ``y_true``), so a group without, say, dermatofibromas is scored on the
classes it has; macro AUC is ``roc_auc_score(multi_class="ovr", average="macro")``, which is
undefined unless every class occurs, so a missing class makes it NaN with the class named.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from benchmark.metrics.inputs import FairnessInputError
from benchmark.metrics.rates import NO_ROWS, Rate, confusion, roc_auc

PER_CLASS = ("sensitivity", "specificity", "auc")
SUM_TOLERANCE = 1e-3  # rounding in a CSV of probabilities; more is not a probability vector


@dataclass(frozen=True)
class MulticlassResult:
    """The multi-class metrics of one set of rows.

    Attributes:
        support: Rows.
        class_support: Rows per class (true label), in ``classes`` order.
        balanced_accuracy: See the module table.
        macro_auc: See the module table.
        per_class: ``{class: {"sensitivity" | "specificity" | "auc": Rate}}``.
    """

    support: int
    class_support: dict[str, int]
    balanced_accuracy: Rate
    macro_auc: Rate
    per_class: dict[str, dict[str, Rate]] = field(default_factory=dict)

    def undefined(self) -> list[tuple[str, str]]:
        """``(metric, reason)`` of every NaN value; per-class metrics read ``auc[MEL]``."""
        out = [
            (name, rate.reason)
            for name, rate in (
                ("balanced_accuracy", self.balanced_accuracy),
                ("macro_auc", self.macro_auc),
            )
            if rate.reason is not None
        ]
        for cls, rates in self.per_class.items():
            out += [(f"{m}[{cls}]", r.reason) for m, r in rates.items() if r.reason is not None]
        return out


def check_probabilities(
    y_score: ArrayLike, n_classes: int, *, renormalize: bool = False
) -> NDArray[np.float64]:
    """Validate an (n, K) probability matrix; rows must sum to 1 within :data:`SUM_TOLERANCE`.

    Args:
        y_score: Probabilities, shape (n, K).
        n_classes: K.
        renormalize: Divide each row by its sum instead of refusing rows that do not sum to
            1 (for logits passed through per-class sigmoids; say so where results are shown).

    Returns:
        float64 array of shape (n, K).

    Raises:
        FairnessInputError: Wrong shape, a value not finite or outside [0, 1], or a row sum
            off 1 (the first such row named), or a zero row when renormalising.
    """
    score = np.asarray(y_score, dtype=np.float64)
    if score.ndim != 2 or score.shape[1] != n_classes:
        raise FairnessInputError(
            f"scores must have shape (n, {n_classes}), got {score.shape}", argument="y_score"
        )
    bad = np.flatnonzero(~(np.isfinite(score) & (score >= 0) & (score <= 1)).all(axis=1))
    if bad.size:
        raise FairnessInputError(
            "scores must be finite and in [0, 1]", argument="y_score", index=int(bad[0])
        )
    sums = score.sum(axis=1)
    if renormalize:
        bad = np.flatnonzero(sums <= 0)
        if bad.size:
            raise FairnessInputError(
                "all scores 0: cannot renormalise", argument="y_score", index=int(bad[0])
            )
        return np.asarray(score / sums[:, None], dtype=np.float64)
    bad = np.flatnonzero(np.abs(sums - 1) > SUM_TOLERANCE)
    if bad.size:
        raise FairnessInputError(
            f"class scores sum to {sums[bad[0]]:.4f}, not 1 (tolerance {SUM_TOLERANCE}); "
            "pass renormalize to divide by the sum",
            argument="y_score",
            index=int(bad[0]),
        )
    return score


def check_labels(
    y_true: ArrayLike, classes: Sequence[str], argument: str = "y_true"
) -> NDArray[np.int64]:
    """Class names (or indices 0..K-1) per row as (n,) indices into ``classes``.

    ``argument`` names the column's role in errors (``y_true``, or ``y_pred`` for decisions).

    Raises:
        FairnessInputError: Values that are none of the classes (the distinct values and the
            first row named).
    """
    labels = np.asarray(y_true, dtype=object)
    index = {str(c): i for i, c in enumerate(classes)} | {str(i): i for i in range(len(classes))}
    keys = [_key(v) for v in labels]
    bad = [row for row, key in enumerate(keys) if key not in index]
    if bad:
        values = sorted({str(labels[r]) for r in bad})
        what = "label" if argument == "y_true" else "decision"
        raise FairnessInputError(
            f"{what}(s) {values[:5]}{' ...' if len(values) > 5 else ''} are none of the "
            f"classes {list(classes)}",
            argument=argument,
            index=bad[0],
        )
    return np.array([index[k] for k in keys], dtype=np.int64)


def _key(value: object) -> str:
    key = str(value)
    if key.endswith(".0") and key[:-2].isdigit():  # integer labels read as floats
        key = key[:-2]
    return key


def multiclass_metrics(
    y_true: NDArray[np.int64],
    y_score: NDArray[np.float64],
    classes: Sequence[str],
    y_pred: NDArray[np.int64] | None = None,
) -> MulticlassResult:
    """Metrics of the module table over (n,) class indices and (n, K) probabilities.

    Args:
        y_true: True class index per row, shape (n,), values in [0, K).
        y_score: Probabilities, shape (n, K) (checked by :func:`check_probabilities`).
        classes: The K class names, in column order.
        y_pred: Given decisions (class indices, shape (n,)) instead of the arg-max.

    Returns:
        The :class:`MulticlassResult`; with n = 0 every value is NaN ("no rows").
    """
    n = len(y_true)
    pred = decide(y_score, y_pred)
    per_class: dict[str, dict[str, Rate]] = {}
    for k, name in enumerate(classes):
        truth, hit = y_true == k, pred == k
        counts = confusion(truth.astype(int), hit.astype(int))
        absent, only = f"no images of class {name}", f"only class {name} in the group"
        sens = (
            Rate(counts.tp / counts.positives, counts.positives)
            if counts.positives
            else Rate(math.nan, 0, absent)
        )
        spec = (
            Rate(counts.tn / counts.negatives, counts.negatives)
            if counts.negatives
            else Rate(math.nan, 0, only)
        )
        auc = roc_auc(truth.astype(int), y_score[:, k]) if n else Rate(math.nan, 0, NO_ROWS)
        if auc.reason is not None and n:
            auc = Rate(math.nan, n, absent if not counts.positives else only)
        per_class[name] = {"sensitivity": sens, "specificity": spec, "auc": auc}
    recalls = [r["sensitivity"].value for r in per_class.values() if r["sensitivity"].defined]
    balanced = Rate(float(np.mean(recalls)), n) if recalls else Rate(math.nan, 0, NO_ROWS)
    aucs = {c: r["auc"] for c, r in per_class.items()}
    missing = [c for c, r in aucs.items() if not r.defined]
    macro = (
        Rate(float(np.mean([r.value for r in aucs.values()])), n)
        if not missing
        else Rate(math.nan, n, f"AUC undefined for class(es) {missing}")
    )
    support = {c: int((y_true == k).sum()) for k, c in enumerate(classes)}
    return MulticlassResult(n, support, balanced, macro, per_class)


def decide(y_score: NDArray[np.float64], y_pred: NDArray[np.int64] | None) -> NDArray[np.int64]:
    """(n,) decisions: the given ones, or the arg-max of (n, K) scores."""
    if y_pred is not None:
        return y_pred
    if not len(y_score):
        return np.empty(0, dtype=np.int64)
    return np.asarray(np.argmax(y_score, axis=1), dtype=np.int64)


def top_label(
    y_true: NDArray[np.int64], y_score: NDArray[np.float64], y_pred: NDArray[np.int64] | None = None
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """(n,) correctness of the decision (arg-max unless given) and (n,) its probability.

    The confidence that multi-class calibration (top-label ECE) is measured on.
    """
    pred = decide(y_score, y_pred)
    return (pred == y_true).astype(np.int64), y_score[np.arange(len(y_true)), pred]
