"""Between skin-type groups: which groups are compared, the contrast, gaps, the threshold.

Binary task: melanocytic (1) vs non-melanocytic (0); a prediction is ``y_score >= threshold``
(or a given decision). The per-group rates come from :mod:`benchmark.metrics.weighted`
(the formulas of :mod:`benchmark.metrics.rates`, NaN with a reason where undefined).

**Compared groups** (:func:`compared_groups`): skin types (never ``uncertain`` or
``missing``) with at least ``min_positives`` *patients* with a positive image and
``min_negatives`` patients with a negative one. Six positive images of one patient are one
patient: with them a group's sensitivity is that patient's, and undefined in a third of the
patient resamples. A group below the rule is shown with its own numbers, flagged, and left
out of worst group and gaps. The set depends on labels only, so two runs on the same test
images compare the same groups.

**The primary contrast** (:class:`~benchmark.core.fitzpatrick.ContrastSpec`): a signed
difference between two named sets of skin types, by default V–VI minus I–II, of a metric
that does not move with the threshold (AUC within each pooled set). Negative: the darker
set is served worse. It is pre-specified, so it is one test, not one of many. Sensitivity
at each run's validation-chosen threshold is its stated secondary.

**Gaps** (:func:`gap`): max − min of a metric over the compared groups, a secondary
summary. A max minus a min of noisy groups is above 0 even when the groups do not differ,
so its interval says nothing about "a gap exists"; its permutation p-value does.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from benchmark.core.fitzpatrick import FST_LABELS, MISSING, UNCERTAIN
from benchmark.metrics.inputs import check_inputs
from benchmark.metrics.units import Units, patient_counts
from benchmark.metrics.weighted import METRICS

# Metrics where lower is worse; selection rate has no better direction, so no worst group.
HIGHER_IS_BETTER = METRICS[:-1]
# Per-group rows, but never compared: they are not skin types.
NOT_COMPARED = (UNCERTAIN, MISSING)
SMALL_GROUP = 30  # groups with fewer images are flagged as small
FEW_GROUPS = "fewer than two compared groups (see the rule)"


def group_order(labels: ArrayLike) -> list[str]:
    """Distinct labels: ``I``..``VI``, then ``uncertain``, ``missing``, others sorted."""
    known = [*FST_LABELS, UNCERTAIN, MISSING]
    present = {str(g) for g in np.asarray(labels, dtype=object)}
    return [g for g in known if g in present] + sorted(present - set(known))


def compared_groups(
    units: Units, min_positives: int, min_negatives: int, exclude: Sequence[str] = ()
) -> list[str]:
    """Groups that take part in worst group and gaps, in :func:`group_order`.

    Skin types only (never :data:`NOT_COMPARED` or ``exclude``) with at least
    ``min_positives`` units (patients) holding a positive image and ``min_negatives`` units
    holding a negative one.
    """
    skip = {*NOT_COMPARED, *exclude}
    out = []
    for g in group_order(units.group):
        _, pos, neg = patient_counts(units, g)
        if g not in skip and pos >= min_positives and neg >= min_negatives:
            out.append(g)
    return out


def comparison_rule(min_positives: int, min_negatives: int, unit: str) -> str:
    """The sentence every table of between-group results states."""
    return (
        f"Worst group and gaps compare only skin types with at least {min_positives} {unit} "
        f"with a positive image and {min_negatives} with a negative one; other groups are "
        "shown, flagged, and left out of them."
    )


def gap(values: NDArray[np.float64]) -> NDArray[np.float64]:
    """(..., G) values of G fixed groups -> (...) max - min; NaN if any is NaN or G < 2."""
    if values.shape[-1] < 2:
        return np.full(values.shape[:-1], np.nan)
    # max and min propagate NaN: a draw with an undefined group has no gap.
    return np.asarray(values.max(axis=-1) - values.min(axis=-1), dtype=np.float64)


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
