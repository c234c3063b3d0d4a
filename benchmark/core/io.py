"""Atomic file output: nothing half-written survives a crash or an error.

Every writer here writes to a temporary sibling and renames it into place; ``os.replace`` is
atomic on POSIX within one filesystem.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


class FileContentError(ValueError):
    """A table file's content is unusable; the message names the file, row and column."""

    def __init__(
        self, file: str | Path, message: str, *, row: int | None = None, column: str | None = None
    ) -> None:
        where = [str(file)]
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column '{column}'")
        super().__init__(f"{', '.join(where)}: {message}")
        self.file, self.row, self.column = str(file), row, column


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it to ``target`` on success.

    Works for files and directories. On an exception the temporary path is removed and
    ``target`` is left as it was.

    Args:
        target: Final path of the file or directory.

    Yields:
        The temporary path to write to (it does not exist yet).
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    tmp.rmdir()  # the caller creates it, as a file or a directory
    try:
        yield tmp
        _replace(tmp, target)
    except BaseException:
        _remove(tmp)
        raise


def _replace(tmp: Path, target: Path) -> None:
    if target.is_dir() and not target.is_symlink():
        trash = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.replace(target, trash)
        os.replace(tmp, target)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        os.replace(tmp, target)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink()


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_path(Path(path)) as tmp:
        tmp.write_text(text, encoding="utf-8")


def read_json(path: Path, expect: type = object) -> Any:
    """Parse a JSON file this project wrote (or a user gave), checking its top-level type.

    Args:
        path: The file.
        expect: The type the top level must have (``dict``, ``list``; ``object``: any).

    Raises:
        FileContentError: Unreadable, not JSON, or of another top-level type (naming it).
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FileContentError(path, f"not a readable JSON file: {exc}") from exc
    if not isinstance(data, expect):
        kind = "an object" if expect is dict else "a list" if expect is list else expect.__name__
        raise FileContentError(path, f"top level: expected {kind}, found {type(data).__name__}")
    return data


def write_json_atomic(path: Path, data: Any) -> None:
    """Write ``data`` as indented, key-sorted JSON to ``path`` atomically.

    NaN is written as ``null`` so that strict JSON readers accept the file.
    """
    text = json.dumps(nan_to_none(data), indent=2, sort_keys=True, allow_nan=False)
    write_text_atomic(path, text + "\n")


def nan_to_none(value: Any) -> Any:
    """``value`` with every NaN (nested in dicts, lists, numpy scalars) as None: JSON null."""
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, dict):
        return {str(k): nan_to_none(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [nan_to_none(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return nan_to_none(value.item())
    return value


def stable_safetensors(path: Path) -> Path:
    """Rewrite a safetensors header with sorted keys, so equal content gives equal bytes.

    The safetensors writer orders metadata entries by a per-process random hash, so two
    identical saves can differ byte for byte (and in sha256, and in dvc.lock). The data
    section and the offsets in it are untouched; only the JSON header is re-serialised.
    """
    raw = Path(path).read_bytes()
    size = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8 : 8 + size])
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    Path(path).write_bytes(len(text).to_bytes(8, "little") + text + raw[8 + size :])
    return Path(path)
