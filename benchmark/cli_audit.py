"""``skinbench audit``: the fairness audit of predictions files, or two models compared.

Registered on the ``skinbench`` group by :mod:`benchmark.cli`.
"""

from __future__ import annotations

import glob
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from benchmark.cli_config import config, default_help
from benchmark.core.config.downstream import FairnessConfig
from benchmark.core.defaults import INTERVAL_METHODS, PATIENT_RULES
from benchmark.core.fitzpatrick import ContrastSpec
from benchmark.fairness.groups import MIN_CELL

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
_OUT = click.Path(dir_okay=False, path_type=Path)


def _options(f: Any) -> Any:
    """Every option of the command (kept apart so the command reads as its logic)."""
    opts = [
        click.option("--compare", nargs=2, type=_FILE, multiple=True,
                     help="A.csv B.csv: paired comparison of two models on the same images "
                     "(Δ = B − A); repeat for several runs of each, paired by position."),
        click.option("--group-col", multiple=True, default=("fst",), show_default=True,
                     help="Group column (ISIC, Fitzpatrick17k, DDI, PAD-UFES-20 and MILK10k "
                     "spellings are read by name); repeat for intersections."),
        click.option("--min-cell", default=MIN_CELL, show_default=True,
                     help="Intersection cells with fewer images are shown, flagged, not "
                     "compared."),
        click.option("--images", type=click.Path(exists=True, file_okay=False, path_type=Path),
                     help="Folder of the audited images: estimate the group column (robust "
                     "ITA) when the predictions have none; rows matched by image_id."),
        click.option("--masks", type=click.Path(exists=True, file_okay=False, path_type=Path),
                     help="Lesion masks of --images (matched by stem) for that estimate."),
        click.option("--classes", help="Multi-class: comma-separated class names = score "
                     "columns (detected from an ISIC 2019 header); decision = arg-max."),
        click.option("--renormalize", is_flag=True, help="Multi-class: divide scores by their "
                     "row sum."),
        click.option("--label-col", default="y_true", show_default=True, help="Label column."),
        click.option("--score-col", default="y_score", show_default=True,
                     help="Score in [0, 1] (AUC and calibration)."),
        click.option("--pred-col", help="Hard decisions (0/1; multi-class: class names) "
                     "instead of thresholding the score; thresholds then do not apply."),
        click.option("--patient-col", default="patient_id", show_default=True,
                     help="Patient id: the unit resampled and permuted between groups."),
        click.option("--patient-groups", type=click.Choice(PATIENT_RULES), default="error",
                     show_default=True, help="A patient with images in two groups: refuse, or "
                     "give it its most frequent group."),
        click.option("--threshold", type=click.FloatRange(0, 1), help="Decision threshold."),
        click.option("--threshold-from", type=_FILE, multiple=True,
                     help="Validation predictions to choose each run's threshold on (one per "
                     "predictions file, in order; with --compare: A's, then B's)."),
        click.option("--contrast", help=default_help("Pre-specified contrast HIGH:LOW of skin "
                     "types, e.g. V-VI:I-II (the headline).", "fairness.contrast")),
        click.option("--bootstrap", type=int, help=default_help("Bootstrap replicates (runs, "
                     "then patients within groups).", "fairness.bootstrap")),
        click.option("--permutations", type=int, help=default_help("Permutations of every "
                     "test (patients moved between groups; 0: no test).",
                     "fairness.permutations")),
        click.option("--interval", type=click.Choice(INTERVAL_METHODS), help=default_help(
                     "Binomial interval of the exact columns.", "fairness.interval")),
        click.option("--seed", type=int, help=default_help("Resampling seed.",
                     "fairness.seed")),
        click.option("--min-positives", type=int, help=default_help("Compared-groups rule: "
                     "patients with a positive image.", "fairness.min_positives")),
        click.option("--min-negatives", type=int, help=default_help("Compared-groups rule: "
                     "patients with a negative image.", "fairness.min_negatives")),
        click.option("--json", "json_out", type=_OUT),
        click.option("--md", "md_out", type=_OUT),
        click.option("--png", "png_out", type=_OUT),
        click.option("--html", "html_out", type=_OUT,
                     help="One self-contained HTML audit (tables, figures, reliability)."),
    ]  # fmt: skip
    for option in reversed(opts):
        f = option(f)
    return f


