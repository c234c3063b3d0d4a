"""``skinbench verify`` on a committed tiny reproduction: passes, then fails on a planted change."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from stages.support.cli import main
from stages.support.verify import compare_values

pytestmark = pytest.mark.xdist_group("pipeline")


def _commit(root: Path, message: str) -> None:
    for cmd in (
        ["git", "add", "dvc.lock", "metrics"],
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", message],
    ):
        subprocess.run(cmd, cwd=root, check=True)  # fmt: skip


def test_values_are_compared_with_a_stated_tolerance() -> None:
    old = {"a": {"b": 1.0, "c": "x"}, "n": 3, "gone": 1}
    new = {"a": {"b": 1.0 + 5e-7, "c": "y"}, "n": 3, "extra": None}
    found = {d.metric: d for d in compare_values("s", old, new, rtol=1e-6, atol=1e-9)}
    assert found["a.b"].within  # 5e-7 <= 1e-9 + 1e-6 x 1
    assert not found["a.c"].within
    assert found["gone"].reproduced == "(missing)"
    assert found["extra"].committed == "(missing)"
    assert "n" not in found
    assert not compare_values("s", {"x": float("nan")}, {"x": float("nan")}, 0, 0)


@pytest.mark.slow
def test_verify_passes_on_the_commit_and_fails_on_a_planted_change(
    reproduced: tuple[Path, str], tmp_path: Path
) -> None:
    source, _ = reproduced
    root = tmp_path / "repo"
    shutil.copytree(source, root, symlinks=True)
    _commit(root, "the reproduction")
    ok = CliRunner().invoke(main, ["verify", "split", "--repo", str(root)])
    assert ok.exit_code == 0, ok.output
    assert "| split | yes |" in ok.output
    metrics = json.loads((root / "metrics/split.json").read_text())
    key = next(k for k, v in metrics.items() if isinstance(v, int) and not isinstance(v, bool))
    metrics[key] += 1
    (root / "metrics/split.json").write_text(json.dumps(metrics))
    _commit(root, "a planted change")
    bad = CliRunner().invoke(main, ["verify", "split", "--repo", str(root)])
    assert bad.exit_code == 1
    assert f"| split | {key} |" in bad.output
    assert f"beyond the tolerance: split: {key}" in bad.output
    (root / "params.yaml").write_text((root / "params.yaml").read_text() + "\n# edited\n")
    dirty = CliRunner().invoke(main, ["verify", "split", "--repo", str(root)])
    assert dirty.exit_code == 1
    assert "the working tree differs from HEAD in params.yaml" in dirty.output
