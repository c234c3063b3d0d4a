"""DVC stage ``split``: real rows -> patient-level train/val/test, before anything learns."""

from __future__ import annotations

from pathlib import Path

import click

from benchmark.core.composition import write_composition
from benchmark.core.config.data import SplitConfig
from benchmark.core.io import write_json_atomic
from benchmark.core.manifest import read_manifest, write_manifest
from benchmark.core.splits import make_splits
from stages.support.tracking import log_outputs, stage_run

_PATH = click.Path(path_type=Path)


@click.command()
@click.option("--params", "params_file", type=_PATH, default="params.yaml", show_default=True)
@click.option("--manifest", "manifest_in", required=True, type=_PATH, help="Skintone manifest.")
@click.option("--data-root", required=True, type=_PATH, help="Root of the manifest's paths.")
@click.option("--out-manifest", required=True, type=_PATH)
@click.option("--out-dir", required=True, type=_PATH, help="Composition table (CSV, Markdown).")
@click.option("--metrics", "metrics_file", required=True, type=_PATH)
def main(
    params_file: Path,
    manifest_in: Path,
    data_root: Path,
    out_manifest: Path,
    out_dir: Path,
    metrics_file: Path,
) -> None:
    """Split the real images by patient (and shared lesion); synthetic rows join in merge."""
    with stage_run("split", params_file, SplitConfig, inputs=(manifest_in,)) as cfg:
        manifest = make_splits(read_manifest(manifest_in, data_root), cfg)
        write_manifest(manifest, out_manifest, data_root=data_root)
        metrics = write_composition(manifest, out_dir)
        write_json_atomic(metrics_file, metrics)
        log_outputs(metrics, out_dir / "composition.csv", out_dir / "composition.md")
    click.echo(", ".join(f"{k} {v['images']}" for k, v in metrics.items() if isinstance(v, dict)))


if __name__ == "__main__":
    main()
