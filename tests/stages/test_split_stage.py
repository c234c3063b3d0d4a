"""The split stage end to end: real phantom rows plus synthetic rows from another root."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from benchmark.config.data import IngestConfig, PhantomConfig
from benchmark.ingest.run import ingest_from_config
from benchmark.manifest import read_manifest, write_manifest
from stages import split as stage


def test_split_stage_merges_roots_and_keeps_test_real(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    cfg = IngestConfig(phantoms=PhantomConfig(n=40, size=48), workers=1, link="copy")
    ingest_from_config(cfg, tmp_path, Path("data/ingested"), progress=False)
    real = read_manifest(Path("data/ingested/manifest.parquet"))
    synthetic = real.head(6).copy()
    synthetic["image_id"] = [f"SYN_{i}" for i in range(6)]
    synthetic["patient_id"] = synthetic["image_id"]
    synthetic["source"] = "synthetic"
    synthetic["mask_path"] = None
    Path("data/synthetic/images").mkdir(parents=True)
    for old, new in zip(real.head(6).image_path, synthetic.image_id, strict=True):
        (Path("data/synthetic/images") / f"{new}.png").write_bytes(
            (Path("data/ingested") / old).read_bytes()
        )
    synthetic["image_path"] = [f"images/{i}.png" for i in synthetic.image_id]
    write_manifest(synthetic, Path("data/synthetic/manifest.parquet"), Path("data/synthetic"))
    Path("params.yaml").write_text(yaml.safe_dump({"profile": "tiny", "split": {"seed": 1}}))
    result = CliRunner().invoke(
        stage.main,
        [
            "--data-root",
            "data",
            "--real",
            "data/ingested/manifest.parquet",
            "--real-root",
            "data/ingested",
            "--synthetic",
            "data/synthetic/manifest.parquet",
            "--synthetic-root",
            "data/synthetic",
            "--out-manifest",
            "data/split/manifest.parquet",
            "--out-dir",
            "reports/split",
            "--metrics",
            "metrics/split.json",
        ],
    )
    assert result.exit_code == 0, result.output
    split = read_manifest(Path("data/split/manifest.parquet"), Path("data"), check_files=True)
    assert len(split) == 46
    assert split.image_path.str.startswith(("ingested/", "synthetic/")).all()
    assert set(split.loc[split.source == "synthetic", "split"]) == {"train"}
    metrics = json.loads(Path("metrics/split.json").read_text())
    assert metrics["test"]["synthetic"] == 0
    assert metrics["train"]["synthetic"] == 6
    table = pd.read_csv("reports/split/composition.csv")
    assert table["images"].sum() == 46
