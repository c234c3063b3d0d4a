"""split -> finetune_lora -> generate -> validate_synthetic end to end on a tiny phantom set."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from benchmark.core.config.data import IngestConfig, PhantomConfig, SkintoneConfig, SplitConfig
from benchmark.core.manifest import read_manifest, write_manifest
from benchmark.core.splits import make_splits
from benchmark.generative.record import FinetuneRecord
from benchmark.ingest.run import ingest_from_config
from benchmark.skintone.run import add_skintone
from stages import finetune_lora, generate, validate_synthetic
from tests.support.config import default, paper, params_with

PARAMS = {
    "profile": "tiny",
    "finetune_lora": {
        "min_images": 2,
        "steps": 4,
        "batch_size": 4,
        "pretrain_steps": 3,
        "checkpoint_every": 2,
        "sample_every": 2,
        "sample_steps": 2,
    },
    "generate": {"melanocytic": 2, "non_melanocytic": 2, "steps": 3, "batch_size": 2},
    "validate_synthetic": {"size": 32},
    "skintone": {"max_side": 0},  # synthetic images get the primary estimate, as real ones
}
FINETUNE = ["--data-root", "data/ingested", "--manifest", "data/split.parquet"]
FINETUNE += ["--out-dir", "models/finetune", "--metrics", "metrics/finetune.json"]
GENERATE = ["--finetune-dir", "models/finetune", "--out-dir", "data/synthetic"]
GENERATE += ["--metrics", "metrics/generate.json"]
GENERATE += ["--runtime", "metrics/runtime/generate.json"]
VALIDATE = ["--real", "data/split.parquet", "--real-root", "data/ingested"]
VALIDATE += ["--finetune-dir", "models/finetune", "--synthetic-root", "data/synthetic"]
VALIDATE += ["--out-manifest", "data/validated/manifest.parquet", "--out-dir", "reports/synthetic"]
VALIDATE += ["--metrics", "metrics/validate.json"]


def _run(command, args: list[str], code: int = 0) -> str:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(command, args)
    assert result.exit_code == code, f"{result.output}\n{result.exception}"
    return str(result.output) + str(result.exception or "")


def _split_phantoms(root: Path, params: dict[str, object]) -> pd.DataFrame:
    cfg = default(
        IngestConfig,
        phantoms=paper(PhantomConfig, n=30, size=48, fst_mix=(0.3, 0.2, 0.2, 0.1, 0.1, 0.1)),
        workers=1,
        link="copy",
    )
    ingest_from_config(cfg, root, Path("data/ingested"), progress=False)
    manifest = add_skintone(
        read_manifest(Path("data/ingested/manifest.parquet")),
        Path("data/ingested"),
        default(SkintoneConfig, workers=1),
        progress=False,
    )
    split = make_splits(manifest, paper(SplitConfig))
    write_manifest(split, Path("data/split.parquet"), Path("data/ingested"))
    Path("params.yaml").write_text(yaml.safe_dump(params_with(params)))
    return split


@pytest.mark.slow
def test_generative_stages_learn_from_train_patients_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    split = _split_phantoms(tmp_path, PARAMS)
    _run(finetune_lora.main, FINETUNE)
    record = FinetuneRecord.read(Path("models/finetune/finetune.json"))
    assert Path(record.lora).name == "pytorch_lora_weights.safetensors"
    assert len(record.lora_sha256) == 64
    train = split[split["split"] == "train"]
    held_out = set(split.loc[split["split"] != "train", "patient_id"])
    for chosen in (record.lora_training, record.base_training):
        assert chosen.image_ids
        assert set(chosen.image_ids) <= set(train["image_id"])
        assert not set(chosen.patients) & held_out
    dark = train[train["fst"].isin(["V", "VI"]) & train["superclass"].notna()]
    assert set(record.lora_training.image_ids) == set(dark["image_id"])
    assert sorted(p.name for p in Path("models/finetune/samples").iterdir()) == [
        "step-000002.png",
        "step-000004.png",
    ]
    _run(generate.main, GENERATE)
    synthetic = read_manifest(Path("data/synthetic/manifest.parquet"), check_files=True)
    assert len(synthetic) == 4
    assert set(synthetic.lora_sha256) == {record.lora_sha256}
    _run(validate_synthetic.main, VALIDATE)
    metrics = json.loads(Path("metrics/validate.json").read_text())
    assert metrics["validated"] + metrics["rejected"] == 4
    assert {"table2.md", "figure3.png", "rejected.csv", "validation.csv", "reference.csv"} <= {
        p.name for p in Path("reports/synthetic").iterdir()
    }
    reference = pd.read_csv("reports/synthetic/reference.csv")
    assert set(reference["split"]) == {"train"}
    assert set(reference["image_id"]) == set(record.lora_training.image_ids)
    assert metrics["reference_images"] == len(reference)
    # A training list naming a test image is refused.
    path = Path("models/finetune/finetune.json")
    data = json.loads(path.read_text())
    leaked = split.loc[split["split"] == "test", "image_id"].iloc[0]
    data["lora_training"]["image_ids"].append(leaked)
    path.write_text(json.dumps(data))
    output = _run(validate_synthetic.main, VALIDATE, code=1)
    assert "outside the train split" in output
    assert leaked in output


def test_no_dark_skin_training_images_records_not_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    params = {**PARAMS, "finetune_lora": {**PARAMS["finetune_lora"], "min_images": 500}}  # type: ignore[dict-item]
    _split_phantoms(tmp_path, params)
    _run(finetune_lora.main, FINETUNE)
    reason = json.loads(Path("metrics/finetune.json").read_text())["reason"]
    assert "ITA type V–VI training images (min 500)" in reason
    _run(generate.main, GENERATE)
    generated = json.loads(Path("metrics/generate.json").read_text())
    assert generated == {
        "images": 0,
        "status": "not run",
        "reason": f"finetune_lora not run: {reason}",
    }
    assert read_manifest(Path("data/synthetic/manifest.parquet")).empty
    _run(validate_synthetic.main, VALIDATE)
    validated = json.loads(Path("metrics/validate.json").read_text())
    assert validated["status"] == "not run"
    assert read_manifest(Path("data/validated/manifest.parquet")).empty
    assert sorted(p.name for p in Path("reports/synthetic").iterdir()) == ["not_run.json"]
