"""Patient-level bootstrap of per-group classification metrics, vectorised, and paired.

Resampling unit. Within each group (Fitzpatrick type), the *clusters* of that group (patient
ids; an image without a patient is its own cluster) are drawn with replacement, as many as
the group has, so each group keeps its number of patients while its number of images varies.
Images of one patient are correlated (same skin, often the same lesion), so resampling
images as if independent gives intervals that are too narrow. A patient whose images fall in
two groups is a cluster in each.

Vectorised. A resample is a row of integer weights over a group's clusters (``B x K``
multinomial draws); counts per group are ``weights @ per-cluster counts``, and ROC AUC is the
weighted Mann-Whitney statistic over the group's distinct scores (ties count 1/2), so
thousands of resamples cost a few matrix products.

Fixed group sets. A between-group statistic (gap, equalized odds, demographic parity) is
taken over the groups chosen on the full test set (:func:`benchmark.metrics.fairness.
compared_groups`), in every resample. A resample where any of them leaves the metric
undefined (a group drew no positive) is *invalid* for that statistic and counted; it is never
replaced by a gap over fewer groups.

Paired. Two runs scored on the same images share one set of resamples, so the difference of
any statistic is resampled jointly; its interval and two-sided p-value come from the
distribution of the differences (:func:`paired_bootstrap`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]
RATE_METRICS = ("accuracy", "sensitivity", "specificity", "precision", "f1", "auc")
ALL_METRICS = (*RATE_METRICS, "selection_rate")
CROSS = ("equalized_odds_difference", "demographic_parity_difference")
PATIENT, IMAGE = "patient", "image"


@dataclass(frozen=True)
class Resampling:
    """One set of resamples, reusable for every run scored on the same images.

    Attributes:
        groups: Group labels, in order.
        rows: Per group, the (n_g,) row indices of its images.
        cluster: Per group, the (n_g,) cluster index (0..K_g-1) of each of its images.
        weights: Per group, (B, K_g) float64: how often each cluster is drawn per resample.
        unit: ``"patient"`` or ``"image"`` (no cluster ids given).
    """

    groups: tuple[str, ...]
    rows: dict[str, NDArray[np.intp]]
    cluster: dict[str, NDArray[np.intp]]
    weights: dict[str, F64]
    unit: str

    @property
    def n_bootstrap(self) -> int:
        """Number of resamples B."""
        return int(next(iter(self.weights.values())).shape[0])

    @classmethod
    def draw(
        cls,
        groups: NDArray[np.str_],
        clusters: NDArray[np.str_] | None,
        order: Sequence[str],
        n_bootstrap: int,
        rng: np.random.Generator,
    ) -> Resampling:
        """Draw ``n_bootstrap`` stratified cluster resamples.

        Args:
            groups: (n,) group label per image.
            clusters: (n,) patient id per image, or None to resample images.
            order: The groups to stratify by (every label of ``groups``), in order.
            n_bootstrap: Resamples, >= 1.
            rng: Generator; groups draw in ``order``, so the draw is reproducible.
        """
        if n_bootstrap < 1:
            raise ValueError(f"n_bootstrap must be >= 1, got {n_bootstrap}")
        ids = np.arange(len(groups)).astype(str) if clusters is None else clusters
        rows, cluster, weights = {}, {}, {}
        for g in order:
            rows[g] = np.flatnonzero(groups == g)
            _, cluster[g] = np.unique(ids[rows[g]], return_inverse=True)
            k = int(cluster[g].max()) + 1
            weights[g] = rng.multinomial(k, np.full(k, 1.0 / k), size=n_bootstrap).astype(float)
        unit = IMAGE if clusters is None else PATIENT
        return cls(tuple(order), rows, cluster, weights, unit)

    def identity(self) -> Resampling:
        """The full sample as one 'resample' (every cluster once): point estimates."""
        ones = {g: np.ones((1, int(c.max()) + 1)) for g, c in self.cluster.items()}
        return Resampling(self.groups, self.rows, self.cluster, ones, self.unit)


def _per_cluster(values: NDArray[Any], cluster: NDArray[np.intp], k: int) -> F64:
    return np.bincount(cluster, weights=values.astype(float), minlength=k).astype(np.float64)


def _weighted_auc(pos: F64, neg: F64) -> F64:
    """(B, U) weights of positives and negatives per distinct score (ascending) -> (B,) AUC."""
    below = np.cumsum(neg, axis=1) - neg  # negatives strictly below each score
    wins = np.sum(pos * (below + 0.5 * neg), axis=1)
    total = pos.sum(axis=1) * neg.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, wins / np.where(total > 0, total, 1), np.nan)


def _score_weights(
    y_true: NDArray[np.int64], y_score: F64, res: Resampling, groups: Sequence[str]
) -> tuple[F64, F64]:
    """(B, U) weights of positives / negatives per distinct score over ``groups``' images."""
    rows = np.concatenate([res.rows[g] for g in groups])
    uniq, where = np.unique(y_score[rows], return_inverse=True)
    b = res.n_bootstrap
    pos, neg = np.zeros((b, uniq.size)), np.zeros((b, uniq.size))
    start = 0
    for g in groups:
        n_g = res.rows[g].size
        col, label = where[start : start + n_g], y_true[res.rows[g]]
        image_w = res.weights[g][:, res.cluster[g]]  # (B, n_g)
        for target, mask in ((pos, label == 1), (neg, label == 0)):
            # Sum image weights into their score's column (np.add.at along axis 1).
            onehot = np.zeros((int(mask.sum()), uniq.size))
            onehot[np.arange(onehot.shape[0]), col[mask]] = 1.0
            target += image_w[:, mask] @ onehot
        start += n_g
    return pos, neg


