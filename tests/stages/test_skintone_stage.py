"""The skintone stage end to end on a tiny phantom set, with its MLflow run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from benchmark.core.config.data import IngestConfig, PhantomConfig
from benchmark.core.manifest import read_manifest
from benchmark.ingest.run import ingest_from_config
from stages import skintone as stage
from tests.support.config import default, paper, params_with


def test_skintone_stage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    cfg = default(
        IngestConfig, phantoms=paper(PhantomConfig, n=24, size=96), workers=1, link="copy"
    )
    ingest_from_config(cfg, tmp_path, Path("data/ingested"), progress=False)
    Path("params.yaml").write_text(
        yaml.safe_dump(params_with({"profile": "tiny", "skintone": {"workers": 1}}))
    )
    result = CliRunner().invoke(
        stage.main,
        [
            "--data-root",
            "data/ingested",
            "--manifest",
            "data/ingested/manifest.parquet",
            "--out-manifest",
            "data/skintone/manifest.parquet",
            "--out-dir",
            "reports/skintone",
            "--metrics",
            "metrics/skintone.json",
        ],
    )
    assert result.exit_code == 0, result.output
    manifest = read_manifest(
        Path("data/skintone/manifest.parquet"), Path("data/ingested"), check_files=True
    )
    assert {"ita", "l_star", "b_star", "skin_pixels", "fst", "ita_spread"} <= set(manifest)
    metrics = json.loads(Path("metrics/skintone.json").read_text())
    assert metrics["images"] == 24
    assert metrics["agreement_robust"]["support"] == 24
    assert (Path("reports/skintone") / "figure4.png").is_file()

    from mlflow.tracking import MlflowClient

    client = MlflowClient()
    experiment = client.get_experiment_by_name("skintone-bench/tiny")
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.data.tags["stage"] == "skintone"
    assert run.data.metrics["share_V_VI"] == pytest.approx(metrics["share_V_VI"])
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"table1.md", "table1.csv", "figure4.png", "agreement.json"} <= artifacts
