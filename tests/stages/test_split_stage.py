"""The split and merge stages end to end: real rows split first, synthetic rows join train."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from benchmark.core.config.data import IngestConfig, PhantomConfig
from benchmark.core.manifest import read_manifest, write_manifest
from benchmark.ingest.run import ingest_from_config
from stages import merge, split
from tests.support.config import default, paper, params_with


def _invoke(command, args: list[str]) -> None:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(command, args)
    assert result.exit_code == 0, result.output + repr(result.exception)


SPLIT = ["--manifest", "data/ingested/manifest.parquet", "--data-root", "data/ingested"]
SPLIT += ["--out-manifest", "data/split/manifest.parquet", "--out-dir", "reports/split"]
SPLIT += ["--metrics", "metrics/split.json"]
MERGE = ["--split", "data/split/manifest.parquet", "--split-root", "data/ingested"]
MERGE += ["--synthetic", "data/synthetic/manifest.parquet", "--synthetic-root", "data/synthetic"]
MERGE += ["--data-root", "data", "--out-manifest", "data/merged/manifest.parquet"]
MERGE += ["--out-dir", "reports/merge", "--metrics", "metrics/merge.json"]


def _synthetic(real: pd.DataFrame, n: int) -> None:
    synthetic = real.head(n).copy()
    synthetic["image_id"] = [f"SYN_{i}" for i in range(n)]
    synthetic["patient_id"], synthetic["lesion_id"] = synthetic["image_id"], None
    synthetic["source"] = "synthetic"
    synthetic["mask_path"] = None
    Path("data/synthetic/images").mkdir(parents=True, exist_ok=True)
    for old, new in zip(real.head(n).image_path, synthetic.image_id, strict=True):
        (Path("data/synthetic/images") / f"{new}.png").write_bytes(
            (Path("data/ingested") / old).read_bytes()
        )
    synthetic["image_path"] = [f"images/{i}.png" for i in synthetic.image_id]
    write_manifest(synthetic, Path("data/synthetic/manifest.parquet"), Path("data/synthetic"))


def test_split_then_merge_keeps_the_real_split_and_test_real(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    cfg = default(
        IngestConfig, phantoms=paper(PhantomConfig, n=40, size=48), workers=1, link="copy"
    )
    ingest_from_config(cfg, tmp_path, Path("data/ingested"), progress=False)
    real = read_manifest(Path("data/ingested/manifest.parquet"))
    Path("params.yaml").write_text(
        yaml.safe_dump(params_with({"profile": "tiny", "split": {"seed": 1, "test_per_tone": 0}}))
    )
    _invoke(split.main, SPLIT)
    first = Path("data/split/manifest.parquet").read_bytes()
    splitted = read_manifest(Path("data/split/manifest.parquet"), Path("data/ingested"))
    assert len(splitted) == 40
    assert set(splitted["source"]) == {"real"}
    metrics = json.loads(Path("metrics/split.json").read_text())
    assert metrics["train"]["synthetic"] == 0
    _synthetic(real, 6)
    _invoke(merge.main, MERGE)
    merged = read_manifest(Path("data/merged/manifest.parquet"), Path("data"), check_files=True)
    assert len(merged) == 46
    assert merged.image_path.str.startswith(("ingested/", "synthetic/")).all()
    assert set(merged.loc[merged.source == "synthetic", "split"]) == {"train"}
    by_id = merged.set_index("image_id")["split"]
    assert (by_id[splitted["image_id"]].to_numpy() == splitted["split"].to_numpy()).all()
    metrics = json.loads(Path("metrics/merge.json").read_text())
    assert metrics["test"]["synthetic"] == 0
    assert metrics["train"]["synthetic"] == 6
    assert pd.read_csv("reports/merge/composition.csv")["images"].sum() == 46
    # Splitting again after synthetic rows exist changes nothing: they are not its input.
    _invoke(split.main, SPLIT)
    assert Path("data/split/manifest.parquet").read_bytes() == first
