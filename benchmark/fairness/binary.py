"""The one builder of the binary :class:`~benchmark.fairness.result.AuditResult`, from arrays.

One run (a predictions file) or several runs of one model (seeds) on the same images. Every
value is the mean over runs; every interval comes from one hierarchical bootstrap (runs,
then patients within groups: :mod:`benchmark.metrics.runs`); every test permutes patients
between groups (:mod:`benchmark.metrics.permutation`). The headline is the pre-specified
contrast (:class:`~benchmark.core.fitzpatrick.ContrastSpec`, AUC within each pooled side)
with its secondary, sensitivity at each run's threshold; the max − min gaps follow
(:mod:`benchmark.fairness.between`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from benchmark.fairness.between import contrasts, equity_scaled_auc, gaps
from benchmark.fairness.calibration import CalibrationInput, calibration_by_group
from benchmark.fairness.inputs import (
    AuditOptions,
    GroupContext,
    Prepared,
    RunInput,
    metric_estimate,
    prepare,
    provenance_of,
    set_counts,
    settings_of,
)
from benchmark.fairness.result import (
    AuditResult,
    CalibrationResult,
    Exact,
    GroupRow,
)
from benchmark.metrics.fairness import comparison_rule
from benchmark.metrics.intervals import binomial_interval
from benchmark.metrics.runs import Metrics, RunStats
from benchmark.metrics.weighted import METRICS


def binary_audit(
    y_true: ArrayLike,
    runs: Sequence[RunInput],
    *,
    groups: ArrayLike,
    clusters: ArrayLike | None = None,
    options: AuditOptions | None = None,
    context: GroupContext | None = None,
) -> AuditResult:
    """Audit one model's runs on the same images across the groups.

    Args:
        y_true: (n,) labels, 0 or 1.
        runs: One or more runs (seeds), each with (n,) scores and a threshold or decisions.
        groups: (n,) group per image (no missing value).
        clusters: (n,) patient id per image; None: images are the unit (and it says so).
        options: Intervals, permutations, the rule, the contrast (default: the defaults).
        context: Group columns, notes and cells not compared (from the file layer).

    Returns:
        The :class:`~benchmark.fairness.result.AuditResult`.
    """
    options, context = options or AuditOptions(), context or GroupContext()
    data = prepare(y_true, runs, groups, clusters, options, list(context.not_compared))
    spec = options.contrast
    sets = [[g] for g in data.order] + [None, list(spec.high), list(spec.low)]
    rng = np.random.default_rng([options.seed, 1])
    stats = RunStats(data.scored, sets, data.units, options.level, options.n_bootstrap, rng)
    rows = tuple(_group_row(data, stats, i, options) for i in range(len(data.order)))
    overall = {m: metric_estimate(stats, data.all_index, m) for m in METRICS}
    return AuditResult(
        runs=tuple(data.runs),
        settings=settings_of(options),
        provenance=provenance_of(data, context, options),
        overall_counts=set_counts(data, None),
        overall=overall,
        groups=rows,
        compared=tuple(data.compared),
        rule=comparison_rule(options.min_positives, options.min_negatives, data.units.kind),
        contrasts=contrasts(data, stats, options),
        gaps=gaps(data, stats, rows, options),
        equity_scaled_auc=equity_scaled_auc(data, stats),
        calibration=_calibration(data, stats, options),
    )


def _group_row(data: Prepared, stats: RunStats, i: int, options: AuditOptions) -> GroupRow:
    group = data.order[i]
    metrics = {m: metric_estimate(stats, i, m) for m in METRICS}
    exact = _exact(stats.point[0], i, options) if len(data.runs) == 1 else {}
    counts = set_counts(data, [group])
    return GroupRow(group, counts, group in data.compared, metrics, exact)


def _exact(m: Metrics, s: int, options: AuditOptions) -> dict[str, Exact]:
    n, pos, tp, fp = (int(m[k][0, s]) for k in ("n", "positives", "tp", "fp"))
    tn = n - pos - fp
    trials = {
        "accuracy": (tp + tn, n),
        "sensitivity": (tp, pos),
        "specificity": (tn, n - pos),
        "precision": (tp, tp + fp),
        "selection_rate": (tp + fp, n),
    }
    out = {}
    for metric, (k, total) in trials.items():
        low, high = binomial_interval(k, total, options.level, options.interval)
        out[metric] = Exact(k, total, low, high)
    return out


def _calibration(
    data: Prepared, stats: RunStats, options: AuditOptions
) -> CalibrationResult | None:
    if not options.calibration_draws:
        return None
    boot = stats.weights is not None
    inputs = CalibrationInput(
        outcomes=[data.y_true] * len(data.runs), probs=data.scores, groups=data.units.group,
        order=data.order, compared=data.compared, weights=stats.weights,
        draws=stats.draws if boot else None,
    )  # fmt: skip
    return calibration_by_group(
        inputs, rng=np.random.default_rng([options.seed, 4]), n_draws=options.calibration_draws,
        n_bins=options.n_bins, level=options.level, alpha=options.alpha,
    )  # fmt: skip
