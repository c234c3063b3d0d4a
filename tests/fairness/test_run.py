"""The fairness stage's library: runs the classify guard failed leave every mean."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmark.core.config.downstream import FairnessConfig
from benchmark.core.run_checks import RunCheck, RunChecks
from benchmark.fairness.run import NoRunError, audit_runs, passing_runs
from tests.support.config import default

CFG = default(FairnessConfig, bootstrap=50, permutations=20, compare=(("baseline", "reweight"),))


def _predictions(folder: Path, runs: list[str], failed: dict[str, str]) -> Path:
    rng = np.random.default_rng(0)
    n = 120
    fst = np.tile(["I", "II", "III", "IV", "V", "VI"], n // 6)
    y = np.tile([0, 1], n // 2)
    folder.mkdir()
    for run in runs:
        for split in ("val", "test"):
            score = np.clip(0.5 + 0.3 * (y - 0.5) + 0.3 * (rng.random(n) - 0.5), 0, 1)
            pd.DataFrame({
                "image_id": [f"I{i}" for i in range(n)], "patient_id": [f"P{i}" for i in range(n)],
                "y_true": y, "y_score": score, "fst": fst, "fst_robust": fst, "fst_paper": fst,
                "source": "real", "dataset": "phantoms",
            }).to_csv(folder / f"{run}_{split}.csv", index=False)  # fmt: skip
    checks = [RunCheck(r, 0.8, 0.5, failed.get(r, "")) for r in runs]
    RunChecks(tuple(checks)).write(folder)
    return folder


def test_failed_runs_are_left_out_and_named(tmp_path: Path) -> None:
    runs = ["baseline_seed1", "baseline_seed2", "reweight_seed1", "reweight_seed2"]
    failed = {"baseline_seed2": "constant test scores"}
    folder = _predictions(tmp_path / "pred", runs, failed)
    variants, notes = passing_runs(folder)
    assert variants == {"baseline": {1: "baseline_seed1"},
                        "reweight": {1: "reweight_seed1", 2: "reweight_seed2"}}  # fmt: skip
    assert notes == ("Baseline: 1 of 2 seeds failed: constant test scores (seed 2).",)
    metrics = audit_runs(folder, CFG, tmp_path / "out")
    assert set(metrics.runs) == {"baseline_seed1", "reweight_seed1", "reweight_seed2"}
    assert not (tmp_path / "out" / "baseline_seed2.json").exists()
    assert (
        "1 of 2 seeds failed: constant test scores (seed 2)"
        in (tmp_path / "out" / "tone_gaps.md").read_text()
    )


def test_a_variant_with_every_run_failed_is_not_audited_and_none_left_raises(
    tmp_path: Path,
) -> None:
    runs = ["baseline_seed1", "reweight_seed1"]
    folder = _predictions(tmp_path / "pred", runs, {"reweight_seed1": "constant test scores"})
    variants, notes = passing_runs(folder)
    assert list(variants) == ["baseline"]
    assert notes[0].endswith("(no run left: not audited).")
    RunChecks((RunCheck("baseline_seed1", 0.5, 0.5, "validation AUC 0.500 <= min_val_auc 0.55"),
               RunCheck("reweight_seed1", 0.5, 0.5, "x"))).write(folder)  # fmt: skip
    with pytest.raises(NoRunError, match="every classifier run failed"):
        audit_runs(folder, CFG, tmp_path / "out")
