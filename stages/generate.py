"""DVC stage ``generate``: synthetic lesions conditioned on lesion type and skin tone."""

from __future__ import annotations

from pathlib import Path

import click

from benchmark.core.config.generative import GenerateConfig
from benchmark.core.io import write_json_atomic
from benchmark.core.manifest import write_manifest
from benchmark.core.runtime import Runtimes
from benchmark.generative.generate import generate, load_generation_pipeline, not_generated
from benchmark.generative.record import RECORD_FILE, FinetuneRecord
from stages.support.tracking import finish_not_run, log_outputs, stage_run

_PATH = click.Path(path_type=Path)


@click.command()
@click.option("--params", "params_file", type=_PATH, default="params.yaml", show_default=True)
@click.option("--finetune-dir", required=True, type=_PATH, help="finetune_lora output.")
@click.option("--out-dir", required=True, type=_PATH, help="images/ and manifest.parquet.")
@click.option("--metrics", "metrics_file", required=True, type=_PATH)
@click.option("--runtime", "runtime_file", required=True, type=_PATH, help="Seconds per image.")
def main(
    params_file: Path, finetune_dir: Path, out_dir: Path, metrics_file: Path, runtime_file: Path
) -> None:
    """Generate the synthetic set; rerunning completes only missing batches."""
    info = FinetuneRecord.read(finetune_dir / RECORD_FILE)
    tags = {"model": info.base_model, "lora_sha256": info.lora_sha256}
    with stage_run(
        "generate", params_file, GenerateConfig, inputs=(finetune_dir,), tags=tags
    ) as cfg:
        if (why := info.not_run) is not None:
            why = why.downstream("finetune_lora")
            write_manifest(not_generated(out_dir, why), out_dir / "manifest.parquet", out_dir)
            finish_not_run("generate", why, metrics_file, {"images": 0})
            Runtimes("s/image", {}).write(runtime_file)
            return
        pipe = load_generation_pipeline(info.base_model, Path(info.lora), cfg.dtype)
        result = generate(
            pipe, cfg, out_dir, info.base_model, info.lora_sha256, base_digest=info.base_digest
        )
        write_manifest(result.manifest, out_dir / "manifest.parquet", data_root=out_dir)
        metrics = {"images": len(result.manifest)}
        write_json_atomic(metrics_file, metrics)
        # Timing lives in its own runtimes file: in the metrics file it would make the
        # pipeline's other outputs differ between otherwise identical reproductions.
        timing = {"seconds_per_image": result.seconds_per_image} if result.generated else {}
        per_image = {"generation": result.seconds_per_image} if result.generated else {}
        Runtimes("s/image", per_image).write(runtime_file)
        counts = {"generated": result.generated, "kept_from_earlier_run": result.skipped}
        log_outputs({**metrics, **timing, **counts})
    click.echo(f"{len(result.manifest)} synthetic images, {result.seconds_per_image:.3f} s/img")


if __name__ == "__main__":
    main()
