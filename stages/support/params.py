"""The one place that reads ``params.yaml`` into the library's frozen config dataclasses.

``params.yaml`` holds every default once: the config classes have no defaults of their own,
so a key missing from the file is an error, never silently filled. A profile such as
``params-paper.yaml`` is an *overlay*: it states only the keys it changes, and
:func:`apply_overlay` writes it over ``params.yaml`` (``skinbench profile paper``).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from benchmark.core.config.base import ConfigError, from_mapping

T = TypeVar("T")

# Each config class (by name: importing them all here would make every stage depend on every
# config module) and the dotted params.yaml section it is read from.
SECTIONS: dict[str, str] = {
    "IngestConfig": "ingest",
    "PhantomConfig": "ingest.phantoms",
    "SkintoneConfig": "skintone",
    "FinetuneConfig": "finetune_lora",
    "GenerateConfig": "generate",
    "ValidateSyntheticConfig": "validate_synthetic",
    "SplitConfig": "split",
    "PreprocessConfig": "preprocess",
    "SegmentConfig": "segment",
    "ClassifyConfig": "classify",
    "FairnessConfig": "fairness",
}
# Top-level keys that are not a stage's config: read by dvc.yaml or the report.
TOP_LEVEL = ("profile", "data")
REPO = Path(__file__).resolve().parents[2]
PARAMS = REPO / "params.yaml"


def _yaml(typ: str) -> YAML:
    yaml = YAML(typ=typ, pure=True)
    yaml.width = 100
    return yaml


def _load(path: Path, typ: str = "safe") -> Any:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: params file not found")
    try:
        data = _yaml(typ).load(path.read_text(encoding="utf-8"))
    except YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return data


def read_params(path: Path) -> dict[str, Any]:
    """Read the whole params file as YAML 1.2, the way DVC reads and rewrites it.

    ``dvc exp run -S`` rewrites params.yaml without quotes, so ``"no"`` becomes ``no``: a
    YAML 1.1 reader (PyYAML) turns that into ``False``, YAML 1.2 keeps the string.

    Raises:
        ConfigError: If it is missing or not a YAML mapping; the message names the file.
    """
    return dict(_load(path))


def section(data: Mapping[str, Any], dotted: str, path: Path) -> Any:
    """The mapping at ``dotted`` (``"ingest.phantoms"``) of a params mapping read from ``path``.

    Raises:
        ConfigError: A part of the path is missing; the message names the file.
    """
    node: Any = data
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            raise ConfigError(f"{path}: missing section '{dotted}'")
        node = node[part]
    return node if node is not None else {}


def load_section(path: Path, name: str, cls: type[T]) -> T:
    """Load the section ``name`` (dotted for nested ones) of the params file into ``cls``.

    Raises:
        ConfigError: If the section is missing or does not match ``cls`` (a key unknown,
            missing or of the wrong type).
    """
    return from_mapping(cls, section(read_params(path), name, path), f"{path}: {name}")


def load_config(path: Path, cls: type[T]) -> T:
    """Load the config class ``cls`` from its section of the params file (see SECTIONS)."""
    if cls.__name__ not in SECTIONS:
        raise TypeError(f"{cls.__name__} has no params.yaml section")
    return load_section(path, SECTIONS[cls.__name__], cls)


@dataclass(frozen=True)
class ParamsFile:
    """A params file as the CLI's source of defaults (``ctx.obj`` of ``skinbench``).

    Attributes:
        path: The params file; the project's ``params.yaml`` unless ``--params`` names another.
    """

    path: Path = PARAMS

    def load(self, cls: type[T]) -> T:
        """The config ``cls`` as this file sets it."""
        return load_config(self.path, cls)

    def at(self, path: Path) -> ParamsFile:
        """The same source over another file."""
        return ParamsFile(Path(path))


def profile(path: Path) -> str:
    """The profile name the params file declares (``embedded`` when absent)."""
    return str(read_params(path).get("profile", "embedded"))


def overlaid(base: Any, overlay: Mapping[str, Any], path: Path, prefix: str = "") -> None:
    """Write ``overlay``'s values into ``base`` in place, key by key (nested mappings merged).

    Raises:
        ConfigError: A key of the overlay that ``base`` does not have, named with its file.
    """
    for key, value in overlay.items():
        name = f"{prefix}{key}"
        if key not in base:
            raise ConfigError(f"{path}: key '{name}' is not in params.yaml")
        if isinstance(value, Mapping) and isinstance(base[key], Mapping):
            overlaid(base[key], value, path, f"{name}.")
        else:
            base[key] = value


def apply_overlay(params: Path, overlay: Path) -> str:
    """``params`` with ``overlay`` written over it, as YAML text with params' comments kept.

    Raises:
        ConfigError: The overlay names a key ``params`` lacks.
    """
    base = _load(params, "rt")
    overlaid(base, _load(overlay, "rt"), Path(overlay))
    out = io.StringIO()
    _yaml("rt").dump(base, out)
    text = out.getvalue()
    return text
