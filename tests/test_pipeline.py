"""The DVC pipeline on a tiny profile in a scratch copy of the repo: runs, then is a no-op."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

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


def tiny_params(params: dict[str, Any]) -> dict[str, Any]:
    """The embedded profile shrunk to seconds per stage (the data are left as they are)."""
    params["finetune_lora"].update(steps=4, pretrain_steps=3, sample_every=0, batch_size=4)
    params["generate"].update(melanocytic=2, non_melanocytic=2, steps=3)
    params["preprocess"].update(size=32)
    params["segment"].update(epochs=2, batch_size=8)
    params["classify"].update(max_epochs=1, freeze_epochs=1, batch_size=8)
    params["fairness"].update(bootstrap=10)
    return params


def make_scratch(root: Path, edit: Callable[[dict[str, Any]], None] | None = None) -> Path:
    """A git + DVC repo with the suite's code and the tiny params, ``edit`` applied to them."""
    root.mkdir()
    for name in COPIED:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, root / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, root / name)
    params = tiny_params(yaml.safe_load((root / "params.yaml").read_text()))
    if edit is None:
        params["ingest"]["phantoms"].update(n=30, size=48, fst_mix=[0.3, 0.2, 0.2, 0.1, 0.1, 0.1])
        params["finetune_lora"]["min_images"] = 2  # about 4 FST V-VI phantoms land in train
        # Three-step generation makes noise that the fences reject; both variants must run.
        params["validate_synthetic"]["iqr_factor"] = 1000.0
    else:
        edit(params)
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    for cmd in (
        ["git", "init", "-q"],
        ["git", "add", "-A"],
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"],
        [sys.executable, "-m", "dvc", "init", "-q"],
    ):
        subprocess.run(cmd, cwd=root, check=True)
    return root


@pytest.fixture
def scratch_repo(tmp_path: Path) -> Path:
    return make_scratch(tmp_path / "repo")


