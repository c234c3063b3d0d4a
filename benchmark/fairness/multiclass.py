"""The multi-class audit: one probability column per class, typed like the binary audit.

The classes come from ``--classes`` or, when the file has every ISIC 2019 diagnosis column,
from that header (:data:`ISIC2019_CLASSES`; ``UNK`` is left out: the challenge scored it as
out-of-distribution, not as a class to predict). The decision is the arg-max
(:mod:`benchmark.metrics.multiclass`) or a given column of class names. Per group: balanced
accuracy, macro AUC, one-vs-rest sensitivity, specificity and AUC per class, top-label
calibration (plain and debiased ECE, multi-class Brier). Between groups: the primary
contrast of macro AUC between the configured sets of skin types, the worst group and the
max − min gaps of balanced accuracy and macro AUC, each tested by permuting patients
between groups (:mod:`benchmark.metrics.permutation`), and the equity-scaled macro AUC.
A group is compared when it has at least ``min_positives`` patients (the multi-class
analogue of the binary rule: every patient carries a class).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from benchmark.core.caveats import is_phantom
from benchmark.core.fitzpatrick import side_label
from benchmark.fairness.calibration import CalibrationInput, calibration_by_group
from benchmark.fairness.files import located, patient_column, read_predictions, unique_ids
from benchmark.fairness.groups import MIN_CELL, Groups, audit_groups
from benchmark.fairness.inputs import AuditOptions, settings_of
from benchmark.fairness.result import (
    CalibrationResult,
    ClassRates,
    ContrastResult,
    Counts,
    GapResult,
    MulticlassAuditResult,
    MulticlassRow,
    Provenance,
    RunInfo,
)
from benchmark.metrics.calibration import brier_score
from benchmark.metrics.equity import equity_scaled
from benchmark.metrics.estimates import Estimate, Significance, undefined
from benchmark.metrics.fairness import NOT_COMPARED, gap, group_order
from benchmark.metrics.inputs import check_clusters
from benchmark.metrics.multiclass import (
    MulticlassResult,
    check_labels,
    check_probabilities,
    multiclass_metrics,
    top_label,
)
from benchmark.metrics.permutation import holm, permutation_test
from benchmark.metrics.rates import Rate
from benchmark.metrics.units import Units, build_units, patient_counts

ISIC2019_CLASSES = ("MEL", "NV", "BCC", "AK", "BKL", "DF", "VASC", "SCC")
HEADLINE = ("balanced_accuracy", "macro_auc")


def detect_classes(columns: Sequence[str]) -> tuple[str, ...] | None:
    """ISIC 2019's eight classes when every one is a column, else None."""
    return ISIC2019_CLASSES if set(ISIC2019_CLASSES) <= set(columns) else None


def is_multiclass(columns: Sequence[str], score_col: str) -> bool:
    """Whether a file without the binary score column holds ISIC 2019 class scores."""
    return score_col not in columns and detect_classes(columns) is not None


@dataclass(frozen=True)
class Data:
    """Checked arrays of a multi-class file."""

    y_true: NDArray[np.int64]
    y_score: NDArray[np.float64]
    y_pred: NDArray[np.int64] | None
    units: Units
    classes: tuple[str, ...]

    def metrics(self, rows: NDArray[np.bool_]) -> MulticlassResult:
        """The metrics of the images ``rows``."""
        pred = None if self.y_pred is None else self.y_pred[rows]
        return multiclass_metrics(self.y_true[rows], self.y_score[rows], self.classes, pred)


def multiclass_audit_file(
    pred_csv: Path,
    classes: Sequence[str],
    *,
    label_col: str = "y_true",
    group_col: str | Sequence[str] = "fst",
    cluster_col: str = "patient_id",
    pred_col: str | None = None,
    renormalize: bool = False,
    min_cell: int = MIN_CELL,
    options: AuditOptions | None = None,
) -> MulticlassAuditResult:
    """Audit a multi-class predictions CSV (module docstring).

    Args:
        pred_csv: One row per image: ``label_col`` (a class name or index), one probability
            column per class, the group column(s), optionally the patient column.
        classes: Class names = their score columns, in order.
        label_col: True class column.
        group_col: Group column, or several for intersections.
        cluster_col: Patient column (absent: images are the unit, and it says so).
        pred_col: Column of given decisions (class names or indices) instead of arg-max.
        renormalize: Divide scores by their row sum instead of refusing sums off 1.
        min_cell: Intersection cells below it are flagged and not compared.
        options: Permutations, seed, the contrast, the patient rule; ``min_positives`` is
            the minimum of patients per compared group.

    Raises:
        PredictionsError: Missing columns, bad labels, scores or decisions (file, row and
            column named).
    """
    options = options or AuditOptions()
    pred_csv = Path(pred_csv)
    columns = [group_col] if isinstance(group_col, str) else list(group_col)
    extra = [pred_col] if pred_col else []
    frame = read_predictions(pred_csv, [label_col, *classes, *columns, *extra])
    unique_ids(frame, pred_csv)
    grouping = audit_groups(frame, columns, pred_csv, min_cell)
    data = located(pred_csv, _names(label_col, classes, pred_col), lambda: _data(
        frame, label_col, classes, pred_col, renormalize, grouping.labels, cluster_col, options
    ))  # fmt: skip
    return _build(data, pred_csv, grouping, cluster_col, frame, pred_col, renormalize, options)


