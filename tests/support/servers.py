"""Throwaway PostgreSQL and MLflow tracking servers for end-to-end tests.

Both context managers start a real server process on a free loopback port, yield the URI a client
should use, and on exit stop the server and wait for it, whether or not the body raised. When the
host cannot run the server (no PostgreSQL binaries, no ``postgres`` user to drop root to),
:class:`ServerUnavailable` is raised so that a test can ``pytest.skip(str(exc))``.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

# The kernel's limit on a unix socket path (sun_path, 108 bytes with its NUL) less the name
# PostgreSQL gives its socket (".s.PGSQL.<port>"), with a little to spare.
_MAX_SOCKET_DIR = 107 - len("/.s.PGSQL.65535")


class ServerUnavailable(Exception):  # noqa: N818 - it is a condition to skip on, not an error
    """The host cannot run the server at all; the test should be skipped, not failed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class _PgCluster:
    """Where a throwaway cluster lives and how to run its commands."""

    bindir: Path
    prefix: tuple[str, ...]  # prepended to every server command (drops root to postgres)
    user: str  # the OS user running the server, also the database superuser
    root: Path  # holds data/ and the log; the server's unix socket goes here too

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def log(self) -> Path:
        return self.root / "postgres.log"

    def command(self, tool: str, *args: str) -> list[str]:
        return [*self.prefix, str(self.bindir / tool), *args]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing was listening on a moment ago.

    The port is released before returning, so another process could take it first; that race is
    accepted for tests (the server then fails to start with a clear error).
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def log_tail(path: Path, lines: int = 40) -> str:
    """The last ``lines`` lines of a log file, or a note that it is missing."""
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"<no log at {path}: {exc}>"
    return "\n".join(text.splitlines()[-lines:])


def _find_pg_bindir() -> Path:
    """The newest PostgreSQL bin directory: Debian's layout first, then ``initdb`` on PATH."""

    def version(bindir: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in re.findall(r"\d+", bindir.parent.name))

    candidates = [p.parent for p in Path("/usr/lib/postgresql").glob("*/bin/initdb")]
    if candidates:
        return max(candidates, key=version)
    on_path = shutil.which("initdb")
    if on_path is None:
        raise ServerUnavailable("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb)")
    # /usr/local/bin/initdb is often a symlink into the real bindir, which has pg_ctl beside it.
    return Path(on_path).resolve().parent


def _server_identity() -> tuple[tuple[str, ...], str]:
    """The command prefix and OS user that the server runs as.

    initdb and postgres refuse to run as root, so under root they are run as ``postgres``.
    """
    if os.geteuid() != 0:
        return (), pwd.getpwuid(os.geteuid()).pw_name
    runuser = shutil.which("runuser")
    if runuser is None:
        raise ServerUnavailable("running as root and `runuser` is not available")
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise ServerUnavailable("running as root and there is no `postgres` user") from None
    return (runuser, "-u", "postgres", "--"), "postgres"


def _can_use(prefix: Sequence[str], directory: Path) -> bool:
    """Whether the server's user can write to ``directory`` (every parent must be searchable)."""
    probe = [*prefix, "test", "-w", str(directory), "-a", "-x", str(directory)]
    return subprocess.run(probe, cwd="/", check=False).returncode == 0


def _make_root(folder: Path, prefix: Sequence[str], user: str) -> Path:
    """Create the cluster's directory, ``folder/postgres``, owned by the server's user.

    As root, ``folder`` is usually below a 0700 directory (pytest's ``pytest-of-root``) that the
    ``postgres`` user cannot enter, or its path is too long for a unix socket. The cluster then
    lives in a private directory under the system temp dir, and ``folder/postgres`` is a
    symlink to it, so callers find it in the same place either way.
    """
    folder.mkdir(parents=True, exist_ok=True)
    link = folder / "postgres"
    if link.exists() or link.is_symlink():  # checked first so a fallback dir cannot leak
        raise FileExistsError(f"{link} exists: give each cluster a fresh folder")
    if prefix:
        shutil.chown(folder, user=user)
    if len(str(link)) <= _MAX_SOCKET_DIR and _can_use(prefix, folder):
        link.mkdir()
        if prefix:
            shutil.chown(link, user=user)
        return link
    root = Path(tempfile.mkdtemp(prefix="pgtest-"))  # 0700, private to its owner
    if prefix:
        shutil.chown(root, user=user)
    if not _can_use(prefix, root):
        shutil.rmtree(root)
        raise ServerUnavailable(f"user {user!r} can reach neither {folder} nor {root}")
    link.symlink_to(root, target_is_directory=True)
    return root


