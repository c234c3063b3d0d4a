"""Audits of predictions files: one file, several runs of one model, or two models compared.

The CLI (``skinbench audit``) and the fairness stage both call :func:`audit_files` /
:func:`compare_files` and then :func:`write_audit` / :func:`write_comparison`; the typed
results are built by :mod:`benchmark.fairness.binary` and :mod:`benchmark.fairness.paired`
and rendered by :mod:`benchmark.fairness.render`.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from benchmark.core.caveats import is_phantom
from benchmark.fairness.binary import binary_audit
from benchmark.fairness.figure import draw_groups, draw_reliability, save
from benchmark.fairness.files import (
    ID_COL,
    align_runs,
    located,
    patient_column,
    read_predictions,
    resolve_threshold,
    unique_ids,
)
from benchmark.fairness.groups import MIN_CELL, audit_groups, estimated_column
from benchmark.fairness.inputs import AuditOptions, GroupContext, RunInput
from benchmark.fairness.paired import PairedResult, paired_comparison
from benchmark.fairness.render import audit_blocks, audit_figures, paired_blocks, write_pages
from benchmark.fairness.result import AuditResult
from benchmark.metrics.inputs import check_inputs

Estimator = Callable[[pd.DataFrame], tuple[pd.Series, str]]


@dataclass(frozen=True)
class Columns:
    """The columns a predictions file is read by.

    Attributes:
        group: Group column, or several (their intersection cells).
        label: True label, 0 or 1.
        score: Score of class 1 in [0, 1].
        patient: Patient id (absent: images are the unit, and the output says so).
        pred: Hard decisions (0/1) instead of thresholding the score; None: threshold.
    """

    group: tuple[str, ...] = ("fst",)
    label: str = "y_true"
    score: str = "y_score"
    patient: str = "patient_id"
    pred: str | None = None

    @property
    def names(self) -> dict[str, str]:
        """Argument name -> column, for errors that name the column."""
        return {"y_true": self.label, "y_score": self.score, "groups": self.group[0],
                "y_pred": self.pred or "", "clusters": self.patient}  # fmt: skip


@dataclass(frozen=True)
class RunFiles:
    """Runs read from files: aligned frames, their runs, the groups and the context."""

    frame: pd.DataFrame
    runs: list[RunInput]
    groups: pd.Series
    clusters: pd.Series | None
    context: GroupContext


def read_runs(
    paths: Sequence[Path],
    columns: Columns,
    thresholds: Sequence[float | None],
    thresholds_from: Sequence[Path | None],
    min_cell: int = MIN_CELL,
    estimate: Estimator | None = None,
) -> RunFiles:
    """Read one model's predictions files (one per run) over the same images.

    Raises:
        PredictionsError: A bad file; several files that disagree on images, labels,
            groups or patients (naming the file and the count of missing ids).
        ValueError: Decisions and thresholds both given.
    """
    paths = [Path(p) for p in paths]
    if columns.pred and any(t is not None for t in [*thresholds, *thresholds_from]):
        raise ValueError("decisions are given (--pred-col): thresholds do not apply")
    chosen = [resolve_threshold(t, f, columns.names, p)
              for t, f, p in zip(thresholds, thresholds_from, paths, strict=True)]  # fmt: skip
    group_cols = list(columns.group[estimate is not None :])
    need = [columns.label, columns.score, *group_cols, *([columns.pred] if columns.pred else [])]
    frames = [read_predictions(p, need + ([ID_COL] if len(paths) > 1 else [])) for p in paths]
    if len(frames) > 1:
        frames = align_runs(frames, paths, [columns.label, *group_cols, columns.patient])
    else:
        unique_ids(frames[0], paths[0])
    note = estimated_column(frames[0], columns.group[0], estimate, paths[0])
    grouping = audit_groups(frames[0], list(columns.group), paths[0], min_cell)
    for frame, path in zip(frames, paths, strict=True):
        located(path, columns.names, lambda f=frame: check_inputs(
            f[columns.label], f[columns.score], grouping.labels))  # type: ignore[misc]  # fmt: skip
    clusters, unit_source = patient_column(frames[0], columns.patient)
    runs = [
        RunInput(path.name, frame[columns.score], frame[columns.pred] if columns.pred else None,
                 threshold, f"decisions in column '{columns.pred}'" if columns.pred else source)
        for path, frame, (threshold, source) in zip(paths, frames, chosen, strict=True)
    ]  # fmt: skip
    phantom = "dataset" in frames[0].columns and is_phantom(frames[0]["dataset"])
    notes = (*([note] if note else []), *grouping.notes)
    context = GroupContext(tuple(columns.group), notes, dict(grouping.not_compared),
                           unit_source, phantom)  # fmt: skip
    return RunFiles(frames[0], runs, grouping.labels, clusters, context)


def audit_files(
    paths: Sequence[Path],
    *,
    columns: Columns | None = None,
    threshold: float | None = None,
    thresholds_from: Sequence[Path] = (),
    options: AuditOptions | None = None,
    min_cell: int = MIN_CELL,
    estimate: Estimator | None = None,
) -> AuditResult:
    """Audit one predictions file, or several runs (seeds) of one model on the same images.

    Args:
        paths: One file per run (one row per image; with several, joined on ``image_id``).
        columns: Column names (label, score, groups, patient, decisions).
        threshold: One threshold for every run; exclusive with ``thresholds_from``.
        thresholds_from: One validation file per run to choose its threshold on (Youden's J).
            Never the audited files.
        options: Bootstrap, permutations, seed, the rule, the contrast, interval method.
        min_cell: Intersection cells with fewer images are flagged and not compared.
        estimate: ``fn(frame) -> (groups, note)``: the first group column is estimated
            from images (``--images``) and must not be in the file.

    Raises:
        PredictionsError: A bad file (named, with row and column where it applies).
        ValueError: Thresholds and decisions both given, or a count mismatch.
    """
    columns = columns or Columns()
    paths = [Path(p) for p in paths]
    if not paths:
        raise ValueError("no predictions file to audit")
    if thresholds_from and len(thresholds_from) != len(paths):
        raise ValueError(
            f"{len(paths)} predictions file(s) but {len(thresholds_from)} validation file(s): "
            "give one --threshold-from per run, in the same order"
        )
    froms: list[Path | None] = list(thresholds_from) or [None] * len(paths)
    files = read_runs(paths, columns, [threshold] * len(paths), froms, min_cell, estimate)
    return located(paths[0], columns.names, lambda: binary_audit(
        files.frame[columns.label], files.runs, groups=files.groups, clusters=files.clusters,
        options=options, context=files.context,
    ))  # fmt: skip


def compare_files(
    a_paths: Sequence[Path],
    b_paths: Sequence[Path],
    *,
    columns: Columns | None = None,
    thresholds_from: tuple[Sequence[Path], Sequence[Path]] = ((), ()),
    names: tuple[str, str] | None = None,
    options: AuditOptions | None = None,
) -> PairedResult:
    """Paired comparison of model B against model A (each one file or several runs).

    Both must score the same images (joined on ``image_id``) with the same labels, groups
    and patients. Each run's threshold is chosen on its own validation file, or 0.5.

    Raises:
        PredictionsError: A bad file, or files that disagree on images, labels or groups.
    """
    columns = columns or Columns()
    a_list, b_list = [Path(p) for p in a_paths], [Path(p) for p in b_paths]
    froms: list[Path | None] = []
    for paths, given in zip((a_list, b_list), thresholds_from, strict=True):
        froms += list(given) or [None] * len(paths)
    # One read, every file aligned on A's first: the same images, labels, groups, patients.
    files = read_runs([*a_list, *b_list], columns, [None] * len(froms), froms)
    label = names or (a_list[0].name, b_list[0].name)
    return paired_comparison(
        files.frame[columns.label], files.runs[: len(a_list)], files.runs[len(a_list) :],
        groups=files.groups, clusters=files.clusters, names=label, options=options,
        context=files.context,
    )  # fmt: skip


def write_audit(
    result: AuditResult,
    *,
    title: str,
    json_path: Path | None = None,
    md_path: Path | None = None,
    png_path: Path | None = None,
    html_path: Path | None = None,
) -> None:
    """Write the result as JSON, Markdown, PNG figures and one self-contained HTML page.

    The figures are ``<png>`` (metrics per group) and ``<png stem>.reliability.png``; the
    HTML page inlines them (drawn in a scratch folder when no PNG is asked for).
    """
    if json_path is not None:
        result.write(json_path)
    if md_path is None and html_path is None and png_path is None:
        return
    with tempfile.TemporaryDirectory() as scratch:
        png = png_path or Path(scratch) / "audit.png"
        name = png.name.removesuffix(".png")
        save(draw_groups(result), png)
        if result.calibration is not None:
            save(draw_reliability(result.calibration), png.with_name(f"{name}.reliability.png"))
        figures = audit_figures(name)
        blocks = audit_blocks(result, name, figures)
        write_pages(blocks, title, md_path, html_path, lambda f: png.parent / Path(f.path).name)


def write_comparison(result: PairedResult, *, title: str, json_path: Path | None = None,
                     md_path: Path | None = None) -> None:  # fmt: skip
    """Write a paired comparison as JSON and Markdown."""
    if json_path is not None:
        result.write(json_path)
    write_pages(paired_blocks(result, "compare"), title, md_path, None, lambda f: None)