def _names(label_col: str, classes: Sequence[str], pred_col: str | None) -> dict[str, str]:
    return {"y_true": label_col, "y_score": ",".join(classes), "y_pred": pred_col or "",
            "groups": "group"}  # fmt: skip


def _data(
    frame: pd.DataFrame, label_col: str, classes: Sequence[str], pred_col: str | None,
    renormalize: bool, groups: pd.Series, cluster_col: str, options: AuditOptions,
) -> Data:  # fmt: skip
    y_true = check_labels(frame[label_col], classes)
    scores = frame[list(classes)].apply(pd.to_numeric, errors="coerce").to_numpy()
    y_score = check_probabilities(scores, len(classes), renormalize=renormalize)
    y_pred = check_labels(frame[pred_col], classes, "y_pred") if pred_col else None
    labels = groups.astype(str).to_numpy().astype(str)
    clusters, _ = patient_column(frame, cluster_col)
    cluster = check_clusters(clusters, len(y_true))
    # Any positive/negative pattern: every patient carries classes, so "has a positive".
    units = build_units(np.ones(len(y_true), np.int64), labels, cluster, group_order(labels),
                        options.patient_rule)  # fmt: skip
    return Data(y_true, y_score, y_pred, units, tuple(classes))


def _row(data: Data, label: str, rows: NDArray[np.bool_], compared: bool) -> MulticlassRow:
    result = data.metrics(rows)
    members = [label] if label != "all" else group_order(data.units.group)
    patients, _, _ = patient_counts(data.units, members)
    n = int(rows.sum())
    per_class = {c: ClassRates(*(r[m].value for m in ("sensitivity", "specificity", "auc")))
                 for c, r in result.per_class.items()}  # fmt: skip
    return MulticlassRow(
        group=label,
        counts=Counts(n, n, 0, patients, patients, 0),
        compared=compared,
        balanced_accuracy=_estimate(result.balanced_accuracy),
        macro_auc=_estimate(result.macro_auc),
        brier=brier_score(data.y_true[rows], data.y_score[rows]),
        class_support=dict(result.class_support),
        per_class=per_class,
    )


def _estimate(rate: Rate) -> Estimate:
    return Estimate(rate.value, rate.reason, (rate.value,))


def _compared(data: Data, min_patients: int, not_compared: Sequence[str]) -> list[str]:
    skip = {*NOT_COMPARED, *not_compared}
    return [g for g in group_order(data.units.group)
            if g not in skip and patient_counts(data.units, g)[0] >= min_patients]  # fmt: skip


def _build(
    data: Data, path: Path, grouping: Groups, cluster_col: str, frame: pd.DataFrame,
    pred_col: str | None, renormalize: bool, options: AuditOptions,
) -> MulticlassAuditResult:  # fmt: skip
    groups = data.units.group
    compared = _compared(data, options.min_positives, list(grouping.not_compared))
    rows = tuple(_row(data, g, groups == g, g in compared) for g in group_order(groups))
    overall = _row(data, "all", np.ones(groups.size, bool), False)
    es = equity_scaled(overall.macro_auc.value, {r.group: r.macro_auc.value for r in rows
                                                 if r.compared})  # fmt: skip
    _, unit_source = patient_column(frame, cluster_col)
    decision = (f"decisions in column '{pred_col}'" if pred_col
                else "arg-max of the class scores")  # fmt: skip
    return MulticlassAuditResult(
        classes=data.classes,
        run=RunInfo(path.name, math.nan, decision),
        renormalized=renormalize,
        settings=settings_of(options),
        provenance=Provenance(
            tuple(grouping.columns),
            grouping.notes,
            dict(grouping.not_compared),
            data.units.kind,
            unit_source,
            options.patient_rule,
            data.units.reassigned,
            "dataset" in frame.columns and is_phantom(frame["dataset"]),
        ),
        overall=overall,
        groups=rows,
        compared=tuple(compared),
        rule=f"Worst group and gaps compare skin types with at least {options.min_positives} "
        f"{data.units.kind}; other groups are shown, flagged, and left out of them.",
        contrasts=(_contrast(data, options),),
        gaps=_gaps(data, rows, compared, options),
        equity_scaled_macro_auc=Estimate(es.value, es.reason, (es.value,)),
        calibration=_calibration(data, compared, options),
    )


