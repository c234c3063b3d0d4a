"""Audits of predictions files: thresholds, bad cells named, several runs, written outputs."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from benchmark.core.records import to_json
from benchmark.fairness.audit import Columns, audit_files, write_audit
from benchmark.fairness.binary import binary_audit
from benchmark.fairness.inputs import AuditOptions, RunInput
from benchmark.fairness.render import audit_blocks, markdown_text
from benchmark.fairness.result import AuditResult
from benchmark.metrics.calibration import expected_calibration_error
from benchmark.metrics.equity import equity_scaled_auc
from benchmark.metrics.fairness import choose_threshold

# Validation hand case: Youden's J picks 0.35.
VAL_Y = [0, 0, 1, 1, 0, 1]
VAL_S = [0.1, 0.3, 0.35, 0.8, 0.7, 0.9]
FAST = AuditOptions(calibration_draws=50)


def _write(
    path: Path, y: list[int], s: list[float], fst: list[str | None], **extra: object
) -> Path:
    frame = pd.DataFrame({"image_id": [f"ISIC_{i:07d}" for i in range(len(y))], "y_true": y,
                          "y_score": s, "fst": fst, "source": "real", **extra})  # fmt: skip
    frame.to_csv(path, index=False)
    return path


def _predictions(tmp_path: Path, dark: int = 10, name: str = "test.csv", seed: int = 0) -> Path:
    """60 images of type II, ``dark`` of V (5 positives of them), 3 of VI (no positive)."""
    rng = np.random.default_rng(0)
    y = [int(v) for v in rng.integers(0, 2, 60)] + [1] * 5 + [0] * (dark - 5) + [0, 0, 0]
    scores = np.random.default_rng(seed).random(len(y))
    return _write(tmp_path / name, y, [round(float(v), 3) for v in scores],
                  ["II"] * 60 + ["V"] * dark + ["VI"] * 3)  # fmt: skip


def _text(result: AuditResult) -> str:
    return markdown_text(audit_blocks(result, "audit"), "Audit of the baseline")


def test_audit_files_equals_the_array_audit_with_the_default_threshold(tmp_path: Path) -> None:
    path = _predictions(tmp_path)
    got = audit_files([path], options=FAST)
    frame = pd.read_csv(path)
    direct = binary_audit(frame["y_true"], [RunInput("test.csv", frame["y_score"])],
                          groups=frame["fst"].astype(str), options=FAST)  # fmt: skip
    assert (got.runs[0].threshold, got.runs[0].threshold_source) == (0.5, "default 0.5")
    assert to_json(got.groups) == to_json(direct.groups)
    assert got.provenance.unit == "images"  # no patient column in this file


def test_given_threshold_and_threshold_from_validation(tmp_path: Path) -> None:
    test = _predictions(tmp_path)
    got = audit_files([test], threshold=0.7, options=FAST)
    assert (got.runs[0].threshold, got.runs[0].threshold_source) == (0.7, "given")
    val = _write(tmp_path / "val.csv", VAL_Y, VAL_S, ["I"] * 6)
    chosen = audit_files([test], thresholds_from=[val], options=FAST)
    assert (chosen.runs[0].threshold, chosen.runs[0].threshold_source) == (
        0.35, "validation:val.csv",
    )  # fmt: skip
    frame = pd.read_csv(test)
    assert choose_threshold(frame["y_true"], frame["y_score"]) != 0.35  # really from val
    with pytest.raises(ValueError, match="not both"):
        audit_files([test], threshold=0.4, thresholds_from=[val])
    with pytest.raises(ValueError, match="threshold_from is the audited file"):
        audit_files([test], thresholds_from=[tmp_path / "." / "test.csv"])


def test_missing_and_custom_columns(tmp_path: Path) -> None:
    path = _predictions(tmp_path)
    pd.read_csv(path).drop(columns="fst").to_csv(path, index=False)
    with pytest.raises(ValueError, match=r"test\.csv, column 'fst': missing column"):
        audit_files([path])
    frame = pd.read_csv(_predictions(tmp_path, name="b.csv"))
    frame.rename(columns={"fst": "ita_type", "y_score": "p"}).to_csv(path, index=False)
    got = audit_files([path], columns=Columns(group=("ita_type",), score="p"), options=FAST)
    assert [r.group for r in got.groups] == ["II", "V", "VI"]


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("y_score", "1.5", r"test\.csv, row 3, column 'y_score': score must be .* got '1\.5'"),
        ("y_score", "abc", r"test\.csv, row 3, column 'y_score': not a number: 'abc'"),
        ("y_true", "2", r"test\.csv, row 3, column 'y_true': label must be 0 or 1"),
        ("fst", None, r"test\.csv, row 3, column 'fst': group is missing"),
    ],
)
def test_bad_cell_names_file_row_and_column(
    tmp_path: Path, column: str, value: object, message: str
) -> None:
    path = _predictions(tmp_path)
    frame = pd.read_csv(path, dtype=str)
    frame.loc[3, column] = value
    frame.to_csv(path, index=False)
    with pytest.raises(ValueError, match=message):
        audit_files([path])


def test_bad_validation_file_and_missing_file_are_named(tmp_path: Path) -> None:
    val = _write(tmp_path / "val.csv", VAL_Y, [*VAL_S[:-1], 1.5], ["I"] * 6)
    with pytest.raises(ValueError, match=r"val\.csv, row 5, column 'y_score'"):
        audit_files([_predictions(tmp_path)], thresholds_from=[val])
    with pytest.raises(ValueError, match=r"nothing\.csv: predictions file not found"):
        audit_files([tmp_path / "nothing.csv"])


def test_decisions_column_replaces_the_threshold(tmp_path: Path) -> None:
    path = _predictions(tmp_path)
    frame = pd.read_csv(path)
    frame["read"] = np.where(frame["y_score"] > 0.6, "1", "0")
    frame.to_csv(path, index=False)
    got = audit_files([path], columns=Columns(pred="read"), options=FAST)
    assert got.runs[0].threshold_source == "decisions in column 'read'"
    assert math.isnan(got.runs[0].threshold)
    assert "no threshold applies" in _text(got)
    with pytest.raises(ValueError, match="thresholds do not apply"):
        audit_files([path], columns=Columns(pred="read"), threshold=0.5)
    frame.loc[7, "read"] = "malignant"
    frame.to_csv(path, index=False)
    with pytest.raises(ValueError, match=r"row 7, column 'read': decisions must be 0 or 1; "
                       r"found \['malignant'\]"):  # fmt: skip
        audit_files([path], columns=Columns(pred="read"))


def test_several_runs_give_the_mean_of_the_single_file_audits(tmp_path: Path) -> None:
    paths = [_predictions(tmp_path, name=f"seed{k}.csv", seed=k) for k in range(3)]
    # Rows in another order in one file: joined on image_id.
    pd.read_csv(paths[2]).iloc[::-1].to_csv(paths[2], index=False)
    several = audit_files(paths, threshold=0.5, options=FAST)
    singles = [audit_files([p], threshold=0.5, options=FAST) for p in paths]
    for metric in ("sensitivity", "auc", "accuracy"):
        for group in ("II", "V"):
            values = [s.group(group).metrics[metric].value for s in singles]
            assert several.group(group).metrics[metric].value == pytest.approx(np.mean(values))
    assert several.primary.difference.per_run == tuple(s.primary.difference.value for s in singles)
    assert [r.name for r in several.runs] == ["seed0.csv", "seed1.csv", "seed2.csv"]


def test_several_runs_must_hold_the_same_images(tmp_path: Path) -> None:
    a, b = (_predictions(tmp_path, name=n) for n in ("a.csv", "b.csv"))
    pd.read_csv(b).iloc[:-4].to_csv(b, index=False)
    with pytest.raises(ValueError, match=r"b\.csv, column 'image_id': holds other images than "
                       r"a\.csv: 4 of its image ids missing, 0 not in it"):  # fmt: skip
        audit_files([a, b])
    frame = pd.read_csv(_predictions(tmp_path, name="b.csv"))
    frame.loc[2, "fst"] = "IV"
    frame.to_csv(b, index=False)
    with pytest.raises(ValueError, match=r"b\.csv, column 'fst': image 'ISIC_0000002' has fst"):
        audit_files([a, b])
    with pytest.raises(ValueError, match="one --threshold-from per run"):
        audit_files([a, b], thresholds_from=[a])


def test_a_patient_in_two_groups_is_refused_unless_the_majority_rule_is_asked(
    tmp_path: Path,
) -> None:
    path = _predictions(tmp_path)
    frame = pd.read_csv(path)
    frame["patient_id"] = [f"p{i}" for i in range(len(frame))]
    frame.loc[60, "patient_id"] = "p59"  # row 59 is type II, row 60 type V
    frame.to_csv(path, index=False)
    with pytest.raises(ValueError, match=r"test\.csv, column 'fst': patient 'p59' has images in "
                       r"groups \['II', 'V'\]"):  # fmt: skip
        audit_files([path])
    got = audit_files([path], options=AuditOptions(patient_rule="majority",
                                                   calibration_draws=20))  # fmt: skip
    assert got.provenance.reassigned >= 1
    assert "majority rule" in _text(got)


def test_markdown_warns_about_few_dark_images_and_states_what_it_is(tmp_path: Path) -> None:
    result = audit_files([_predictions(tmp_path, dark=10)],
                         options=AuditOptions(n_bootstrap=20, calibration_draws=20))  # fmt: skip
    text = _text(result)
    assert text.startswith("# Audit of the baseline\n")
    assert "Only 13 test images in this audit are ITA type V–VI: numbers about dark skin" in text
    assert "Group V has 10 images (fewer than 30)" in text
    assert "Group VI has 3 images (fewer than 30)" in text
    assert "Group II has" not in text
    assert "| VI | sensitivity | no positives |" in text
    assert "images are treated as independent" in text
    assert "Clopper-Pearson" in text
    assert "raw percentile interval" in text
    assert "Headline (pre-specified): AUC V–VI minus I–II: -0.234 [" in text
    assert "the interval over patients" not in text  # images here, and it says so
    enough = _text(audit_files([_predictions(tmp_path, dark=50)], options=FAST))
    assert "dark skin" not in enough


def test_calibration_and_equity_match_their_metrics(tmp_path: Path) -> None:
    path = _predictions(tmp_path, dark=40)
    result = audit_files([path], options=FAST)
    frame = pd.read_csv(path, dtype={"fst": str})
    dark = frame[frame["fst"] == "V"]
    row = next(r for r in result.calibration.rows if r.group == "V")  # type: ignore[union-attr]
    want = expected_calibration_error(dark["y_true"].to_numpy(), dark["y_score"].to_numpy())
    assert row.ece_uniform == pytest.approx(want, abs=1e-12)
    compared = frame[frame["fst"].isin(result.compared)]
    es = equity_scaled_auc(compared["y_true"], compared["y_score"], groups=compared["fst"])
    overall = result.overall["auc"].value
    spread = sum(abs(overall - result.group(g).metrics["auc"].value) for g in result.compared)
    assert result.equity_scaled_auc.value == pytest.approx(overall / (1 + spread))
    assert es.support == len(result.compared)


def test_write_audit_json_markdown_png_html(tmp_path: Path) -> None:
    result = audit_files(
        [_predictions(tmp_path)], options=AuditOptions(n_bootstrap=10, calibration_draws=20)
    )
    out = tmp_path / "out"
    write_audit(result, title="Baseline", json_path=out / "a.json", md_path=out / "a.md",
                png_path=out / "a.png", html_path=out / "a.html")  # fmt: skip
    loaded = json.loads((out / "a.json").read_text())
    vi = next(g for g in loaded["groups"] if g["group"] == "VI")
    assert vi["metrics"]["sensitivity"]["value"] is None  # NaN -> null
    assert AuditResult.read(out / "a.json") == AuditResult.read(out / "a.json")
    text = (out / "a.md").read_text()
    assert "![Sensitivity, specificity and AUC per group with intervals](a.png)" in text
    page = (out / "a.html").read_text()
    assert page.count("data:image/png;base64,") == 2  # both figures inlined
    with Image.open(out / "a.png") as image:
        assert image.format == "PNG"
        assert image.width > 300
    assert sorted(p.name for p in out.iterdir()) == [
        "a.html", "a.json", "a.md", "a.png", "a.reliability.png",
    ]  # fmt: skip
