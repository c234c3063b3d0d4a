"""DVC stage ``report``: reports/index.html and reports/tables.md, paper beside ours."""

from __future__ import annotations

from pathlib import Path

import click

from benchmark.core.config.data import IngestConfig
from benchmark.core.io import write_json_atomic
from benchmark.report import run_header, runtimes_markdown, write_report
from stages.support.params import profile
from stages.support.tracking import log_outputs, log_text, stage_run

_PATH = click.Path(path_type=Path)


@click.command()
@click.option("--params", "params_file", type=_PATH, default="params.yaml", show_default=True)
@click.option("--reports-dir", required=True, type=_PATH, help="The stages' report folders.")
@click.option("--metrics-dir", required=True, type=_PATH, help="The stages' metrics files.")
@click.option(
    "--runtime-dir", required=True, type=_PATH, help="Runtimes files (to MLflow, not the page)."
)
@click.option("--raw-dir", required=True, type=_PATH, help="Where the source data came from.")
@click.option("--out-html", required=True, type=_PATH)
@click.option("--out-md", required=True, type=_PATH)
@click.option("--metrics", "metrics_file", required=True, type=_PATH)
def main(
    params_file: Path,
    reports_dir: Path,
    metrics_dir: Path,
    runtime_dir: Path,
    raw_dir: Path,
    out_html: Path,
    out_md: Path,
    metrics_file: Path,
) -> None:
    """Compile paper Tables 1-5, figures and the fairness audit into one page."""
    inputs = (reports_dir, metrics_dir)
    with stage_run(
        "report", params_file, IngestConfig, section="ingest", logged=(), inputs=inputs
    ) as ingest:
        header = run_header(ingest.source, str(raw_dir), profile(params_file))
        args = (reports_dir, metrics_dir, header, out_html, out_md)
        summary = write_report(*args, runtime_dir=runtime_dir, runtimes=False)
        # Times vary run to run: they go to the run, never to a DVC-hashed output.
        log_text(runtimes_markdown(reports_dir, metrics_dir, runtime_dir), "table4.md")
        metrics = {
            "tables": len(summary["tables"]),
            "figures": len(summary["figures"]),
            "figures_missing": len(summary["figures_missing"]),
            "warnings": summary["warnings"],
        }
        write_json_atomic(metrics_file, metrics)
        log_outputs(metrics, out_html, out_md)
    click.echo(f"wrote {out_html} and {out_md}: {metrics}")


if __name__ == "__main__":
    main()
