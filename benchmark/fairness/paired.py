"""Two models on the same test images: Δ = B − A of the headline statistics, paired.

Two intervals that overlap say nothing about whether one model beats the other: the models
share images, so their errors are correlated. Here both are evaluated on the same
resamples: the same patient draws, and (several seeds each) the same run draws, run k of A
beside run k of B. Δ of each statistic (overall AUC, sensitivity and specificity, the
primary contrast and its secondary, the max − min gaps, equalized odds) has

- an interval from those shared replicates (percentiles of Δ), and
- a p-value from a paired permutation test: each patient's outputs (scores and decisions of
  every run) are swapped between A and B with probability 1/2; under "A and B are
  exchangeable on every patient" every swap is as likely as the data. It is exact for any
  statistic, a max − min gap included, and it holds the trained models fixed: the interval,
  not the p-value, is what covers seeds.

Several comparisons against one baseline are corrected by Holm, statistic by statistic,
where they are reported together (:mod:`benchmark.fairness.tone_gaps`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from benchmark.core.records import Record
from benchmark.fairness.between import EO, gap_statistics, side_problem
from benchmark.fairness.inputs import (
    AuditOptions,
    GroupContext,
    Prepared,
    RunInput,
    prepare,
    provenance_of,
    settings_of,
)
from benchmark.fairness.result import Provenance, RunInfo, Settings
from benchmark.metrics.estimates import Estimate, Significance, percentile_interval, permutation_p
from benchmark.metrics.fairness import comparison_rule
from benchmark.metrics.runs import Metrics, RunStats, Statistic
from benchmark.metrics.weighted import Scored

F64 = NDArray[np.float64]


@dataclass(frozen=True)
class PairedRow:
    """One statistic of A and B and their difference.

    Attributes:
        key: ``overall_auc``, ``contrast_auc``, ``gap_sensitivity``...
        label: How tables name it.
        a: A's value (mean over its runs).
        b: B's value.
        delta: B − A with the shared-replicate interval; undefined with the reason.
        test: The paired swap test (None when not run); ``p_holm`` set within a family.
    """

    key: str
    label: str
    a: float
    b: float
    delta: Estimate
    test: Significance | None


@dataclass(frozen=True)
class PairedResult(Record):
    """Model B against model A on the same images.

    Attributes:
        a: A's name (a variant or a file).
        b: B's name.
        runs_a: A's runs.
        runs_b: B's runs (paired with A's by position).
        settings: Level, resamples, permutations, seed, the rule's minimums.
        provenance: Groups and units.
        images: Shared test images.
        compared: The compared groups (labels only: the same for A and B).
        rule: The compared-groups rule.
        contrast: The primary contrast's label (``V–VI − I–II``).
        rows: The statistics, in table order.
    """

    a: str
    b: str
    runs_a: tuple[RunInfo, ...]
    runs_b: tuple[RunInfo, ...]
    settings: Settings
    provenance: Provenance
    images: int
    compared: tuple[str, ...]
    rule: str
    contrast: str
    rows: tuple[PairedRow, ...]

    def row(self, key: str) -> PairedRow:
        """The row of ``key``."""
        return next(r for r in self.rows if r.key == key)


def _statistics(data: Prepared, contrast: str) -> dict[str, tuple[str, Statistic]]:
    """Key -> (label, statistic over the audit's sets)."""
    everything, high, low = data.all_index, data.all_index + 1, data.all_index + 2

    def at(metric: str, s: int) -> Statistic:
        return lambda m: m[metric][:, s]

    def diff(metric: str) -> Statistic:
        return lambda m: m[metric][:, high] - m[metric][:, low]

    gaps = gap_statistics([data.order.index(g) for g in data.compared])
    return {
        "overall_auc": ("AUC (all images)", at("auc", everything)),
        "overall_sensitivity": ("sensitivity (all images)", at("sensitivity", everything)),
        "overall_specificity": ("specificity (all images)", at("specificity", everything)),
        "contrast_auc": (f"AUC {contrast} (primary)", diff("auc")),
        "contrast_sensitivity": (f"sensitivity {contrast} (secondary)", diff("sensitivity")),
        "gap_sensitivity": ("sensitivity gap (max − min)", gaps["sensitivity"]),
        "gap_specificity": ("specificity gap (max − min)", gaps["specificity"]),
        "gap_auc": ("AUC gap (max − min)", gaps["auc"]),
        "equalized_odds": ("equalized-odds difference", gaps[EO]),
    }


def paired_comparison(
    y_true: ArrayLike,
    runs_a: Sequence[RunInput],
    runs_b: Sequence[RunInput],
    *,
    groups: ArrayLike,
    clusters: ArrayLike | None = None,
    names: tuple[str, str] = ("A", "B"),
    options: AuditOptions | None = None,
    context: GroupContext | None = None,
) -> PairedResult:
    """Δ = B − A of every headline statistic, with shared-replicate intervals and swap tests.

    Args:
        y_true: (n,) labels, the same images for both models.
        runs_a: A's runs (scores and thresholds or decisions).
        runs_b: B's runs, paired with A's by position (the swap test needs as many).
        groups: (n,) group per image.
        clusters: (n,) patient ids, or None (images as units).
        names: (A's, B's) names.
        options: Settings (bootstrap, permutations, seed, rule, contrast).
        context: Group columns and notes.
    """
    options, context = options or AuditOptions(), context or GroupContext()
    data = [prepare(y_true, r, groups, clusters, options) for r in (runs_a, runs_b)]
    spec = options.contrast
    sets = [[g] for g in data[0].order] + [None, list(spec.high), list(spec.low)]
    stats = [
        RunStats(d.scored, sets, d.units, options.level, options.n_bootstrap,
                 np.random.default_rng([options.seed, 1]))
        for d in data
    ]  # fmt: skip
    table = _statistics(data[0], spec.label)
    tests = _swap_tests(data, stats, table, options)
    contrast_problem = side_problem(data[0], options)
    rows = tuple(
        _row(key, label, fn, stats, tests.get(key), contrast_problem if "contrast" in key
             else None)
        for key, (label, fn) in table.items()
    )  # fmt: skip
    return PairedResult(
        a=names[0], b=names[1], runs_a=tuple(data[0].runs), runs_b=tuple(data[1].runs),
        settings=settings_of(options), provenance=provenance_of(data[0], context, options),
        images=int(data[0].y_true.size), compared=tuple(data[0].compared),
        rule=comparison_rule(options.min_positives, options.min_negatives, data[0].units.kind),
        contrast=spec.label, rows=rows,
    )  # fmt: skip


def _row(
    key: str, label: str, fn: Statistic, stats: list[RunStats], test: Significance | None,
    problem: str | None,
) -> PairedRow:  # fmt: skip
    a, b = (float(np.mean(s.values(fn))) for s in stats)
    delta = b - a
    if problem or np.isnan(delta):
        reason = problem or "undefined for A or B"
        return PairedRow(key, label, a, b, Estimate(np.nan, reason), None)
    interval = None
    if stats[0].boot:
        deltas = stats[1].replicates(fn) - stats[0].replicates(fn)
        interval = percentile_interval(deltas, stats[0].level)
    return PairedRow(key, label, a, b, Estimate(delta, None, (), interval), test)


def _swap_tests(
    data: list[Prepared],
    stats: list[RunStats],
    table: dict[str, tuple[str, Statistic]],
    options: AuditOptions,
) -> dict[str, Significance]:
    """Swap each patient's outputs between A and B at random; the same swaps for every key."""
    if not options.n_permutations or len(data[0].scored) != len(data[1].scored):
        return {}
    units = data[0].units
    rng = np.random.default_rng([options.seed, 5])
    swaps = rng.random((options.n_permutations, units.count)) < 0.5
    membership = stats[0].membership[None]
    fns = {k: fn for k, (_, fn) in table.items()}
    draws = {k: np.empty(options.n_permutations) for k in fns}
    pairs = list(zip(data[0].scored, data[1].scored, strict=True))
    scores = list(zip(data[0].scores, data[1].scores, strict=True))
    for p, swap in enumerate(swaps):
        mask = swap[units.index]
        per_run = [
            _swapped(a, b, sa, sb, mask, data[0].y_true, membership)
            for (a, b), (sa, sb) in zip(pairs, scores, strict=True)
        ]
        for k, fn in fns.items():
            draws[k][p] = np.mean([fn(mb)[0] - fn(ma)[0] for ma, mb in per_run])
    return {
        k: permutation_p(
            float(np.mean(stats[1].values(fn)) - np.mean(stats[0].values(fn))), draws[k],
            "two-sided", units.kind,
        )
        for k, fn in fns.items()
    }  # fmt: skip


def _swapped(
    a: Scored, b: Scored, score_a: F64, score_b: F64, mask: NDArray[np.bool_],
    y_true: NDArray[np.int64], membership: F64,
) -> tuple[Metrics, Metrics]:  # fmt: skip
    """Metrics of A' and B' where ``mask`` marks the images whose outputs were swapped."""
    pred_a, pred_b = a.decisions, b.decisions
    new_a = Scored(y_true, np.where(mask, score_b, score_a), np.where(mask, pred_b, pred_a))
    new_b = Scored(y_true, np.where(mask, score_a, score_b), np.where(mask, pred_a, pred_b))
    return new_a.metrics(membership), new_b.metrics(membership)
