"""File-level paired comparison of two runs: two predictions CSVs in; JSON and Markdown out.

Both files must score the same images (joined on ``image_id``) with the same labels and
groups. Each run's threshold is given or chosen on that run's validation predictions, never
on the compared test files. Δ = B − A on shared patient-level resamples
(:func:`benchmark.metrics.compare.paired_comparison`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from benchmark.core.defaults import DEFAULT_RESAMPLES, MIN_NEGATIVES, MIN_POSITIVES
from benchmark.core.io import write_json_atomic, write_text_atomic
from benchmark.fairness.audit import (
    PredictionsError,
    located,
    patient_column,
    read_predictions,
    resolve_threshold,
)
from benchmark.fairness.paired_table import comparison_rows
from benchmark.metrics.compare import align, paired_comparison

ID_COL = "image_id"


def compare_files(
    a_csv: Path,
    b_csv: Path,
    *,
    thresholds: tuple[float | None, float | None] = (None, None),
    thresholds_from: tuple[Path | None, Path | None] = (None, None),
    group_col: str = "fst",
    label_col: str = "y_true",
    score_col: str = "y_score",
    cluster_col: str = "patient_id",
    n_bootstrap: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    min_positives: int = MIN_POSITIVES,
    min_negatives: int = MIN_NEGATIVES,
) -> dict[str, Any]:
    """Paired comparison of run B against run A on the same test images.

    Args:
        a_csv: Run A's test predictions (``image_id`` plus label, score, group columns).
        b_csv: Run B's, over the same image ids, labels and groups.
        thresholds: (A's, B's) given thresholds; each exclusive with ``thresholds_from``.
        thresholds_from: (A's, B's) validation predictions to choose each threshold on.
        group_col: Group column.
        label_col: Label column.
        score_col: Score column.
        cluster_col: Patient column (A's file); absent: images are resampled.
        n_bootstrap: Shared resamples.
        seed: Resampling seed.
        min_positives: Compared-groups rule.
        min_negatives: Compared-groups rule.

    Returns:
        :func:`paired_comparison`'s dict plus ``a``/``b`` (file names), ``threshold_sources``
        and ``cluster_source``.

    Raises:
        PredictionsError: A bad file, or files that disagree on images, labels or groups.
    """
    a_csv, b_csv = Path(a_csv), Path(b_csv)
    names = {"y_true": label_col, "y_score": score_col, "groups": group_col}
    columns = [ID_COL, label_col, score_col, group_col]
    frames = [read_predictions(p, columns) for p in (a_csv, b_csv)]
    chosen = [
        resolve_threshold(t, f, names, p)
        for t, f, p in zip(thresholds, thresholds_from, (a_csv, b_csv), strict=True)
    ]
    ids = (frames[0][ID_COL], frames[1][ID_COL])
    order = located(b_csv, names, lambda: align(*ids, ("A", "B")))
    a, b = (f.iloc[o].reset_index(drop=True) for f, o in zip(frames, order, strict=True))
    for col in (label_col, group_col):
        differ = np.flatnonzero(a[col].astype(str).to_numpy() != b[col].astype(str).to_numpy())
        if differ.size:
            raise PredictionsError(
                b_csv,
                f"image {a[ID_COL][differ[0]]!r} has {col} {a[col][differ[0]]!r} in "
                f"{a_csv.name} but {b[col][differ[0]]!r} here",
                column=col,
            )
    clusters, cluster_source = patient_column(a, cluster_col)
    result = located(
        a_csv,
        names,
        lambda: paired_comparison(
            a[label_col],
            a[score_col],
            b[score_col],
            groups=a[group_col],
            clusters=clusters,
            thresholds=(chosen[0][0], chosen[1][0]),
            n_bootstrap=n_bootstrap,
            seed=seed,
            min_positives=min_positives,
            min_negatives=min_negatives,
        ),
    )
    sources = [source for _, source in chosen]
    extra = {"threshold_sources": sources, "cluster_source": cluster_source}
    return {"a": a_csv.name, "b": b_csv.name, **result, **extra}


def comparison_markdown(result: dict[str, Any], title: str) -> str:
    """Markdown table of a :func:`compare_files` result."""
    header = ["statistic", "A", "B", "Δ = B − A [95% interval]", "p (two-sided)", "valid"]
    lines = [
        f"# {title}",
        "",
        f"A: `{result['a']}`; B: `{result['b']}`; {result['n']} shared test images. "
        f"Thresholds {result['thresholds'][0]:.4f} (A, {result['threshold_sources'][0]}) and "
        f"{result['thresholds'][1]:.4f} (B, {result['threshold_sources'][1]}).",
        "",
        f"Method: {result['method']}, {result['n_bootstrap']} resamples; resampling unit: "
        f"{result['cluster_source']}. {result['rule']}",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *["| " + " | ".join(r) + " |" for r in comparison_rows(result)],
    ]
    if len(result["compared_groups"]) < 2:
        lines += [
            "",
            f"Fewer than two groups meet the rule ({result['compared_groups'] or 'none'}): "
            "no gap can be compared.",
        ]
    return "\n".join(lines) + "\n"


def write_comparison(
    result: dict[str, Any], json_path: Path | None, md_path: Path | None, title: str
) -> None:
    """Write the result as JSON (NaN as null) and Markdown, each atomically."""
    if json_path is not None:
        write_json_atomic(json_path, result)
    if md_path is not None:
        write_text_atomic(md_path, comparison_markdown(result, title))
