"""The README stays short and the documentation site's generated reference stays complete."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import click
import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


@pytest.fixture(scope="module")
def docgen() -> Iterator[ModuleType]:
    sys.path.insert(0, str(DOCS))
    try:
        spec = importlib.util.spec_from_file_location("docgen", DOCS / "docgen.py")
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.path.remove(str(DOCS))


def test_readme_is_short() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").count("\n")
    assert lines <= 200, f"README.md has {lines} lines; move detail into docs/"


def test_readme_keeps_ci_test_command() -> None:
    assert "./run.sh test" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_pages_use_their_generators(docgen: ModuleType) -> None:
    for page, name in [
        ("reference/parameters.md", "parameters"),
        ("reference/outputs.md", "outputs"),
        ("reference/results.md", "results"),
    ]:
        text = (DOCS / page).read_text(encoding="utf-8")
        assert f"<!-- generated: {name} -->" in text, page
        assert name in docgen.GENERATORS


def test_every_parameter_is_documented(docgen: ModuleType) -> None:
    text = docgen.parameters(ROOT)
    keys = docgen.leaf_keys(ROOT)
    assert len(keys) > 100
    missing = [key for key in keys if f"| `{key}` |" not in text]
    assert not missing


def test_parameter_rows_carry_comments_and_paper_values(docgen: ModuleType) -> None:
    text = docgen.parameters(ROOT)
    row = next(line for line in text.splitlines() if line.startswith("| `ingest.source` |"))
    # end-of-line comment as the description, escaped pipes inside the cell
    assert "phantoms \\| isic-archive" in row
    split_seed = next(line for line in text.splitlines() if line.startswith("| `split.seed` |"))
    assert "| same |" in split_seed


def test_comments_are_read_from_the_yaml(docgen: ModuleType) -> None:
    lines = [
        "a:",
        "  # above b",
        "  b: 1        # own comment",
        "              # continued",
        "  # belongs to c",
        '  c: "x # not a comment"',
    ]
    assert docgen.comment_at(lines, 2, 2) == "above b own comment continued"
    assert docgen.comment_at(lines, 5, 2) == "belongs to c"


def test_every_dvc_output_is_listed(docgen: ModuleType) -> None:
    text = docgen.outputs(ROOT)
    outs = docgen.dvc_outs(ROOT)
    assert "data/ingested" in outs
    assert "metrics/fairness.json" in outs
    assert not [path for path in outs if f"`{path}`" not in text]
    for metrics in (ROOT / "metrics").glob("*.json"):
        assert f"`metrics/{metrics.name}`" in text


def test_results_come_from_the_metrics(docgen: ModuleType) -> None:
    text = docgen.results(ROOT)
    for heading in ("AUC V–VI minus I–II", "Classification", "Segmentation", "Split"):
        assert heading in text
    assert "phantoms" in text.lower()


def _commands(group: click.Command, prefix: str = "skinbench") -> Iterator[str]:
    yield prefix
    if isinstance(group, click.Group):
        for name, command in group.commands.items():
            yield from _commands(command, f"{prefix} {name}")


def test_every_command_is_in_the_cli_reference() -> None:
    pytest.importorskip("mkdocs_click")
    from mkdocs_click._extension import replace_command_docs

    from stages.support.cli import main

    page = (DOCS / "reference" / "cli.md").read_text(encoding="utf-8")
    options = dict(re.findall(r"^\s+:(\w+):\s*(.*)$", page, flags=re.MULTILINE))
    assert options["module"] == "stages.support.cli"
    assert options["command"] == "main"
    # mkdocs.yml enables attr_list, so headings carry the full command path
    text = "\n".join(replace_command_docs(has_attr_list=True, **options))
    titles = set(re.findall(r"^#+ (.+?)(?: \{.*\})?$", text, flags=re.MULTILINE))
    missing = [c for c in _commands(main) if c not in titles]
    assert not missing


@pytest.mark.slow
def test_site_builds_strictly(tmp_path: Path) -> None:
    pytest.importorskip("mkdocs")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    build = ["build", "--strict", "--quiet", "--site-dir", str(tmp_path)]
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", *build],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "reference" / "parameters" / "index.html").is_file()