@click.command("audit")
@click.argument("predictions", nargs=-1)
@_options
def audit_cmd(predictions: tuple[str, ...], **options: Any) -> None:
    """Fairness audit of any model's predictions per skin-tone group, or two models compared.

    PREDICTIONS: one CSV, or several runs (seeds) of one model on the same images (files or
    a glob, joined on image_id): values are then means over runs with one interval over
    runs and patients. The headline is the pre-specified contrast (--contrast, AUC within
    each side, threshold-free) with its interval and a test that moves whole patients
    between groups; sensitivity at the threshold is its secondary. Per group: accuracy,
    sensitivity, specificity, precision, F1, AUC, selection rate, exact intervals; max −
    min gaps with permutation p-values (Holm); calibration by group with the ECE debiased
    for group size. Undefined values are NaN with the reason, never 0. Take thresholds from
    validation (--threshold-from), never test.
    """
    from benchmark.fairness.audit import (
        Columns,
        audit_files,
        compare_files,
        write_audit,
        write_comparison,
    )
    from benchmark.fairness.render import markdown_text, paired_blocks

    paths = _expand(predictions)
    compare = options["compare"]
    if bool(paths) == bool(compare):
        raise click.UsageError("give PREDICTIONS (one or more files) or --compare A.csv B.csv")
    _check_before_work(paths or [a for a, _ in compare], options)
    try:
        audit_options = _audit_options(options)
        columns = Columns(
            tuple(options["group_col"]),
            options["label_col"],
            options["score_col"],
            options["patient_col"],
            options["pred_col"],
        )
        if compare:
            if len(options["group_col"]) > 1 or options["images"] is not None:
                raise click.UsageError("--compare takes one --group-col and no --images")
            paired = compare_files(
                [a for a, _ in compare],
                [b for _, b in compare],
                columns=columns,
                thresholds_from=_split_froms(options["threshold_from"], len(compare)),
                options=audit_options,
            )
            title = f"Paired comparison: {compare[0][1].name} against {compare[0][0].name}"
            write_comparison(
                paired, title=title, json_path=options["json_out"], md_path=options["md_out"]
            )
            if options["md_out"] is None:
                click.echo(markdown_text(paired_blocks(paired, "compare"), title), nl=False)
            return
        if _multiclass(paths, options, audit_options):
            return
        result = audit_files(
            paths,
            columns=columns,
            threshold=options["threshold"],
            thresholds_from=list(options["threshold_from"]),
            options=audit_options,
            min_cell=options["min_cell"],
            estimate=_estimator(paths[0], options["images"], options["masks"]),
        )
    except (ValueError, FileNotFoundError) as exc:
        raise click.ClickException(str(exc)) from exc
    title = f"Fairness audit of {', '.join(p.name for p in paths)}"
    write_audit(
        result,
        title=title,
        json_path=options["json_out"],
        md_path=options["md_out"],
        png_path=options["png_out"],
        html_path=options["html_out"],
    )
    if options["md_out"] is None:
        from benchmark.fairness.render import audit_blocks

        click.echo(markdown_text(audit_blocks(result, "audit"), title), nl=False)


def _check_before_work(paths: list[Path], options: dict[str, Any]) -> None:
    """Refuse what would fail late: an output path under a file, a named column absent.

    ``--patient-col`` given on the command line must exist: without it the audit would
    resample images as if independent, which only the default may do (and says so).
    """
    from benchmark.core.outputs import OutputPathError, check_output_paths
    from benchmark.fairness.files import read_header

    try:
        check_output_paths(options[k] for k in ("json_out", "md_out", "png_out", "html_out"))
    except OutputPathError as exc:
        raise click.UsageError(str(exc)) from exc
    source = click.get_current_context().get_parameter_source("patient_col")
    if source is not ParameterSource.COMMANDLINE:
        return
    for path in paths:
        try:
            header = read_header(path)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
        if options["patient_col"] not in header:
            raise click.UsageError(
                f"{path}: no column '{options['patient_col']}' (--patient-col); its columns are "
                f"{', '.join(map(str, header))}"
            )


