"""The DVC pipeline on a tiny profile in a scratch copy of the repo: runs, then is a no-op."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO

COPIED = (
    "benchmark",
    "stages",
    "dvc.yaml",
    "params.yaml",
    ".dvcignore",
    "pyproject.toml",
    "MLproject",
)


@pytest.fixture
def scratch_repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    for name in COPIED:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, root / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, root / name)
    params = yaml.safe_load((root / "params.yaml").read_text())
    params["ingest"]["phantoms"].update(n=30, size=48, fst_mix=[0.3, 0.2, 0.2, 0.1, 0.1, 0.1])
    params["finetune_lora"].update(steps=4, pretrain_steps=3, sample_every=0, batch_size=4)
    params["generate"].update(melanocytic=2, non_melanocytic=2, steps=3)
    params["preprocess"].update(size=32)
    params["segment"].update(epochs=2, batch_size=8)
    params["classify"].update(max_epochs=1, freeze_epochs=1, batch_size=8)
    params["fairness"].update(bootstrap=10)
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    for cmd in (
        ["git", "init", "-q"],
        ["git", "add", "-A"],
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"],
        [sys.executable, "-m", "dvc", "init", "-q"],
    ):
        subprocess.run(cmd, cwd=root, check=True)
    return root


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    return env


def _dvc(root: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "dvc", *args],
        cwd=root,
        env=_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.mark.slow
def test_repro_runs_then_changes_nothing(scratch_repo: Path) -> None:
    first = _dvc(scratch_repo, "repro")
    for stage in yaml.safe_load((scratch_repo / "dvc.yaml").read_text())["stages"]:
        assert f"Running stage '{stage}'" in first
    assert (scratch_repo / "data" / "ingested" / "manifest.parquet").is_file()
    assert (scratch_repo / "metrics" / "ingest.json").is_file()
    lock = (scratch_repo / "dvc.lock").read_text()
    second = _dvc(scratch_repo, "repro")
    assert "Running stage" not in second
    assert "didn't change" in second
    assert (scratch_repo / "dvc.lock").read_text() == lock
    shown = _dvc(scratch_repo, "metrics", "show")
    assert "ingest.json" in shown
    assert "segment.json" in shown
    assert (scratch_repo / "reports" / "segment" / "table3.md").is_file()


@pytest.mark.slow
def test_mlflow_project_runs_offline_and_nests_stage_runs(scratch_repo: Path) -> None:
    uri = f"sqlite:///{scratch_repo / 'mlflow.db'}"
    env = {**_env(), "MLFLOW_TRACKING_URI": uri}
    done = subprocess.run(
        [sys.executable, "-m", "mlflow", "run", ".", "--env-manager", "local"],
        cwd=scratch_repo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr

    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    runs = client.search_runs([e.experiment_id for e in client.search_experiments()])
    stage_runs = [r for r in runs if r.data.tags.get("stage") == "ingest"]
    assert len(stage_runs) == 1
    parent = stage_runs[0].data.tags["mlflow.parentRunId"]
    assert parent in {r.info.run_id for r in runs if "stage" not in r.data.tags}
    assert stage_runs[0].data.metrics["ingested"] == 30.0
