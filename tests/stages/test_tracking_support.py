"""stages.support: the reachability check, the registry, and ``skinbench runs`` on a small store."""

from __future__ import annotations

import time
from pathlib import Path

import click
import mlflow
import numpy as np
import pytest
import torch
from click.testing import CliRunner
from mlflow import MlflowClient

from stages.support.cli import main
from stages.support.models import log_image_model, register_best
from stages.support.runs import format_table, run_rows
from stages.support.tracking import check_reachable


def test_an_unreachable_store_is_named_before_any_work(tmp_path: Path) -> None:
    start = time.monotonic()
    with pytest.raises(click.ClickException, match=r"http://127\.0\.0\.1:9/ cannot be reached"):
        check_reachable("http://127.0.0.1:9/", timeout=2)
    assert time.monotonic() - start < 10  # not MLflow's minutes of retries
    with pytest.raises(click.ClickException, match="does not exist"):
        check_reachable(f"sqlite:///{tmp_path / 'missing' / 'mlflow.db'}")
    check_reachable(f"sqlite:///{tmp_path / 'mlflow.db'}")  # a new store in a folder is fine


class _Probabilities(torch.nn.Module):
    def forward(self, images: torch.Tensor) -> torch.Tensor:
        mean = images.float().mean(dim=(1, 2, 3)) / 255.0
        return torch.stack([1 - mean, mean], dim=1)


def test_registering_another_schema_adds_a_version_and_moves_the_alias() -> None:
    mlflow.set_experiment("registry")
    uris = []
    for size in (8, 16):  # two input schemas under one name
        with mlflow.start_run() as run:
            uri = log_image_model(_Probabilities(), np.zeros((2, size, size, 3), np.uint8), (2,))
            assert uri is not None
            uris.append((0.5 + size / 100, uri, run.info.run_id))
    assert register_best("m", uris[:1], {}) == 1
    assert register_best("m", [(float("nan"), uris[0][1], uris[0][2]), uris[1]], {}) == 2
    client = MlflowClient()
    assert [v.version for v in client.search_model_versions("name = 'm'")] == [2, 1]
    best = client.get_model_version_by_alias("m", "best")
    assert int(best.version) == 2
    assert best.tags["run_id"] == uris[1][2]
    assert best.tags["val_auc"] == "0.660000"
    first = mlflow.pyfunc.load_model("models:/m/1")  # still there, with its own schema
    assert first.predict(np.full((3, 8, 8, 3), 255, np.uint8)).shape == (3, 2)


def _run(client: MlflowClient, exp: str, stage: str, variant: str, **values: float) -> None:
    tags = {"stage": stage, "variant": variant, "seed": "1", "profile": "tiny"}
    tags |= {"git_commit": "abcdef0123456789", "data_digest": f"{stage}-digest"}
    run = client.create_run(exp, tags=tags, run_name=f"{stage}/{variant}_seed1")
    for key, value in values.items():
        client.log_metric(run.info.run_id, key, value)


def test_runs_join_each_audit_with_its_training_run() -> None:
    client = MlflowClient()
    exp = client.create_experiment("skintone-bench/tiny")
    other = client.create_experiment("someone-else")
    client.create_run(other, tags={"stage": "fairness", "variant": "x", "seed": "1"})  # no profile
    for variant in ("baseline", "augmented"):
        _run(client, exp, "classify", variant)
        _run(client, exp, "fairness", variant, auc_overall=0.9, equalized_odds_difference=0.25)
    rows = run_rows(client, "tiny")
    assert [r["variant"] for r in rows] == ["augmented", "baseline"]
    assert rows[0]["test AUC"] == "0.900"
    assert rows[0]["worst-group sensitivity"] == "NaN"  # not logged: undefined, not 0
    assert rows[0]["data digest"] == "classify-digest"
    assert rows[0]["commit"] == "abcdef0123"
    assert run_rows(client, "paper") == []
    text = format_table(rows)
    assert text.splitlines()[0].split()[:3] == ["profile", "variant", "seed"]
    result = CliRunner().invoke(main, ["runs", "--profile", "tiny"])
    assert result.exit_code == 0, result.output
    assert result.output.count("tiny ") == 2
