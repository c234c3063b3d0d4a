from __future__ import annotations

import yaml

from tests.conftest import REPO


def test_mlproject_has_main_and_one_entry_point_per_dvc_stage() -> None:
    entries = yaml.safe_load((REPO / "MLproject").read_text())["entry_points"]
    stages = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
    assert entries.pop("main")["command"] == "dvc repro"
    assert entries == {s: {"command": f"dvc repro --single-item {s}"} for s in stages}
