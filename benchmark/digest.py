"""Content digests for tracking tags: which data and which params a run saw."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

_FULL_HASH_BELOW = 64 * 2**20  # larger files are identified by size (DVC holds their md5)
_CHUNK = 2**20


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
    """Short digest (16 hex digits) of files and folders.

    Files under 64 MiB count by content, larger ones by relative path and size. Folders
    count by every file below them, in sorted order, so renames and edits both change it.

    Args:
        paths: Files or folders; missing paths count as missing.

    Returns:
        The digest.
    """
    digest = hashlib.sha256()
    for root in paths:
        root = Path(root)
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        for path in files:
            rel = path.relative_to(root).as_posix() if root.is_dir() else path.name
            if not path.exists():
                digest.update(f"{rel}:missing\n".encode())
                continue
            size = path.stat().st_size
            content = file_sha256(path) if size < _FULL_HASH_BELOW else f"size={size}"
            digest.update(f"{rel}:{content}\n".encode())
    return digest.hexdigest()[:16]
