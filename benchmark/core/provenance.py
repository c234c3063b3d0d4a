"""Provenance: which code, data and params a run saw (digests, git commit, flat dicts).

Pure helpers; the stages turn them into tracking tags and metrics. The tracking store's
address is named here too (:func:`tracking_uri`), without importing mlflow, so that the stages
and ``skinbench ui`` open the same store.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

_FULL_HASH_BELOW = 2**20
_TABLES = (".csv", ".parquet", ".json")
_CHUNK = 2**20
TRACKING_URI_ENV = "MLFLOW_TRACKING_URI"
TRACKING_DB = "mlflow.db"


def default_tracking_uri(cwd: Path | None = None) -> str:
    """The project's own tracking store: ``sqlite:///<cwd>/mlflow.db``.

    Args:
        cwd: Folder of the store (default: the working directory, the repo root when DVC
            runs a stage); a relative folder is made absolute.

    Returns:
        The SQLite URI, with an absolute path.
    """
    folder = Path.cwd() if cwd is None else Path(cwd).absolute()
    return f"sqlite:///{folder / TRACKING_DB}"


def tracking_uri() -> str:
    """``$MLFLOW_TRACKING_URI`` when set and non-empty, else :func:`default_tracking_uri`."""
    return os.environ.get(TRACKING_URI_ENV) or default_tracking_uri()


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def mapping_digest(data: Mapping[str, Any]) -> str:
    """Short digest (16 hex digits) of a JSON-serialisable mapping, key order ignored."""
    text = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def data_digest(paths: Iterable[Path]) -> str:
    """Short digest (16 hex digits) of files and folders, cheap enough for every run.

    Small files (under 1 MiB) and tables (``.csv``, ``.parquet``, ``.json``) count by
    content; other files -- images -- by relative path and size, since DVC already holds
    their md5 and hashing an ISIC-sized folder on every run would double its I/O.
    Folders count by every file below them, in sorted order.

    Args:
        paths: Files or folders; missing paths count as missing.

    Returns:
        The digest.
    """
    digest = hashlib.sha256()
    for root in paths:
        root = Path(root)
        if not root.exists():
            digest.update(f"{root.name}:missing\n".encode())
            continue
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        for path in files:
            rel = path.relative_to(root).as_posix() if root.is_dir() else path.name
            size = path.stat().st_size
            by_content = size < _FULL_HASH_BELOW or path.suffix.lower() in _TABLES
            content = file_sha256(path) if by_content else f"size={size}"
            digest.update(f"{rel}:{content}\n".encode())
    return digest.hexdigest()[:16]


def git_commit(cwd: Path | None = None) -> str:
    """``HEAD`` of the repo at ``cwd``, suffixed ``-dirty`` with uncommitted tracked changes.

    Returns ``"unknown"`` outside a git checkout.
    """
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True, cwd=cwd
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
            cwd=cwd,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{sha}-dirty" if dirty.strip() else sha


def flatten_numeric(metrics: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    """Numeric leaves of a nested dict as ``a.b.c`` keys (what trackers accept as metrics)."""
    flat: dict[str, float] = {}
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten_numeric(value, f"{name}."))
        elif isinstance(value, bool | int | float):
            flat[name] = float(value)
    return flat


def flatten_all(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Every leaf of a nested dict as ``a.b.c`` keys (for logging params)."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, Mapping):
            out.update(flatten_all(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def run_tags(
    stage: str,
    profile: str,
    params: Mapping[str, Any],
    inputs: Iterable[Path],
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The tags every tracked run carries: stage, profile, git commit and digests.

    Args:
        stage: Stage name.
        profile: Params profile (``embedded``, ``paper``, ...).
        params: The params sections the stage read.
        inputs: Its input files or folders.
        extra: More tags (model, variant, seed, ...).

    Returns:
        Tag name -> value.
    """
    return {
        "stage": stage,
        "profile": profile,
        "git_commit": git_commit(),
        "params_digest": mapping_digest(params),
        "data_digest": data_digest(inputs),
        **(extra or {}),
    }


def content_digest(paths: Iterable[Path]) -> str:
    """Digest (16 hex digits) of the full content of files and folders, sizes no object.

    For deciding whether a persisted result can be reused, where :func:`data_digest`'s
    size-only shortcut for large files is not safe enough.
    """
    digest = hashlib.sha256()
    for root in paths:
        root = Path(root)
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        for path in files:
            rel = path.relative_to(root).as_posix() if root.is_dir() else path.name
            content = file_sha256(path) if path.exists() else "missing"
            digest.update(f"{rel}:{content}\n".encode())
    return digest.hexdigest()[:16]
