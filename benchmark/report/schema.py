"""A small structural check of the stage outputs the report reads.

Each spec describes what the report relies on; extra keys are allowed. A mismatch raises
:class:`~benchmark.core.io.FileContentError` naming the file and the path inside it, so a
malformed output is caught before anything is rendered.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmark.core.io import FileContentError


@dataclass(frozen=True)
class Scalar:
    """A number, a string or a boolean (``kind``); ``optional`` also accepts null."""

    kind: str
    optional: bool = False


@dataclass(frozen=True)
class ListOf:
    """A list whose items all match ``item``; ``length`` fixes its length when given."""

    item: Spec
    length: int | None = None


@dataclass(frozen=True)
class MapOf:
    """An object with any keys whose values all match ``value``."""

    value: Spec


@dataclass(frozen=True)
class Keys:
    """An object with ``required`` keys, ``optional`` keys and any other keys (``rest``)."""

    required: dict[str, Spec]
    optional: dict[str, Spec] = field(default_factory=dict)
    rest: Spec | None = None


Spec = Scalar | ListOf | MapOf | Keys

NUM = Scalar("number")
OPT_NUM = Scalar("number", optional=True)
BOOL = Scalar("boolean")
STR = Scalar("string")
OPT_STR = Scalar("string", optional=True)


def check(value: Any, spec: Spec, path: Path, where: str = "") -> None:
    """Check ``value`` against ``spec``.

    Args:
        value: Parsed JSON.
        spec: What the report expects.
        path: The file it came from (named in the error).
        where: Location inside the file, for the message (``rows[3].total``).

    Raises:
        FileContentError: The first mismatch, naming the file and the location.
    """
    if isinstance(spec, Scalar):
        _scalar(value, spec, path, where)
    elif isinstance(spec, ListOf):
        if not isinstance(value, list):
            raise _error(path, where, "expected a list", value)
        if spec.length is not None and len(value) != spec.length:
            raise _error(path, where, f"expected {spec.length} items, found {len(value)}")
        for i, item in enumerate(value):
            check(item, spec.item, path, f"{where}[{i}]")
    elif isinstance(spec, MapOf):
        for key, item in _object(value, path, where).items():
            check(item, spec.value, path, _join(where, key))
    else:
        _keys(_object(value, path, where), spec, path, where)


def _keys(value: dict[str, Any], spec: Keys, path: Path, where: str) -> None:
    for key, sub in spec.required.items():
        if key not in value:
            raise _error(path, where, f"missing key '{key}'")
        check(value[key], sub, path, _join(where, key))
    for key, item in value.items():
        if key in spec.required:
            continue
        if key in spec.optional:
            check(item, spec.optional[key], path, _join(where, key))
        elif spec.rest is not None:
            check(item, spec.rest, path, _join(where, key))


def _scalar(value: Any, spec: Scalar, path: Path, where: str) -> None:
    if value is None:
        if not spec.optional:
            raise _error(path, where, f"expected a {spec.kind}, found null")
        return
    if spec.kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _error(path, where, "expected a number", value)
        if isinstance(value, float) and math.isinf(value):
            raise _error(path, where, "expected a finite number", value)
    elif spec.kind == "boolean":
        if not isinstance(value, bool):
            raise _error(path, where, "expected true or false", value)
    elif not isinstance(value, str):
        raise _error(path, where, "expected a string", value)


def _object(value: Any, path: Path, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _error(path, where, "expected an object", value)
    return value


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _error(path: Path, where: str, message: str, value: Any = ...) -> FileContentError:
    found = "" if value is ... else f", found {type(value).__name__} {value!r:.40}"
    return FileContentError(path, f"{where or 'top level'}: {message}{found}")