def _contrast(data: Data, options: AuditOptions) -> ContrastResult:
    spec = options.contrast
    groups = data.units.group

    def side(g: NDArray[np.str_], labels: Sequence[str]) -> float:
        return data.metrics(np.isin(g, list(labels))).macro_auc.value

    def diff(g: NDArray[np.str_]) -> float:
        return side(g, spec.high) - side(g, spec.low)

    high, low = (data.metrics(np.isin(groups, list(s))).macro_auc for s in (spec.high, spec.low))
    value = diff(groups)
    test = None
    pool = [g for g in group_order(groups) if g in spec.high or g in spec.low]
    if options.n_permutations and not math.isnan(value):
        test = permutation_test(diff, data.units, pool, n_permutations=options.n_permutations,
                                seed=np.random.default_rng([options.seed, 3]),
                                alternative="two-sided")  # fmt: skip
    reason = f"macro AUC undefined in {side_label(spec.high)} or {side_label(spec.low)}"
    difference = Estimate(value, None, (value,)) if not math.isnan(value) else undefined(reason)
    return ContrastResult(
        role="primary", metric="macro_auc", high=spec.high, low=spec.low,
        high_value=_estimate(high), low_value=_estimate(low), difference=difference,
        high_counts=_side_counts(data, spec.high), low_counts=_side_counts(data, spec.low),
        test=test,
    )  # fmt: skip


def _side_counts(data: Data, labels: Sequence[str]) -> Counts:
    rows = np.isin(data.units.group, list(labels))
    patients, _, _ = patient_counts(data.units, labels)
    n = int(rows.sum())
    return Counts(n, n, 0, patients, patients, 0)


def _gaps(
    data: Data, rows: tuple[MulticlassRow, ...], compared: list[str], options: AuditOptions
) -> tuple[GapResult, ...]:
    tests: dict[str, Significance] = {}
    if options.n_permutations and len(compared) > 1:
        rng = np.random.default_rng([options.seed, 2])
        for m in HEADLINE:
            stat = _gap_statistic(data, m, compared)
            tests[m] = permutation_test(
                stat, data.units, compared, n_permutations=options.n_permutations, seed=rng
            )
        adjusted = holm({m: t.p_value for m, t in tests.items()})
        tests = {m: replace(t, p_holm=adjusted[m]) for m, t in tests.items()}
    out = []
    for m in HEADLINE:
        values = {r.group: getattr(r, m).value for r in rows if r.compared}
        defined = {g: v for g, v in values.items() if not math.isnan(v)}
        worst = min(defined, key=defined.__getitem__) if defined else None
        value = float(gap(np.array(list(values.values())))) if values else math.nan
        why = "fewer than two compared groups" if len(values) < 2 else "undefined in a group"
        estimate = Estimate(value, None, (value,)) if not math.isnan(value) else undefined(why)
        out.append(GapResult(m, estimate, worst, defined.get(worst, math.nan) if worst else
                             math.nan, tests.get(m)))  # fmt: skip
    return tuple(out)


def _gap_statistic(data: Data, metric: str, compared: list[str]) -> Callable[
    [NDArray[np.str_]], float]:  # fmt: skip
    def stat(groups: NDArray[np.str_]) -> float:
        values = [getattr(data.metrics(groups == g), metric).value for g in compared]
        return float(gap(np.array(values)))

    return stat


def _calibration(data: Data, compared: list[str], options: AuditOptions) -> CalibrationResult:
    correct, confidence = top_label(data.y_true, data.y_score, data.y_pred)
    groups = data.units.group
    inputs = CalibrationInput([correct], [confidence], groups, group_order(groups), compared)
    return calibration_by_group(
        inputs, rng=np.random.default_rng([options.seed, 4]), n_draws=options.calibration_draws,
        n_bins=options.n_bins, level=options.level, alpha=options.alpha,
    )  # fmt: skip
