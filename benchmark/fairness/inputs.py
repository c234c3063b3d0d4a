"""The audit's inputs checked once: runs, decisions, units, groups, and the compared set.

Shared by the audit (:mod:`benchmark.fairness.binary`) and the paired comparison
(:mod:`benchmark.fairness.paired`), so both read labels, scores, thresholds and patients by
the same rules and compare the same groups.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from benchmark.core.defaults import (
    CALIBRATION_DRAWS,
    MIN_NEGATIVES,
    MIN_POSITIVES,
    IntervalMethod,
    PatientRule,
)
from benchmark.core.fitzpatrick import DARK_TYPES, LIGHT_TYPES, ContrastSpec
from benchmark.fairness.result import Counts, Provenance, RunInfo, Settings
from benchmark.metrics.calibration import DEFAULT_BINS
from benchmark.metrics.estimates import Estimate
from benchmark.metrics.fairness import compared_groups, group_order
from benchmark.metrics.inputs import check_clusters, check_decisions, check_inputs
from benchmark.metrics.rates import NO_ROWS, ONE_CLASS, Confusion, confusion_rates
from benchmark.metrics.runs import RunStats, Statistic
from benchmark.metrics.units import Units, build_units, patient_counts
from benchmark.metrics.weighted import Scored

F64 = NDArray[np.float64]


@dataclass(frozen=True)
class RunInput:
    """One run's predictions on the audited images.

    Attributes:
        name: The file or run name.
        y_score: (n,) scores in [0, 1] (AUC and calibration).
        y_pred: (n,) 0/1 decisions, or None: ``y_score >= threshold``.
        threshold: Decision threshold (from validation); ignored with ``y_pred``.
        threshold_source: Where it came from (``given``, ``validation:<file>``...).
    """

    name: str
    y_score: ArrayLike
    y_pred: ArrayLike | None = None
    threshold: float = 0.5
    threshold_source: str = "default 0.5"


@dataclass(frozen=True)
class AuditOptions:
    """The statistical settings of an audit (defaults: :mod:`benchmark.core.defaults`)."""

    level: float = 0.95
    n_bootstrap: int = 0
    n_permutations: int = 0
    seed: int = 0
    min_positives: int = MIN_POSITIVES
    min_negatives: int = MIN_NEGATIVES
    contrast: ContrastSpec = field(default_factory=lambda: ContrastSpec(DARK_TYPES, LIGHT_TYPES))
    interval: IntervalMethod = "clopper-pearson"
    patient_rule: PatientRule = "error"
    calibration_draws: int = CALIBRATION_DRAWS
    n_bins: int = DEFAULT_BINS

    @property
    def alpha(self) -> float:
        """The level of a yes/no call (a group named worst calibrated): 1 - ``level``."""
        return round(1 - self.level, 10)


@dataclass(frozen=True)
class GroupContext:
    """What the caller knows of the groups and units (files, columns, notes)."""

    columns: tuple[str, ...] = ("group",)
    notes: tuple[str, ...] = ()
    not_compared: dict[str, str] = field(default_factory=dict)
    unit_source: str = ""
    phantom: bool = False


@dataclass(frozen=True)
class Prepared:
    """Validated arrays, units, groups, and the sets every statistic reads."""

    y_true: NDArray[np.int64]
    scores: list[F64]
    units: Units
    order: list[str]
    compared: list[str]
    runs: list[RunInfo]
    scored: list[Scored]

    @property
    def all_index(self) -> int:
        """Set index of all images; the contrast's sides follow it."""
        return len(self.order)


