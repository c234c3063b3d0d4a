"""finetune_lora -> generate -> validate_synthetic end to end on a tiny phantom set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from benchmark.config.data import IngestConfig, PhantomConfig, SkintoneConfig
from benchmark.ingest.run import ingest_from_config
from benchmark.manifest import read_manifest, write_manifest
from benchmark.skintone.run import add_skintone
from stages import finetune_lora, generate, validate_synthetic

PARAMS = {
    "profile": "tiny",
    "finetune_lora": {
        "steps": 4,
        "batch_size": 4,
        "pretrain_steps": 3,
        "checkpoint_every": 2,
        "sample_every": 2,
        "sample_steps": 2,
    },
    "generate": {"melanocytic": 2, "non_melanocytic": 2, "steps": 3, "batch_size": 2},
    "validate_synthetic": {"size": 32},
}


def _run(command, args: list[str]) -> None:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(command, args)
    assert result.exit_code == 0, f"{result.output}\n{result.exception}"


@pytest.mark.slow
def test_generative_stages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    cfg = IngestConfig(
        phantoms=PhantomConfig(n=30, size=48, fst_mix=(0.3, 0.2, 0.2, 0.1, 0.1, 0.1)),
        workers=1,
        link="copy",
    )
    ingest_from_config(cfg, tmp_path, Path("data/ingested"), progress=False)
    manifest = add_skintone(
        read_manifest(Path("data/ingested/manifest.parquet")),
        Path("data/ingested"),
        SkintoneConfig(workers=1),
        progress=False,
    )
    write_manifest(manifest, Path("data/skintone.parquet"), Path("data/ingested"))
    Path("params.yaml").write_text(yaml.safe_dump(PARAMS))
    _run(
        finetune_lora.main,
        [
            "--data-root",
            "data/ingested",
            "--manifest",
            "data/skintone.parquet",
            "--out-dir",
            "models/finetune",
            "--metrics",
            "metrics/finetune.json",
        ],
    )
    info = json.loads(Path("models/finetune/finetune.json").read_text())
    assert Path(info["lora"]).name == "pytorch_lora_weights.safetensors"
    assert len(info["lora_sha256"]) == 64
    assert sorted(p.name for p in Path("models/finetune/samples").iterdir()) == [
        "step-000002.png",
        "step-000004.png",
    ]
    _run(
        generate.main,
        [
            "--finetune-dir",
            "models/finetune",
            "--out-dir",
            "data/synthetic",
            "--metrics",
            "metrics/generate.json",
        ],
    )
    synthetic = read_manifest(Path("data/synthetic/manifest.parquet"), check_files=True)
    assert len(synthetic) == 4
    assert set(synthetic.lora_sha256) == {info["lora_sha256"]}
    _run(
        validate_synthetic.main,
        [
            "--real",
            "data/skintone.parquet",
            "--real-root",
            "data/ingested",
            "--finetune-dir",
            "models/finetune",
            "--synthetic-root",
            "data/synthetic",
            "--out-manifest",
            "data/validated/manifest.parquet",
            "--out-dir",
            "reports/synthetic",
            "--metrics",
            "metrics/validate.json",
        ],
    )
    metrics = json.loads(Path("metrics/validate.json").read_text())
    assert metrics["validated"] + metrics["rejected"] == 4
    assert {"table2.md", "figure3.png", "rejected.csv", "validation.csv"} <= {
        p.name for p in Path("reports/synthetic").iterdir()
    }
