"""params.yaml holds every default once: the config classes, the paper overlay and the CLI."""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import re
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from benchmark.core.config.base import ConfigError
from stages.support.cli import main
from stages.support.params import (
    PARAMS,
    SECTIONS,
    TOP_LEVEL,
    apply_overlay,
    read_params,
    section,
)
from tests.conftest import REPO

CONFIG_MODULES = ("data", "downstream", "generative")


def _classes() -> dict[str, type]:
    found = {}
    for name in CONFIG_MODULES:
        module = importlib.import_module(f"benchmark.core.config.{name}")
        for obj in vars(module).values():
            if dataclasses.is_dataclass(obj) and obj.__module__ == module.__name__:
                found[obj.__name__] = obj
    return found  # type: ignore[return-value]


def _leaves(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out.update(_leaves(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def test_every_config_class_is_a_params_section_with_exactly_its_fields_and_no_default() -> None:
    params = read_params(PARAMS)
    classes = _classes()
    assert set(classes) == set(SECTIONS), "a config class without a params.yaml section"
    for name, cls in classes.items():
        keys = set(section(params, SECTIONS[name], PARAMS))
        fields = dataclasses.fields(cls)
        assert {f.name for f in fields} == keys, f"{name} against params.yaml {SECTIONS[name]}"
        with_default = [
            f.name
            for f in fields
            if f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
        ]
        assert not with_default, f"{name} restates defaults in code: {with_default}"


def test_params_yaml_has_no_section_that_no_config_reads() -> None:
    tops = {dotted.split(".")[0] for dotted in SECTIONS.values()} | set(TOP_LEVEL)
    assert set(read_params(PARAMS)) == tops


def test_the_paper_profile_states_only_what_it_changes() -> None:
    base = _leaves(read_params(PARAMS))
    overlay = _leaves(read_params(REPO / "params-paper.yaml"))
    unknown = sorted(set(overlay) - set(base))
    assert not unknown, f"params-paper.yaml keys not in params.yaml: {unknown}"
    same = sorted(k for k, v in overlay.items() if v == base[k])
    assert not same, f"params-paper.yaml restates params.yaml's values: {same}"


def test_an_overlay_key_params_yaml_lacks_is_an_error_naming_key_and_file(tmp_path: Path) -> None:
    overlay = tmp_path / "params-typo.yaml"
    overlay.write_text("profile: typo\nclassify:\n  max_epoch: 3\n")
    with pytest.raises(ConfigError, match=r"params-typo.yaml: key 'classify.max_epoch' is not"):
        apply_overlay(PARAMS, overlay)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of params.yaml and the paper overlay, as in a checkout."""
    for name in ("params.yaml", "params-paper.yaml"):
        (tmp_path / name).write_bytes((REPO / name).read_bytes())
    return tmp_path / "params.yaml"


def test_profile_command_writes_the_overlay_over_params_keeping_comments(project: Path) -> None:
    result = CliRunner().invoke(main, ["profile", "paper", "--params", str(project)])
    assert result.exit_code == 0, result.output
    merged = read_params(project)
    assert merged["profile"] == "paper"
    assert merged["classify"]["seeds"] == [42]
    assert merged["classify"]["dropout"] == read_params(PARAMS)["classify"]["dropout"]
    assert "# hierarchical replicates (seeds, then patients)" in project.read_text()
    again = CliRunner().invoke(main, ["profile", "paper", "--params", str(project)])
    assert again.exit_code != 0
    assert "already the 'paper' profile" in again.output
    missing = CliRunner().invoke(main, ["profile", "gpu", "--params", str(project)])
    assert missing.exit_code == 2
    assert "profiles: ['paper']" in missing.output


def test_profile_command_refuses_an_unknown_overlay_key_without_a_traceback(project: Path) -> None:
    overlay = project.with_name("params-paper.yaml")
    overlay.write_text(overlay.read_text() + "segmnt:\n  epochs: 3\n")
    before = project.read_bytes()
    result = CliRunner().invoke(main, ["profile", "paper", "--params", str(project)])
    assert result.exit_code == 1
    assert "params-paper.yaml: key 'segmnt' is not in params.yaml" in result.output
    assert "Traceback" not in result.output
    assert project.read_bytes() == before


def _hashes(folder: Path) -> list[str]:
    return sorted(hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*.png"))


def test_phantoms_without_flags_are_the_pipelines_phantoms(project: Path, tmp_path: Path) -> None:
    """`skinbench phantoms` takes ingest.phantoms from the params file the pipeline reads."""
    from benchmark.core.config.data import IngestConfig
    from benchmark.ingest.run import ingest_from_config
    from stages.support.params import load_config

    text = project.read_text().replace("    n: 1000\n", "    n: 6\n", 1)
    project.write_text(text.replace("    size: 256\n", "    size: 48\n", 1))
    ingest_from_config(load_config(project, IngestConfig), tmp_path, tmp_path / "stage")
    args = ["--params", str(project), "phantoms", "--out", str(tmp_path / "cli")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    cli = _hashes(tmp_path / "cli" / "images")
    assert len(cli) == 6
    assert cli == _hashes(tmp_path / "stage" / "images")


def _options(group: click.Group) -> list[tuple[str, click.Option]]:
    found = []
    for name, command in group.commands.items():
        for param in command.params:
            if isinstance(param, click.Option):
                found.append((name, param))
    return found


def test_every_option_default_named_after_params_yaml_is_a_key_there() -> None:
    leaves = _leaves(read_params(PARAMS))
    named = [
        (command, option, match.group(1))
        for command, option in _options(main)
        if (match := re.search(r"\[default: params\.yaml ([\w.]+)\]", option.help or ""))
    ]
    assert len(named) >= 15
    for command, option, key in named:
        assert key in leaves or any(k.startswith(key + ".") for k in leaves), (command, key)
        # No default of its own (click: None or its UNSET sentinel): params.yaml's is used.
        unset = option.default is None or "UNSET" in repr(option.default)
        assert unset, f"{command} {option.name} restates {key}: {option.default!r}"
