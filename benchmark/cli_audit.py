"""``skinbench audit``: the fairness audit of a predictions file, or two runs compared.

Registered on the ``skinbench`` group by :mod:`benchmark.cli`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from benchmark.core.defaults import DEFAULT_RESAMPLES, MIN_NEGATIVES, MIN_POSITIVES
from benchmark.core.io import write_json_atomic, write_text_atomic
from benchmark.fairness.groups import MIN_CELL
from benchmark.metrics.permutation import DEFAULT_PERMUTATIONS

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.command("audit")
@click.argument("predictions", type=_FILE, required=False)
@click.option(
    "--compare",
    nargs=2,
    type=_FILE,
    help="A.csv B.csv: paired comparison of two runs' test predictions (Δ = B − A).",
)
@click.option(
    "--group-col",
    multiple=True,
    default=("fst",),
    show_default=True,
    help="Group column (ISIC, Fitzpatrick17k, DDI, PAD-UFES-20 and MILK10k spellings are "
    "read by name); repeat for intersections (--group-col fst --group-col sex).",
)
@click.option(
    "--min-cell",
    default=MIN_CELL,
    show_default=True,
    help="Intersection cells with fewer images are shown, flagged and not compared.",
)
@click.option(
    "--images",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder of the audited images: estimate the group column (robust ITA, as "
    "`skinbench ita --robust`) when the predictions have none; rows matched by image_id.",
)
@click.option(
    "--masks",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Lesion masks of --images (matched by stem) for that estimate.",
)
@click.option(
    "--classes",
    help="Multi-class: comma-separated class names = score columns (detected from an ISIC "
    "2019 header: MEL,NV,BCC,AK,BKL,DF,VASC,SCC); prediction = arg-max.",
)
@click.option("--renormalize", is_flag=True, help="Multi-class: divide scores by their row sum.")
@click.option("--label-col", default="y_true", show_default=True, help="0/1 label column.")
@click.option("--score-col", default="y_score", show_default=True, help="Score in [0, 1].")
@click.option("--patient-col", default="patient_id", show_default=True, help="Resampling unit.")
@click.option("--threshold", type=click.FloatRange(0, 1), help="Decision threshold.")
@click.option(
    "--threshold-from",
    type=_FILE,
    multiple=True,
    help="Validation predictions to choose it from (with --compare: A's, then B's).",
)
@click.option(
    "--bootstrap", default=DEFAULT_RESAMPLES, show_default=True, help="Bootstrap resamples."
)
@click.option("--seed", default=0, show_default=True, help="Bootstrap and permutation seed.")
@click.option(
    "--permutations",
    default=DEFAULT_PERMUTATIONS,
    show_default=True,
    help="Permutations of each gap's test (group labels permuted within the true class; "
    "0: no test).",
)
@click.option(
    "--min-positives", default=MIN_POSITIVES, show_default=True, help="Compared-groups rule."
)
@click.option(
    "--min-negatives", default=MIN_NEGATIVES, show_default=True, help="Compared-groups rule."
)
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--md", "md_out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--png", "png_out", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--html",
    "html_out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="One self-contained HTML audit (tables, figures, reliability diagram).",
)
def audit_cmd(
    predictions: Path | None,
    compare: tuple[Path, Path] | None,
    threshold: float | None,
    threshold_from: tuple[Path, ...],
    json_out: Path | None,
    md_out: Path | None,
    png_out: Path | None,
    html_out: Path | None,
    **options: Any,
) -> None:
    """Fairness audit of any model's predictions per skin-tone group, or two runs compared.

    Per group: accuracy, sensitivity, specificity, precision, F1, AUC, selection rate,
    support, patient-level bootstrap and exact intervals; worst group and gap per metric;
    equalized-odds and demographic-parity differences over the groups with at least
    --min-positives positives and --min-negatives negatives; calibration per group (ECE in
    equal-width and equal-mass bins, Brier), the equity-scaled AUC, and a permutation p-value
    of every gap with Holm's correction. A group without positives gets
    NaN with the reason, never 0. Take thresholds from validation (--threshold-from), never
    test. --compare A.csv B.csv gives Δ = B − A of every value with its interval and p-value
    on shared resamples.
    """
    from benchmark.fairness.audit import audit_file, audit_markdown, write_audit
    from benchmark.fairness.compare import compare_files, comparison_markdown, write_comparison

    if (predictions is None) == (compare is None):
        raise click.UsageError("give PREDICTIONS or --compare A.csv B.csv (one of them)")
    common = {
        "group_col": options["group_col"][0],
        "label_col": options["label_col"],
        "score_col": options["score_col"],
        "cluster_col": options["patient_col"],
        "n_bootstrap": options["bootstrap"],
        "seed": options["seed"],
        "min_positives": options["min_positives"],
        "min_negatives": options["min_negatives"],
    }
    try:
        if compare is not None:
            if len(options["group_col"]) > 1 or options["images"] is not None:
                raise click.UsageError("--compare takes one --group-col and no --images")
            if threshold_from and len(threshold_from) != 2:
                raise click.UsageError("with --compare, give --threshold-from twice (A, B)")
            froms = (threshold_from[0], threshold_from[1]) if threshold_from else (None, None)
            result = compare_files(
                *compare, thresholds=(threshold, threshold), thresholds_from=froms, **common
            )
            title = f"Paired comparison: {compare[1].name} against {compare[0].name}"
            write_comparison(result, json_out, md_out, title)
            if md_out is None:
                click.echo(comparison_markdown(result, title), nl=False)
            return
        assert predictions is not None
        if _multiclass(predictions, options, html_out, json_out, md_out):
            return
        if len(threshold_from) > 1:
            raise click.UsageError("one --threshold-from for a single audit")
        assert predictions is not None
        result = audit_file(
            predictions,
            threshold=threshold,
            threshold_from=threshold_from[0] if threshold_from else None,
            n_permutations=options["permutations"],
            min_cell=options["min_cell"],
            estimate=_estimator(predictions, options["images"], options["masks"]),
            **{**common, "group_col": options["group_col"]},
        )
    except (ValueError, FileNotFoundError) as exc:
        raise click.ClickException(str(exc)) from exc
    title = f"Fairness audit of {predictions.name}"
    write_audit(result, json_out, md_out, png_out, title=title, html_path=html_out)
    if md_out is None:
        click.echo(audit_markdown(result, title), nl=False)


def _estimator(predictions: Path, images: Path | None, masks: Path | None) -> Any:
    """``--images``: the robust ITA groups of those images, printing their problems."""
    if images is None:
        return None

    def estimate(frame: Any) -> tuple[Any, str]:
        from benchmark.skintone.audit_groups import estimate_groups

        found = estimate_groups(frame, images, masks, predictions)
        for problem in found.problems:
            click.echo(f"warning: {problem}", err=True)
        return found.fst, found.note

    return estimate


def _multiclass(predictions: Path, options: dict[str, Any], *outs: Path | None) -> bool:
    """Run the multi-class audit when classes are given or detected; whether it ran."""
    import pandas as pd

    from benchmark.fairness.audit_html import write_audit_html
    from benchmark.fairness.audit_multiclass import (
        detect_classes,
        is_multiclass,
        multiclass_audit_file,
        multiclass_markdown,
    )

    header = list(pd.read_csv(predictions, nrows=0).columns)
    if options["classes"] is None and not is_multiclass(header, options["score_col"]):
        return False
    classes = (
        tuple(c.strip() for c in options["classes"].split(","))
        if options["classes"]
        else detect_classes(header)
    )
    assert classes is not None
    result = multiclass_audit_file(
        predictions, classes, label_col=options["label_col"], group_col=options["group_col"],
        renormalize=options["renormalize"], min_cell=options["min_cell"],
        n_permutations=options["permutations"], seed=options["seed"],
    )  # fmt: skip
    text = multiclass_markdown(result, f"Multi-class fairness audit of {predictions.name}")
    html_out, json_out, md_out = outs
    if json_out is not None:
        write_json_atomic(json_out, result)
    if md_out is not None:
        write_text_atomic(md_out, text)
    if html_out is not None:
        write_audit_html(result, text, html_out, figures=False)
    if md_out is None:
        click.echo(text, nl=False)
    return True
