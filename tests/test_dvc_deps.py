"""Every DVC stage depends on every project module it imports (directly or transitively)."""

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


def _module_file(name: str) -> Path | None:
    base = REPO / Path(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return {n for n in found if n.split(".")[0] in ("benchmark", "stages")}


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
                todo.extend(_imports(path))
    return seen


def _covered(path: Path, deps: list[str]) -> bool:
    rel = path.relative_to(REPO)
    return any(rel == Path(d) or Path(d) in rel.parents for d in deps)


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_stage_deps_cover_its_imports(stage: str) -> None:
    spec = STAGES[stage]
    module = re.search(r"python -m (stages\.\w+)", spec["cmd"])
    assert module, f"{stage}: cmd does not run a stages module"
    files = project_files(module.group(1))
    missing = sorted(
        str(p.relative_to(REPO)) for p in files - EXEMPT if not _covered(p, spec["deps"])
    )
    assert not missing, f"dvc.yaml stage {stage} imports but does not depend on {missing}"


def test_import_walk_finds_transitive_modules() -> None:
    files = {str(p.relative_to(REPO)) for p in project_files("stages.split")}
    assert "benchmark/splits.py" in files
    assert "benchmark/config/data.py" in files  # through benchmark.splits
    assert "benchmark/skintone/fitzpatrick.py" in files  # through benchmark.manifest