def _run(cluster: _PgCluster, tool: str, *args: str) -> None:
    """Run a PostgreSQL tool, raising with its output (and the server log) on failure."""
    # cwd="/" because the tools fail when the postgres user cannot read the current directory.
    done = subprocess.run(
        cluster.command(tool, *args), cwd="/", capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"{tool} {' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}\n"
            f"--- server log tail ({cluster.log}) ---\n{log_tail(cluster.log)}"
        )


def _init_cluster(cluster: _PgCluster, port: int) -> None:
    """Create the data directory, trusting local connections and listening only on loopback."""
    _run(
        cluster,
        "initdb",
        *("-D", str(cluster.data), "-U", cluster.user, "--auth=trust"),
        *("--encoding=UTF8", "--no-locale", "--no-sync", "--no-instructions"),
    )
    # Appended settings override initdb's defaults. Durability is pointless for a throwaway
    # cluster, and turning it off speeds up MLflow's schema migrations.
    settings = {
        "listen_addresses": "'127.0.0.1'",
        "port": str(port),
        "unix_socket_directories": "'{}'".format(str(cluster.root).replace("'", "''")),
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
    }
    with (cluster.data / "postgresql.conf").open("a") as conf:
        conf.write("".join(f"{key} = {value}\n" for key, value in settings.items()))


def _stop_cluster(cluster: _PgCluster) -> None:
    """Stop the server and wait for it; escalate until the postmaster is gone."""
    pidfile = cluster.data / "postmaster.pid"
    for mode in ("fast", "immediate"):
        if not pidfile.exists():
            return
        with contextlib.suppress(RuntimeError):
            _run(cluster, "pg_ctl", "stop", "-D", str(cluster.data), "-m", mode, "-w", "-t", "60")
    # Last resort, only if the pid is really this cluster's postmaster (a stale pidfile's pid
    # may have been reused). The backends exit on their own once the postmaster has died.
    with contextlib.suppress(OSError, ValueError, IndexError):
        pid = int(pidfile.read_text().split()[0])
        if Path(f"/proc/{pid}/cwd").resolve() == cluster.data.resolve():
            os.kill(pid, signal.SIGKILL)
            while process_running(pid):
                time.sleep(0.1)


