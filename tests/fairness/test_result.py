"""The audit's typed results read back what they wrote; a wrong file is named with its key."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from benchmark.core.io import FileContentError
from benchmark.core.records import to_json
from benchmark.fairness.binary import binary_audit
from benchmark.fairness.inputs import AuditOptions, RunInput
from benchmark.fairness.paired import PairedResult, paired_comparison
from benchmark.fairness.result import AuditResult


def _audit() -> tuple[AuditResult, PairedResult]:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    groups = np.repeat(["I", "II", "V", "VI", "uncertain"], 40)
    s = np.clip(0.3 * y + 0.7 * rng.random(200), 0, 1)
    s[groups == "uncertain"] = 0.5
    options = AuditOptions(n_bootstrap=30, n_permutations=20, calibration_draws=20)
    runs = [RunInput("a.csv", s, threshold=0.4)]
    audit = binary_audit(y, runs, groups=groups, options=options)
    paired = paired_comparison(y, runs, [RunInput("b.csv", s[::-1].copy())], groups=groups,
                               options=options)  # fmt: skip
    return audit, paired


def test_audit_and_paired_results_round_trip_through_their_json(tmp_path: Path) -> None:
    audit, paired = _audit()
    audit.write(tmp_path / "a.json")
    paired.write(tmp_path / "p.json")
    back = AuditResult.read(tmp_path / "a.json")
    assert to_json(back) == to_json(audit)
    assert back.group("uncertain").metrics["auc"].interval is not None
    assert to_json(PairedResult.read(tmp_path / "p.json")) == to_json(paired)
    raw = json.loads((tmp_path / "a.json").read_text())
    assert raw["overall"]["auc"]["interval"]["resamples"] == 30


def test_a_file_of_another_shape_is_refused_naming_the_key(tmp_path: Path) -> None:
    audit, _ = _audit()
    audit.write(tmp_path / "a.json")
    raw = json.loads((tmp_path / "a.json").read_text())
    raw["settings"]["level"] = "high"
    (tmp_path / "b.json").write_text(json.dumps(raw))
    with pytest.raises(FileContentError, match=r"b\.json: not a AuditResult: settings\.level: "
                       "expected float"):  # fmt: skip
        AuditResult.read(tmp_path / "b.json")
    del raw["settings"]
    (tmp_path / "c.json").write_text(json.dumps(raw))
    with pytest.raises(FileContentError, match="settings: missing"):
        AuditResult.read(tmp_path / "c.json")
