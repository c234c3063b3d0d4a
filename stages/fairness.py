"""DVC stage ``fairness``: every classifier audited per skin type on the real test split."""

from __future__ import annotations

from pathlib import Path

import click

from benchmark.core.config.downstream import FairnessConfig
from benchmark.core.groupings import tags
from benchmark.core.io import write_json_atomic
from benchmark.core.naming import parse_run_name
from benchmark.core.status import NotRun, read_not_run, write_not_run
from benchmark.fairness.run import NoRunError, audit_runs
from stages.support.nested import child_run
from stages.support.tracking import finish_not_run, log_outputs, stage_run, tag_run

_PATH = click.Path(path_type=Path)


@click.command()
@click.option("--params", "params_file", type=_PATH, default="params.yaml", show_default=True)
@click.option("--predictions-dir", required=True, type=_PATH, help="classify stage output.")
@click.option("--out-dir", required=True, type=_PATH, help="Audit per run and summary.")
@click.option("--metrics", "metrics_file", required=True, type=_PATH)
def main(params_file: Path, predictions_dir: Path, out_dir: Path, metrics_file: Path) -> None:
    """Audit each (variant, seed) with its validation-chosen threshold."""
    with stage_run("fairness", params_file, FairnessConfig, inputs=(predictions_dir,)) as cfg:
        tag_run(tags(cfg.group_col, cfg.also_group_by))
        if (upstream := read_not_run(predictions_dir)) is not None:
            why = upstream.downstream("classify")
            write_not_run(why, out_dir)
            finish_not_run("fairness", why, metrics_file)
            return
        try:
            metrics = audit_runs(predictions_dir, cfg, out_dir)
        except NoRunError as exc:  # the guard failed every classifier: the pipeline goes on
            write_not_run(NotRun(str(exc)), out_dir)
            finish_not_run("fairness", NotRun(str(exc)), metrics_file)
            return
        write_json_atomic(metrics_file, metrics.to_json())
        log_outputs(metrics.to_json(), out_dir / "summary.md", out_dir / "summary.csv")
        for run, values in metrics.runs.items():
            variant, seed = parse_run_name(run)
            with child_run("fairness", run, {"variant": variant, "seed": str(seed)}):
                log_outputs(values, *sorted(out_dir.glob(f"{run}.*")))
        shared = [p for v in metrics.variants for p in sorted(out_dir.glob(f"{v}.*"))]
        shared += [*sorted(out_dir.glob("compare_*")), *sorted(out_dir.glob("tone_gaps*"))]
        log_outputs({}, *shared)
    click.echo(
        "; ".join(f"{v}: AUC contrast {m['auc_contrast']:.3f}" for v, m in metrics.variants.items())
    )


if __name__ == "__main__":
    main()
