from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from benchmark.fairness.tone_gaps import tone_gaps, verdict, write_tone_gaps


def _write(folder: Path, run: str, scores: list[float]) -> None:
    fst = ["I", "II", "I", "V", "VI", "V", "III", "IV"]
    pd.DataFrame(
        {
            "image_id": [f"i{k}" for k in range(8)],
            "patient_id": [f"p{k}" for k in range(8)],
            "y_true": [1, 1, 0, 1, 1, 0, 1, 0],
            "y_score": scores,
            "fst": fst,
        }
    ).to_csv(folder / f"{run}_test.csv", index=False)


def test_each_run_keeps_its_threshold_and_seeds_are_averaged(tmp_path: Path) -> None:
    # seed 1: I-II 2/2, V-VI 1/2; seed 2 (higher threshold): I-II 1/2, V-VI 0/2
    _write(tmp_path, "baseline_seed1", [0.9, 0.8, 0.1, 0.7, 0.2, 0.1, 0.6, 0.3])
    _write(tmp_path, "baseline_seed2", [0.9, 0.5, 0.1, 0.7, 0.2, 0.1, 0.9, 0.3])
    audits = {
        "baseline_seed1": {"threshold": 0.5, "overall": {"auc": 0.9}},
        "baseline_seed2": {"threshold": 0.8, "overall": {"auc": 0.7}},
    }
    out = tone_gaps(tmp_path, audits, n_bootstrap=100, seed=0)["baseline"]
    assert out["seeds"] == [1, 2]
    assert out["groups"]["I-II"]["per_run"] == [1.0, 0.5]
    assert out["groups"]["V-VI"]["per_run"] == [0.5, 0.0]
    assert out["gap"]["value"] == pytest.approx(-0.5)
    assert out["auc"]["value"] == pytest.approx(0.8)
    assert out["images"] == {"I-II": 3, "III-IV": 2, "V-VI": 3}
    assert "includes 0" in verdict("baseline", out["gap"]) or "excludes 0" in verdict(
        "baseline", out["gap"]
    )
    paths = write_tone_gaps({"baseline": out}, tmp_path)
    assert json.loads(paths[0].read_text())["baseline"]["gap"]["value"] == pytest.approx(-0.5)
    assert "Baseline" in paths[1].read_text()
    assert paths[2].stat().st_size > 1000


def test_the_verdict_claims_a_gap_only_when_its_interval_excludes_zero() -> None:
    gap = {"value": -0.3, "boot": [-0.5, -0.1], "seeds": [-0.4, -0.2], "reason": None}
    assert "excludes 0: V–VI sensitivity is lower" in verdict("baseline", gap)
    gap = {"value": -0.1, "boot": [-0.3, 0.1], "seeds": [-0.2, 0.05], "reason": None}
    text = verdict("reweight", gap)
    assert "no gap can be claimed" in text
    assert "seeds disagree" in text
    assert verdict("augmented", {"reason": "V-VI: no positive"}).endswith("(V-VI: no positive).")
