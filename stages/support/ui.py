"""``skinbench ui``: the MLflow UI over the project's tracking store.

Starts ``mlflow ui`` on the store, waits until it answers HTTP, then prints (on stdout, one
per line) the address of each pipeline experiment's runs table, the one with the newest run
first. The MLflow 3 UI is a hash-routed single-page app: a runs table is
``<base>/#/experiments/<id>/runs``. The experiments are read over the started server's REST
API, so this process neither imports MLflow nor opens the store itself.
"""

from __future__ import annotations

import collections
import contextlib
import errno
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from types import FrameType
from typing import Any

import click

from benchmark.core.provenance import TRACKING_DB, TRACKING_URI_ENV, tracking_uri
from stages.support.tracking import EXPERIMENT_PREFIX

READY_TIMEOUT = 120.0  # seconds for mlflow ui to answer /health (~10-30 s on 2 CPUs)
STOP_GRACE = 15.0  # seconds for it to shut down on SIGTERM before it is killed
DEFAULT_PROFILE = "embedded"  # params.yaml's profile: listed first among equals
_TAIL = 30  # lines of mlflow's output quoted when it fails to start


def ui_command(store: str, host: str, port: int) -> list[str]:
    """The ``mlflow ui`` command line over a tracking store."""
    return [
        sys.executable,
        "-m",
        "mlflow",
        "ui",
        "--backend-store-uri",
        store,
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        "1",  # a local viewer needs one; MLflow's default four start much slower
    ]


