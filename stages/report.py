"""DVC stage ``report``: reports/index.html and reports/tables.md, paper beside ours."""

from __future__ import annotations

import hashlib
from pathlib import Path

import click

from benchmark.core import provenance as prov
from benchmark.core.io import write_json_atomic
from benchmark.report.collect import Runtime
from benchmark.report.render import write_report
from stages.support.lookup import latest_runs, latest_runtime, latest_variant_runtime, stage_run_ids
from stages.support.params import read_params
from stages.support.tracking import log_outputs, stage_run

_PATH = click.Path(path_type=Path)


def _header(params_file: Path, lock: Path, run_ids: dict[str, str]) -> dict[str, str]:
    params = read_params(params_file)
    source = params.get("ingest", {}).get("source", "?")
    raw = params.get("data", {}).get("raw_dir", "?")
    digest = hashlib.sha256(lock.read_bytes()).hexdigest()[:16] if lock.is_file() else "none"
    header = {
        "data source": f"{source} ({raw})",
        "profile": str(params.get("profile")),
        "git commit": prov.git_commit(),
        "dvc.lock sha256": digest,
    }
    header |= {f"MLflow run: {stage}": run_id for stage, run_id in sorted(run_ids.items())}
    return header


@click.command()
@click.option("--params", "params_file", type=_PATH, default="params.yaml", show_default=True)
@click.option("--reports-dir", required=True, type=_PATH, help="The stages' report folders.")
@click.option("--metrics-dir", required=True, type=_PATH, help="The stages' metrics files.")
@click.option("--lock", type=_PATH, default="dvc.lock", show_default=True)
@click.option("--out-html", required=True, type=_PATH)
@click.option("--out-md", required=True, type=_PATH)
@click.option("--metrics", "metrics_file", required=True, type=_PATH)
def main(
    params_file: Path,
    reports_dir: Path,
    metrics_dir: Path,
    lock: Path,
    out_html: Path,
    out_md: Path,
    metrics_file: Path,
) -> None:
    """Compile paper Tables 1-5, figures and the fairness audit into one page."""
    runs = latest_runs(str(read_params(params_file).get("profile", "embedded")))
    times = {}
    # The paper times the augmented model; the baseline stands in where it did not run.
    classification = latest_variant_runtime(
        runs, "classify", "ms_per_image", ("augmented", "baseline")
    )
    for key, found in (
        ("generation", latest_runtime(runs, "generate", "seconds_per_image")),
        ("classification", classification),
    ):
        if found is not None:
            times[key] = Runtime(found[0], f"MLflow run {found[1]}")
    header = _header(params_file, lock, stage_run_ids(runs))
    with stage_run("report", params_file, (), inputs=(metrics_dir,)):
        summary = write_report(reports_dir, metrics_dir, header, out_html, out_md, runtimes=times)
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
