"""File-level fairness audit: a predictions CSV in; JSON, Markdown and PNG out.

The CLI calls :func:`audit_file` and then :func:`write_audit`. The threshold is given, or
chosen on a *validation* predictions CSV (:func:`~benchmark.metrics.fairness.choose_threshold`),
or the default 0.5; it is never chosen on the file being audited.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd

from benchmark.core.caveats import PHANTOM_WARNING, is_phantom
from benchmark.core.defaults import MIN_NEGATIVES, MIN_POSITIVES
from benchmark.core.fitzpatrick import DARK_TYPES, few_dark_warning
from benchmark.core.io import FileContentError, write_json_atomic, write_text_atomic
from benchmark.fairness.audit_extras import audit_extras, extras_markdown
from benchmark.fairness.audit_html import write_audit_html
from benchmark.fairness.figure import audit_figure
from benchmark.fairness.groups import MIN_CELL, audit_groups, estimated_column
from benchmark.metrics.fairness import METRICS, SMALL_GROUP, audit, choose_threshold
from benchmark.metrics.inputs import FairnessInputError, check_inputs

T = TypeVar("T")
EXACT_COLUMNS = ("sensitivity", "specificity")  # binomial rates shown with exact intervals


class PredictionsError(FileContentError):
    """A predictions file is unusable; the message names file, row and column."""


def read_predictions(path: Path, columns: list[str]) -> pd.DataFrame:
    """Read a predictions CSV as strings, checking that ``columns`` are present.

    Empty cells and pandas' NA spellings (``NaN``, ``None``, ``NA``...) become missing.

    Raises:
        PredictionsError: File missing or unreadable, no rows, or a column missing.
    """
    path = Path(path)
    if not path.is_file():
        raise PredictionsError(path, "predictions file not found")
    try:
        frame = pd.read_csv(path, dtype=str)
    except Exception as exc:  # pandas raises many types for a malformed file
        raise PredictionsError(path, f"cannot read predictions CSV: {exc}") from exc
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise PredictionsError(path, f"missing column(s) {missing}", column=missing[0])
    if frame.empty:
        raise PredictionsError(path, "no rows")
    return frame


def located(path: Path, columns: dict[str, str], fn: Callable[[], T]) -> T:
    """Run ``fn``, turning an input error into one that names file, row and column."""
    try:
        return fn()
    except FairnessInputError as exc:
        column = columns.get(exc.argument or "")
        raise PredictionsError(path, exc.reason, row=exc.index, column=column) from exc


def audit_file(
    pred_csv: Path,
    *,
    group_col: str | Sequence[str] = "fst",
    label_col: str = "y_true",
    score_col: str = "y_score",
    cluster_col: str = "patient_id",
    threshold: float | None = None,
    threshold_from: Path | None = None,
    n_bootstrap: int = 0,
    seed: int = 0,
    min_positives: int = MIN_POSITIVES,
    min_negatives: int = MIN_NEGATIVES,
    n_permutations: int = 0,
    min_cell: int = MIN_CELL,
    estimate: Callable[[pd.DataFrame], tuple[pd.Series, str]] | None = None,
) -> dict[str, Any]:
    """Audit a predictions CSV (one row per image) across the groups of ``group_col``.

    Args:
        pred_csv: Predictions (image_id, y_true, y_score, fst, source as the classifier writes
            them; only the label, score and group columns are read).
        group_col: Group column (Fitzpatrick type, in the suite's or a public dataset's
            spelling: :mod:`~benchmark.fairness.label_sources`), or several: their
            intersection cells (:mod:`~benchmark.fairness.groups`).
        label_col: True label column, 0 or 1.
        score_col: Score column, the probability of class 1 in [0, 1].
        cluster_col: Patient column: the bootstrap resamples patients. Absent from the
            file: images are resampled as independent, and ``cluster_source`` says so.
        threshold: Decision threshold; exclusive with ``threshold_from``.
        threshold_from: Validation predictions CSV (same label/score columns) on which the
            threshold maximising Youden's J is chosen. Never pass the audited test file.
        n_bootstrap: Bootstrap resamples for CIs (0: none).
        seed: Bootstrap seed.
        min_positives: Compared-groups rule (:func:`~benchmark.metrics.fairness.audit`).
        min_negatives: Likewise.
        n_permutations: Permutations of each gap's test (0: none; seeded with ``seed``).
        min_cell: Intersection cells with fewer images are flagged and not compared.
        estimate: ``fn(frame) -> (group per row, note)``: the first group column is then
            estimated (``skinbench audit --images``:
            :func:`benchmark.skintone.audit_groups.estimate_groups`) and must not be in
            the file; the note is printed with the groups.

    Returns:
        The dict of :func:`benchmark.metrics.fairness.audit` plus ``calibration``,
        ``equity_scaled`` and ``significance`` (:func:`~benchmark.fairness.audit_extras.
        audit_extras`), ``threshold_source``
        (``"given"``, ``"validation:<file name>"`` or ``"default 0.5"``), ``cluster_source``
        (the patient column, or a sentence saying images were resampled) and
        ``predictions`` (the audited file's name).

    Raises:
        PredictionsError: A bad file, naming it and, where it applies, the row (0-based data
            row) and column.
        ValueError: Both ``threshold`` and ``threshold_from`` given, or ``threshold_from``
            is ``pred_csv`` itself.
    """
    pred_csv = Path(pred_csv)
    columns = [group_col] if isinstance(group_col, str) else list(group_col)
    names = {"y_true": label_col, "y_score": score_col, "groups": columns[0]}
    chosen, source = resolve_threshold(threshold, threshold_from, names, pred_csv)
    frame = read_predictions(pred_csv, [label_col, score_col, *columns[estimate is not None :]])
    note = estimated_column(frame, columns[0], estimate, pred_csv)
    grouping = audit_groups(frame, columns, pred_csv, min_cell)
    labels, scores, groups = frame[label_col], frame[score_col], grouping.labels
    clusters, cluster_source = patient_column(frame, cluster_col)
    result = located(
        pred_csv,
        names,
        lambda: audit(
            labels,
            scores,
            groups=groups,
            clusters=clusters,
            threshold=chosen,
            n_bootstrap=n_bootstrap,
            seed=seed,
            min_positives=min_positives,
            min_negatives=min_negatives,
            not_compared=list(grouping.not_compared),
        ),
    )
    data = check_inputs(labels, scores, groups)  # already validated by audit: no new error
    extras = audit_extras(data, result, n_permutations=n_permutations, seed=seed)
    phantom = "dataset" in frame.columns and is_phantom(frame["dataset"])
    extra: dict[str, Any] = {
        "threshold_source": source,
        "cluster_source": cluster_source,
        "phantom": phantom,
    }
    extra["groups"] = grouping.describe()
    if note is not None:
        extra["groups"]["notes"].insert(0, note)
    return {**result, **extras, **extra, "predictions": pred_csv.name}


def patient_column(frame: pd.DataFrame, column: str) -> tuple[pd.Series | None, str]:
    """The resampling unit of a predictions frame and a sentence naming it."""
    if column not in frame.columns:
        return None, f"no '{column}' column: images resampled as if independent"
    missing = int(frame[column].isna().sum())
    note = f"patients ('{column}')"
    if missing:
        note += f"; {missing} image(s) without one resampled on their own"
    return frame[column], note


def resolve_threshold(
    threshold: float | None, threshold_from: Path | None, names: dict[str, str], audited: Path
) -> tuple[float, str]:
    """The threshold and where it came from: given, validation file, or the default."""
    if threshold is not None and threshold_from is not None:
        raise ValueError("give threshold or threshold_from, not both")
    if threshold_from is not None and Path(threshold_from).resolve() == audited.resolve():
        raise ValueError(f"{audited}: threshold_from is the audited file; use validation data")
    if threshold is not None:
        return float(threshold), "given"
    if threshold_from is None:
        return 0.5, "default 0.5"
    path = Path(threshold_from)
    val = read_predictions(path, [names["y_true"], names["y_score"]])
    labels, scores = val[names["y_true"]], val[names["y_score"]]
    chosen = located(path, names, lambda: choose_threshold(labels, scores))
    return chosen, f"validation:{path.name}"


def _num(value: Any) -> float:
    """A result value as float; None (NaN after a JSON round trip) becomes NaN."""
    return math.nan if value is None else float(value)


def _fmt(value: Any) -> str:
    number = _num(value)
    return "undefined" if math.isnan(number) else f"{number:.3f}"


def _with_ci(value: Any, interval: dict[str, Any] | None, n_bootstrap: int) -> str:
    text = _fmt(value)
    if not interval or math.isnan(_num(value)) or math.isnan(_num(interval["low"])):
        return text
    text += f" [{_num(interval['low']):.3f}, {_num(interval['high']):.3f}"
    if interval["n_valid"] < n_bootstrap:  # some resamples left the value undefined
        text += f"; valid in {interval['n_valid']}/{n_bootstrap} resamples"
    return text + "]"


def _exact_cell(result: dict[str, Any], group: str, metric: str) -> str:
    exact = (result.get("exact") or {}).get("by_group", {}).get(group, {}).get(metric)
    if not exact or math.isnan(_num(exact["low"])):
        return "undefined"
    return (
        f"{exact['successes']}/{exact['trials']} "
        f"[{_num(exact['low']):.3f}, {_num(exact['high']):.3f}]"
    )


def interval_lines(result: dict[str, Any]) -> list[str]:
    """What the brackets mean: the bootstrap's unit and resamples, the exact method, the rule."""
    ci = result.get("ci") or {}
    lines = []
    if ci:
        lines.append(
            f"Brackets: {ci['level']:.0%} {ci['method']} ({ci['n_bootstrap']} resamples; "
            f"unit: {result.get('cluster_source', ci.get('unit'))})."
        )
    if result.get("exact"):
        lines.append(
            f"Exact columns: successes/trials [{result['exact']['level']:.0%} "
            f"{result['exact']['method']}]."
        )
    if result.get("rule"):
        lines.append(result["rule"])
    return lines


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def _group_section(result: dict[str, Any]) -> list[str]:
    ci = result.get("ci") or {}
    n_boot = int(ci.get("n_bootstrap", 0))
    rows = []
    for g, vals in result["by_group"].items():
        cis = ci.get("by_group", {}).get(g, {})
        cells = [_with_ci(vals[m], cis.get(m), n_boot) for m in METRICS]
        exact = [_exact_cell(result, g, m) for m in EXACT_COLUMNS]
        compared = "yes" if vals.get("compared") else "no (flagged)"
        rows.append([g, str(vals["support"]), str(vals["positives"]), compared, *cells, *exact])
    overall = result["overall"]
    cells = [_with_ci(overall[m], ci.get("overall", {}).get(m), n_boot) for m in METRICS]
    summary = ", ".join(f"{m} {c}" for m, c in zip(METRICS, cells, strict=True))
    return [
        f"Overall ({overall['support']} images, {overall['positives']} melanocytic): {summary}.",
        "",
        "## By group",
        "",
        *[f"{line}  " for line in interval_lines(result)],
        "",
        *_table(
            [
                "group",
                "support",
                "positives",
                "compared",
                *METRICS,
                *(f"{m} exact" for m in EXACT_COLUMNS),
            ],
            rows,
        ),
    ]


def _between_section(result: dict[str, Any]) -> list[str]:
    ci = result.get("ci") or {}
    n_boot = int(ci.get("n_bootstrap", 0))
    rows = []
    for m in METRICS:
        worst = result["worst_group"].get(m)
        where = "-" if worst is None else f"{worst['group'] or 'none'} ({_fmt(worst['value'])})"
        rows.append([m, where, _with_ci(result["gaps"][m], ci.get("gaps", {}).get(m), n_boot)])
    eo, dp = "equalized_odds_difference", "demographic_parity_difference"
    compared = ", ".join(result.get("compared_groups", [])) or "none"
    return [
        "## Worst group and gap (max - min over the compared groups)",
        "",
        f"{result.get('rule', '')} Compared: {compared}. "
        "Groups `uncertain` and `missing` are not skin types and are never compared.",
        "",
        *_table(["metric", "worst group (value)", "gap"], rows),
        "",
        "- Equalized-odds difference (max of TPR and FPR gaps): "
        + _with_ci(result[eo], ci.get(eo), n_boot),
        "- Demographic-parity difference (selection-rate gap): "
        + _with_ci(result[dp], ci.get(dp), n_boot),
        *(
            [
                "- Every resample takes a gap over the same compared groups; one where a "
                "group leaves the metric undefined is invalid and counted, not dropped "
                "silently. Gap intervals lean high (a max minus a min of noisy groups)."
            ]
            if n_boot
            else []
        ),
    ]


def report_warnings(result: dict[str, Any]) -> list[str]:
    """Plain statements about numbers that rest on too few images or a default threshold."""
    support = {g: int(v["support"]) for g, v in result["by_group"].items()}
    dark = sum(support.get(g, 0) for g in DARK_TYPES)
    out = [PHANTOM_WARNING] if result.get("phantom") else []
    if (warning := few_dark_warning(dark, "test image in this audit")) is not None:
        out.append(warning)
    out += [
        f"Group {g} has {n} images (fewer than {SMALL_GROUP}): its numbers are not reliable."
        for g, n in support.items()
        if n < SMALL_GROUP
    ]
    grouping = result.get("groups") or {}
    out += [f"Groups: {note}." for note in grouping.get("notes", [])]
    out += [
        f"Cell {cell}: {why}; shown with its own numbers, not compared."
        for cell, why in grouping.get("not_compared", {}).items()
    ]
    if result.get("threshold_source") == "default 0.5":
        out.append("The threshold is the default 0.5, not one chosen on validation predictions.")
    return out


def audit_markdown(result: dict[str, Any], title: str) -> str:
    """Markdown report of an :func:`audit_file` (or ``audit``) result.

    Values are shares in [0, 1] with their bootstrap CI in brackets when the result has one;
    an undefined value reads "undefined" and its reason is listed.
    """
    source = result.get("threshold_source", "given")
    lines = [f"# {title}", ""]
    if "predictions" in result:
        lines += [f"Predictions: `{result['predictions']}`.", ""]
    lines += [
        f"Threshold {result['threshold']:.4f} ({source}); predicted melanocytic where "
        "score >= threshold.",
        "",
    ]
    lines += [*_group_section(result), "", *_between_section(result), ""]
    lines += extras_markdown(result)
    undefined = result["undefined"]
    lines += ["## Undefined values", ""]
    lines += [
        f"- {u['group'] or 'overall / between groups'}, {u['metric']}: {u['reason']}"
        for u in undefined
    ] or ["- none"]
    notes = report_warnings(result)
    if notes:
        lines += ["", "## Warnings", "", *[f"- {note}" for note in notes]]
    return "\n".join(lines) + "\n"


def write_audit(
    result: dict[str, Any],
    json_path: Path | None = None,
    md_path: Path | None = None,
    png_path: Path | None = None,
    *,
    title: str = "Fairness audit",
    html_path: Path | None = None,
) -> None:
    """Write the result as JSON (NaN as null), Markdown, PNG and HTML; each atomically.

    The HTML is one self-contained page (:mod:`~benchmark.fairness.audit_html`).
    """
    if json_path is not None:
        write_json_atomic(json_path, result)
    if md_path is not None:
        write_text_atomic(md_path, audit_markdown(result, title))
    if png_path is not None:
        audit_figure(result, png_path)
    if html_path is not None:
        write_audit_html(result, audit_markdown(result, title), html_path)