def server_env() -> dict[str, str]:
    """The environment of ``mlflow ui``: GenAI job execution off unless the user set it.

    The pipeline runs no GenAI jobs; MLflow's job runner would start several more processes
    with the UI (set ``MLFLOW_SERVER_ENABLE_JOB_EXECUTION=true`` to keep it).
    """
    return {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", **os.environ}


def base_url(host: str, port: int) -> str:
    """The address a browser on this machine reaches the UI at (a wildcard host is local)."""
    shown = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
    return f"http://[{shown}]:{port}" if ":" in shown else f"http://{shown}:{port}"


def runs_url(base: str, experiment_id: str) -> str:
    """The address of an experiment's runs table in the MLflow 3 UI (a hash route)."""
    return f"{base}/#/experiments/{experiment_id}/runs"


def check_port_free(host: str, port: int) -> None:
    """Fail, naming the port, where ``mlflow ui`` could not listen on ``host:port``.

    Binds a socket as uvicorn does (``SO_REUSEADDR``), so a port that only lingers in
    TIME_WAIT is free while one that a server listens on is not.

    Raises:
        click.BadParameter: The port is taken or the host cannot be bound.
    """
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        with socket.socket(family, kind, proto) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(address)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise click.BadParameter(
                f"port {port} on {host} is in use; pass a free one with --port",
                param_hint="'--port'",
            ) from None
        raise click.BadParameter(
            f"cannot listen on {host} port {port}: {exc.strerror or exc}",
            param_hint="'--host' / '--port'",
        ) from None


def _api(base: str, endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST ``body`` to an MLflow REST endpoint and return the decoded answer."""
    request = urllib.request.Request(
        f"{base}/api/2.0/mlflow/{endpoint}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        answer: dict[str, Any] = json.load(response)
    return answer


def _latest_start(base: str, experiment_id: str) -> int:
    """The start time (ms) of an experiment's newest run, 0 where it has none."""
    body = {"experiment_ids": [experiment_id], "max_results": 1}
    runs = _api(base, "runs/search", body | {"order_by": ["attributes.start_time DESC"]})
    return int(runs["runs"][0]["info"].get("start_time", 0)) if runs.get("runs") else 0


def project_experiments(base: str) -> list[tuple[str, str]]:
    """The pipeline's experiments (name, id) on a running server, newest run first.

    Experiments are named ``<EXPERIMENT_PREFIX>/<profile>``; among equals (no runs) the
    default profile's comes first.
    """
    body = {"filter": f"name LIKE '{EXPERIMENT_PREFIX}/%'", "max_results": 1000}
    found = _api(base, "experiments/search", body).get("experiments", [])
    pairs = [(str(e["name"]), str(e["experiment_id"])) for e in found]
    default = f"{EXPERIMENT_PREFIX}/{DEFAULT_PROFILE}"
    newest = {eid: _latest_start(base, eid) for _, eid in pairs}
    return sorted(pairs, key=lambda p: (-newest[p[1]], p[0] != default, p[0]))


class _Output:
    """Reads a child's output in a thread: kept (last lines) until :meth:`forward`, then shown.

    Start-up output is only quoted if the start fails, so it is not shown twice.
    """

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.tail: collections.deque[str] = collections.deque(maxlen=_TAIL)
        self._proc = proc
        self._live = threading.Event()
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        assert self._proc.stdout is not None  # opened with stdout=PIPE
        for line in self._proc.stdout:
            self.tail.append(line)
            if self._live.is_set():
                with contextlib.suppress(ValueError, OSError):  # stderr closed under us
                    sys.stderr.write(line)

    def forward(self) -> None:
        """Show the child's output on stderr from now on."""
        self._live.set()

    def quoted(self) -> str:
        """The last lines, once the child has exited and they have all been read."""
        self._thread.join(timeout=5)
        return "".join(self.tail).rstrip() or "<no output>"


def _answers(url: str) -> bool:
    """Whether ``url`` answers HTTP 200 now."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return bool(response.status == 200)
    except OSError:  # refused, reset or an HTTP error while the server boots
        return False


def wait_ready(
    proc: subprocess.Popen[str], base: str, output: _Output, timeout: float = READY_TIMEOUT
) -> None:
    """Wait until the server at ``base`` answers ``/health``.

    Raises:
        click.ClickException: The process exited first, or ``timeout`` seconds passed (with
            the tail of its output).
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise click.ClickException(
                f"mlflow ui exited with status {proc.returncode} before it answered; "
                f"its last output:\n{output.quoted()}"
            )
        if _answers(f"{base}/health"):
            return
        time.sleep(0.25)
    raise click.ClickException(
        f"mlflow ui did not answer at {base} within {timeout:.0f} s; its last output:\n"
        + ("".join(output.tail).rstrip() or "<no output>")
    )


def announce(base: str) -> None:
    """Print each pipeline experiment's runs-table address, or the base one where none."""
    try:
        experiments = project_experiments(base)
    except (OSError, ValueError, KeyError) as exc:
        click.echo(f"could not list the experiments ({exc})", err=True)
        experiments = []
    for name, experiment_id in experiments:
        click.echo(f"{runs_url(base, experiment_id)}  ({name})")
    if not experiments:
        click.echo(base)
        click.echo("No pipeline run is recorded in this store yet (run `dvc repro`).", err=True)
    click.echo("MLflow UI running (Ctrl-C stops it)", err=True)


def stop(proc: subprocess.Popen[str], grace: float = STOP_GRACE) -> None:
    """SIGTERM the server (it forwards it to uvicorn), then kill what is left of its group."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)  # workers or a job runner that outlived it


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """Turn SIGTERM into the Ctrl-C path, so the server is stopped too."""
    raise KeyboardInterrupt


def serve(command: list[str], base: str) -> int:
    """Run ``mlflow ui``, print the runs tables' addresses once it answers, wait on it.

    The server runs in its own session and is stopped here on Ctrl-C or SIGTERM.

    Returns:
        Its exit status, or 0 when stopped by Ctrl-C or SIGTERM.
    """
    proc = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=server_env(),
        start_new_session=True,
    )
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        output = _Output(proc)
        wait_ready(proc, base, output)
        announce(base)
        output.forward()
        return proc.wait()
    except KeyboardInterrupt:
        click.echo("Stopping the MLflow UI", err=True)
        return 0
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second one must not orphan it
        stop(proc)
        signal.signal(signal.SIGTERM, previous)


@click.command("ui")
@click.option(
    "--store",
    help=f"Tracking store URI [default: ${TRACKING_URI_ENV}, else "
    f"sqlite:///<current folder>/{TRACKING_DB}, the project's store].",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option(
    "--port", default=5000, show_default=True, type=click.IntRange(1, 65535), help="Port."
)
@click.option("--print-only", is_flag=True, help="Print the command instead of running it.")
def ui_cmd(store: str | None, host: str, port: int, print_only: bool) -> None:
    """Open the MLflow UI over the project's runs (local only unless --host says otherwise).

    Prints the address of the pipeline's runs table once the UI answers.
    """
    uri = store or tracking_uri()
    command = ui_command(uri, host, port)
    if print_only:
        click.echo(shlex.join(command))
        return
    check_port_free(host, port)
    click.echo(f"Starting the MLflow UI over {uri} on {base_url(host, port)}", err=True)
    raise SystemExit(serve(command, base_url(host, port)))
