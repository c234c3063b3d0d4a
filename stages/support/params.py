"""The one place that reads ``params.yaml`` into the library's frozen config dataclasses."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from benchmark.core.config.base import ConfigError, from_mapping

T = TypeVar("T")


def read_params(path: Path) -> dict[str, Any]:
    """Read the whole params file as YAML 1.2, the way DVC reads and rewrites it.

    ``dvc exp run -S`` rewrites params.yaml without quotes, so ``"no"`` becomes ``no``: a
    YAML 1.1 reader (PyYAML) turns that into ``False``, YAML 1.2 keeps the string.

    Raises:
        ConfigError: If it is missing or not a YAML mapping; the message names the file.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: params file not found")
    try:
        data = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))
    except YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return data


def load_section(path: Path, section: str, cls: type[T]) -> T:
    """Load one section of the params file into its dataclass ``cls``.

    Raises:
        ConfigError: If the section is missing or does not match ``cls``.
    """
    data = read_params(path)
    if section not in data:
        raise ConfigError(f"{path}: missing section '{section}'")
    return from_mapping(cls, data[section] or {}, f"{path}: {section}")


def profile(path: Path) -> str:
    """The profile name the params file declares (``embedded`` when absent)."""
    return str(read_params(path).get("profile", "embedded"))
