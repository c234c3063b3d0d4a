"""Config plumbing: :class:`ConfigError` and :func:`from_mapping` (mapping -> frozen dataclass)."""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from typing import Any, Literal, TypeVar

T = TypeVar("T")
# Where a training stage runs (resolved by benchmark.core.devices.choose_device).
Device = Literal["auto", "cpu", "cuda"]
Precision = Literal["no", "fp16", "bf16"]


class ConfigError(ValueError):
    """A configuration mapping does not match its dataclass."""


def from_mapping(cls: type[T], data: Mapping[str, Any], where: str) -> T:
    """Build the frozen dataclass ``cls`` from a plain mapping, checking keys and types.

    Args:
        cls: A dataclass type whose fields have simple annotations (scalars, ``Literal``,
            tuples, nested dataclasses).
        data: The mapping, e.g. one section of the params file.
        where: Name of the source for error messages, e.g. ``"<params file>: ingest"``.

    Returns:
        The validated instance.

    Raises:
        ConfigError: On unknown or missing keys, wrong types or values outside a
            ``Literal``; the message names ``where`` and the key.
    """
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls!r} is not a dataclass")
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: expected a mapping, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {unknown}; allowed: {sorted(names)}")
    # The config classes hold no defaults (params.yaml does): a key left out is an error,
    # never silently filled.
    missing = [f.name for f in dataclasses.fields(cls) if f.name not in data and f.init]
    if missing:
        raise ConfigError(f"{where}: missing key(s) {missing}")
    kwargs = {k: _coerce(hints[k], v, f"{where}.{k}") for k, v in data.items()}
    try:
        return cls(**kwargs)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _coerce(hint: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return from_mapping(hint, value, where)
    if origin is Literal:
        if value not in typing.get_args(hint):
            raise ConfigError(f"{where}: {value!r} is not one of {list(typing.get_args(hint))}")
        return value
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(args[0], v, where) for v in value)
        if len(args) != len(value):
            raise ConfigError(f"{where}: expected {len(args)} values, got {len(value)}")
        return tuple(_coerce(a, v, where) for a, v in zip(args, value, strict=True))
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(hint):
            try:
                return _coerce(arg, value, where)
            except ConfigError:
                continue
        raise ConfigError(f"{where}: {value!r} does not match {hint}")
    if hint is type(None):
        if value is not None:
            raise ConfigError(f"{where}: expected null, got {value!r}")
        return None
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint in (int, float, str, bool) and (
        not isinstance(value, hint) or (hint is int and isinstance(value, bool))
    ):
        raise ConfigError(f"{where}: expected {hint.__name__}, got {value!r}")
    return value