def prepare(
    y_true: ArrayLike,
    runs: Sequence[RunInput],
    groups: ArrayLike,
    clusters: ArrayLike | None,
    options: AuditOptions,
    not_compared: Sequence[str] = (),
) -> Prepared:
    """Check every input, build the units and the compared groups.

    Raises:
        FairnessInputError: Bad labels, scores, groups, decisions or patients (naming the
            argument and row, or the patient and its groups).
        ValueError: No run, a threshold outside [0, 1], or a negative setting.
    """
    if not runs:
        raise ValueError("an audit needs at least one run")
    _check_options(options)
    true, first, group = check_inputs(y_true, runs[0].y_score, groups)
    scores = [first] + [check_inputs(true, r.y_score, group)[1] for r in runs[1:]]
    preds, infos = [], []
    for run, score in zip(runs, scores, strict=True):
        pred, info = _decisions(run, score)
        preds.append(pred)
        infos.append(info)
    cluster = check_clusters(clusters, len(true))
    units = build_units(true, group, cluster, group_order(group), options.patient_rule)
    order = group_order(units.group)
    compared = compared_groups(units, options.min_positives, options.min_negatives, not_compared)
    scored = [Scored(true, s, p) for s, p in zip(scores, preds, strict=True)]
    return Prepared(true, scores, units, order, compared, infos, scored)


def _check_options(options: AuditOptions) -> None:
    if min(options.n_bootstrap, options.n_permutations) < 0:
        raise ValueError("n_bootstrap and n_permutations must be >= 0")
    if min(options.min_positives, options.min_negatives) < 0:
        raise ValueError("min_positives and min_negatives must be >= 0")
    if not 0 < options.level < 1:
        raise ValueError(f"CI level must be in (0, 1), got {options.level}")


def _decisions(run: RunInput, score: F64) -> tuple[NDArray[np.bool_], RunInfo]:
    if run.y_pred is not None:
        return check_decisions(run.y_pred, score.size), RunInfo(
            run.name, math.nan, run.threshold_source
        )
    if not (math.isfinite(run.threshold) and 0 <= run.threshold <= 1):
        raise ValueError(f"threshold must be in [0, 1], got {run.threshold}")
    info = RunInfo(run.name, float(run.threshold), run.threshold_source)
    return score >= run.threshold, info


def set_counts(data: Prepared, labels: Sequence[str] | None) -> Counts:
    """Images and patients of the images whose group is in ``labels`` (None: all)."""
    rows = (
        np.ones(data.y_true.size, bool)
        if labels is None
        else np.isin(data.units.group, list(labels))
    )
    positives = int(data.y_true[rows].sum())
    members = data.order if labels is None else list(labels)
    patients, with_pos, with_neg = patient_counts(data.units, members)
    images = int(rows.sum())
    return Counts(images, positives, images - positives, patients, with_pos, with_neg)


def metric_fn(s: int, metric: str) -> Statistic:
    """The statistic "``metric`` of set ``s``"."""
    return lambda m: m[metric][:, s]


def metric_reason(stats: RunStats, s: int, metric: str) -> str:
    """Why ``metric`` of set ``s`` is undefined in the first run where it is."""
    for m in stats.point:
        if math.isnan(m[metric][0, s]):
            n, pos, tp, fp = (int(m[k][0, s]) for k in ("n", "positives", "tp", "fp"))
            if metric == "auc":
                return NO_ROWS if n == 0 else ONE_CLASS
            why = confusion_rates(Confusion.from_counts(n, pos, tp, fp))[metric].reason
            return why or "undefined"
    return "undefined"


def metric_estimate(stats: RunStats, s: int, metric: str) -> Estimate:
    """``metric`` of set ``s``: mean over runs, interval, or the reason it is undefined."""
    return stats.estimate(metric_fn(s, metric), metric_reason(stats, s, metric))


def settings_of(options: AuditOptions) -> Settings:
    """The :class:`Settings` an audit states."""
    return Settings(
        level=options.level, n_bootstrap=options.n_bootstrap,
        n_permutations=options.n_permutations, seed=options.seed,
        min_positives=options.min_positives, min_negatives=options.min_negatives,
        interval=options.interval, alpha=options.alpha,
    )  # fmt: skip


def provenance_of(data: Prepared, context: GroupContext, options: AuditOptions) -> Provenance:
    """The :class:`Provenance` of an audit's groups and units."""
    source = context.unit_source or (
        "patient ids" if data.units.kind == "patients" else "no patient ids: images as units"
    )
    return Provenance(
        group_columns=context.columns, notes=context.notes,
        not_compared=dict(context.not_compared), unit=data.units.kind, unit_source=source,
        patient_rule=options.patient_rule, reassigned=data.units.reassigned,
        phantom=context.phantom,
    )  # fmt: skip