@pytest.fixture(scope="module")
def reproduced(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A scratch repo after one ``dvc repro``, and what that run printed."""
    root = make_scratch(tmp_path_factory.mktemp("pipeline") / "repo")
    return root, dvc(root, "repro")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    return env


def dvc(root: Path, *args: str) -> str:
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
def test_repro_runs_then_changes_nothing(reproduced: tuple[Path, str]) -> None:
    scratch_repo, first = reproduced
    for stage in yaml.safe_load((scratch_repo / "dvc.yaml").read_text())["stages"]:
        assert f"Running stage '{stage}'" in first
    assert (scratch_repo / "data" / "ingested" / "manifest.parquet").is_file()
    assert (scratch_repo / "metrics" / "ingest.json").is_file()
    lock = (scratch_repo / "dvc.lock").read_text()
    second = dvc(scratch_repo, "repro")
    assert "Running stage" not in second
    assert "didn't change" in second
    assert (scratch_repo / "dvc.lock").read_text() == lock
    shown = dvc(scratch_repo, "metrics", "show")
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
    _check_through_rest_api(scratch_repo, uri)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _post(url: str, body: dict[str, object]) -> Any:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _wait_healthy(base: str, server: subprocess.Popen[bytes], seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert server.poll() is None, "mlflow server exited early"
        try:
            with urllib.request.urlopen(f"{base}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"mlflow server at {base} not healthy after {seconds} s")


def _check_through_rest_api(root: Path, uri: str) -> None:
    """A tracking server on 127.0.0.1 shows the segmentation and classification variants."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlflow",
            "server",
            "--backend-store-uri",
            uri,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        cwd=root,
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait_healthy(base, server)
        found = _post(f"{base}/api/2.0/mlflow/experiments/search", {"max_results": 100})
        ids = [e["experiment_id"] for e in found["experiments"]]
        for stage in ("segment", "classify"):
            for variant in ("baseline", "augmented"):
                body = {
                    "experiment_ids": ids,
                    "max_results": 1000,
                    "filter": f"tags.stage = '{stage}' and tags.variant = '{variant}'",
                }
                runs = _post(f"{base}/api/2.0/mlflow/runs/search", body).get("runs", [])
                assert runs, f"no {stage} {variant} run"
                tags = [{t["key"]: t["value"] for t in r["data"]["tags"]} for r in runs]
                assert all(t["profile"] == "embedded" for t in tags)
                assert all(t["git_commit"] for t in tags)
                assert any(r["data"].get("metrics") for r in runs), f"{stage} {variant}: no metrics"
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # the server and its worker processes
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


@pytest.mark.slow
def test_plots_show_renders_curves_and_fst_distribution(reproduced: tuple[Path, str]) -> None:
    root, _ = reproduced
    shown = json.loads(dvc(root, "plots", "show", "--json"))["data"]
    for name in ("segmentation_loss", "classification_curves", "fst_distribution"):
        (plot,) = shown[name]
        assert plot["type"] == "vega"
        assert plot["content"]["data"]["values"], f"plot {name} has no data"


# Appended to a copy of the report: lists images that failed to load (the report has no JS).
_PROBE = (
    "<script>window.addEventListener('load', () => document.body.setAttribute('data-broken',"
    " [...document.images].filter(i => !i.complete || i.naturalWidth === 0)"
    ".map(i => i.getAttribute('src')).join(',')));</script>"
)


@pytest.mark.slow
def test_report_opens_in_headless_chromium(reproduced: tuple[Path, str], tmp_path: Path) -> None:
    exe = next((shutil.which(n) for n in ("chromium", "chromium-browser") if shutil.which(n)), None)
    if exe is None:
        pytest.skip("no Chromium on PATH (Debian: apt-get install chromium; .ci/run installs it)")
    root, _ = reproduced
    index = root / "reports" / "index.html"
    probe = index.with_name("_probe.html")
    probe.write_text(index.read_text().replace("</body>", _PROBE + "</body>"))
    flags = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000"]
    try:
        dom = subprocess.run(
            [*flags, "--dump-dom", probe.as_uri()],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout
        shot = tmp_path / "report.png"
        subprocess.run(
            [*flags, f"--screenshot={shot}", "--window-size=1280,2400", index.as_uri()],
            capture_output=True,
            timeout=120,
            check=True,
        )
    finally:
        probe.unlink()
    broken = re.search(r'data-broken="([^"]*)"', dom)
    assert broken is not None, "the probe did not run"
    assert broken.group(1) == "", f"broken images: {broken.group(1)}"
    assert re.search(r"<img ", dom), "the report shows no image"
    tables = set(re.findall(r'<table[^>]*\bid="([^"]+)"', dom))
    assert {"table1", "table2", "table3", "table4", "table5"} <= tables
    assert any(t.startswith("fairness-") for t in tables)
    assert shot.stat().st_size > 20_000


@pytest.mark.slow
def test_the_generator_learns_from_train_patients_only(reproduced: tuple[Path, str]) -> None:
    import pandas as pd

    from benchmark.generative.record import FinetuneRecord

    root, _ = reproduced
    split = pd.read_parquet(root / "data" / "split" / "manifest.parquet")
    held_out = split[split["split"] != "train"]
    record = FinetuneRecord.read(root / "models" / "finetune" / "finetune.json")
    assert record.not_run is None
    reference = pd.read_csv(root / "reports" / "synthetic" / "reference.csv")
    for ids, patients in (
        (record.lora_training.image_ids, record.lora_training.patients),
        (record.base_training.image_ids, record.base_training.patients),
        (tuple(reference["image_id"]), tuple(reference["patient_id"])),
    ):
        assert ids
        assert not set(ids) & set(held_out["image_id"])
        assert not set(patients) & set(held_out["patient_id"])
    merged = pd.read_parquet(root / "data" / "merged" / "manifest.parquet")
    assert set(merged.loc[merged["split"] == "test", "source"]) == {"real"}


@pytest.mark.slow
def test_changing_generation_leaves_the_split(reproduced: tuple[Path, str], tmp_path: Path) -> None:
    source, _ = reproduced
    root = tmp_path / "copy"
    shutil.copytree(source, root, symlinks=True)
    before = (root / "data" / "split" / "manifest.parquet").read_bytes()
    lock = yaml.safe_load((root / "dvc.lock").read_text())["stages"]["split"]
    params = yaml.safe_load((root / "params.yaml").read_text())
    params["generate"]["melanocytic"] = 3
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    out = dvc(root, "repro")
    assert "Running stage 'generate'" in out
    assert "Stage 'split' didn't change" in out
    assert (root / "data" / "split" / "manifest.parquet").read_bytes() == before
    assert yaml.safe_load((root / "dvc.lock").read_text())["stages"]["split"] == lock
