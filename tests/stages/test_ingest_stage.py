"""The ingest stage end to end on a tiny phantom profile, with its MLflow run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from benchmark.core.manifest import read_manifest
from benchmark.core.provenance import flatten_numeric as flatten
from stages import ingest as stage
from tests.support.config import params_with

TINY = {
    "profile": "tiny",
    "data": {"raw_dir": "unused"},
    "ingest": {
        "source": "phantoms",
        "workers": 1,
        "link": "copy",
        "phantoms": {"n": 12, "size": 48, "seed": 1},
    },
}


def test_ingest_stage_writes_outputs_metrics_and_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("params.yaml").write_text(yaml.safe_dump(params_with(TINY)))
    result = CliRunner().invoke(
        stage.main,
        ["--raw-dir", "unused", "--out-dir", "data/ingested", "--metrics", "metrics/ingest.json"],
    )
    assert result.exit_code == 0, result.output
    manifest = read_manifest(Path("data/ingested/manifest.parquet"), check_files=True)
    assert len(manifest) == 12
    metrics = json.loads(Path("metrics/ingest.json").read_text())
    assert metrics["ingested"] == 12
    assert metrics["excluded"] == 0
    assert sum(metrics["superclass"].values()) == 12

    from mlflow.tracking import MlflowClient

    client = MlflowClient()
    experiment = client.get_experiment_by_name("skintone-bench/tiny")
    assert experiment is not None
    (run,) = client.search_runs([experiment.experiment_id])
    tags = run.data.tags
    assert tags["stage"] == "ingest"
    assert tags["profile"] == "tiny"
    assert tags["source"] == "phantoms"
    assert len(tags["params_digest"]) == 16
    assert len(tags["data_digest"]) == 16
    assert tags["git_commit"]
    assert run.data.metrics == flatten(metrics)
    assert run.data.params["ingest.phantoms.n"] == "12"
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert artifacts == {"summary.json", "exclusions.csv"}


def test_bad_params_fail_with_the_file_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("params.yaml").write_text(yaml.safe_dump(params_with({"ingest": {"source": "nope"}})))
    result = CliRunner().invoke(
        stage.main, ["--raw-dir", ".", "--out-dir", "o", "--metrics", "m.json"]
    )
    assert result.exit_code != 0
    assert "params.yaml: ingest.source: 'nope' is not one of" in str(result.exception)
    assert not Path("o").exists()


def test_an_unreachable_tracking_server_stops_the_stage_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")
    Path("params.yaml").write_text(yaml.safe_dump(params_with(TINY)))
    result = CliRunner().invoke(
        stage.main,
        ["--raw-dir", "unused", "--out-dir", "data/ingested", "--metrics", "metrics/ingest.json"],
    )
    assert result.exit_code == 1
    assert "MLflow tracking server http://127.0.0.1:9 cannot be reached" in result.output
    assert not Path("data").exists()
    assert not Path("metrics").exists()
