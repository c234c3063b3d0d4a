"""Equity-scaled metrics: a performance value discounted by how far the groups are from it.

ES(m) = m_overall / (1 + sum_g |m_overall - m_g|), as FairMedFM and Harvard-FairVLMed define
the equity-scaled AUC (and, for segmentation, the equity-scaled Dice). It equals the overall
value when every group matches it and falls as groups spread; unlike a max - min gap it
weighs every group, so it grows with the number of groups too: compare it only across
models audited on the same groups. NaN (with the reason) when the overall value or any
group's is undefined, or when there are no groups.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from numpy.typing import ArrayLike, NDArray

from benchmark.metrics.rates import Rate, roc_auc


def equity_scaled_values(overall: NDArray[np.float64], by_group: NDArray[np.float64]
                         ) -> NDArray[np.float64]:  # fmt: skip
    """(...) overall values and (..., G) group values -> (...) ES; NaN where any is NaN."""
    spread = np.abs(overall[..., None] - by_group).sum(axis=-1)
    return np.asarray(overall / (1 + spread), dtype=np.float64)


def equity_scaled(overall: float, by_group: Mapping[str, float]) -> Rate:
    """ES of an overall value and its per-group values (module docstring).

    Args:
        overall: The metric over all rows (e.g. AUC or mean Dice).
        by_group: The same metric per group.

    Returns:
        The equity-scaled value, its support the number of groups; NaN with the reason
        when a value is undefined.
    """
    undefined = sorted(g for g, v in by_group.items() if math.isnan(v))
    if not by_group:
        return Rate(math.nan, 0, "no groups")
    if math.isnan(overall):
        return Rate(math.nan, len(by_group), "overall value undefined")
    if undefined:
        return Rate(math.nan, len(by_group), f"undefined in group(s) {undefined}")
    value = equity_scaled_values(np.array(overall), np.array(list(by_group.values())))
    return Rate(float(value), len(by_group))


def equity_scaled_auc(y_true: ArrayLike, y_score: ArrayLike, *, groups: ArrayLike) -> Rate:
    """Equity-scaled ROC AUC of (n,) 0/1 labels and (n,) scores over (n,) group labels."""
    true, score = np.asarray(y_true), np.asarray(y_score, dtype=np.float64)
    group = np.asarray(groups).astype(str)
    by_group = {g: roc_auc(true[group == g], score[group == g]).value for g in np.unique(group)}
    return equity_scaled(roc_auc(true, score).value, by_group)