def _expand(patterns: tuple[str, ...]) -> list[Path]:
    """Files and globs, in the order given (a glob's matches sorted)."""
    out = []
    for pattern in patterns:
        matches = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
        if not matches:
            raise click.BadParameter(f"{pattern!r} matches no file", param_hint="PREDICTIONS")
        for match in matches:
            path = Path(match)
            if path.is_dir() or not path.exists():
                raise click.BadParameter(f"{match!r} is not a file", param_hint="PREDICTIONS")
            out.append(path if path.is_file() else _read_once(path))
    return out


def _read_once(stream: Path) -> Path:
    """A pipe or process substitution (``<(cat f.csv)``) copied once into a temporary file.

    The audit reads its input more than once (header, then rows); a pipe can be read once.
    The copy lives until the command ends.
    """
    import tempfile

    folder = click.get_current_context().with_resource(tempfile.TemporaryDirectory())
    copy = Path(folder) / f"{stream.name or 'stdin'}.csv"
    copy.write_bytes(stream.read_bytes())
    return copy


def _audit_options(options: dict[str, Any]) -> Any:
    from benchmark.fairness.inputs import AuditOptions

    contrast = options["contrast"]
    # The statistics the pipeline's fairness stage uses, unless an option says otherwise.
    cfg = config(
        FairnessConfig, bootstrap=options["bootstrap"], permutations=options["permutations"],
        seed=options["seed"], min_positives=options["min_positives"],
        min_negatives=options["min_negatives"], interval=options["interval"],
        contrast=None if contrast is None else ContrastSpec.parse(contrast),
    )  # fmt: skip
    return AuditOptions(
        n_bootstrap=cfg.bootstrap, n_permutations=cfg.permutations, seed=cfg.seed,
        min_positives=cfg.min_positives, min_negatives=cfg.min_negatives,
        contrast=cfg.contrast, interval=cfg.interval, patient_rule=options["patient_groups"],
    )  # fmt: skip


def _split_froms(froms: tuple[Path, ...], runs: int) -> tuple[list[Path], list[Path]]:
    """``--threshold-from`` of a comparison: A's runs first, then B's (or none)."""
    if not froms:
        return [], []
    if len(froms) != 2 * runs:
        raise click.UsageError(
            f"with --compare, give --threshold-from {2 * runs} times: A's file(s), then B's"
        )
    return list(froms[:runs]), list(froms[runs:])


def _estimator(predictions: Path, images: Path | None, masks: Path | None) -> Any:
    """``--images``: the robust ITA groups of those images, printing their problems."""
    if images is None:
        return None

    def estimate(frame: Any) -> tuple[Any, str]:
        from benchmark.core.config.data import SkintoneConfig
        from benchmark.skintone.audit_groups import estimate_groups

        found = estimate_groups(frame, images, masks, predictions, config(SkintoneConfig))
        for problem in found.problems:
            click.echo(f"warning: {problem}", err=True)
        return found.fst, found.note

    return estimate


def _multiclass(paths: list[Path], options: dict[str, Any], audit_options: Any) -> bool:
    """Run the multi-class audit when classes are given or detected; whether it ran."""
    from benchmark.fairness.files import read_header
    from benchmark.fairness.multiclass import (
        detect_classes,
        is_multiclass,
        multiclass_audit_file,
    )
    from benchmark.fairness.render import markdown_text, multiclass_blocks, write_multiclass

    header = read_header(paths[0])
    if options["classes"] is None and not is_multiclass(header, options["score_col"]):
        return False
    if len(paths) > 1:
        raise click.UsageError("the multi-class audit takes one predictions file")
    classes = (tuple(c.strip() for c in options["classes"].split(","))
               if options["classes"] else detect_classes(header))  # fmt: skip
    assert classes is not None
    result = multiclass_audit_file(
        paths[0], classes, label_col=options["label_col"], group_col=options["group_col"],
        cluster_col=options["patient_col"], pred_col=options["pred_col"],
        renormalize=options["renormalize"], min_cell=options["min_cell"], options=audit_options,
    )  # fmt: skip
    title = f"Multi-class fairness audit of {paths[0].name}"
    write_multiclass(result, title, json_path=options["json_out"], md_path=options["md_out"],
                     html_path=options["html_out"])  # fmt: skip
    if options["md_out"] is None:
        click.echo(markdown_text(multiclass_blocks(result, "multiclass"), title), nl=False)
    return True
