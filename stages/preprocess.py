"""DVC stage ``preprocess``: every split image preprocessed once into a memory-mapped cache."""

from __future__ import annotations

from pathlib import Path

import click

from benchmark.core.config.downstream import PreprocessConfig
from benchmark.core.io import write_json_atomic
from benchmark.core.manifest import read_manifest
from benchmark.preprocess.run import build_cache
from stages.support.tracking import log_outputs, stage_run

_PATH = click.Path(path_type=Path)


@click.command()
@click.option("--params", "params_file", type=_PATH, default="params.yaml", show_default=True)
@click.option("--manifest", "manifest_file", required=True, type=_PATH, help="Split manifest.")
@click.option("--data-root", required=True, type=_PATH, help="Root of the manifest's paths.")
@click.option("--out-dir", required=True, type=_PATH, help="Cache folder.")
@click.option("--metrics", "metrics_file", required=True, type=_PATH)
def main(
    params_file: Path, manifest_file: Path, data_root: Path, out_dir: Path, metrics_file: Path
) -> None:
    """Resize, denoise, gamma, CLAHE and hair removal, cached per split."""
    inputs = (manifest_file,)
    with stage_run("preprocess", params_file, PreprocessConfig, inputs=inputs) as cfg:
        manifest = read_manifest(manifest_file, data_root)
        metrics = build_cache(manifest, data_root, out_dir, cfg)
        write_json_atomic(metrics_file, metrics)
        log_outputs(metrics, out_dir / "exclusions.csv", out_dir / "cache.json")
    click.echo(f"cached {metrics['images_cached']} of {metrics['images_in']} images")


if __name__ == "__main__":
    main()
