"""DVC stage ``fairness``: every classifier audited per FST on the real test split."""

from __future__ import annotations

from pathlib import Path

import click

from benchmark.core.config.downstream import FairnessConfig
from benchmark.core.io import write_json_atomic
from benchmark.core.naming import parse_run_name
from benchmark.core.status import read_not_run, write_not_run
from benchmark.fairness.run import PAIRED_KEY, TONE_KEY, audit_runs
from stages.support.nested import child_run
from stages.support.tracking import finish_not_run, log_outputs, stage_run

_PATH = click.Path(path_type=Path)


@click.command()
@click.option("--params", "params_file", type=_PATH, default="params.yaml", show_default=True)
@click.option("--predictions-dir", required=True, type=_PATH, help="classify stage output.")
@click.option("--out-dir", required=True, type=_PATH, help="Audit per run and summary.")
@click.option("--metrics", "metrics_file", required=True, type=_PATH)
def main(params_file: Path, predictions_dir: Path, out_dir: Path, metrics_file: Path) -> None:
    """Audit each (variant, seed) with its validation-chosen threshold."""
    with stage_run("fairness", params_file, FairnessConfig, inputs=(predictions_dir,)) as cfg:
        if (upstream := read_not_run(predictions_dir)) is not None:
            why = upstream.downstream("classify")
            write_not_run(why, out_dir)
            finish_not_run("fairness", why, metrics_file)
            return
        metrics = audit_runs(predictions_dir, cfg, out_dir)
        write_json_atomic(metrics_file, metrics)
        log_outputs(metrics, out_dir / "summary.md", out_dir / "summary.csv")
        runs = {k: v for k, v in metrics.items() if k not in (PAIRED_KEY, TONE_KEY)}
        for run, values in runs.items():
            variant, seed = parse_run_name(run)
            with child_run("fairness", run, {"variant": variant, "seed": str(seed)}):
                log_outputs(values, *sorted(out_dir.glob(f"{run}.*")))
        for name in metrics.get(PAIRED_KEY, {}):
            log_outputs({}, *sorted(out_dir.glob(f"compare_{name}.*")))
        log_outputs({}, *sorted(out_dir.glob("tone_gaps.*")))
    eo = "equalized_odds_difference"
    click.echo("; ".join(f"{k}: EO diff {v[eo]:.3f}" for k, v in runs.items()))


if __name__ == "__main__":
    main()
