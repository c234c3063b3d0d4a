"""DVC stage ``segment``: paper Table 3, baseline and augmented FCN against Max-Flow.

Data-parallel on several GPUs with ``accelerate launch --multi_gpu -m stages.segment ...``;
only the main process runs Max-Flow, writes and tracks.
"""

from __future__ import annotations

from pathlib import Path

import click

from benchmark.core.config.downstream import SegmentConfig
from benchmark.core.devices import choose_device
from benchmark.core.groupings import tags
from benchmark.core.io import write_json_atomic
from benchmark.core.processes import is_main_process
from benchmark.core.runtime import Runtimes
from benchmark.core.status import NotRun, write_not_run
from benchmark.preprocess.cache import load_split
from benchmark.segmentation.report import runtimes, write_outputs
from benchmark.segmentation.run import MODELS, run_segmentation, unavailable
from stages.support.segmenters import log_segmenters
from stages.support.tracking import finish_not_run, log_not_run, log_outputs, stage_run, tag_run

_PATH = click.Path(path_type=Path)


@click.command()
@click.option("--params", "params_file", type=_PATH, default="params.yaml", show_default=True)
@click.option("--cache-dir", required=True, type=_PATH, help="preprocess stage output.")
@click.option("--data-root", required=True, type=_PATH, help="Root of the cached rows' paths.")
@click.option("--models-dir", required=True, type=_PATH, help="FCN weights (safetensors).")
@click.option("--out-dir", required=True, type=_PATH, help="Table 3, by skin type, figures.")
@click.option("--metrics", "metrics_file", required=True, type=_PATH)
@click.option("--runtime", "runtime_file", required=True, type=_PATH, help="ms/image per model.")
def main(
    params_file: Path,
    cache_dir: Path,
    data_root: Path,
    models_dir: Path,
    out_dir: Path,
    metrics_file: Path,
    runtime_file: Path,
) -> None:
    """Train baseline and augmented FCNs, run Max-Flow, evaluate on real test images."""
    inputs = (cache_dir / "index.parquet", cache_dir / "cache.json")
    with stage_run("segment", params_file, SegmentConfig, inputs=inputs) as cfg:
        tag_run(choose_device(cfg.device, cfg.mixed_precision, param="segment").tags() | tags())
        skip = unavailable(cache_dir)
        if set(skip) == set(MODELS):
            if not is_main_process():
                return
            why = NotRun(skip["maxflow"])
            write_not_run(why, out_dir, models_dir)
            finish_not_run("segment", why, metrics_file)
            Runtimes("ms/image", {}).write(runtime_file)
            return
        for name, why_not in skip.items():
            log_not_run(why_not, name)
        outcomes = run_segmentation(cache_dir, cfg, models_dir, data_root, skip)
        if not is_main_process():  # the others helped train; the main process writes
            return
        test = load_split(cache_dir, "test")
        metrics = write_outputs(outcomes, test, out_dir, cfg.overlays, cfg.maxflow_input, skip)
        write_json_atomic(metrics_file, metrics)
        runtimes(outcomes).write(runtime_file)
        log_outputs(metrics, *sorted(out_dir.glob("table3.*")), out_dir / "by_fst.png")
        log_segmenters(outcomes, out_dir / "overlays.png", test.images.shape[1])
    click.echo(", ".join(f"{o.name} Dice {o.summary['mean']['dice']:.3f}" for o in outcomes))


if __name__ == "__main__":
    main()
