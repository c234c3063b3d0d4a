"""Between the groups of an audit: the pre-specified contrast, the gaps, equity-scaled AUC.

The contrast (primary: AUC, threshold-free; secondary: sensitivity at each run's threshold)
compares two pooled sets of skin types and is tested two-sided by permuting patients among
the groups of both sets. The max − min gaps over the compared groups, with equalized odds
and demographic parity, are secondary summaries: each is tested one-sided by permuting
patients among the compared groups (one draw for all of them), Holm across the family.
A side that fails the compared-groups rule leaves the contrast undefined, with the reason.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from benchmark.core.fitzpatrick import side_label
from benchmark.fairness.inputs import AuditOptions, Prepared, metric_estimate, set_counts
from benchmark.fairness.result import ContrastResult, ContrastRole, GapResult, GroupRow
from benchmark.metrics.equity import equity_scaled_values
from benchmark.metrics.estimates import Estimate, Significance, permutation_p, undefined
from benchmark.metrics.fairness import FEW_GROUPS, HIGHER_IS_BETTER, gap
from benchmark.metrics.permutation import holm
from benchmark.metrics.runs import Metrics, RunStats, Statistic
from benchmark.metrics.weighted import METRICS

F64 = NDArray[np.float64]
EO, DP = "equalized_odds", "demographic_parity"
CONTRAST_METRICS: tuple[tuple[ContrastRole, str], ...] = (
    ("primary", "auc"),
    ("secondary", "sensitivity"),
)


def gap_statistics(index: Sequence[int]) -> dict[str, Statistic]:
    """Max − min of each metric over the sets ``index`` (the compared groups), EO and DP."""
    cols = list(index)

    def one(metric: str) -> Statistic:
        return lambda m: gap(m[metric][:, cols])

    fns = {metric: one(metric) for metric in METRICS}

    def eo(m: Metrics) -> F64:
        sens, spec = fns["sensitivity"](m), fns["specificity"](m)
        return np.where(np.isnan(sens) | np.isnan(spec), np.nan, np.fmax(sens, spec))

    return fns | {EO: eo, DP: fns["selection_rate"]}


def gaps(
    data: Prepared, stats: RunStats, rows: tuple[GroupRow, ...], options: AuditOptions
) -> tuple[GapResult, ...]:
    """Max − min of every metric over the compared groups, then EO and DP, with tests."""
    index = [data.order.index(g) for g in data.compared]
    fns = gap_statistics(index)
    tests = _gap_tests(data, stats, options, fns)
    out = []
    for key, fn in fns.items():
        value = stats.estimate(fn, _gap_reason(data, rows, key))
        worst, low = _worst(rows, data.compared, key)
        out.append(GapResult(key, value, worst, low, tests.get(key)))
    return tuple(out)


def _gap_reason(data: Prepared, rows: tuple[GroupRow, ...], key: str) -> str:
    if len(data.compared) < 2:
        return FEW_GROUPS
    metrics = ("sensitivity", "specificity") if key == EO else ("selection_rate",) if key == DP \
        else (key,)  # fmt: skip
    bad = [r.group for r in rows if r.compared and any(not r.metrics[m].defined for m in metrics)]
    return f"undefined in group(s) {bad}" if bad else "undefined in a run"


def _worst(rows: tuple[GroupRow, ...], compared: list[str], key: str) -> tuple[str | None, float]:
    if key not in HIGHER_IS_BETTER:
        return None, math.nan
    values = [(r.metrics[key].value, r.group) for r in rows if r.group in compared]
    defined = [(v, g) for v, g in values if not math.isnan(v)]
    if not defined:
        return None, math.nan
    low = min(v for v, _ in defined)
    return next(g for v, g in defined if v == low), low  # ties: first in group order


def _gap_tests(
    data: Prepared, stats: RunStats, options: AuditOptions, fns: dict[str, Statistic]
) -> dict[str, Significance]:
    if not options.n_permutations or len(data.compared) < 2:
        return {}
    rng = np.random.default_rng([options.seed, 2])
    local = gap_statistics(range(len(data.compared)))
    sets = [[g] for g in data.compared]
    draws = stats.permuted(local, sets, data.compared, options.n_permutations, rng)
    tests = {k: permutation_p(float(np.mean(stats.values(fns[k]))), draws[k], "greater",
                              data.units.kind) for k in fns}  # fmt: skip
    adjusted = holm({k: t.p_value for k, t in tests.items()})
    return {k: _holm(t, adjusted[k]) for k, t in tests.items()}


def _holm(test: Significance, p_holm: float) -> Significance:
    return replace(test, p_holm=float(p_holm))


def _contrast_fn(metric: str, high: int, low: int) -> Statistic:
    return lambda m: m[metric][:, high] - m[metric][:, low]


def side_problem(data: Prepared, options: AuditOptions) -> str | None:
    """Why the contrast cannot be taken (a side fails the rule), or None."""
    unit = data.units.kind
    for side in (options.contrast.high, options.contrast.low):
        counts, label = set_counts(data, side), side_label(side)
        if counts.images == 0:
            return f"no images in {label}"
        for have, need, what in (
            (counts.patients_positive, options.min_positives, "a positive"),
            (counts.patients_negative, options.min_negatives, "a negative"),
        ):
            if have < need:
                return f"{label} has {have} {unit} with {what} image (the rule asks {need})"
    return None


def contrasts(data: Prepared, stats: RunStats, options: AuditOptions) -> tuple[ContrastResult, ...]:
    """The primary contrast (AUC) and its secondary (sensitivity), with their tests."""
    spec = options.contrast
    high, low = data.all_index + 1, data.all_index + 2
    fns: dict[str, Statistic] = {r: _contrast_fn(m, high, low) for r, m in CONTRAST_METRICS}
    problem = side_problem(data, options)
    tests = {} if problem else _contrast_tests(data, stats, options, fns)
    out = []
    for role, metric in CONTRAST_METRICS:
        if problem:
            diff = undefined(problem, len(data.runs))
        else:
            diff = stats.estimate(fns[role], "undefined in a run")
        out.append(
            ContrastResult(
                role=role,
                metric=metric,
                high=spec.high,
                low=spec.low,
                high_value=metric_estimate(stats, high, metric),
                low_value=metric_estimate(stats, low, metric),
                difference=diff,
                high_counts=set_counts(data, spec.high),
                low_counts=set_counts(data, spec.low),
                test=tests.get(role),
            )
        )
    return tuple(out)


def _contrast_tests(
    data: Prepared, stats: RunStats, options: AuditOptions, fns: dict[str, Statistic]
) -> dict[str, Significance]:
    if not options.n_permutations:
        return {}
    spec = options.contrast
    pool = [g for g in data.order if g in spec.high or g in spec.low]
    local: dict[str, Statistic] = {r: _contrast_fn(m, 0, 1) for r, m in CONTRAST_METRICS}
    rng = np.random.default_rng([options.seed, 3])
    sets = [list(spec.high), list(spec.low)]
    draws = stats.permuted(local, sets, pool, options.n_permutations, rng)
    return {
        role: permutation_p(
            float(np.mean(stats.values(fns[role]))), draws[role], "two-sided", data.units.kind
        )
        for role in fns
    }


def equity_scaled_auc(data: Prepared, stats: RunStats) -> Estimate:
    """AUC / (1 + sum over the compared groups of |AUC - AUC_g|), mean over runs."""
    if not data.compared:
        return undefined("no compared groups", len(data.runs))
    cols = [data.order.index(g) for g in data.compared]
    everything = data.all_index

    def fn(m: Metrics) -> F64:
        return equity_scaled_values(m["auc"][:, everything], m["auc"][:, cols])

    return stats.estimate(fn, "AUC undefined overall or in a compared group")
