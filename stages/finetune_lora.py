"""DVC stage ``finetune_lora``: LoRA on the FST V-VI subset (tiny base pre-trained first)."""

from __future__ import annotations

from pathlib import Path

import click

from benchmark.config.generative import FinetuneConfig
from benchmark.generative.finetune import finetune
from benchmark.io import write_json_atomic
from benchmark.manifest import read_manifest
from stages._params import load_section
from stages._tracking import log_outputs, stage_run

_PATH = click.Path(path_type=Path)


@click.command()
@click.option("--params", "params_file", type=_PATH, default="params.yaml", show_default=True)
@click.option("--data-root", required=True, type=_PATH)
@click.option("--manifest", "manifest_in", required=True, type=_PATH, help="Skintone manifest.")
@click.option("--out-dir", required=True, type=_PATH, help="base/, lora/, samples/, checkpoints/.")
@click.option("--metrics", "metrics_file", required=True, type=_PATH)
def main(
    params_file: Path, data_root: Path, manifest_in: Path, out_dir: Path, metrics_file: Path
) -> None:
    """Fine-tune LoRA on the dark-skin subset and save it in the diffusers format."""
    import mlflow

    cfg = load_section(params_file, "finetune_lora", FinetuneConfig)
    with stage_run(
        "finetune_lora",
        params_file,
        ("finetune_lora",),
        inputs=(manifest_in,),
        tags={"model": cfg.base_model},
    ):
        result = finetune(
            read_manifest(manifest_in, data_root),
            data_root,
            cfg,
            out_dir,
            log=_log,
        )
        metrics = {
            "final_loss": result.losses[-1],
            "subset": result.subset,
            "steps": len(result.losses),
        }
        write_json_atomic(metrics_file, metrics)
        mlflow.set_tag("lora_sha256", result.lora_sha256)
        log_outputs(metrics, result.lora, *result.samples.values())
    click.echo(
        f"LoRA {result.lora} (sha256 {result.lora_sha256[:12]}), loss {result.losses[-1]:.4f}"
    )


def _log(name: str, step: int, value: float) -> None:
    import mlflow

    mlflow.log_metric(name, value, step=step)


if __name__ == "__main__":
    main()
