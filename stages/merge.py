"""DVC stage ``merge``: validated synthetic rows join the real split (train; paper_mode: val)."""

from __future__ import annotations

from pathlib import Path

import click

from benchmark.core.composition import write_composition
from benchmark.core.config.data import SplitConfig
from benchmark.core.io import write_json_atomic
from benchmark.core.manifest import read_manifest, rebase, write_manifest
from benchmark.core.splits import merge_synthetic
from stages.support.tracking import log_outputs, stage_run

_PATH = click.Path(path_type=Path)


@click.command()
@click.option("--params", "params_file", type=_PATH, default="params.yaml", show_default=True)
@click.option("--split", "split_manifest", required=True, type=_PATH, help="Real split.")
@click.option("--split-root", required=True, type=_PATH, help="Root of the split's paths.")
@click.option("--synthetic", "synthetic_manifest", required=True, type=_PATH)
@click.option("--synthetic-root", required=True, type=_PATH)
@click.option("--data-root", required=True, type=_PATH, help="Common root of all paths.")
@click.option("--out-manifest", required=True, type=_PATH)
@click.option("--out-dir", required=True, type=_PATH, help="Composition table (CSV, Markdown).")
@click.option("--metrics", "metrics_file", required=True, type=_PATH)
def main(
    params_file: Path,
    split_manifest: Path,
    split_root: Path,
    synthetic_manifest: Path,
    synthetic_root: Path,
    data_root: Path,
    out_manifest: Path,
    out_dir: Path,
    metrics_file: Path,
) -> None:
    """Add the validated synthetic rows to the real split; test stays real."""
    inputs = (split_manifest, synthetic_manifest)
    with stage_run("merge", params_file, SplitConfig, section="split", inputs=inputs) as cfg:
        real = rebase(read_manifest(split_manifest, split_root), split_root, data_root)
        synthetic = read_manifest(synthetic_manifest, synthetic_root)
        synthetic = rebase(synthetic, synthetic_root, data_root)
        manifest = merge_synthetic(real, synthetic, cfg)
        write_manifest(manifest, out_manifest, data_root=data_root)
        metrics = write_composition(manifest, out_dir)
        write_json_atomic(metrics_file, metrics)
        log_outputs(metrics, out_dir / "composition.csv", out_dir / "composition.md")
    click.echo(", ".join(f"{k} {v['images']}" for k, v in metrics.items() if isinstance(v, dict)))


if __name__ == "__main__":
    main()
