"""``skinbench audit`` on a predictions file, threshold from validation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from click.testing import CliRunner

from benchmark.cli import main


def _predictions(path: Path, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    groups = np.repeat(["I", "II", "V"], [60, 50, 10])
    y = (rng.random(120) < 0.3).astype(int)
    y[groups == "V"] = 0  # no melanocytic lesion on FST V: sensitivity is undefined there
    score = np.clip(0.35 * y + 0.65 * rng.random(120), 0, 1)
    frame = pd.DataFrame(
        {
            "image_id": [f"i{k}" for k in range(120)],
            "y_true": y,
            "y_score": score,
            "fst": groups,
            "source": "real",
        }
    )
    frame.to_csv(path, index=False)
    return path


def test_audit_writes_json_markdown_png_and_reports_undefined(tmp_path: Path) -> None:
    test, val = _predictions(tmp_path / "test.csv", 1), _predictions(tmp_path / "val.csv", 2)
    out = tmp_path / "audit"
    result = CliRunner().invoke(
        main,
        [
            "audit",
            str(test),
            "--threshold-from",
            str(val),
            "--bootstrap",
            "50",
            "--json",
            f"{out}.json",
            "--md",
            f"{out}.md",
            "--png",
            f"{out}.png",
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(Path(f"{out}.json").read_text())
    assert set(report) >= {
        "overall",
        "by_group",
        "worst_group",
        "gaps",
        "ci",
        "equalized_odds_difference",
        "demographic_parity_difference",
    }
    assert report["threshold_source"] == "validation:val.csv"
    assert report["by_group"]["V"]["sensitivity"] is None  # NaN with a reason, not 0
    assert {"group": "V", "metric": "sensitivity", "reason": "no positives"} in report["undefined"]
    assert report["worst_group"]["sensitivity"]["group"] in {"I", "II"}
    assert "numbers about dark skin are not reliable" in Path(f"{out}.md").read_text()
    assert Path(f"{out}.png").stat().st_size > 1000


def test_audit_refuses_a_threshold_and_a_validation_file_together(tmp_path: Path) -> None:
    test = _predictions(tmp_path / "test.csv", 1)
    result = CliRunner().invoke(
        main, ["audit", str(test), "--threshold", "0.5", "--threshold-from", str(test)]
    )
    assert result.exit_code != 0


def test_audit_json_equals_fairlearn_and_sklearn_per_group(tmp_path: Path) -> None:
    """Acceptance: every defined per-group value of the CLI's JSON within 1e-9."""
    from fairlearn.metrics import MetricFrame, selection_rate
    from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score

    test = _predictions(tmp_path / "test.csv", 5)
    CliRunner().invoke(
        main, ["audit", str(test), "--threshold", "0.4", "--json", str(tmp_path / "a.json")]
    )
    report = json.loads((tmp_path / "a.json").read_text())
    frame = pd.read_csv(test)
    y, pred = frame["y_true"], (frame["y_score"] >= 0.4).astype(int)
    reference = MetricFrame(
        metrics={
            "accuracy": accuracy_score,
            "selection_rate": selection_rate,
            "sensitivity": lambda t, p: recall_score(t, p, zero_division=0),
            "specificity": lambda t, p: recall_score(t, p, pos_label=0, zero_division=0),
            "precision": lambda t, p: precision_score(t, p, zero_division=0),
            "f1": lambda t, p: f1_score(t, p, zero_division=0),
        },
        y_true=y,
        y_pred=pred,
        sensitive_features=frame["fst"],
    ).by_group
    compared = 0
    for group, row in reference.iterrows():
        for metric, value in row.items():
            ours = report["by_group"][group][metric]
            if ours is None:  # undefined here; fairlearn reports 0 for it
                assert (group, metric) in {("V", "sensitivity"), ("V", "f1"), ("V", "precision")}
                assert value == 0
                continue
            assert abs(ours - value) < 1e-9, (group, metric)
            compared += 1
    assert compared >= 15


def _shifted(source: Path, path: Path, shift: float) -> Path:
    frame = pd.read_csv(source)
    frame["y_score"] = np.clip(frame["y_score"] + shift * frame["y_true"], 0, 1)
    frame = frame.sample(frac=1.0, random_state=0)  # another row order: joined on image_id
    frame.to_csv(path, index=False)
    return path


def test_compare_two_runs_on_the_same_images(tmp_path: Path) -> None:
    a = _predictions(tmp_path / "a_test.csv", 1)
    b = _shifted(a, tmp_path / "b_test.csv", 0.3)  # B scores every positive higher
    out = tmp_path / "compare"
    args = ["audit", "--compare", str(a), str(b), "--threshold", "0.5", "--bootstrap", "500"]
    result = CliRunner().invoke(main, [*args, "--json", f"{out}.json", "--md", f"{out}.md"])
    assert result.exit_code == 0, result.output
    got = json.loads(Path(f"{out}.json").read_text())
    sens = got["overall"]["sensitivity"]
    assert sens["delta"] > 0
    assert sens["p_value"] < 0.01
    assert got["compared_groups"] == ["I", "II"]  # V has no positive
    assert "no 'patient_id' column" in got["cluster_source"]
    text = Path(f"{out}.md").read_text()
    assert "Δ = B − A" in text
    assert "at least 5 positives" in text


def test_compare_refuses_files_with_different_images(tmp_path: Path) -> None:
    a = _predictions(tmp_path / "a_test.csv", 1)
    frame = pd.read_csv(a).iloc[1:]
    frame.to_csv(tmp_path / "b_test.csv", index=False)
    result = CliRunner().invoke(
        main, ["audit", "--compare", str(a), str(tmp_path / "b_test.csv"), "--threshold", "0.5"]
    )
    assert result.exit_code != 0
    assert "different images" in result.output
    both = CliRunner().invoke(main, ["audit", str(a), "--compare", str(a), str(a)])
    assert both.exit_code != 0
    assert "one of them" in both.output
