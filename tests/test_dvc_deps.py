"""Every DVC stage depends on exactly the project code it imports: nothing missing, nothing stale.

A stage's code deps are folders (``benchmark/core``, ``stages/support``, its branch) plus its
stage file, so one new import inside a folder needs no dvc.yaml edit; a new folder does.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
# Package markers with no behaviour: the version string and a docstring.
EXEMPT = {REPO / "benchmark/__init__.py", REPO / "stages/__init__.py"}
STAGES = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
CODE_ROOTS = ("benchmark", "stages")
MAX_CODE_DEPS = 8


def _module_file(name: str) -> Path | None:
    base = REPO / Path(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imported_names(path: Path, roots: tuple[str, ...] = CODE_ROOTS) -> set[str]:
    """Absolute module names ``path`` imports (anywhere in it) whose top package is in ``roots``."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return {n for n in found if n.split(".")[0] in roots}


def project_files(module: str) -> set[Path]:
    """Project source files a module loads, including package ``__init__`` files."""
    seen: set[Path] = set()
    todo = [module]
    while todo:
        name = todo.pop()
        parts = name.split(".")
        for k in range(1, len(parts) + 1):
            path = _module_file(".".join(parts[:k]))
            if path is not None and path not in seen:
                seen.add(path)
                todo.extend(imported_names(path))
    return seen


def code_deps(deps: list[str]) -> list[str]:
    """The deps that are project code (under ``benchmark/`` or ``stages/``)."""
    return [d for d in deps if d.split("/")[0] in CODE_ROOTS]


def _covered(path: Path, deps: list[str]) -> bool:
    rel = path.relative_to(REPO)
    return any(rel == Path(d) or Path(d) in rel.parents for d in deps)


def missing_deps(files: set[Path], deps: list[str]) -> list[str]:
    """Imported files no dep covers."""
    return sorted(str(p.relative_to(REPO)) for p in files - EXEMPT if not _covered(p, deps))


def stale_deps(files: set[Path], deps: list[str]) -> list[str]:
    """Code deps that cover no imported file (a module or folder no longer used)."""
    return [d for d in code_deps(deps) if not any(_covered(p, [d]) for p in files - EXEMPT)]


def _stage_files(stage: str) -> set[Path]:
    module = re.search(r"python -m (stages\.\w+)", STAGES[stage]["cmd"])
    assert module, f"{stage}: cmd does not run a stages module"
    return project_files(module.group(1))


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_stage_deps_cover_its_imports(stage: str) -> None:
    missing = missing_deps(_stage_files(stage), STAGES[stage]["deps"])
    assert not missing, f"dvc.yaml stage {stage} imports but does not depend on {missing}"


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_stage_deps_list_nothing_it_does_not_import(stage: str) -> None:
    stale = stale_deps(_stage_files(stage), STAGES[stage]["deps"])
    assert not stale, f"dvc.yaml stage {stage} depends on {stale} but imports none of it"


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_stage_code_deps_are_a_few_folders(stage: str) -> None:
    listed = code_deps(STAGES[stage]["deps"])
    assert len(listed) <= MAX_CODE_DEPS, f"{stage}: {len(listed)} code deps {listed}"


def test_a_missing_and_a_stale_dep_are_both_caught() -> None:
    files = project_files("stages.split")
    deps = code_deps(STAGES["split"]["deps"])
    without_core = [d for d in deps if d != "benchmark/core"]
    assert "benchmark/core/splits.py" in missing_deps(files, without_core)
    assert stale_deps(files, [*deps, "benchmark/segmentation"]) == ["benchmark/segmentation"]
    assert stale_deps(files, [*deps, "benchmark/ingest/run.py"]) == ["benchmark/ingest/run.py"]
    assert not missing_deps(files, deps)
    assert not stale_deps(files, deps)


def test_import_walk_finds_transitive_modules() -> None:
    files = {str(p.relative_to(REPO)) for p in project_files("stages.split")}
    assert "benchmark/core/splits.py" in files
    assert "benchmark/core/config/data.py" in files  # through benchmark.core.splits
    assert "benchmark/core/fitzpatrick.py" in files  # through benchmark.core.manifest
