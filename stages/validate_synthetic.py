"""DVC stage ``validate_synthetic``: keep synthetic images that pass the statistical checks."""

from __future__ import annotations

from pathlib import Path

import click

from benchmark.core.config.data import SkintoneConfig
from benchmark.core.config.generative import ValidateSyntheticConfig
from benchmark.core.io import write_json_atomic
from benchmark.core.manifest import empty_manifest, read_manifest, write_manifest
from benchmark.core.status import NotRun, write_not_run
from benchmark.generative.record import RECORD_FILE, FinetuneRecord
from benchmark.generative.report import write_outputs
from benchmark.generative.validate import reference_rows, validate
from stages.support.params import load_section
from stages.support.tracking import finish_not_run, log_outputs, stage_run

_PATH = click.Path(path_type=Path)


@click.command()
@click.option("--params", "params_file", type=_PATH, default="params.yaml", show_default=True)
@click.option("--real", "real_manifest", required=True, type=_PATH, help="Split manifest.")
@click.option("--real-root", required=True, type=_PATH)
@click.option("--finetune-dir", required=True, type=_PATH)
@click.option("--synthetic-root", required=True, type=_PATH, help="generate output folder.")
@click.option("--out-manifest", required=True, type=_PATH, help="Validated synthetic rows.")
@click.option("--out-dir", required=True, type=_PATH, help="Table 2, Figure 3, rejections.")
@click.option("--metrics", "metrics_file", required=True, type=_PATH)
def main(
    params_file: Path,
    real_manifest: Path,
    real_root: Path,
    finetune_dir: Path,
    synthetic_root: Path,
    out_manifest: Path,
    out_dir: Path,
    metrics_file: Path,
) -> None:
    """Validate synthetic images against the LoRA's own (train-split) dark-skin images."""
    tone = load_section(params_file, "skintone", SkintoneConfig)
    record = FinetuneRecord.read(finetune_dir / RECORD_FILE)
    inputs = (synthetic_root / "manifest.parquet",)
    logged = ("validate_synthetic", "skintone")
    config = ValidateSyntheticConfig
    with stage_run("validate_synthetic", params_file, config, logged=logged, inputs=inputs) as cfg:
        real = read_manifest(real_manifest, real_root)
        synthetic = read_manifest(synthetic_root / "manifest.parquet", synthetic_root)
        why = record.not_run
        if why is not None:
            why = why.downstream("finetune_lora")
        elif synthetic.empty:
            why = NotRun("the generate stage produced no image")
        if why is not None:
            write_manifest(empty_manifest(), out_manifest, data_root=synthetic_root)
            write_not_run(why, out_dir)
            finish_not_run(
                "validate_synthetic", why, metrics_file, {"synthetic": 0, "validated": 0}
            )
            return
        record.check_train_only(real, finetune_dir / RECORD_FILE)
        dark = reference_rows(real, record.lora_training.image_ids)
        result = validate(synthetic, synthetic_root, dark, real_root, cfg, tone)
        write_manifest(result.validated, out_manifest, data_root=synthetic_root)
        metrics = write_outputs(
            result, synthetic, real, dark, (synthetic_root, real_root), record.fst_types, out_dir
        )
        write_json_atomic(metrics_file, metrics)
        log_outputs(metrics, *sorted(out_dir.iterdir()))
    click.echo(f"kept {metrics['validated']} of {metrics['synthetic']} synthetic images")


if __name__ == "__main__":
    main()
