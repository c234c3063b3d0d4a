"""Typed results as JSON: a frozen dataclass is written, and read back, through its own type.

:func:`to_json` turns a dataclass tree (nested dataclasses, tuples, ``dict[str, ...]``,
scalars) into plain JSON values, NaN as ``null``. :func:`from_json` rebuilds the same tree
from those values by the field annotations, so ``from_json(T, to_json(x)) == x`` for every
value without NaN (NaN compares unequal to itself). A ``float`` field written as ``null``
reads back as NaN; ``X | None`` reads ``null`` as None, so undefined numbers are NaN and
absent parts are None, never the other way round. A file whose content does not match the
type raises :class:`~benchmark.core.io.FileContentError` naming the file and the key.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from pathlib import Path
from typing import Any, Literal, Self, TypeVar

from benchmark.core.io import FileContentError, read_json, write_json_atomic

T = TypeVar("T")


class RecordError(ValueError):
    """A JSON value does not match the type it is read as; ``path`` names the key."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path or 'top level'}: {message}")
        self.path = path


def to_json(value: Any) -> Any:
    """Plain JSON values of a dataclass tree (tuples as lists, NaN as None)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def from_json(cls: type[T], data: Any, path: str = "") -> T:
    """Rebuild a ``cls`` instance from :func:`to_json`'s output.

    Raises:
        RecordError: A missing or unknown key, or a value of another type (naming the key).
    """
    hints = typing.get_type_hints(cls)
    if not isinstance(data, dict):
        raise RecordError(path, f"expected an object, found {type(data).__name__}")
    names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    unknown = sorted(set(data) - set(names))
    if unknown:
        raise RecordError(path, f"unknown key(s) {unknown}")
    kwargs = {}
    for name in names:
        if name not in data:
            raise RecordError(f"{path}.{name}".lstrip("."), "missing")
        kwargs[name] = _value(hints[name], data[name], f"{path}.{name}".lstrip("."))
    return cls(**kwargs)


def _value(hint: Any, value: Any, path: str) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return from_json(hint, value, path)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        return _value(next(a for a in args if a is not type(None)), value, path)
    if origin is tuple:
        if not isinstance(value, list):
            raise RecordError(path, f"expected a list, found {type(value).__name__}")
        items = args[:1] * len(value) if len(args) == 2 and args[1] is Ellipsis else args
        if len(items) != len(value):
            raise RecordError(path, f"expected {len(items)} items, found {len(value)}")
        pairs = enumerate(zip(items, value, strict=True))
        return tuple(_value(a, v, f"{path}[{i}]") for i, (a, v) in pairs)
    if origin is dict:
        if not isinstance(value, dict):
            raise RecordError(path, f"expected an object, found {type(value).__name__}")
        return {k: _value(args[1], v, f"{path}.{k}") for k, v in value.items()}
    if origin is Literal:
        if value not in args:
            raise RecordError(path, f"{value!r} is not one of {list(args)}")
        return value
    return _scalar(hint, value, path)


def _scalar(hint: Any, value: Any, path: str) -> Any:
    if hint is float:
        if value is None:
            return math.nan
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    elif hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif hint in (str, bool):
        if isinstance(value, hint):
            return value
    elif hint is Any:
        return value
    raise RecordError(path, f"expected {getattr(hint, '__name__', hint)}, found {value!r:.40}")


def write_record(path: Path, record: Any) -> None:
    """Write a dataclass tree as indented, key-sorted JSON, atomically."""
    write_json_atomic(path, to_json(record))


def read_record(cls: type[T], path: Path) -> T:
    """Read a file :func:`write_record` wrote as ``cls``.

    Raises:
        FileContentError: Not JSON, or not a ``cls`` (naming the file and the key).
    """
    data = read_json(path, dict)
    try:
        return from_json(cls, data)
    except RecordError as exc:
        raise FileContentError(path, f"not a {cls.__name__}: {exc}") from exc


class Record:
    """Mixin of a frozen dataclass that writes its own JSON and reads it back as itself."""

    def write(self, path: Path) -> None:
        """Write as indented JSON (NaN as null), atomically."""
        write_record(path, self)

    @classmethod
    def read(cls, path: Path) -> Self:
        """Read a file :meth:`write` wrote (FileContentError naming the file and the key)."""
        return read_record(cls, path)
