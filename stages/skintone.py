"""DVC stage ``skintone``: ITA-estimated skin types per image, paper Table 1 and Figure 4."""

from __future__ import annotations

from pathlib import Path

import click

from benchmark.core.config.data import SkintoneConfig
from benchmark.core.groupings import SKIN_TYPE_SHORT
from benchmark.core.io import write_json_atomic
from benchmark.core.manifest import read_manifest, write_manifest
from benchmark.skintone.outputs import write_outputs
from benchmark.skintone.run import add_skintone
from stages.support.tracking import log_outputs, stage_run

_PATH = click.Path(path_type=Path)


@click.command()
@click.option("--params", "params_file", type=_PATH, default="params.yaml", show_default=True)
@click.option("--data-root", required=True, type=_PATH, help="Root of the manifest's paths.")
@click.option("--manifest", "manifest_in", required=True, type=_PATH, help="Input manifest.")
@click.option("--out-manifest", required=True, type=_PATH, help="Manifest with ITA columns.")
@click.option("--out-dir", required=True, type=_PATH, help="Table 1, Figure 4, agreement.")
@click.option("--metrics", "metrics_file", required=True, type=_PATH)
def main(
    params_file: Path,
    data_root: Path,
    manifest_in: Path,
    out_manifest: Path,
    out_dir: Path,
    metrics_file: Path,
) -> None:
    """Estimate ITA and skin types for every image and write paper Table 1 and Figure 4."""
    with stage_run("skintone", params_file, SkintoneConfig, inputs=(manifest_in,)) as cfg:
        manifest = add_skintone(read_manifest(manifest_in, data_root), data_root, cfg)
        write_manifest(manifest, out_manifest, data_root=data_root)
        metrics = write_outputs(manifest, out_dir, cfg.primary)
        write_json_atomic(metrics_file, metrics)
        log_outputs(metrics, *sorted(p for p in out_dir.iterdir() if p.is_file()))
    share, images = metrics["share_V_VI"], metrics["images"]
    click.echo(f"{SKIN_TYPE_SHORT} V-VI share {share:.1%} of {images} images")


if __name__ == "__main__":
    main()
