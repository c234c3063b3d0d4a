"""A second copy of the tiny pipeline, run by ``mlflow run`` against a shared tracking server.

The server is ``mlflow server`` on a throwaway PostgreSQL database with a local artifacts
destination, as a team would run it (SQLite stands in where PostgreSQL cannot start, and the
PostgreSQL test says why it skipped). The module then checks what a team needs of that
record: the two copies' ``dvc.lock`` files are identical, runs are found by variant, seed and
profile through the REST API, the registered best model answers ``/invocations`` for a batch,
``skinbench runs`` tabulates the runs and the MLflow UI lists them in headless Chromium.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from tests.support.scratch import env, make_scratch
from tests.support.servers import (
    ServerUnavailable,
    free_port,
    log_tail,
    mlflow_server,
    postgres_server,
)

# One worker runs the session's tiny reproduction and everything that uses it.
pytestmark = pytest.mark.xdist_group("pipeline")

PROFILE = "embedded"  # the tiny params keep the embedded profile's name
EXPERIMENT = f"skintone-bench/{PROFILE}"  # as the README runs the project


@dataclass(frozen=True)
class Tracked:
    """The second copy after ``mlflow run``, and the server that recorded it."""

    root: Path
    url: str
    backend: str  # "postgresql" or "sqlite"
    why_not_postgresql: str
    run: subprocess.CompletedProcess[str]


def _backend(stack: ExitStack, folder: Path) -> tuple[str, str, str]:
    """A PostgreSQL URI where one can start, else a SQLite one and why not."""
    try:
        import psycopg2  # noqa: F401

        return stack.enter_context(postgres_server(folder / "pg")), "postgresql", ""
    except (ImportError, ServerUnavailable) as exc:
        return f"sqlite:///{folder / 'mlflow.db'}", "sqlite", str(exc)


@pytest.fixture(scope="module")
def tracked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tracked]:
    folder = tmp_path_factory.mktemp("tracked")
    root = make_scratch(folder / "repo")
    project = [sys.executable, "-m", "mlflow", "run", ".", "--env-manager", "local"]
    with ExitStack() as stack:
        backend, kind, why = _backend(stack, folder)
        url = stack.enter_context(mlflow_server(backend, folder / "artifacts", folder / "server"))
        done = subprocess.run(
            [*project, "--experiment-name", EXPERIMENT],
            cwd=root,
            env={**env(), "MLFLOW_TRACKING_URI": url},
            capture_output=True,
            text=True,
            check=False,
        )
        yield Tracked(root, url, kind, why, done)


def _client(tracked: Tracked) -> Any:
    from mlflow import MlflowClient

    assert tracked.run.returncode == 0, tracked.run.stdout[-3000:] + tracked.run.stderr[-6000:]
    return MlflowClient(tracking_uri=tracked.url)


def _post(url: str, body: Any, timeout: float = 60) -> Any:
    data = json.dumps(body).encode()
    request = urllib.request.Request(url, data, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


@pytest.mark.slow
def test_mlflow_project_runs_offline_and_nests_stage_runs(tracked: Tracked) -> None:
    client = _client(tracked)
    runs = client.search_runs([e.experiment_id for e in client.search_experiments()])
    stage_runs = [r for r in runs if r.data.tags.get("stage") == "ingest"]
    assert len(stage_runs) == 1
    parent = stage_runs[0].data.tags["mlflow.parentRunId"]
    assert parent in {r.info.run_id for r in runs if "stage" not in r.data.tags}
    assert stage_runs[0].data.metrics["ingested"] == 30.0


@pytest.mark.slow
def test_two_copies_reproduce_the_same_dvc_lock(
    reproduced: tuple[Path, str], tracked: Tracked
) -> None:
    _client(tracked)
    first = yaml.safe_load((reproduced[0] / "dvc.lock").read_text())["stages"]
    second = yaml.safe_load((tracked.root / "dvc.lock").read_text())["stages"]
    differ = [s for s in first if first[s] != second.get(s)]
    assert not differ, f"stages whose lock entries differ between the copies: {differ}"
    # Byte for byte, although one copy tracked to SQLite and the other to a server.
    assert (reproduced[0] / "dvc.lock").read_bytes() == (tracked.root / "dvc.lock").read_bytes()


@pytest.mark.slow
def test_a_shared_postgresql_server_finds_runs_by_variant_seed_and_profile(
    tracked: Tracked,
) -> None:
    if tracked.backend != "postgresql":
        pytest.skip(
            f"PostgreSQL unavailable, the server ran on SQLite: {tracked.why_not_postgresql}"
        )
    _client(tracked)
    found = _post(f"{tracked.url}/api/2.0/mlflow/experiments/search", {"max_results": 100})
    ids = [e["experiment_id"] for e in found["experiments"]]
    seeds = yaml.safe_load((tracked.root / "params.yaml").read_text())["classify"]["seeds"]
    for stage, variant, seed in [
        *(("segment", v, None) for v in ("baseline", "augmented")),
        *(("classify", v, s) for v in ("baseline", "augmented") for s in seeds),
    ]:
        wanted = f"tags.stage = '{stage}' and tags.variant = '{variant}'"
        wanted += f" and tags.profile = '{PROFILE}'"
        wanted += f" and tags.seed = '{seed}'" if seed is not None else ""
        body = {"experiment_ids": ids, "max_results": 100, "filter": wanted}
        runs = _post(f"{tracked.url}/api/2.0/mlflow/runs/search", body).get("runs", [])
        assert runs, f"no run where {wanted}"
        assert all(r["data"].get("metrics") for r in runs), f"{wanted}: a run without metrics"


@pytest.mark.slow
def test_skinbench_runs_tabulates_each_variant_and_seed(tracked: Tracked) -> None:
    from stages.support.cli import main

    _client(tracked)
    result = CliRunner().invoke(main, ["runs", "--store", tracked.url, "--profile", PROFILE])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "worst-group sensitivity" in lines[0]
    for variant in ("baseline", "augmented"):
        (row,) = [line for line in lines if f" {variant} " in f" {line} "]
        assert "not found" not in row  # joined with its classify run's data digest


def _serve(tracked: Tracked, model: str, folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    cmd = [sys.executable, "-m", "mlflow", "models", "serve", "-m", model]
    cmd += ["--env-manager", "local", "-h", "127.0.0.1", "-p", str(port)]
    log = folder / "serve.log"
    proc = subprocess.Popen(
        cmd,
        env={**env(), "MLFLOW_TRACKING_URI": tracked.url},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return proc, f"http://127.0.0.1:{port}"


def _wait_ping(proc: subprocess.Popen[bytes], base: str, log: Path, seconds: float = 180) -> None:
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"mlflow models serve exited:\n{log_tail(log)}"
        try:
            with urllib.request.urlopen(f"{base}/ping", timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"model server not up after {seconds} s:\n{log_tail(log)}")


@pytest.mark.slow
def test_the_registered_best_classifier_serves_a_batch_of_8(
    tracked: Tracked, tmp_path: Path
) -> None:
    import os
    import signal

    from benchmark.classification.inference import predict_proba
    from benchmark.classification.model import load_checkpoint
    from benchmark.core.naming import run_name
    from benchmark.preprocess.cache import load_split

    client = _client(tracked)
    name = f"skintone-bench-{PROFILE}-classifier-baseline"
    registered = {m.name for m in client.search_registered_models()}
    assert {name, name.replace("baseline", "augmented")} <= registered
    best = client.get_model_version_by_alias(name, "best")
    images = np.asarray(load_split(tracked.root / "data" / "preprocessed", "test").images)
    batch = np.resize(images, (8, *images.shape[1:]))
    weights = f"{run_name('baseline', int(best.tags['seed']))}.safetensors"
    expected = predict_proba(load_checkpoint(tracked.root / "models" / "classify" / weights), batch)
    proc, base = _serve(tracked, f"models:/{name}@best", tmp_path)
    try:
        _wait_ping(proc, base, tmp_path / "serve.log")
        answer = _post(f"{base}/invocations", {"inputs": batch.tolist()})
        scores = np.asarray(answer["predictions"], dtype=np.float64)
        assert scores.shape == (8, 2)
        np.testing.assert_allclose(scores[:, 1], expected, atol=1e-5)
        wrong = {"inputs": np.zeros((2, 8, 8, 3), np.uint8).tolist()}
        with pytest.raises(urllib.error.HTTPError) as refused:
            _post(f"{base}/invocations", wrong)
        assert refused.value.code == 400
        assert "shape" in refused.value.read().decode().lower()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def _chromium() -> str:
    exe = next((shutil.which(n) for n in ("chromium", "chromium-browser") if shutil.which(n)), None)
    if exe is None:
        pytest.skip("no Chromium on PATH (Debian: apt-get install chromium; .ci/run installs it)")
    return exe


@pytest.mark.slow
def test_the_mlflow_ui_lists_the_classification_runs(tracked: Tracked, tmp_path: Path) -> None:
    exe = _chromium()
    client = _client(tracked)
    experiment = client.get_experiment_by_name(EXPERIMENT)
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"
    # Sorted by name, the runs table lists child runs flat (by start time it nests them,
    # collapsed); the filter keeps the classification runs within one screen.
    query = "searchFilter=tags.stage%20%3D%20%27classify%27&orderByKey=attributes.run_name"
    page = f"{tracked.url}/#/experiments/{experiment.experiment_id}/runs?{query}&orderByAsc=true"
    flags = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=30000"]
    flags += ["--window-size=1600,1200"]
    dom = subprocess.run(
        [*flags, "--dump-dom", page], capture_output=True, text=True, timeout=180, check=True
    ).stdout
    shot = tmp_path / "mlflow-ui.png"
    subprocess.run([*flags, f"--screenshot={shot}", page], capture_output=True, timeout=180)
    seeds = yaml.safe_load((tracked.root / "params.yaml").read_text())["classify"]["seeds"]
    for variant in ("baseline", "augmented"):
        for run in (f"classify/{variant}", *(f"classify/{variant}_seed{s}" for s in seeds)):
            assert f">{run}<" in dom, f"the MLflow UI does not list {run} (screenshot: {shot})"
        # The Dataset column names the rows each seed run trained on.
        assert f"{PROFILE}-{variant}-train" in dom, f"no dataset shown (screenshot: {shot})"
    assert shot.stat().st_size > 20_000
