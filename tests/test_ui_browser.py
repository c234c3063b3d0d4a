"""``skinbench ui``: the printed address opens the pipeline's runs table in headless Chromium.

Also its bad input (a busy port), a server that dies on start-up, and the order in which
several profiles' experiments are listed.
"""

from __future__ import annotations

import queue
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from stages.support import ui
from stages.support.cli import main
from stages.support.tracking import tracked_run
from tests.support.browser import chromium_flags
from tests.support.servers import _stop_group, free_port, log_tail

STAGES = ("classify", "fairness", "report")  # run names as the pipeline records them
URL = re.compile(r"http://127\.0\.0\.1:\d+/#/experiments/(\d+)/runs")


def _record_runs(folder: Path) -> dict[str, str]:
    """Runs named as the pipeline's stages, recorded by the stages' own code; name -> run id."""
    params = folder / "params.yaml"
    sections = {stage: {"seed": 1} for stage in STAGES}
    params.write_text(yaml.safe_dump({"profile": "embedded", **sections}))
    ids = {}
    for stage in STAGES:
        with tracked_run(stage, params, (stage,)) as run:
            ids[stage] = run.info.run_id
    return ids


def _first_line(proc: subprocess.Popen[str], timeout: float) -> str:
    """The first line ``proc`` prints on stdout ('' at EOF); fails after ``timeout`` s."""
    lines: queue.Queue[str] = queue.Queue()
    stdout = proc.stdout
    assert stdout is not None
    threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
    try:
        return lines.get(timeout=timeout)
    except queue.Empty:
        pytest.fail(f"skinbench ui printed no address within {timeout:.0f} s")


def _dom(url: str, profile: Path) -> str:
    """The DOM headless Chromium builds for ``url`` with a fresh profile."""
    flags = [*chromium_flags(), "--virtual-time-budget=20000", "--window-size=1600,1200"]
    return subprocess.run(
        [*flags, f"--user-data-dir={profile}", "--dump-dom", url],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout


@pytest.mark.slow
def test_the_printed_address_opens_the_runs_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chromium_flags()  # skip before any work where there is no Chromium
    monkeypatch.chdir(tmp_path)  # the store's artifacts folder goes beside it
    runs = _record_runs(tmp_path)
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    command = [sys.executable, "-m", "stages.support.cli", "ui", "--store", store]
    log = tmp_path / "ui.log"
    with log.open("w") as err:
        proc = subprocess.Popen(
            [*command, "--port", str(free_port())],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            start_new_session=True,
        )
    try:
        line = _first_line(proc, timeout=ui.READY_TIMEOUT + 30)
        found = URL.match(line)
        assert found, f"no runs-table address in {line!r}:\n{log_tail(log)}"
        assert line.rstrip().endswith("(skintone-bench/embedded)")
        dom = _dom(found.group(0), tmp_path / "profile")
    finally:
        _stop_group(proc)  # type: ignore[arg-type]
    assert 'data-testid="sort-header-Run Name"' in dom, "no runs table (the GenAI view?)"
    for stage, run_id in runs.items():
        assert f'href="#/experiments/{found.group(1)}/runs/{run_id}"' in dom, stage
        assert f">{stage}<" in dom, f"the runs table does not name {stage}"


def test_a_busy_port_is_named_without_a_traceback(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        store = f"sqlite:///{tmp_path / 'mlflow.db'}"
        result = CliRunner().invoke(main, ["ui", "--store", store, "--port", str(port)])
    assert result.exit_code == 2, result.output
    assert f"port {port} on 127.0.0.1 is in use; pass a free one with --port" in result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)
    assert not (tmp_path / "mlflow.db").exists()  # failed before starting anything


def test_a_server_that_dies_on_start_up_is_quoted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    died = [sys.executable, "-c", "import sys; print('no such store: x', file=sys.stderr); exit(3)"]
    monkeypatch.setattr(ui, "ui_command", lambda store, host, port: died)
    start = time.monotonic()
    result = CliRunner().invoke(main, ["ui", "--port", str(free_port())])
    assert result.exit_code == 1, result.output
    assert "mlflow ui exited with status 3 before it answered" in result.output
    assert "no such store: x" in result.output
    assert "Traceback" not in result.output
    assert time.monotonic() - start < 30


def _fake_api(experiments: list[dict[str, str]], starts: dict[str, int]) -> Any:
    def answer(base: str, endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
        if endpoint == "experiments/search":
            assert body["filter"] == "name LIKE 'skintone-bench/%'"
            return {"experiments": experiments} if experiments else {}
        start = starts[body["experiment_ids"][0]]
        return {"runs": [{"info": {"start_time": start}}]} if start else {}

    return answer


def test_profiles_are_listed_newest_run_first(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    names = {"1": "skintone-bench/paper", "2": "skintone-bench/embedded", "3": "skintone-bench/x"}
    found = [{"name": n, "experiment_id": i} for i, n in names.items()]
    monkeypatch.setattr(ui, "_api", _fake_api(found, {"1": 0, "2": 0, "3": 5}))
    assert [i for _, i in ui.project_experiments("b")] == ["3", "2", "1"]  # embedded breaks ties
    ui.announce("http://h:1")
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "http://h:1/#/experiments/3/runs  (skintone-bench/x)"
    assert len(out) == 3
    monkeypatch.setattr(ui, "_api", _fake_api([], {}))
    ui.announce("http://h:1")
    shown = capsys.readouterr()
    assert shown.out == "http://h:1\n"
    assert "No pipeline run is recorded" in shown.err


def test_a_wildcard_host_is_shown_as_this_machine() -> None:
    assert ui.base_url("127.0.0.1", 5000) == "http://127.0.0.1:5000"
    assert ui.base_url("0.0.0.0", 5001) == "http://127.0.0.1:5001"
    assert ui.base_url("::", 5002) == "http://[::1]:5002"
    assert ui.runs_url("http://h:1", "7") == "http://h:1/#/experiments/7/runs"
