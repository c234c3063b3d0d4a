"""The audit as one typed result, shaped like fairlearn's MetricFrame, that reads its own JSON.

:class:`AuditResult` (binary) and :class:`MulticlassAuditResult` hold what an audit found:
overall and per-group values (each an :class:`~benchmark.metrics.estimates.Estimate`: the
mean over runs, each run's value, an interval, or the reason it is undefined), the
pre-specified contrast and the max − min gaps with their permutation tests, calibration
by group, the compared-groups rule, and where every number came from (files, thresholds,
the resampling unit). Each is built by one function (:mod:`benchmark.fairness.binary`,
:mod:`benchmark.fairness.multiclass`), written and read back through its own type
(:meth:`AuditResult.write` / :meth:`AuditResult.read`) and rendered by one renderer
(:mod:`benchmark.fairness.render`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from benchmark.core.records import Record
from benchmark.metrics.estimates import Estimate, Significance

ContrastRole = Literal["primary", "secondary"]
ALL = "all"  # the label of the overall row


@dataclass(frozen=True)
class Exact:
    """A binomial interval of one per-group rate (one predictions file only)."""

    successes: int
    trials: int
    low: float
    high: float


@dataclass(frozen=True)
class Counts:
    """Images and patients of a group, with and without a positive image."""

    images: int
    positives: int
    negatives: int
    patients: int
    patients_positive: int
    patients_negative: int


@dataclass(frozen=True)
class GroupRow:
    """One group of a binary audit.

    Attributes:
        group: The label (``V``, ``uncertain``, ``V × female``...).
        counts: Its images and patients.
        compared: Whether it meets the compared-groups rule.
        metrics: Every metric of :data:`benchmark.metrics.weighted.METRICS`.
        exact: Binomial intervals of the rates that are proportions (one file only).
    """

    group: str
    counts: Counts
    compared: bool
    metrics: dict[str, Estimate]
    exact: dict[str, Exact]


@dataclass(frozen=True)
class ContrastResult:
    """A signed contrast ``high - low`` of one metric between two pooled sets of groups.

    Attributes:
        role: ``primary`` (pre-specified, threshold-free: the headline) or ``secondary``.
        metric: The metric compared within each pooled set.
        high: Groups pooled on the first side.
        low: Groups pooled on the side subtracted.
        high_value: The metric within ``high``.
        low_value: The metric within ``low``.
        difference: ``high - low`` with its interval.
        high_counts: Images and patients of ``high``.
        low_counts: Those of ``low``.
        test: Two-sided permutation test (patients' groups permuted); None when not run.
    """

    role: ContrastRole
    metric: str
    high: tuple[str, ...]
    low: tuple[str, ...]
    high_value: Estimate
    low_value: Estimate
    difference: Estimate
    high_counts: Counts
    low_counts: Counts
    test: Significance | None


@dataclass(frozen=True)
class GapResult:
    """Max − min of a metric over the compared groups (or EO / DP), a secondary summary.

    Attributes:
        metric: A metric name, ``equalized_odds`` or ``demographic_parity``.
        value: The gap; its interval is a raw percentile interval (it leans high).
        worst_group: The compared group with the lowest value (None for EO, DP and
            selection rate, or when no group has a value).
        worst_value: Its value (NaN when none).
        test: One-sided permutation test (Holm within the audit's gaps); None when not run.
    """

    metric: str
    value: Estimate
    worst_group: str | None
    worst_value: float
    test: Significance | None


@dataclass(frozen=True)
class CalibrationRow:
    """Calibration of one group: plain ECE in both binnings, Brier, and the debiased ECE.

    Attributes:
        group: The label.
        images: Its images.
        compared: Whether it takes part in naming the worst-calibrated group.
        ece_uniform: Plain ECE, equal-width bins (grows as the group shrinks).
        ece_quantile: Plain ECE, equal-mass bins.
        brier: Brier score.
        ece_debiased: Equal-width ECE minus its mean under perfect calibration at this size.
        p_miscalibrated: Share of calibrated draws with an ECE at least the observed.
        p_holm: Holm-adjusted over the compared groups.
        mean_score: Reliability bins (equal-width): mean score per bin (NaN: empty).
        positive_rate: Share of positives per bin.
        bin_counts: Images per bin.
    """

    group: str
    images: int
    compared: bool
    ece_uniform: float
    ece_quantile: float
    brier: float
    ece_debiased: Estimate
    p_miscalibrated: float
    p_holm: float
    mean_score: tuple[float, ...]
    positive_rate: tuple[float, ...]
    bin_counts: tuple[int, ...]


@dataclass(frozen=True)
class CalibrationResult:
    """Calibration by group and the group that stands out, if any.

    Attributes:
        bins: Bins of both binnings.
        null_draws: Calibrated label draws behind each debiased ECE and p-value.
        rows: One per group.
        worst_group: The compared group with the highest debiased ECE among those whose
            Holm-adjusted p is below ``alpha``; None when no group stands out from noise.
        alpha: The level of that call.
    """

    bins: int
    null_draws: int
    rows: tuple[CalibrationRow, ...]
    worst_group: str | None
    alpha: float


@dataclass(frozen=True)
class RunInfo:
    """One predictions file (one run) of an audit and how its decisions were made."""

    name: str
    threshold: float  # NaN when the file gives decisions
    threshold_source: str


@dataclass(frozen=True)
class Provenance:
    """Where the audit's groups and units came from.

    Attributes:
        group_columns: The group column(s) (several: intersection cells).
        notes: One sentence per column read in a public dataset's spelling, or estimated.
        not_compared: Cells shown but never compared, with the reason.
        unit: ``patients`` or ``images`` (no patient column: images treated as independent).
        unit_source: The patient column, or a sentence saying there is none.
        patient_rule: ``error`` or ``majority`` (:mod:`benchmark.metrics.units`).
        reassigned: Patients whose images the majority rule moved into one group.
        phantom: The audited images are phantoms.
    """

    group_columns: tuple[str, ...]
    notes: tuple[str, ...]
    not_compared: dict[str, str]
    unit: str
    unit_source: str
    patient_rule: str
    reassigned: int
    phantom: bool


@dataclass(frozen=True)
class Settings:
    """The audit's statistical settings, stated beside every number."""

    level: float
    n_bootstrap: int
    n_permutations: int
    seed: int
    min_positives: int
    min_negatives: int
    interval: str
    alpha: float = 0.05


@dataclass(frozen=True)
class AuditResult(Record):
    """A binary fairness audit of one model: one or several runs (seeds) on the same images.

    Attributes:
        runs: The predictions files, in order.
        settings: Intervals, resamples, permutations, the rule's minimums.
        provenance: Groups, units, notes.
        overall_counts: Images and patients of the whole file.
        overall: Every metric over all images.
        groups: One row per group, in display order.
        compared: The compared groups.
        rule: The compared-groups rule in words.
        contrasts: The primary contrast first, then its secondary.
        gaps: Max − min per metric, then equalized odds and demographic parity.
        equity_scaled_auc: AUC / (1 + sum over compared groups of |AUC - AUC_g|).
        calibration: By group (None when not computed).
    """

    runs: tuple[RunInfo, ...]
    settings: Settings
    provenance: Provenance
    overall_counts: Counts
    overall: dict[str, Estimate]
    groups: tuple[GroupRow, ...]
    compared: tuple[str, ...]
    rule: str
    contrasts: tuple[ContrastResult, ...]
    gaps: tuple[GapResult, ...]
    equity_scaled_auc: Estimate
    calibration: CalibrationResult | None

    @property
    def primary(self) -> ContrastResult:
        """The pre-specified contrast: the audit's headline."""
        return next(c for c in self.contrasts if c.role == "primary")

    def group(self, label: str) -> GroupRow:
        """The row of ``label`` (KeyError naming it when absent)."""
        for row in self.groups:
            if row.group == label:
                return row
        raise KeyError(f"no group {label!r} in this audit")

    def gap(self, metric: str) -> GapResult:
        """The gap of ``metric``."""
        return next(g for g in self.gaps if g.metric == metric)

    def undefined(self) -> list[tuple[str, str, str]]:
        """``(where, metric, reason)`` of every undefined value."""
        found: list[tuple[str, str, str | None]] = [
            (ALL, m, e.reason) for m, e in self.overall.items()
        ]
        found += [(r.group, m, e.reason) for r in self.groups for m, e in r.metrics.items()]
        found += [("between groups", f"gap {g.metric}", g.value.reason) for g in self.gaps]
        found += [("contrast", f"{c.metric} {c.role}", c.difference.reason)
                  for c in self.contrasts]  # fmt: skip
        return [(where, what, why) for where, what, why in found if why]

    @property
    def dark_images(self) -> int:
        """Images of the primary contrast's first (dark) side."""
        return self.primary.high_counts.images


@dataclass(frozen=True)
class ClassRates:
    """One-vs-rest rates of one class within a group."""

    sensitivity: float
    specificity: float
    auc: float


@dataclass(frozen=True)
class MulticlassRow:
    """One group of a multi-class audit (``all`` for the overall row)."""

    group: str
    counts: Counts
    compared: bool
    balanced_accuracy: Estimate
    macro_auc: Estimate
    brier: float
    class_support: dict[str, int]
    per_class: dict[str, ClassRates]


@dataclass(frozen=True)
class MulticlassAuditResult(Record):
    """A multi-class audit: arg-max (or given) decisions over one score column per class.

    Attributes:
        classes: Class names, in score-column order.
        run: The predictions file and its decision rule.
        renormalized: Scores were divided by their row sums.
        settings: Permutations, seed, the rule's minimum (``min_positives`` holds patients
            per group; ``min_negatives`` is unused).
        provenance: Groups, units, notes.
        overall: The overall row.
        groups: One row per group.
        compared: The compared groups.
        rule: The rule in words.
        contrasts: The primary contrast (macro AUC) between the configured sets.
        gaps: Max − min of balanced accuracy and macro AUC, with permutation tests.
        equity_scaled_macro_auc: Macro AUC discounted by the groups' spread.
        calibration: Top-label calibration by group.
    """

    classes: tuple[str, ...]
    run: RunInfo
    renormalized: bool
    settings: Settings
    provenance: Provenance
    overall: MulticlassRow
    groups: tuple[MulticlassRow, ...]
    compared: tuple[str, ...]
    rule: str
    contrasts: tuple[ContrastResult, ...]
    gaps: tuple[GapResult, ...]
    equity_scaled_macro_auc: Estimate
    calibration: CalibrationResult