def process_running(pid: int) -> bool:
    """Whether ``pid`` is a live process; a zombie (dead, not yet reaped) is not running."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    # The state follows the command name, which is in parentheses and may contain anything.
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


def processes_in(directory: Path) -> list[int]:
    """The pids of processes whose working directory is ``directory`` or below it.

    PostgreSQL's postmaster and backends all run with the data directory as their working
    directory, so this finds a cluster's processes whatever their command lines say.
    """
    target = directory.resolve()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError):  # gone meanwhile, or not ours to inspect
            cwd = (proc / "cwd").resolve(strict=True)
            if cwd.is_relative_to(target) and process_running(int(proc.name)):
                found.append(int(proc.name))
    return found


@contextlib.contextmanager
def postgres_server(folder: Path, driver: str | None = "psycopg2") -> Iterator[str]:
    """Run a throwaway PostgreSQL on a free loopback port, with an empty ``mlflow`` database.

    The data directory is ``folder/postgres/data`` (``folder/postgres`` may be a symlink, see
    :func:`_make_root`); the server log is ``folder/postgres/postgres.log``.

    Args:
        folder: A directory for the cluster, created if missing. As root it is chowned to the
            ``postgres`` user, which the server runs as.
        driver: The DBAPI driver named in the URI. Named by default because SQLAlchemy 2.1
            changed the driver a bare ``postgresql://`` means from psycopg2 to psycopg (3);
            ``None`` leaves it to SQLAlchemy.

    Yields:
        The SQLAlchemy URI of the ``mlflow`` database:
        ``postgresql+<driver>://<user>@127.0.0.1:<port>/mlflow``.

    Raises:
        ServerUnavailable: PostgreSQL or a way to run it as a non-root user is missing.
        RuntimeError: initdb, start-up or database creation failed (with the server log tail).
    """
    bindir = _find_pg_bindir()
    prefix, user = _server_identity()
    root = _make_root(folder, prefix, user)
    cluster = _PgCluster(bindir=bindir, prefix=prefix, user=user, root=root)
    port = free_port()
    try:
        _init_cluster(cluster, port)
        start = ("start", "-D", str(cluster.data), "-l", str(cluster.log), "-w", "-t", "60")
        _run(cluster, "pg_ctl", *start)
        _run(cluster, "createdb", "-h", "127.0.0.1", "-p", str(port), "-U", user, "mlflow")
        scheme = f"postgresql+{driver}" if driver else "postgresql"
        yield f"{scheme}://{user}@127.0.0.1:{port}/mlflow"
    finally:
        # Also after a failed start: pg_ctl may time out while the postmaster keeps running.
        _stop_cluster(cluster)
        if not root.is_relative_to(folder):
            shutil.rmtree(root, ignore_errors=True)  # outside the caller's folder: ours to clean


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    """Poll ``url/health`` until it answers 200; raise if the server exits or times out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"mlflow server exited with {proc.returncode} before becoming healthy:\n"
                f"{log_tail(log)}"
            )
        # Refused, reset or HTTP errors are expected while the server boots.
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(f"{url}/health", timeout=5) as response,
        ):
            if response.status == 200:
                return
        time.sleep(0.25)
    raise RuntimeError(f"mlflow server not healthy after {timeout:.0f} s:\n{log_tail(log)}")


def _stop_group(proc: subprocess.Popen[bytes], grace: float = 20.0) -> None:
    """SIGTERM the process group, SIGKILL it after ``grace`` seconds, and reap the leader."""
    # The group id is the leader's pid (start_new_session=True); it outlives a dead leader.
    pgid = proc.pid
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        proc.wait()
    # The uvicorn worker is a grandchild: make sure it did not outlive the leader.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


@contextlib.contextmanager
def mlflow_server(
    backend_uri: str, artifacts: Path, folder: Path, timeout: float = 120.0
) -> Iterator[str]:
    """Run ``mlflow server`` on a free loopback port until the block exits.

    Args:
        backend_uri: The backend store URI (e.g. from :func:`postgres_server`).
        artifacts: The directory proxied artifacts are written to (``--artifacts-destination``).
        folder: A directory for the server log, ``mlflow-server.log``, created if missing.
        timeout: Seconds to wait for ``/health`` to answer 200.

    Yields:
        The tracking URI, ``http://127.0.0.1:<port>``.

    Raises:
        RuntimeError: The server exited early or did not become healthy (with the log tail).
    """
    folder.mkdir(parents=True, exist_ok=True)
    artifacts.mkdir(parents=True, exist_ok=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", backend_uri]
    cmd += ["--artifacts-destination", artifacts.as_uri(), "--host", "127.0.0.1"]
    cmd += ["--port", str(port), "--workers", "1"]
    env = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", "MLFLOW_RUN_ID")}
    # With a SQL backend MLflow also starts a huey job runner (for GenAI jobs) that the tests do
    # not use; it costs processes, CPU and start-up time.
    env.setdefault("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "false")
    log = folder / "mlflow-server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=folder,
            start_new_session=True,
        )
        try:
            _wait_healthy(url, proc, log, timeout)
            yield url
        finally:
            _stop_group(proc)
