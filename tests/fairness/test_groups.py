"""Intersection cells: labels, the minimum support, unknown types; files in public spellings."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from benchmark.fairness.audit import Columns, audit_files
from benchmark.fairness.groups import audit_groups
from benchmark.fairness.inputs import AuditOptions
from benchmark.fairness.render import audit_blocks, markdown_text


def test_intersection_cells_and_their_flags() -> None:
    frame = pd.DataFrame(
        {"fst": ["V"] * 12 + ["II"] * 3 + ["uncertain"] * 12, "sex": ["female"] * 27}
    )
    groups = audit_groups(frame, ["fst", "sex"], "p.csv", min_support=10)
    assert groups.labels.iloc[0] == "V × female"
    assert groups.not_compared == {
        "II × female": "3 image(s), fewer than 10",
        "uncertain × female": "a part of the cell is unknown",
    }
    assert groups.labels.value_counts()["II × female"] == 3  # shown, never dropped
    with pytest.raises(ValueError, match="distinct"):
        audit_groups(frame, ["fst", "fst"], "p.csv")


def _file(path: Path) -> Path:
    rows = []
    for tone, sex, n in (("2", "female", 40), ("5", "female", 40), ("5", "male", 1)):
        for i in range(n):
            rows.append({"y_true": i % 2, "y_score": 0.8 if i % 2 else 0.3, "sex": sex,
                         "fitzpatrick_scale": tone})  # fmt: skip
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_audit_of_an_intersection_in_fitzpatrick17k_spelling(tmp_path: Path) -> None:
    path = _file(tmp_path / "pred.csv")
    result = audit_files(
        [path], columns=Columns(group=("fitzpatrick_scale", "sex")), threshold=0.5,
        options=AuditOptions(min_positives=5, calibration_draws=20),
    )  # fmt: skip
    assert {r.group for r in result.groups} == {"II × female", "V × female", "V × male"}
    assert result.compared == ("II × female", "V × female")
    assert result.group("V × male").counts.images == 1
    text = markdown_text(audit_blocks(result, "a"), "audit")
    assert "Cell V × male: 1 image(s), fewer than 10" in text
    assert "Groups: 'fitzpatrick_scale': Fitzpatrick17k" in text


def test_cli_takes_repeated_group_columns(tmp_path: Path) -> None:
    from stages.support.cli import main

    path = _file(tmp_path / "pred.csv")
    args = ["audit", str(path), "--group-col", "fitzpatrick_scale", "--group-col", "sex"]
    out = CliRunner().invoke(main, [*args, "--permutations", "0", "--min-positives", "5"])
    assert out.exit_code == 0, out.output
    assert "| V × male | 1 |" in out.output