def _rates(n: F64, pos: F64, tp: F64, fp: F64, auc: F64) -> dict[str, F64]:
    """Vectorised metric formulas of :mod:`benchmark.metrics.fairness`; NaN where undefined."""
    neg, fn = n - pos, pos - tp
    tn = neg - fp

    def ratio(num: F64, den: F64) -> F64:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)

    return {
        "accuracy": ratio(tp + tn, n),
        "sensitivity": ratio(tp, pos),
        "specificity": ratio(tn, neg),
        "precision": ratio(tp, tp + fp),
        "f1": np.where(pos > 0, ratio(2 * tp, 2 * tp + fp + fn), np.nan),
        "auc": np.where((pos > 0) & (neg > 0), auc, np.nan),
        "selection_rate": ratio(tp + fp, n),
    }


def _group_counts(
    data: tuple[NDArray[np.int64], F64, NDArray[np.bool_]], res: Resampling, g: str
) -> tuple[F64, F64, F64, F64]:
    y, _, pred = (a[res.rows[g]] for a in data)
    k, w = res.weights[g].shape[1], res.weights[g]
    c = res.cluster[g]
    cols = (np.ones(len(y)), y == 1, pred & (y == 1), pred & (y == 0))
    n, pos, tp, fp = (w @ _per_cluster(v, c, k) for v in cols)
    return n, pos, tp, fp


def resampled_metrics(
    y_true: NDArray[np.int64],
    y_score: F64,
    threshold: float,
    res: Resampling,
    compared: Sequence[str],
) -> dict[tuple[str, ...], F64]:
    """Every statistic of one run under each resample of ``res``.

    Args:
        y_true: (n,) labels, 0 or 1.
        y_score: (n,) scores in [0, 1].
        threshold: Predict 1 where ``y_score >= threshold``.
        res: The resamples (the same for every run on these images).
        compared: The fixed groups of every between-group statistic.

    Returns:
        ``{path: (B,) values}`` with paths ``("overall", m)``, ``("by_group", g, m)``,
        ``("gaps", m)`` and ``(cross,)``; NaN where undefined in that resample.
    """
    data = (y_true, y_score, y_score >= threshold)
    b = res.n_bootstrap
    out: dict[tuple[str, ...], F64] = {}
    zero = np.zeros(res.n_bootstrap)
    totals = (zero, zero, zero, zero)
    for g in res.groups:
        counts = _group_counts(data, res, g)
        n, pos, tp, fp = (t + c for t, c in zip(totals, counts, strict=True))
        totals = (n, pos, tp, fp)
        auc = _weighted_auc(*_score_weights(y_true, y_score, res, [g]))
        out |= {("by_group", g, m): v for m, v in _rates(*counts, auc).items()}
    overall_auc = _weighted_auc(*_score_weights(y_true, y_score, res, res.groups))
    out |= {("overall", m): v for m, v in _rates(*totals, overall_auc).items()}
    for m in ALL_METRICS:
        columns = [out[("by_group", g, m)] for g in compared]
        out[("gaps", m)] = fixed_gap(np.stack(columns, 1) if columns else np.empty((b, 0)))
    sens, spec = out[("gaps", "sensitivity")], out[("gaps", "specificity")]
    out[(CROSS[0],)] = np.where(np.isnan(sens) | np.isnan(spec), np.nan, np.fmax(sens, spec))
    out[(CROSS[1],)] = out[("gaps", "selection_rate")]
    return out


def fixed_gap(values: F64) -> F64:
    """(B, G) values of G fixed groups -> (B,) max - min; NaN if any group is NaN or G < 2."""
    if values.shape[1] < 2:
        return np.full(values.shape[0], np.nan)
    # max and min propagate NaN: a resample with an undefined group has no gap.
    return np.asarray(values.max(axis=1) - values.min(axis=1), dtype=np.float64)


def interval(samples: F64, level: float) -> dict[str, Any]:
    """Percentile interval over the valid (non-NaN) resamples, with valid/invalid counts."""
    valid = samples[~np.isnan(samples)]
    counts = {"n_valid": int(valid.size), "n_invalid": int(samples.size - valid.size)}
    if valid.size == 0:
        return {"low": math.nan, "high": math.nan, **counts}
    low, high = np.percentile(valid, [50 * (1 - level), 50 * (1 + level)])
    return {"low": float(low), "high": float(high), **counts}


def p_value(deltas: F64) -> float:
    """Two-sided paired-bootstrap p-value of Δ = 0 from (B,) resampled differences.

    Twice the smaller tail share (ties at 0 count half to each side), with the +1 of
    Davison & Hinkley so that it is never 0; NaN without a valid resample.
    """
    valid = deltas[~np.isnan(deltas)]
    if valid.size == 0:
        return math.nan
    ties = 0.5 * np.count_nonzero(valid == 0)
    tail = min(np.count_nonzero(valid < 0), np.count_nonzero(valid > 0)) + ties
    return float(min(1.0, 2 * (tail + 1) / (valid.size + 1)))


def nest(flat: dict[tuple[str, ...], Any], groups: Sequence[str]) -> dict[str, Any]:
    """``{path: value}`` -> the nested ``overall`` / ``by_group`` / ``gaps`` / cross layout."""
    tree: dict[str, Any] = {"overall": {}, "by_group": {g: {} for g in groups}, "gaps": {}}
    for (*path, last), value in flat.items():
        node = tree
        for part in path:
            node = node[part]
        node[last] = value
    return tree
