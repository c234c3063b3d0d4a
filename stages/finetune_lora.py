"""DVC stage ``finetune_lora``: LoRA on the train split's ITA type V-VI images (tiny base first)."""

from __future__ import annotations

from pathlib import Path

import click

from benchmark.core.config.generative import FinetuneConfig
from benchmark.core.io import write_json_atomic
from benchmark.core.manifest import read_manifest
from benchmark.core.processes import is_main_process
from benchmark.generative.finetune import finetune
from stages.support.tracking import finish_not_run, log_outputs, stage_run, tag_run

_PATH = click.Path(path_type=Path)


@click.command()
@click.option("--params", "params_file", type=_PATH, default="params.yaml", show_default=True)
@click.option("--data-root", required=True, type=_PATH)
@click.option("--manifest", "manifest_in", required=True, type=_PATH, help="Split manifest.")
@click.option("--out-dir", required=True, type=_PATH, help="base/, lora/, samples/, checkpoints/.")
@click.option("--metrics", "metrics_file", required=True, type=_PATH)
def main(
    params_file: Path, data_root: Path, manifest_in: Path, out_dir: Path, metrics_file: Path
) -> None:
    """Fine-tune LoRA on the dark-skin train images and save it in the diffusers format."""
    import mlflow

    with stage_run("finetune_lora", params_file, FinetuneConfig, inputs=(manifest_in,)) as cfg:
        tag_run({"model": cfg.base_model})
        result = finetune(read_manifest(manifest_in, data_root), data_root, cfg, out_dir, log=_log)
        if not is_main_process():  # the others helped train; the main process writes
            return
        record = result.record
        if record.not_run is not None:
            finish_not_run("finetune_lora", record.not_run, metrics_file)
            log_outputs({}, out_dir / "finetune.json")
            return
        metrics = result.metrics()
        write_json_atomic(metrics_file, metrics)
        mlflow.set_tag("lora_sha256", record.lora_sha256)
        log_outputs(metrics, Path(record.lora), *result.samples.values())
    click.echo(
        f"LoRA {record.lora} (sha256 {record.lora_sha256[:12]}), loss {metrics['final_loss']:.4f}"
    )


def _log(name: str, step: int, value: float) -> None:
    if not is_main_process():
        return
    import mlflow

    mlflow.log_metric(name, value, step=step)


if __name__ == "__main__":
    main()
