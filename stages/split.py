"""DVC stage ``split``: real + validated synthetic rows -> patient-level train/val/test."""

from __future__ import annotations

from pathlib import Path

import click
import pandas as pd

from benchmark.config.data import SplitConfig
from benchmark.io import atomic_path, write_json_atomic
from benchmark.manifest import read_manifest, rebase, write_manifest
from benchmark.splits import composition, composition_markdown, make_splits, summary
from stages._params import load_section
from stages._tracking import log_outputs, stage_run

_PATH = click.Path(path_type=Path)


@click.command()
@click.option("--params", "params_file", type=_PATH, default="params.yaml", show_default=True)
@click.option("--data-root", required=True, type=_PATH, help="Common root of all image paths.")
@click.option("--real", "real_manifest", required=True, type=_PATH, help="Real manifest.")
@click.option("--real-root", required=True, type=_PATH, help="Root of the real manifest.")
@click.option("--synthetic", "synthetic_manifest", type=_PATH, help="Validated synthetic rows.")
@click.option("--synthetic-root", type=_PATH, help="Root of the synthetic manifest.")
@click.option("--out-manifest", required=True, type=_PATH)
@click.option("--out-dir", required=True, type=_PATH, help="Composition table (CSV, Markdown).")
@click.option("--metrics", "metrics_file", required=True, type=_PATH)
def main(
    params_file: Path,
    data_root: Path,
    real_manifest: Path,
    real_root: Path,
    synthetic_manifest: Path | None,
    synthetic_root: Path | None,
    out_manifest: Path,
    out_dir: Path,
    metrics_file: Path,
) -> None:
    """Merge real and synthetic rows and split them by patient."""
    cfg = load_section(params_file, "split", SplitConfig)
    inputs = tuple(p for p in (real_manifest, synthetic_manifest) if p is not None)
    with stage_run("split", params_file, ("split",), inputs=inputs):
        frames = [rebase(read_manifest(real_manifest, real_root), real_root, data_root)]
        if synthetic_manifest is not None:
            root = synthetic_root or synthetic_manifest.parent
            frames.append(rebase(read_manifest(synthetic_manifest, root), root, data_root))
        manifest = make_splits(pd.concat(frames, ignore_index=True), cfg)
        write_manifest(manifest, out_manifest, data_root=data_root)
        table = composition(manifest)
        with atomic_path(out_dir) as tmp:
            tmp.mkdir(parents=True)
            table.to_csv(tmp / "composition.csv", index=False)
            (tmp / "composition.md").write_text(composition_markdown(manifest))
        metrics = summary(manifest)
        write_json_atomic(metrics_file, metrics)
        log_outputs(metrics, out_dir / "composition.csv", out_dir / "composition.md")
    click.echo(", ".join(f"{k} {v['images']}" for k, v in metrics.items() if isinstance(v, dict)))


if __name__ == "__main__":
    main()
