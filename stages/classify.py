"""DVC stage ``classify``: EfficientNet-B0, baseline vs augmented, every seed (paper Table 5).

Data-parallel on several GPUs with ``accelerate launch --multi_gpu -m stages.classify ...``
(docs/how-to/paper-profile-gpu.md); only the main process writes and tracks.
"""

from __future__ import annotations

from pathlib import Path

import click

from benchmark.classification.report import runtimes, write_outputs
from benchmark.classification.run import run_classification, unavailable, write_predictions
from benchmark.core.config.downstream import ClassifyConfig
from benchmark.core.devices import choose_device
from benchmark.core.groupings import tags
from benchmark.core.io import write_json_atomic
from benchmark.core.processes import is_main_process
from benchmark.core.runtime import Runtimes
from benchmark.core.status import NotRun, write_not_run
from benchmark.preprocess.cache import read_info
from stages.support.classifiers import log_classifiers
from stages.support.params import profile
from stages.support.tracking import finish_not_run, log_not_run, log_outputs, stage_run, tag_run

_PATH = click.Path(path_type=Path)


@click.command()
@click.option("--params", "params_file", type=_PATH, default="params.yaml", show_default=True)
@click.option("--cache-dir", required=True, type=_PATH, help="preprocess stage output.")
@click.option("--models-dir", required=True, type=_PATH, help="Best checkpoints (safetensors).")
@click.option("--predictions-dir", required=True, type=_PATH, help="Per-split prediction CSVs.")
@click.option("--out-dir", required=True, type=_PATH, help="Table 5, Figure 5, histories.")
@click.option("--metrics", "metrics_file", required=True, type=_PATH)
@click.option("--runtime", "runtime_file", required=True, type=_PATH, help="ms/image per variant.")
def main(
    params_file: Path,
    cache_dir: Path,
    models_dir: Path,
    predictions_dir: Path,
    out_dir: Path,
    metrics_file: Path,
    runtime_file: Path,
) -> None:
    """Train and evaluate the classifiers; the test column is strictly real."""
    inputs = (cache_dir / "index.parquet", cache_dir / "cache.json")
    with stage_run("classify", params_file, ClassifyConfig, inputs=inputs) as cfg:
        tag_run(choose_device(cfg.device, cfg.mixed_precision, param="classify").tags() | tags())
        skip = unavailable(cache_dir, cfg.variants)
        for variant, why_not in skip.items():
            log_not_run(why_not, variant)
        if set(skip) >= set(cfg.variants):
            if not is_main_process():
                return
            why = NotRun("; ".join(f"{v}: {r}" for v, r in skip.items()))
            folders = (models_dir, predictions_dir, out_dir)
            write_not_run(why, *folders)
            parts = {v: NotRun(r).metrics() for v, r in skip.items()}
            finish_not_run("classify", why, metrics_file, parts)
            Runtimes("ms/image", {}).write(runtime_file)
            return
        results = run_classification(cache_dir, cfg, models_dir, skip)
        if not is_main_process():  # the others helped train; the main process writes
            return
        files = write_predictions(results, predictions_dir)
        metrics = write_outputs(results, cfg.class_weights, out_dir, skip)
        write_json_atomic(metrics_file, metrics)
        runtimes(results).write(runtime_file)
        log_outputs(metrics, *sorted(out_dir.iterdir()))
        size = int(read_info(cache_dir)["size"])
        log_classifiers(results, files, size, profile(params_file), str(cache_dir))
    click.echo(
        ", ".join(f"{r.name} test AUC {metrics[r.variant]['test']['auc']:.3f}" for r in results)
    )


if __name__ == "__main__":
    main()
