"""Per-group classification metrics, worst group, gaps, EO/DP and bootstrap CIs.

Binary task: melanocytic (1) vs non-melanocytic (0); a prediction is ``y_score >= threshold``.
Groups are any string labels (Fitzpatrick types ``I``..``VI`` or ``uncertain`` here).

Confusion counts and the AUC per group come from a fairlearn
:class:`~fairlearn.metrics.MetricFrame` over the base functions of
:mod:`benchmark.metrics.rates`, and every rate is derived from the counts there, so that an
undefined value is NaN with a reason instead of the 0 that scikit-learn's ``zero_division``
(and so fairlearn) returns. The formulas and reasons are that module's table; accuracy and
selection rate are always defined here (every group has a row). F1 is NaN without positives
even when FP > 0: a group without melanocytic lesions has no detection performance to rank,
and a 0 would make it the worst group. All metrics are shares in [0, 1].

Between groups, only the *compared* groups take part (:func:`compared_groups`): skin types
(not ``uncertain`` or ``missing``) with at least ``min_positives`` positives and
``min_negatives`` negatives in the audited labels. A group below the rule is shown with its
own numbers and exact intervals, flagged, and left out of worst group, gaps, EO and DP: with
one positive its sensitivity is 0 or 1, and it would decide every headline. The set depends
on labels only, so two runs on the same test images compare the same groups. The gap is
max - min over the compared groups and the worst group the lowest value (ties: the first in
:func:`group_order`); a gap is NaN with fewer than two compared groups or when one of them
leaves the metric undefined. The equalized-odds difference is max(TPR gap, FPR gap) and the
demographic-parity difference the selection-rate gap, as fairlearn's
``equalized_odds_difference`` / ``demographic_parity_difference`` ("between_groups") define
them, except that fairlearn scores a group without positives as TPR 0. The FPR gap equals the
specificity gap, so ``gaps`` holds both EO components; EO is NaN when either is.

Intervals: a patient-level bootstrap (:mod:`benchmark.metrics.bootstrap`) for every value,
and exact Clopper-Pearson intervals (:mod:`benchmark.metrics.intervals`) for the per-group
rates that are binomial proportions.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from fairlearn.metrics import MetricFrame
from numpy.typing import ArrayLike, NDArray

from benchmark.core.defaults import MIN_NEGATIVES, MIN_POSITIVES
from benchmark.core.fitzpatrick import FST_LABELS, MISSING, UNCERTAIN
from benchmark.metrics.bootstrap import (
    PATIENT,
    Resampling,
    interval,
    nest,
    resampled_metrics,
)
from benchmark.metrics.inputs import check_clusters, check_inputs
from benchmark.metrics.intervals import EXACT_METHOD, clopper_pearson
from benchmark.metrics.rates import ONE_CLASS, Confusion, confusion, confusion_rates, roc_auc

METRICS = ("accuracy", "sensitivity", "specificity", "precision", "f1", "auc", "selection_rate")
# Metrics where lower is worse; selection rate has no better direction, so no worst group.
HIGHER_IS_BETTER = METRICS[:-1]
# Per-group rows, but not in worst group, gaps, EO or DP: they are not skin types.
NOT_COMPARED = (UNCERTAIN, MISSING)
SMALL_GROUP = 30  # groups with fewer images are listed in ``small_groups``
FEW_GROUPS = "fewer than two compared groups (see the rule)"
CROSS = ("equalized_odds_difference", "demographic_parity_difference")

Values = dict[str, float]
Reasons = dict[str, str]


def group_order(labels: ArrayLike) -> list[str]:
    """Distinct labels: ``I``..``VI``, then ``uncertain``, then any others sorted."""
    known = [*FST_LABELS, UNCERTAIN]
    present = {str(g) for g in np.asarray(labels, dtype=object)}
    return [g for g in known if g in present] + sorted(present - set(known))


def rank_auc(y_true: NDArray[np.int64], y_score: NDArray[np.float64]) -> float:
    """ROC AUC of (n,) labels and (n,) scores (ties count 1/2); NaN with one class only.

    The name stays for its callers; the value is the one AUC, :func:`~benchmark.metrics.
    rates.roc_auc`.
    """
    return roc_auc(y_true, y_score).value


_COUNTS = ("n", "positives", "tp", "fp")  # the MetricFrame columns a Confusion is built from


def _counts_frame(
    y_true: NDArray[np.int64], y_score: NDArray[np.float64], groups: NDArray[np.str_], t: float
) -> MetricFrame:
    # y_pred carries the scores so that AUC sees them; the counts threshold them here.
    def count(name: str) -> Callable[[Any, Any], float]:
        def fn(yt: Any, ys: Any) -> float:
            return float(getattr(confusion(yt, np.asarray(ys) >= t), name))

        return fn

    return MetricFrame(
        metrics={c: count(c) for c in _COUNTS} | {"auc": lambda yt, ys: roc_auc(yt, ys).value},
        y_true=y_true,
        y_pred=y_score,
        sensitive_features=pd.Series(groups, name="group"),
    )


def _rates(counts: Confusion, auc: float) -> tuple[Values, Reasons]:
    """:data:`METRICS` of one set of rows and the reason of each NaN, in that order."""
    base = confusion_rates(counts)
    # The frame holds the AUC's value only; roc_auc is NaN for one reason, one class only.
    one_class = ONE_CLASS if math.isnan(auc) else None
    rates = {m: (r.value, r.reason) for m, r in base.items()} | {"auc": (auc, one_class)}
    values = {m: rates[m][0] for m in METRICS}
    reasons = {m: why for m in METRICS if (why := rates[m][1]) is not None}
    return values, reasons


def _confusion(row: pd.Series) -> Confusion:
    return Confusion.from_counts(*(int(row[c]) for c in _COUNTS))


def compared_groups(
    y_true: NDArray[np.int64],
    groups: NDArray[np.str_],
    min_positives: int,
    min_negatives: int,
    exclude: Sequence[str] = (),
) -> list[str]:
    """Groups that take part in worst group, gaps, EO and DP, in :func:`group_order`.

    Skin types only (never :data:`NOT_COMPARED` or ``exclude``), with ``>= min_positives``
    positives and ``>= min_negatives`` negatives. Labels only: every run on the same images
    gets the same set.
    """
    out = []
    skip = {*NOT_COMPARED, *exclude}
    for g in group_order(groups):
        labels = y_true[groups == g]
        pos = int(labels.sum())
        if g not in skip and pos >= min_positives and len(labels) - pos >= min_negatives:
            out.append(g)
    return out


def comparison_rule(min_positives: int, min_negatives: int) -> str:
    """The sentence every table of between-group results states."""
    return (
        f"Worst group, gaps, EO and DP compare only skin types with at least {min_positives} "
        f"positives and {min_negatives} negatives among the audited images; other groups are "
        "shown, flagged, and left out of them."
    )


def _between(
    by_group: dict[str, Values], compared: list[str]
) -> tuple[dict[str, Any], Values, Reasons]:
    """Worst group per higher-is-better metric, gaps, EO and DP over the compared groups."""
    worst: dict[str, Any] = {}
    gaps: Values = {}
    reasons: Reasons = {}
    for m in METRICS:
        values = {g: by_group[g][m] for g in compared}
        defined = {g: v for g, v in values.items() if not math.isnan(v)}
        if m in HIGHER_IS_BETTER:
            low = min(defined, key=defined.__getitem__) if defined else None
            worst[m] = {"group": low, "value": defined[low] if low is not None else math.nan}
        whole = len(values) > 1 and len(defined) == len(values)
        gaps[m] = max(defined.values()) - min(defined.values()) if whole else math.nan
        if len(values) < 2:
            reasons[f"gap:{m}"] = FEW_GROUPS
        elif not whole:
            reasons[f"gap:{m}"] = f"undefined in group(s) {sorted(set(values) - set(defined))}"
    eo = float(np.max([gaps["sensitivity"], gaps["specificity"]]))
    cross = dict(zip(CROSS, (eo, gaps["selection_rate"]), strict=True))
    reasons |= {k: FEW_GROUPS for k, v in cross.items() if math.isnan(v)}
    return worst, gaps | cross, reasons


def _exact(c: Confusion, level: float) -> dict[str, dict[str, float]]:
    """Clopper-Pearson intervals of the binomial per-group rates (NaN where undefined)."""
    trials = {
        "accuracy": (c.tp + c.tn, c.n),
        "sensitivity": (c.tp, c.positives),
        "specificity": (c.tn, c.negatives),
        "precision": (c.tp, c.predicted_positives),
        "selection_rate": (c.predicted_positives, c.n),
    }
    out = {}
    for m, (k, total) in trials.items():
        low, high = clopper_pearson(k, total, level)
        out[m] = {"low": low, "high": high, "successes": k, "trials": total}
    return out


def _point(
    data: tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.str_]],
    t: float,
    compared: list[str],
    level: float,
) -> dict[str, Any]:
    y_true, y_score, groups = data
    frame = _counts_frame(y_true, y_score, groups, t)
    by_group: dict[str, Values] = {}
    exact: dict[str, Any] = {}
    undefined: list[dict[str, Any]] = []
    for g in group_order(groups):
        row = frame.by_group.loc[g]
        counts = _confusion(row)
        values, why = _rates(counts, float(row["auc"]))
        by_group[g] = values | {"support": counts.n, "positives": counts.positives}
        by_group[g] |= {"negatives": counts.negatives, "compared": g in compared}
        exact[g] = _exact(counts, level)
        undefined += [{"group": g, "metric": m, "reason": r} for m, r in why.items()]
    overall, why_overall = _rates(_confusion(frame.overall), float(frame.overall["auc"]))
    worst, between, why = _between(by_group, compared)
    undefined += [{"group": None, "metric": m, "reason": r} for m, r in (why_overall | why).items()]
    n, pos = len(y_true), int(y_true.sum())
    return {
        "overall": overall | {"support": n, "positives": pos, "negatives": n - pos},
        "by_group": by_group,
        "exact": {"level": level, "method": EXACT_METHOD, "by_group": exact},
        "worst_group": worst,
        "gaps": {m: between[m] for m in METRICS},
        **{k: between[k] for k in CROSS},
        "undefined": undefined,
        "small_groups": [g for g, v in by_group.items() if v["support"] < SMALL_GROUP],
        "compared_groups": compared,
    }


def bootstrap_ci(
    data: tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.str_]],
    threshold: float,
    resampling: Resampling,
    compared: list[str],
    level: float = 0.95,
) -> dict[str, Any]:
    """Percentile intervals of every value over the resamples of ``resampling``.

    Args:
        data: Validated ``(y_true, y_score, groups)`` of :func:`check_inputs`, shape (n,).
        threshold: Decision threshold.
        resampling: Patient-level (or image-level) resamples of these images.
        compared: The fixed groups of every between-group statistic.
        level: Coverage.

    Returns:
        ``level``, ``n_bootstrap``, ``unit``, ``method`` and ``{"low", "high", "n_valid",
        "n_invalid"}`` under ``overall[m]``, ``by_group[g][m]``, ``gaps[m]`` and the two
        cross-group differences; a resample that leaves a value undefined is invalid for it.
    """
    if not 0 < level < 1:
        raise ValueError(f"CI level must be in (0, 1), got {level}")
    samples = resampled_metrics(data[0], data[1], threshold, resampling, compared)
    tree = nest({k: interval(v, level) for k, v in samples.items()}, resampling.groups)
    unit = "patients" if resampling.unit == PATIENT else "images (no patient ids)"
    method = f"percentile; {unit} resampled with replacement within each group"
    head = {"level": level, "n_bootstrap": resampling.n_bootstrap, "unit": resampling.unit}
    return head | {"method": method, **tree}


def audit(
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    groups: ArrayLike,
    clusters: ArrayLike | None = None,
    threshold: float = 0.5,
    n_bootstrap: int = 0,
    seed: int | np.random.Generator = 0,
    ci_level: float = 0.95,
    min_positives: int = MIN_POSITIVES,
    min_negatives: int = MIN_NEGATIVES,
    not_compared: Sequence[str] = (),
) -> dict[str, Any]:
    """Fairness audit of binary predictions across groups; the result is JSON-able.

    Args:
        y_true: Labels, 0 or 1, shape (n,).
        y_score: Scores for class 1 in [0, 1], shape (n,); predicted 1 where ``>= threshold``.
        groups: Group label per row (no None/NaN), shape (n,).
        clusters: Patient id per row, shape (n,); the bootstrap resamples patients. None:
            images are resampled as independent (the result says so).
        threshold: Decision threshold in [0, 1], chosen on validation data, never on test.
        n_bootstrap: Bootstrap resamples for CIs; 0 skips them (``ci`` is None).
        seed: Seed or generator for the resampling.
        ci_level: Coverage of every interval.
        min_positives: Fewer positives keep a group out of worst group, gaps, EO and DP.
        min_negatives: The same for negatives.
        not_compared: Further groups shown but never compared (intersection cells below
            their minimum support, or holding an unknown type).

    Returns:
        ``n``, ``threshold``; ``overall`` and ``by_group[g]``: :data:`METRICS` plus ``support``,
        ``positives``, ``negatives`` (and ``compared`` per group); ``exact``: Clopper-Pearson
        intervals per group; ``worst_group[m]``: ``{"group", "value"}``; ``gaps[m]``;
        ``equalized_odds_difference``; ``demographic_parity_difference``; ``ci``
        (:func:`bootstrap_ci`); ``undefined``: ``{"group", "metric", "reason"}``;
        ``small_groups`` (support < :data:`SMALL_GROUP`); ``compared_groups`` and ``rule``.

    Raises:
        ValueError: Bad input (a :class:`FairnessInputError` naming the row), a threshold
            outside [0, 1], a negative ``n_bootstrap`` or a negative minimum.
    """
    true, score, group = check_inputs(y_true, y_score, groups)
    if not (math.isfinite(threshold) and 0 <= threshold <= 1):
        raise ValueError(f"threshold must be in [0, 1], got {threshold}")
    if n_bootstrap < 0 or min_positives < 0 or min_negatives < 0:
        raise ValueError("n_bootstrap, min_positives and min_negatives must be >= 0")
    cluster = check_clusters(clusters, len(true))
    compared = compared_groups(true, group, min_positives, min_negatives, not_compared)
    result = _point((true, score, group), threshold, compared, ci_level)
    ci = None
    if n_bootstrap:
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        res = Resampling.draw(group, cluster, group_order(group), n_bootstrap, rng)
        ci = bootstrap_ci((true, score, group), threshold, res, compared, ci_level)
    rule = comparison_rule(min_positives, min_negatives)
    return {"n": len(true), "threshold": float(threshold), **result, "rule": rule, "ci": ci}


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
