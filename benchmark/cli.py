"""``skinbench``: the suite's command line (one subcommand per user-facing tool)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import get_args

import click

from benchmark import __version__
from benchmark.config import PhantomConfig, SourceName
from benchmark.ingest import IngestError, IngestInputs, ingest
from benchmark.phantoms import generate_phantoms

_SOURCES: tuple[str, ...] = get_args(SourceName)
_DIR = click.Path(exists=True, file_okay=False, path_type=Path)
_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="skinbench")
def main() -> None:
    """skintone-bench: skin-tone fairness benchmark for dermoscopic skin-cancer AI."""


@main.command()
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(path_type=Path),
    help="Folder to write images/, masks/ and manifest.parquet into (replaced).",
)
@click.option("--n", default=PhantomConfig.n, show_default=True, help="Number of images.")
@click.option("--seed", default=PhantomConfig.seed, show_default=True, help="Base seed.")
@click.option("--size", default=PhantomConfig.size, show_default=True, help="Image side (px).")
def phantoms(out_dir: Path, n: int, seed: int, size: int) -> None:
    """Write a phantom data set with exact skin-tone ground truth.

    Same seed, same files, byte for byte.
    """
    manifest = generate_phantoms(PhantomConfig(n=n, seed=seed, size=size), out_dir)
    counts = manifest["fst_label"].value_counts().sort_index().to_dict()
    click.echo(f"wrote {len(manifest)} phantoms to {out_dir}; FST counts {counts}")


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
    type=click.Choice(["hardlink", "copy"]),
    default="hardlink",
    show_default=True,
    help="How unchanged images enter the output.",
)
@click.option(
    "--mask-threshold",
    default=127,
    type=click.IntRange(0, 254),
    show_default=True,
    help="Non-binary masks become value > threshold.",
)
@click.option("--workers", default=0, show_default=True, help="Processes (0: one per core).")
def ingest_cmd(
    source: str,
    images: Path,
    metadata: Path | None,
    masks: Path | None,
    extra_metadata: Path | None,
    out_dir: Path,
    link: str,
    mask_threshold: int,
    workers: int,
) -> None:
    """Ingest a source into a validated manifest; list every excluded image with its reason."""
    inputs = IngestInputs(source, images, metadata, masks, extra_metadata)
    try:
        result = ingest(inputs, out_dir, link, mask_threshold, workers)
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


if __name__ == "__main__":  # pragma: no cover
    main()
