"""Where ``skinbench`` commands take their defaults: the params file, never code.

The library does not read params.yaml; the entry point (:mod:`stages.support.cli`) gives the
click context a :class:`ConfigSource` over it, and each command builds its config from that
source with the options the user gave laid over it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Protocol, TypeVar

import click

from benchmark.core.config.base import ConfigError

T = TypeVar("T")


class ConfigSource(Protocol):
    """A params file read into the library's config classes."""

    def load(self, cls: type[T]) -> T:
        """The config ``cls`` as the file sets it."""
        ...

    def at(self, path: Path) -> ConfigSource:
        """The same kind of source over another file."""
        ...


def config(cls: type[T], **given: Any) -> T:
    """``cls`` from this invocation's params file, with the options given (not None) over it.

    Raises:
        click.UsageError: The command runs without a params source (the bare library group).
        click.ClickException: The params file or a given value does not make a valid config.
    """
    source = click.get_current_context().find_root().obj
    if source is None:
        raise click.UsageError("no params file to take defaults from: run the skinbench command")
    try:
        cfg: T = source.load(cls)
        changes = {k: v for k, v in given.items() if v is not None}
        return dataclasses.replace(cfg, **changes)  # type: ignore[type-var]
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


def default_help(text: str, key: str) -> str:
    """An option's help naming the params.yaml key its default comes from."""
    return f"{text} [default: params.yaml {key}]"
