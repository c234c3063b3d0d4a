"""Per-group classification metrics, worst group, gaps, EO/DP and bootstrap CIs.

Binary task: melanocytic (1) vs non-melanocytic (0); a prediction is ``y_score >= threshold``.
Groups are any string labels (Fitzpatrick types ``I``..``VI`` or ``uncertain`` here).

Confusion counts per group come from a fairlearn :class:`~fairlearn.metrics.MetricFrame`;
every rate is derived from them by :func:`_rates`, so that an undefined value is NaN with a
reason instead of the 0 that scikit-learn's ``zero_division`` (and so fairlearn) returns:

====================  =========================  ======================
metric                formula                    NaN when (reason)
====================  =========================  ======================
accuracy              (TP + TN) / n              never (n >= 1)
sensitivity (TPR)     TP / P                     P = 0 (no positives)
specificity (TNR)     TN / N                     N = 0 (no negatives)
precision             TP / (TP + FP)             TP + FP = 0 (no predicted positives)
f1                    2TP / (2TP + FP + FN)      P = 0 (no positives)
auc                   ROC AUC of the scores      P = 0 or N = 0 (one class only)
selection_rate        (TP + FP) / n              never
====================  =========================  ======================

F1 is NaN without positives even when FP > 0 (where the formula gives 0): a group without
melanocytic lesions has no detection performance to rank, and a 0 would make it the worst
group. All metrics are shares in [0, 1].

Between groups, only groups with a defined value take part: the gap is max - min and the
worst group the lowest value (ties: the first in :func:`group_order`). The equalized-odds
difference is max(TPR gap, FPR gap) and the demographic-parity difference the selection-rate
gap, as fairlearn's ``equalized_odds_difference`` / ``demographic_parity_difference``
("between_groups") define them, except that fairlearn scores a group without positives as
TPR 0 while here it is left out. The FPR gap equals the specificity gap, so ``gaps`` holds
both EO components. A gap is NaN with fewer than two defined groups; EO is NaN when either
of its components is (a max over one of them would understate it).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from fairlearn.metrics import MetricFrame
from numpy.typing import ArrayLike, NDArray
from scipy.stats import rankdata
from sklearn.metrics import roc_auc_score

from benchmark.skintone.fitzpatrick import FST_LABELS, UNCERTAIN

METRICS = ("accuracy", "sensitivity", "specificity", "precision", "f1", "auc", "selection_rate")
# Metrics where lower is worse; selection rate has no better direction, so no worst group.
HIGHER_IS_BETTER = METRICS[:-1]
# Per-group rows, but not in worst group, gaps, EO or DP: they are not skin types.
NOT_COMPARED = ("uncertain", "missing")
SMALL_GROUP = 30  # groups with fewer images are listed in ``small_groups``
NO_POS, NO_NEG = "no positives", "no negatives"
NO_PRED, ONE_CLASS = "no predicted positives", "one class only"
FEW_GROUPS = "fewer than two groups with a defined value"
CROSS = ("equalized_odds_difference", "demographic_parity_difference")

Values = dict[str, float]
Reasons = dict[str, str]
_Data = tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.bool_]]  # y_true, score, pred


class FairnessInputError(ValueError):
    """Bad input; ``argument`` (y_true, y_score, groups) and ``index`` locate the problem."""

    def __init__(self, message: str, *, argument: str | None = None, index: int | None = None):
        super().__init__(message if index is None else f"{message} (row {index})")
        self.reason, self.argument, self.index = message, argument, index


def check_inputs(
    y_true: ArrayLike, y_score: ArrayLike, groups: ArrayLike | None = None
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.str_]]:
    """Validate and convert inputs; raise :class:`FairnessInputError` at the first bad row.

    Args:
        y_true: Labels, 0 or 1, shape (n,), n >= 1.
        y_score: Scores (probability of class 1), finite and in [0, 1], shape (n,).
        groups: Group labels without None/NaN, shape (n,); None gives one group ``"all"``.

    Returns:
        ``(y_true, y_score, groups)`` as int64, float64 and str arrays of shape (n,).
    """
    true, score = np.asarray(y_true, dtype=object), np.asarray(y_score, dtype=object)
    group = np.asarray(["all"] * len(true) if groups is None else groups, dtype=object)
    if len(true) == 0:
        raise FairnessInputError("no rows: y_true is empty", argument="y_true")
    for name, arr in (("y_score", score), ("groups", group)):
        if arr.shape != true.shape:
            raise FairnessInputError(
                f"y_true has {len(true)} items but {name} has shape {arr.shape}", argument=name
            )
    bad = np.flatnonzero(pd.isna(group))
    if bad.size:
        raise FairnessInputError("group is missing (None/NaN)", argument="groups", index=bad[0])
    true_f = _as_float(true, "y_true")
    bad = np.flatnonzero((true_f != 0) & (true_f != 1))
    if bad.size:
        raise FairnessInputError(
            f"label must be 0 or 1, got {true[bad[0]]!r}", argument="y_true", index=bad[0]
        )
    score_f = _as_float(score, "y_score")
    bad = np.flatnonzero(~(np.isfinite(score_f) & (score_f >= 0) & (score_f <= 1)))
    if bad.size:
        raise FairnessInputError(
            f"score must be finite and in [0, 1], got {score[bad[0]]!r}",
            argument="y_score",
            index=bad[0],
        )
    return true_f.astype(np.int64), score_f, group.astype(str)


def _as_float(values: NDArray[Any], name: str) -> NDArray[np.float64]:
    numbers = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(np.float64)
    bad = np.flatnonzero(~pd.isna(values) & np.isnan(numbers))
    if bad.size:
        raise FairnessInputError(f"not a number: {values[bad[0]]!r}", argument=name, index=bad[0])
    return numbers


def group_order(labels: ArrayLike) -> list[str]:
    """Distinct labels: ``I``..``VI``, then ``uncertain``, then any others sorted."""
    known = [*FST_LABELS, UNCERTAIN]
    present = {str(g) for g in np.asarray(labels, dtype=object)}
    return [g for g in known if g in present] + sorted(present - set(known))


def _auc(y_true: NDArray[Any], y_score: NDArray[Any]) -> float:
    if len(np.unique(y_true)) < 2:
        return math.nan
    return float(roc_auc_score(y_true, y_score))


def rank_auc(y_true: NDArray[np.int64], y_score: NDArray[np.float64]) -> float:
    """ROC AUC as the Mann-Whitney statistic (ties count 1/2); NaN with one class only.

    Equal to ``sklearn.metrics.roc_auc_score`` and faster on the many small bootstrap samples.
    """
    pos = int(y_true.sum())
    neg = len(y_true) - pos
    if pos == 0 or neg == 0:
        return math.nan
    ranks = rankdata(y_score)
    return float((ranks[y_true == 1].sum() - pos * (pos + 1) / 2) / (pos * neg))


def _counts_frame(
    y_true: NDArray[np.int64], y_score: NDArray[np.float64], groups: NDArray[np.str_], t: float
) -> MetricFrame:
    # y_pred carries the scores so that AUC sees them; the counts threshold them here.
    def count(label: int, predicted: bool | None) -> Callable[[Any, Any], float]:
        def fn(yt: Any, ys: Any) -> float:
            hit = np.asarray(yt) == label
            if predicted is not None:
                hit &= (np.asarray(ys) >= t) == predicted
            return float(hit.sum())

        return fn

    return MetricFrame(
        metrics={"positives": count(1, None), "tp": count(1, True), "fp": count(0, True)}
        | {"n": lambda yt, ys: float(len(yt)), "auc": _auc},
        y_true=y_true,
        y_pred=y_score,
        sensitive_features=pd.Series(groups, name="group"),
    )


def _rates(n: float, pos: float, tp: float, fp: float, auc: float) -> tuple[Values, Reasons]:
    neg, fn = n - pos, pos - tp
    tn = neg - fp
    nan = math.nan
    values = {
        "accuracy": (tp + tn) / n,
        "sensitivity": tp / pos if pos else nan,
        "specificity": tn / neg if neg else nan,
        "precision": tp / (tp + fp) if tp + fp else nan,
        "f1": 2 * tp / (2 * tp + fp + fn) if pos else nan,
        "auc": auc if pos and neg else nan,
        "selection_rate": (tp + fp) / n,
    }
    why = {"sensitivity": NO_POS, "specificity": NO_NEG, "precision": NO_PRED, "f1": NO_POS}
    reasons = {m: why.get(m, ONE_CLASS) for m, v in values.items() if math.isnan(v)}
    return values, reasons


def _between(by_group: dict[str, Values]) -> tuple[dict[str, Any], Values, Reasons]:
    """Worst group per higher-is-better metric, gaps, EO and DP over defined groups.

    Groups in :data:`NOT_COMPARED` (no skin type could be given) are left out: a gap that an
    "uncertain" bucket drives is not a skin-tone gap.
    """
    by_group = {g: v for g, v in by_group.items() if g not in NOT_COMPARED}
    worst: dict[str, Any] = {}
    gaps: Values = {}
    reasons: Reasons = {}
    for m in METRICS:
        defined = {g: v[m] for g, v in by_group.items() if not math.isnan(v[m])}
        if m in HIGHER_IS_BETTER:
            low = min(defined, key=defined.__getitem__) if defined else None
            worst[m] = {"group": low, "value": defined[low] if low is not None else math.nan}
        gaps[m] = max(defined.values()) - min(defined.values()) if len(defined) > 1 else math.nan
        if math.isnan(gaps[m]):
            reasons[f"gap:{m}"] = FEW_GROUPS
    # NaN when either component is: EO over the groups that have one rate would understate it.
    eo = float(np.max([gaps["sensitivity"], gaps["specificity"]]))
    cross = dict(zip(CROSS, (eo, gaps["selection_rate"]), strict=True))
    reasons |= {k: FEW_GROUPS for k, v in cross.items() if math.isnan(v)}
    return worst, gaps | cross, reasons


def _point(
    y_true: NDArray[np.int64], y_score: NDArray[np.float64], groups: NDArray[np.str_], t: float
) -> dict[str, Any]:
    frame = _counts_frame(y_true, y_score, groups, t)
    counts = frame.by_group.astype(float)
    cols = ["n", "positives", "tp", "fp", "auc"]
    by_group: dict[str, Values] = {}
    undefined: list[dict[str, Any]] = []
    for g in group_order(groups):
        values, why = _rates(*counts.loc[g, cols].tolist())
        n, pos = int(counts.loc[g, "n"]), int(counts.loc[g, "positives"])
        by_group[g] = values | {"support": n, "positives": pos, "negatives": n - pos}
        undefined += [{"group": g, "metric": m, "reason": r} for m, r in why.items()]
    overall, why_overall = _rates(*frame.overall[cols].astype(float).tolist())
    worst, between, why = _between(by_group)
    undefined += [{"group": None, "metric": m, "reason": r} for m, r in (why_overall | why).items()]
    n, pos = len(y_true), int(y_true.sum())
    return {
        "overall": overall | {"support": n, "positives": pos, "negatives": n - pos},
        "by_group": by_group,
        "worst_group": worst,
        "gaps": {m: between[m] for m in METRICS},
        **{k: between[k] for k in CROSS},
        "undefined": undefined,
        "small_groups": [g for g, v in by_group.items() if v["support"] < SMALL_GROUP],
    }


def _sample_rates(data: _Data, rows: NDArray[np.intp]) -> Values:
    y_true, y_score, pred = data[0][rows], data[1][rows], data[2][rows]
    tp = float(np.count_nonzero(pred & (y_true == 1)))
    fp = float(np.count_nonzero(pred)) - tp
    auc = rank_auc(y_true, y_score)
    return _rates(float(len(rows)), float(y_true.sum()), tp, fp, auc)[0]


def _resample(
    data: _Data, members: dict[str, NDArray[np.intp]], rng: np.random.Generator
) -> dict[tuple[str, ...], float]:
    """One stratified resample: every group keeps its size; values keyed by result path."""
    picks = {g: rows[rng.integers(0, len(rows), len(rows))] for g, rows in members.items()}
    by_group = {g: _sample_rates(data, rows) for g, rows in picks.items()}
    overall = _sample_rates(data, np.concatenate(list(picks.values())))
    _, between, _ = _between(by_group)
    flat = {("overall", m): v for m, v in overall.items()} | {(k,): between[k] for k in CROSS}
    flat |= {("gaps", m): between[m] for m in METRICS}
    return flat | {("by_group", g, m): v for g, vals in by_group.items() for m, v in vals.items()}


def _interval(samples: list[float], level: float) -> dict[str, Any]:
    arr = np.asarray(samples, dtype=np.float64)
    valid = arr[~np.isnan(arr)]
    if valid.size == 0:
        return {"low": math.nan, "high": math.nan, "n_valid": 0}
    low, high = np.percentile(valid, [50 * (1 - level), 50 * (1 + level)])
    return {"low": float(low), "high": float(high), "n_valid": int(valid.size)}


def bootstrap_ci(
    y_true: NDArray[np.int64],
    y_score: NDArray[np.float64],
    groups: NDArray[np.str_],
    threshold: float,
    n_bootstrap: int,
    *,
    seed: int | np.random.Generator = 0,
    level: float = 0.95,
) -> dict[str, Any]:
    """Percentile bootstrap CIs, resampling rows with replacement within each group.

    Inputs are the validated arrays of :func:`check_inputs`, shape (n,). A resample where a
    value is undefined (e.g. a small group drew no positive) is skipped for that value only;
    ``n_valid`` counts the resamples that were used.

    Returns:
        ``level``, ``n_bootstrap``, ``method`` and ``{"low", "high", "n_valid"}`` intervals
        under ``overall[m]``, ``by_group[g][m]``, ``gaps[m]``, ``equalized_odds_difference``
        and ``demographic_parity_difference``.
    """
    if not 0 < level < 1:
        raise ValueError(f"CI level must be in (0, 1), got {level}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    data = (y_true, y_score, y_score >= threshold)
    members = {g: np.flatnonzero(groups == g) for g in group_order(groups)}
    samples: dict[tuple[str, ...], list[float]] = {}
    for _ in range(n_bootstrap):
        for key, value in _resample(data, members, rng).items():
            samples.setdefault(key, []).append(value)
    ci: dict[str, Any] = {
        "level": level,
        "n_bootstrap": n_bootstrap,
        "method": "percentile; rows resampled with replacement within each group",
        "overall": {},
        "by_group": {g: {} for g in members},
        "gaps": {},
    }
    for (*path, last), values in samples.items():
        node = ci
        for part in path:
            node = node[part]
        node[last] = _interval(values, level)
    return ci


def audit(
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    groups: ArrayLike,
    threshold: float = 0.5,
    n_bootstrap: int = 0,
    seed: int | np.random.Generator = 0,
    ci_level: float = 0.95,
) -> dict[str, Any]:
    """Fairness audit of binary predictions across groups; the result is JSON-able.

    Args:
        y_true: Labels, 0 or 1, shape (n,).
        y_score: Scores for class 1 in [0, 1], shape (n,); predicted 1 where ``>= threshold``.
        groups: Group label per row (no None/NaN), shape (n,).
        threshold: Decision threshold in [0, 1], chosen on validation data, never on test.
        n_bootstrap: Bootstrap resamples for CIs; 0 skips them (``ci`` is None).
        seed: Seed or generator for the resampling.
        ci_level: Coverage of the percentile intervals.

    Returns:
        ``n``, ``threshold``; ``overall`` and ``by_group[g]``: :data:`METRICS` plus ``support``,
        ``positives``, ``negatives``; ``worst_group[m]``: ``{"group", "value"}`` for
        higher-is-better metrics; ``gaps[m]``; ``equalized_odds_difference``;
        ``demographic_parity_difference``; ``ci`` (:func:`bootstrap_ci`); ``undefined``:
        ``{"group", "metric", "reason"}``, group None for overall and between-group values
        (``gap:auc``...); ``small_groups`` (support < :data:`SMALL_GROUP`). Undefined is NaN.

    Raises:
        ValueError: Bad input (a :class:`FairnessInputError` naming the row), a threshold
            outside [0, 1] or a negative ``n_bootstrap``.
    """
    true, score, group = check_inputs(y_true, y_score, groups)
    if not (math.isfinite(threshold) and 0 <= threshold <= 1):
        raise ValueError(f"threshold must be in [0, 1], got {threshold}")
    if n_bootstrap < 0:
        raise ValueError(f"n_bootstrap must be >= 0, got {n_bootstrap}")
    result = _point(true, score, group, threshold)
    ci = None
    if n_bootstrap:
        ci = bootstrap_ci(true, score, group, threshold, n_bootstrap, seed=seed, level=ci_level)
    return {"n": len(true), "threshold": float(threshold), **result, "ci": ci}


def choose_threshold(y_true: ArrayLike, y_score: ArrayLike) -> float:
    """Threshold maximising Youden's J = sensitivity + specificity - 1 on VALIDATION data.

    Feed this validation predictions only: a threshold tuned on the test split makes every
    test metric optimistic. Candidates are 0.5 and every distinct score (predict 1 where
    ``score >= t``); ties in J go to the candidate closest to 0.5, then the lower one. With a
    single class J is undefined and the fallback is 0.5.

    Args:
        y_true: Validation labels, 0 or 1, shape (n,).
        y_score: Validation scores in [0, 1], shape (n,).

    Returns:
        The threshold, in [0, 1].
    """
    true, score, _ = check_inputs(y_true, y_score)
    pos_scores, neg_scores = np.sort(score[true == 1]), np.sort(score[true == 0])
    if pos_scores.size == 0 or neg_scores.size == 0:
        return 0.5
    cand = np.unique(np.append(score, 0.5))
    tpr = 1 - np.searchsorted(pos_scores, cand, side="left") / pos_scores.size
    fpr = 1 - np.searchsorted(neg_scores, cand, side="left") / neg_scores.size
    j = tpr - fpr
    best = np.flatnonzero(j >= j.max() - 1e-12)  # float slack so exact ties stay ties
    return float(cand[best[np.argmin(np.abs(cand[best] - 0.5))]])
