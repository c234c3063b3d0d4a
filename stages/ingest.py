"""DVC stage ``ingest``: raw source (or generated phantoms) -> validated ingested set."""

from __future__ import annotations

from pathlib import Path

import click

from benchmark.core.config.data import IngestConfig
from benchmark.core.io import write_json_atomic
from benchmark.ingest.run import ingest_from_config, metrics_of
from stages.support.tracking import log_outputs, stage_run, tag_run


@click.command()
@click.option(
    "--params",
    "params_file",
    type=click.Path(path_type=Path),
    default="params.yaml",
    show_default=True,
    help="Params file (profile).",
)
@click.option(
    "--raw-dir",
    required=True,
    type=click.Path(path_type=Path),
    help="Raw data folder (for phantoms: the generator package, a DVC dependency).",
)
@click.option(
    "--out-dir",
    required=True,
    type=click.Path(path_type=Path),
    help="Ingested set: images/, masks/, manifest.parquet, exclusions.csv, summary.json.",
)
@click.option(
    "--metrics",
    "metrics_file",
    required=True,
    type=click.Path(path_type=Path),
    help="Metrics JSON for DVC.",
)
def main(params_file: Path, raw_dir: Path, out_dir: Path, metrics_file: Path) -> None:
    """Ingest the configured source into the manifest spine."""
    # For phantoms raw_dir is the generator package: its digest still names the input.
    with stage_run("ingest", params_file, IngestConfig, inputs=(raw_dir,)) as cfg:
        tag_run({"source": cfg.source})
        result = ingest_from_config(cfg, raw_dir, out_dir)
        metrics = metrics_of(result.summary)
        write_json_atomic(metrics_file, metrics)
        log_outputs(metrics, out_dir / "summary.json", out_dir / "exclusions.csv")
    click.echo(f"ingested {metrics['ingested']} images, excluded {metrics['excluded']}")


if __name__ == "__main__":
    main()
