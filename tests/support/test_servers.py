from __future__ import annotations

import contextlib
import json
import socket
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.support.servers import ServerUnavailable, mlflow_server, postgres_server, processes_in


def _search_runs(url: str, experiment_id: str, filter_string: str) -> list[dict[str, Any]]:
    """Search runs through the REST API itself, not the client, as other tools would."""
    body = json.dumps({"experiment_ids": [experiment_id], "filter": filter_string}).encode()
    request = urllib.request.Request(
        f"{url}/api/2.0/mlflow/runs/search",
        data=body,
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        runs: list[dict[str, Any]] = json.load(response).get("runs", [])
    return runs


def _port_open(uri: str) -> bool:
    port = urlsplit(uri).port
    assert port is not None
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except OSError:
        return False
    return True


@pytest.mark.slow
def test_mlflow_server_on_postgres_logs_runs_and_artifacts_then_stops(tmp_path: Path) -> None:
    pytest.importorskip("psycopg2", reason="psycopg2 is needed for MLflow's PostgreSQL backend")
    from mlflow import MlflowClient

    artifacts = tmp_path / "artifacts"
    with contextlib.ExitStack() as stack:
        try:
            db_uri = stack.enter_context(postgres_server(tmp_path / "pg"))
        except ServerUnavailable as exc:
            pytest.skip(str(exc))
        # Resolved now: the cluster may live behind a symlink that is gone once it stops.
        data_dir = (tmp_path / "pg" / "postgres" / "data").resolve()
        assert processes_in(data_dir), "the postgres processes should be findable while running"
        url = stack.enter_context(mlflow_server(db_uri, artifacts, tmp_path / "mlflow"))

        client = MlflowClient(tracking_uri=url)
        experiment_id = client.create_experiment("servers-e2e")
        run_id = client.create_run(experiment_id, tags={"variant": "baseline"}).info.run_id
        client.log_metric(run_id, "auc", 0.875)
        notes = tmp_path / "notes.txt"
        notes.write_text("hello from the e2e test\n")
        client.log_artifact(run_id, str(notes))
        client.set_terminated(run_id)

        runs = _search_runs(url, experiment_id, "tags.variant = 'baseline'")
        assert [r["info"]["run_id"] for r in runs] == [run_id]
        assert runs[0]["data"]["metrics"][0]["key"] == "auc"
        assert runs[0]["data"]["metrics"][0]["value"] == pytest.approx(0.875)
        assert _search_runs(url, experiment_id, "tags.variant = 'other'") == []

        # Proxied artifacts land under --artifacts-destination, in the run's own directory.
        landed = list(artifacts.rglob("notes.txt"))
        assert len(landed) == 1
        assert run_id in landed[0].relative_to(artifacts).parts
        assert landed[0].read_text() == "hello from the e2e test\n"

    assert not _port_open(url), "mlflow server still listening"
    assert not _port_open(db_uri), "postgres still listening"
    assert processes_in(data_dir) == []
