"""The file-level audit carries calibration, the equity-scaled AUC and gap tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from benchmark.fairness.audit import audit_file, audit_markdown
from benchmark.metrics.calibration import expected_calibration_error
from benchmark.metrics.equity import equity_scaled_auc


def _predictions(path: Path, sens_dark: float = 0.5) -> Path:
    # 120 positives and 120 negatives per group; V-VI positives detected less often.
    rng = np.random.default_rng(0)
    rows = []
    for group, sens in (("II", 0.9), ("V", sens_dark)):
        for label in (1, 0):
            hit = rng.random(120) < (sens if label else 0.2)
            score = np.where(hit, rng.uniform(0.5, 1, 120), rng.uniform(0, 0.5, 120))
            rows += [
                {"y_true": label, "y_score": s, "fst": group, "patient_id": f"{group}{label}{i}"}
                for i, s in enumerate(score)
            ]
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_audit_file_adds_calibration_equity_and_significance(tmp_path: Path) -> None:
    path = _predictions(tmp_path / "pred.csv")
    result = audit_file(path, threshold=0.5, n_permutations=1000, min_positives=5)
    frame = pd.read_csv(path, dtype={"fst": str})
    dark = frame[frame["fst"] == "V"]
    expected = expected_calibration_error(dark["y_true"].to_numpy(), dark["y_score"].to_numpy())
    cal = result["calibration"]["by_group"]["V"]
    assert cal["ece_uniform"] == pytest.approx(expected, abs=1e-12)
    es = equity_scaled_auc(frame["y_true"], frame["y_score"], groups=frame["fst"]).value
    assert result["equity_scaled"]["auc"] == pytest.approx(es, abs=1e-12)
    sens = result["significance"]["by_metric"]["sensitivity"]
    assert sens["observed"] == pytest.approx(0.4, abs=0.12)
    assert sens["p_holm"] < 0.01
    text = audit_markdown(result, "audit")
    assert "## Calibration by group" in text
    assert "equal-mass" in text
    assert "1000 permutations (seed 0)" in text
    assert "Holm" in text


def test_cli_reports_the_permutation_test(tmp_path: Path) -> None:
    from benchmark.cli import main

    path = _predictions(tmp_path / "pred.csv", sens_dark=0.9)
    out = CliRunner().invoke(main, ["audit", str(path), "--permutations", "50"])
    assert out.exit_code == 0, out.output
    assert "50 permutations" in out.output
    assert "## Equity-scaled AUC" in out.output
    none = CliRunner().invoke(main, ["audit", str(path), "--permutations", "0"])
    assert "permutation test" not in none.output
