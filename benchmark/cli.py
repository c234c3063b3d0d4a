"""``skinbench``: the suite's command line (one subcommand per user-facing tool)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import get_args

import click

from benchmark import __version__
from benchmark.cli_audit import audit_cmd
from benchmark.cli_config import config, default_help
from benchmark.core.config.data import (
    IngestConfig,
    LinkMode,
    PhantomConfig,
    SkinRule,
    SkintoneConfig,
    SourceName,
)
from benchmark.core.groupings import SKIN_TYPE, SKIN_TYPE_SHORT
from benchmark.core.io import nan_to_none, write_json_atomic, write_text_atomic
from benchmark.core.outputs import OutputPathError, check_output_paths, spreadsheet_safe
from benchmark.ingest.run import IngestInputs, ingest
from benchmark.ingest.tables import IngestError
from benchmark.phantoms.generate import generate_phantoms
from benchmark.skintone.run import find_images, ita_summary, ita_table

_SOURCES: tuple[str, ...] = get_args(SourceName)
_DIR = click.Path(exists=True, file_okay=False, path_type=Path)
_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
_ITA_HELP = f"""ITA and {SKIN_TYPE} (I-VI) of images (files or folders).

Prints CSV with columns image_id,ita,l_star,b_star,skin_pixels,fst,note (--robust adds
mask_source); note says why an image is uncertain or unreadable. The default is the
paper's rule as printed: mean L*, b* of all skin-coloured pixels, lesion included,
ITA = atan((L* - 50) / b*) with no guard. Ids are file stems (paths where two files share
one). A summary goes to stderr; --strict exits 1 when an image is unreadable.
"""


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="skinbench")
@click.option(
    "--params",
    "params_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Params file the commands take their defaults from [default: the project's "
    "params.yaml, the pipeline's].",
)
@click.pass_context
def main(ctx: click.Context, params_file: Path | None) -> None:
    """skintone-bench: skin-tone fairness benchmark for dermoscopic skin-cancer AI."""
    if params_file is not None and ctx.obj is not None:
        ctx.obj = ctx.obj.at(params_file)


main.add_command(audit_cmd)


@main.command()
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(path_type=Path),
    help="Folder to write images/, masks/ and manifest.parquet into (replaced).",
)
@click.option("--n", type=int, help=default_help("Number of images.", "ingest.phantoms.n"))
@click.option("--seed", type=int, help=default_help("Base seed.", "ingest.phantoms.seed"))
@click.option("--size", type=int, help=default_help("Image side (px).", "ingest.phantoms.size"))
def phantoms(out_dir: Path, n: int | None, seed: int | None, size: int | None) -> None:
    """Write a phantom data set with exact skin-tone ground truth.

    Every setting is the params file's ``ingest.phantoms``, so without options this writes
    the pipeline's phantoms. Same seed, same files, byte for byte.
    """
    manifest = generate_phantoms(config(PhantomConfig, n=n, seed=seed, size=size), out_dir)
    counts = manifest["fst_label"].value_counts().sort_index().to_dict()
    click.echo(f"wrote {len(manifest)} phantoms to {out_dir}; {SKIN_TYPE_SHORT} counts {counts}")


@main.command("ingest")
@click.option("--source", required=True, type=click.Choice(_SOURCES), help="Source layout.")
@click.option(
    "--images",
    required=True,
    type=_DIR,
    help="Image folder (phantoms: the phantom folder; segmentation-folder: the root).",
)
@click.option("--metadata", type=_FILE, help="Metadata CSV (labels, for segmentation-folder).")
@click.option("--masks", type=_DIR, help="Separate mask folder (segmentation-folder).")
@click.option("--extra-metadata", type=_FILE, help="ISIC 2019 metadata CSV with lesion_id.")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(path_type=Path),
    help="Output folder (replaced atomically).",
)
@click.option(
    "--link",
    type=click.Choice(get_args(LinkMode)),
    help=default_help("How unchanged images enter the output.", "ingest.link"),
)
@click.option(
    "--mask-threshold",
    type=click.IntRange(0, 254),
    help=default_help("Non-binary masks become value > threshold.", "ingest.mask_threshold"),
)
@click.option(
    "--workers", type=int, help=default_help("Processes (0: one per core).", "ingest.workers")
)
def ingest_cmd(
    source: str,
    images: Path,
    metadata: Path | None,
    masks: Path | None,
    extra_metadata: Path | None,
    out_dir: Path,
    link: str | None,
    mask_threshold: int | None,
    workers: int | None,
) -> None:
    """Ingest a source into a validated manifest; list every excluded image with its reason."""
    inputs = IngestInputs(source, images, metadata, masks, extra_metadata)
    cfg = config(IngestConfig, link=link, mask_threshold=mask_threshold, workers=workers)
    try:
        result = ingest(inputs, out_dir, cfg.link, cfg.mask_threshold, cfg.workers)
    except (IngestError, ValueError, FileNotFoundError) as exc:
        raise click.ClickException(str(exc)) from exc
    s = result.summary
    click.echo(
        json.dumps(
            {k: s[k] for k in ("ingested", "excluded", "excluded_by_reason", "superclass")},
            indent=1,
        )
    )
    click.echo(
        f"manifest: {out_dir / 'manifest.parquet'}; exclusions: {out_dir / 'exclusions.csv'}"
    )


@main.command("ita", help=_ITA_HELP)
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--masks", type=_DIR, help="Folder of lesion masks, matched by stem.")
@click.option("--exclude-lesion", is_flag=True, help="Drop lesion-mask pixels (needs --masks).")
@click.option(
    "--robust",
    is_flag=True,
    help="Robust estimate: lesion (from --masks, else estimated by Max-Flow) and vignette "
    "excluded, modal skin colour.",
)
@click.option(
    "--literal",
    is_flag=True,
    help="The paper's formula exactly as printed, no b* <= 0 guard (the default; kept for "
    "scripts that name it).",
)
@click.option("--guarded", is_flag=True, help="The paper's rule with b* <= 0 left uncertain.")
@click.option(
    "--rule",
    type=click.Choice(get_args(SkinRule)),
    help=default_help("YCbCr skin rule.", "skintone.rule"),
)
@click.option(
    "--max-side",
    type=int,
    help=default_help(
        "Analyse at no less than this longer side (0: full resolution).", "skintone.max_side"
    ),
)
@click.option(
    "--csv",
    "csv_out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the CSV here instead of standard output.",
)
@click.option("--strict", is_flag=True, help="Exit with status 1 when any image is unreadable.")
def ita_cmd(
    paths: tuple[Path, ...],
    masks: Path | None,
    exclude_lesion: bool,
    robust: bool,
    literal: bool,
    guarded: bool,
    rule: str | None,
    max_side: int | None,
    csv_out: Path | None,
    strict: bool,
) -> None:
    """ITA and estimated skin type of images: the help text is ``_ITA_HELP``."""
    if exclude_lesion and masks is None:
        raise click.UsageError("--exclude-lesion needs --masks")
    try:
        check_output_paths([csv_out])
    except OutputPathError as exc:
        raise click.UsageError(str(exc)) from exc
    if sum((robust, literal, guarded, exclude_lesion)) > 1:
        raise click.UsageError("choose one of --robust, --literal, --guarded and --exclude-lesion")
    cfg = config(SkintoneConfig, rule=rule, max_side=max_side)
    chosen = [n for n, on in (("robust", robust), ("paper_guarded", guarded)) if on]
    name = (chosen or ["lesion_excluded" if exclude_lesion else "paper"])[0]
    try:
        table, problems = ita_table(
            find_images(list(paths)), masks, name, cfg, progress=csv_out is not None
        )
    except FileNotFoundError as exc:
        raise click.ClickException(str(exc)) from exc
    for problem in problems:
        click.echo(f"warning: {problem}", err=True)
    text = spreadsheet_safe(table).to_csv(index=False, float_format="%.4f")
    if csv_out is None:
        click.echo(text, nl=False)
    else:
        write_text_atomic(csv_out, text)
        click.echo(f"wrote {len(table)} rows to {csv_out}", err=True)
    unreadable = int(table["note"].fillna("").str.startswith("unreadable").sum())
    click.echo(ita_summary(table, unreadable), err=True)
    if strict and unreadable:
        raise SystemExit(1)


@main.command("maxflow")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(path_type=Path),
    help="Folder for the masks: <image stem>.png, {0, 255}, at each image's size.",
)
@click.option("--workers", default=1, show_default=True, help="Processes.")
def maxflow_cmd(paths: tuple[Path, ...], out_dir: Path, workers: int) -> None:
    """Segment lesions with the Max-Flow graph cut (no training) in images or folders.

    Mask files inside folders (``*_segmentation.png``, mask sub-folders) are skipped.
    """
    from benchmark.core.imaging import ImageProblemError
    from benchmark.core.maxflow import MaxflowParams, segment_files

    try:
        records = segment_files(find_images(list(paths)), out_dir, MaxflowParams(), workers)
    except (ImageProblemError, ValueError, FileNotFoundError) as exc:
        raise click.ClickException(str(exc)) from exc
    ms = sorted(r["ms"] for r in records)
    click.echo(f"wrote {len(records)} masks to {out_dir}; median {ms[len(ms) // 2]:.1f} ms/image")


@main.command("seg-eval")
@click.option("--truth", required=True, type=_DIR, help="Reference masks (matched by stem).")
@click.option("--pred", required=True, type=_DIR, help="Predicted masks.")
@click.option("--manifest", type=_FILE, help="Parquet/CSV with image_id and the group column.")
@click.option("--group-col", default="fst", show_default=True, help="Column to group by.")
@click.option(
    "--json",
    "json_out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write per_image, mean and by_group here.",
)
def seg_eval_cmd(
    truth: Path, pred: Path, manifest: Path | None, group_col: str, json_out: Path | None
) -> None:
    """Score predicted lesion masks: IoU, Dice, precision, recall, specificity, HD, HD95.

    Masks must be single-channel {0, 255}. Undefined values (empty masks) are NaN and counted;
    a reference without a prediction is listed, never skipped silently.
    """
    from benchmark.segmentation.evaluate import evaluate_folders, read_groups

    try:
        check_output_paths([json_out])
        groups = None if manifest is None else read_groups(manifest, group_col)
        result = evaluate_folders(truth, pred, groups, group_col)
    except (ValueError, FileNotFoundError) as exc:
        raise click.ClickException(str(exc)) from exc
    mean = {k: round(v, 4) for k, v in result["mean"].items()}
    keys = ("n_images", "empty_cases", "missing_predictions")
    extra = {"equity_scaled_dice": result["equity_scaled"]["dice"]} if groups is not None else {}
    summary = {"mean": mean, **{k: result[k] for k in keys}, **extra}
    # Undefined is null, as in the JSON file: bare NaN is not JSON.
    click.echo(json.dumps(nan_to_none(summary), indent=1, allow_nan=False))
    if json_out is not None:
        write_json_atomic(json_out, result)
        click.echo(f"wrote {json_out}", err=True)
    if not result["n_images"]:
        raise click.ClickException(f"no prediction in {pred} matches a reference mask in {truth}")


@main.command("report")
@click.option(
    "--reports",
    "reports_dir",
    default="reports",
    show_default=True,
    type=_DIR,
    help="Folder of the stages' report folders.",
)
@click.option(
    "--metrics",
    "metrics_dir",
    default="metrics",
    show_default=True,
    type=_DIR,
    help="Folder of the stages' metrics files.",
)
@click.option(
    "--out-html",
    type=click.Path(dir_okay=False, path_type=Path),
    help="[default: <reports>/index.html]",
)
@click.option(
    "--out-md",
    type=click.Path(dir_okay=False, path_type=Path),
    help="[default: <reports>/tables.md]",
)
def report_cmd(
    reports_dir: Path, metrics_dir: Path, out_html: Path | None, out_md: Path | None
) -> None:
    """Compile paper Tables 1-5 beside ours, the figures and the fairness audit.

    The ``report`` stage does the same with the run's provenance in the header.
    """
    from benchmark.core.io import FileContentError
    from benchmark.core.provenance import git_commit
    from benchmark.report.render import write_report

    header = {
        "built by": "skinbench report",
        "reports": str(reports_dir),
        "git commit": git_commit(),
    }
    html = out_html or reports_dir / "index.html"
    try:
        summary = write_report(
            reports_dir, metrics_dir, header, html, out_md or reports_dir / "tables.md"
        )
    except FileContentError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"wrote {html}: {len(summary['tables'])} tables, "
        f"{len(summary['figures'])} figures, {summary['warnings']} warnings"
    )


@main.command("runtimes")
@click.option("--reports", "reports_dir", default="reports", show_default=True, type=_DIR)
@click.option("--metrics", "metrics_dir", default="metrics", show_default=True, type=_DIR)
def runtimes_cmd(reports_dir: Path, metrics_dir: Path) -> None:
    """Print paper Table 4 beside this checkout's runtimes (metrics/runtime/*.json).

    Times vary run to run, so the DVC-hashed report leaves them out and points here.
    """
    from benchmark.core.io import FileContentError
    from benchmark.report.render import runtimes_markdown

    try:
        click.echo(runtimes_markdown(reports_dir, metrics_dir), nl=False)
    except FileContentError as exc:
        raise click.ClickException(str(exc)) from exc


if __name__ == "__main__":  # pragma: no cover
    main()
