"""The layers of the tree: the library never tracks or reads params; core imports no branch."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_dvc_deps import imported_names

REPO = Path(__file__).resolve().parents[1]
LIBRARY = sorted((REPO / "benchmark").rglob("*.py"))
# Tracking belongs to stages/, params.yaml to stages/support/params.py.
FORBIDDEN = ("mlflow", "yaml", "ruamel")


def _rel(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def forbidden_imports(path: Path) -> set[str]:
    """Third-party modules of :data:`FORBIDDEN` that ``path`` imports, anywhere in it."""
    return imported_names(path, FORBIDDEN)


@pytest.mark.parametrize("path", LIBRARY, ids=_rel)
def test_the_library_imports_no_tracker_and_no_yaml(path: Path) -> None:
    assert not forbidden_imports(path), f"{_rel(path)} imports {forbidden_imports(path)}"


@pytest.mark.parametrize("path", sorted((REPO / "benchmark/core").rglob("*.py")), ids=_rel)
def test_core_imports_only_core(path: Path) -> None:
    outside = {
        n for n in imported_names(path, ("benchmark",)) if not n.startswith("benchmark.core")
    }
    assert not outside, f"{_rel(path)} (core) imports branch modules {sorted(outside)}"


def test_the_check_sees_a_lazy_import(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text("def f():\n    import mlflow.tracking\n    from ruamel.yaml import YAML\n")
    assert forbidden_imports(source) == {"mlflow.tracking", "ruamel.yaml", "ruamel.yaml.YAML"}
