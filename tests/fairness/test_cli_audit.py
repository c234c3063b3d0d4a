"""``skinbench audit``: one file, several runs, decisions, Wilson intervals, two models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from click.testing import CliRunner

from benchmark.fairness.paired import PairedResult
from benchmark.fairness.result import AuditResult
from stages.support.cli import main


def _predictions(path: Path, seed: int, patients: bool = False) -> Path:
    rng = np.random.default_rng(seed)
    groups = np.repeat(["I", "II", "V"], [60, 50, 10])
    y = (np.random.default_rng(0).random(120) < 0.3).astype(int)
    y[groups == "V"] = 0  # no melanocytic lesion on FST V: sensitivity is undefined there
    score = np.clip(0.35 * y + 0.65 * rng.random(120), 0, 1)
    frame = pd.DataFrame({"image_id": [f"i{k}" for k in range(120)], "y_true": y,
                          "y_score": score, "fst": groups, "source": "real"})  # fmt: skip
    if patients:
        frame["patient_id"] = [f"p{k // 2}" for k in range(120)]
    frame.to_csv(path, index=False)
    return path


def _run(*args: str) -> str:
    out = CliRunner().invoke(main, ["audit", *args, "--permutations", "20"])
    assert out.exit_code == 0, out.output
    return out.output


def test_audit_writes_json_markdown_png_and_reports_undefined(tmp_path: Path) -> None:
    test, val = _predictions(tmp_path / "test.csv", 1), _predictions(tmp_path / "val.csv", 2)
    out = tmp_path / "audit"
    _run(str(test), "--threshold-from", str(val), "--bootstrap", "50", "--json", f"{out}.json",
         "--md", f"{out}.md", "--png", f"{out}.png")  # fmt: skip
    report = AuditResult.read(Path(f"{out}.json"))
    assert report.runs[0].threshold_source == "validation:val.csv"
    v = report.group("V").metrics["sensitivity"]
    assert (v.reason, v.defined) == ("no positives", False)  # NaN with a reason, not 0
    assert report.gap("sensitivity").worst_group in {"I", "II"}
    text = Path(f"{out}.md").read_text()
    assert "numbers about dark skin are not reliable" in text
    assert "Headline (pre-specified)" in text
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
    _run(str(test), "--threshold", "0.4", "--json", str(tmp_path / "a.json"))
    report = AuditResult.read(tmp_path / "a.json")
    frame = pd.read_csv(test)
    y, pred = frame["y_true"], (frame["y_score"] >= 0.4).astype(int)
    reference = MetricFrame(
        metrics={
            "accuracy": accuracy_score, "selection_rate": selection_rate,
            "sensitivity": lambda t, p: recall_score(t, p, zero_division=0),
            "specificity": lambda t, p: recall_score(t, p, pos_label=0, zero_division=0),
            "precision": lambda t, p: precision_score(t, p, zero_division=0),
            "f1": lambda t, p: f1_score(t, p, zero_division=0),
        },
        y_true=y, y_pred=pred, sensitive_features=frame["fst"],
    ).by_group  # fmt: skip
    compared = 0
    for group, row in reference.iterrows():
        for metric, value in row.items():
            ours = report.group(str(group)).metrics[str(metric)]
            if not ours.defined:  # undefined here; fairlearn reports 0 for it
                assert (group, metric) in {("V", "sensitivity"), ("V", "f1"), ("V", "precision")}
                assert value == 0
                continue
            assert abs(ours.value - value) < 1e-9, (group, metric)
            compared += 1
    assert compared >= 15


def test_several_runs_by_glob_and_wilson_exact_columns(tmp_path: Path) -> None:
    for k in range(3):
        _predictions(tmp_path / f"run{k}_test.csv", k, patients=True)
    out = tmp_path / "seeds.json"
    text = _run(str(tmp_path / "run*_test.csv"), "--bootstrap", "100", "--interval", "wilson",
                "--json", str(out))  # fmt: skip
    report = AuditResult.read(out)
    assert [r.name for r in report.runs] == ["run0_test.csv", "run1_test.csv", "run2_test.csv"]
    assert len(report.overall["auc"].per_run) == 3
    assert "3 runs of one model, averaged" in text
    assert "resamples of runs (seeds), then patients within groups" in text
    single = tmp_path / "single.json"
    _run(str(tmp_path / "run0_test.csv"), "--interval", "wilson", "--json", str(single))
    exact = AuditResult.read(single).group("I").exact["sensitivity"]
    from statsmodels.stats.proportion import proportion_confint

    want = proportion_confint(exact.successes, exact.trials, method="wilson")
    assert abs(exact.low - want[0]) < 1e-9
    assert abs(exact.high - want[1]) < 1e-9


def test_decisions_column_from_the_cli(tmp_path: Path) -> None:
    path = _predictions(tmp_path / "test.csv", 1)
    frame = pd.read_csv(path)
    frame["says"] = (frame["y_score"] > 0.5).astype(int)
    frame.to_csv(path, index=False)
    text = _run(str(path), "--pred-col", "says")
    assert "decisions in column 'says': no threshold applies" in text
    both = CliRunner().invoke(main, ["audit", str(path), "--pred-col", "says", "--threshold",
                                     "0.3"])  # fmt: skip
    assert both.exit_code != 0
    assert "thresholds do not apply" in both.output


def _shifted(source: Path, path: Path, shift: float) -> Path:
    frame = pd.read_csv(source)
    frame["y_score"] = np.clip(frame["y_score"] + shift * frame["y_true"], 0, 1)
    frame = frame.sample(frac=1.0, random_state=0)  # another row order: joined on image_id
    frame.to_csv(path, index=False)
    return path


def test_compare_two_models_on_the_same_images(tmp_path: Path) -> None:
    a = _predictions(tmp_path / "a_test.csv", 1)
    b = _shifted(a, tmp_path / "b_test.csv", 0.3)  # B scores every positive higher
    out = tmp_path / "compare"
    _run("--compare", str(a), str(b), "--threshold", "0.5", "--bootstrap", "300",
         "--json", f"{out}.json", "--md", f"{out}.md")  # fmt: skip
    got = PairedResult.read(Path(f"{out}.json"))
    sens = got.row("overall_sensitivity")
    assert sens.delta.value > 0
    assert sens.delta.interval.low > 0
    assert sens.test is not None
    assert sens.test.p_value < 0.1
    assert got.compared == ("I", "II")  # V has no positive
    assert got.provenance.unit == "images"
    text = Path(f"{out}.md").read_text()
    assert "Δ = B − A" in text
    assert "5 images with a positive image" in text


def test_compare_refuses_files_with_different_images(tmp_path: Path) -> None:
    a = _predictions(tmp_path / "a_test.csv", 1)
    pd.read_csv(a).iloc[1:].to_csv(tmp_path / "b_test.csv", index=False)
    result = CliRunner().invoke(main, ["audit", "--compare", str(a), str(tmp_path / "b_test.csv")])
    assert result.exit_code != 0
    assert "b_test.csv, column 'image_id': holds other images than a_test.csv" in result.output
    both = CliRunner().invoke(main, ["audit", str(a), "--compare", str(a), str(a)])
    assert both.exit_code != 0
    assert "one or more files" in both.output
