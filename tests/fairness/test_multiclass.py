"""Multi-class audit of a predictions file with ISIC 2019 class columns, typed like the binary."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from sklearn.metrics import balanced_accuracy_score, roc_auc_score

from benchmark.fairness.files import PredictionsError
from benchmark.fairness.inputs import AuditOptions
from benchmark.fairness.multiclass import ISIC2019_CLASSES, multiclass_audit_file
from benchmark.fairness.result import MulticlassAuditResult

INDEX = {c: i for i, c in enumerate(ISIC2019_CLASSES)}
FAST = AuditOptions(calibration_draws=50)


def _file(path: Path, n: int = 400, drop_df_in_v: bool = True) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 8, n)
    groups = rng.choice(["II", "V"], n)
    if drop_df_in_v:  # no dermatofibroma on dark skin: its per-class metrics are undefined
        y[(groups == "V") & (y == 5)] = 1
    logits = rng.normal(0, 1, (n, 8)) + 2.0 * np.eye(8)[y]
    prob = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    frame = pd.DataFrame(prob, columns=list(ISIC2019_CLASSES))
    frame.insert(0, "y_true", [ISIC2019_CLASSES[k] for k in y])
    frame["fst"] = groups
    frame["patient_id"] = [f"p{i // 2}" if g == "II" else f"q{i}" for i, g in enumerate(groups)]
    frame.to_csv(path, index=False)
    return frame


def _row(result: MulticlassAuditResult, group: str) -> object:
    return next(r for r in result.groups if r.group == group)


def test_per_group_parity_and_undefined_class(tmp_path: Path) -> None:
    frame = _file(tmp_path / "pred.csv")
    result = multiclass_audit_file(tmp_path / "pred.csv", ISIC2019_CLASSES, options=FAST)
    for g in ("II", "V"):
        rows = frame[frame["fst"] == g]
        y = rows["y_true"].map(INDEX).to_numpy()
        expected = balanced_accuracy_score(y, rows[list(ISIC2019_CLASSES)].to_numpy().argmax(1))
        assert abs(_row(result, g).balanced_accuracy.value - expected) < 1e-9  # type: ignore[attr-defined]
    ii = frame[frame["fst"] == "II"]
    macro = roc_auc_score(ii["y_true"].map(INDEX), ii[list(ISIC2019_CLASSES)].to_numpy(),
                          multi_class="ovr")  # fmt: skip
    assert abs(_row(result, "II").macro_auc.value - macro) < 1e-6  # type: ignore[attr-defined]
    v = _row(result, "V")
    assert math.isnan(v.macro_auc.value)  # type: ignore[attr-defined]
    assert v.macro_auc.reason == "AUC undefined for class(es) ['DF']"  # type: ignore[attr-defined]
    assert math.isnan(v.per_class["DF"].sensitivity)  # type: ignore[attr-defined]
    gap = next(g for g in result.gaps if g.metric == "macro_auc")
    assert not gap.value.defined  # undefined in V: no gap claimed
    assert result.provenance.unit == "patients"
    assert result.overall.counts.patients == len(set(frame["patient_id"]))


def test_given_decisions_replace_the_arg_max_and_bad_ones_are_named(tmp_path: Path) -> None:
    frame = _file(tmp_path / "pred.csv", drop_df_in_v=False)
    frame["read"] = frame["y_true"]  # a reader who is always right
    frame.to_csv(tmp_path / "pred.csv", index=False)
    result = multiclass_audit_file(tmp_path / "pred.csv", ISIC2019_CLASSES, pred_col="read",
                                   options=FAST)  # fmt: skip
    assert _row(result, "II").balanced_accuracy.value == 1.0  # type: ignore[attr-defined]
    assert result.run.threshold_source == "decisions in column 'read'"
    frame.loc[[4, 9], "read"] = ["melanoma", "benign"]
    frame.to_csv(tmp_path / "pred.csv", index=False)
    with pytest.raises(PredictionsError, match=r"row 4, column 'read': decision\(s\) "
                       r"\['benign', 'melanoma'\] are none of the classes"):  # fmt: skip
        multiclass_audit_file(tmp_path / "pred.csv", ISIC2019_CLASSES, pred_col="read")


def test_scores_off_one_are_refused_naming_the_row(tmp_path: Path) -> None:
    frame = _file(tmp_path / "pred.csv", drop_df_in_v=False)
    frame.loc[3, "MEL"] += 0.2
    frame.to_csv(tmp_path / "pred.csv", index=False)
    with pytest.raises(PredictionsError, match=r"pred\.csv, row 3.*sum to 1\.2"):
        multiclass_audit_file(tmp_path / "pred.csv", ISIC2019_CLASSES)
    fixed = multiclass_audit_file(tmp_path / "pred.csv", ISIC2019_CLASSES, renormalize=True,
                                  options=FAST)  # fmt: skip
    assert fixed.renormalized is True


def test_cli_detects_the_isic_header_and_writes_html_and_typed_json(tmp_path: Path) -> None:
    from stages.support.cli import main

    _file(tmp_path / "pred.csv")
    page, out_json = tmp_path / "audit.html", tmp_path / "audit.json"
    args = ["audit", str(tmp_path / "pred.csv"), "--html", str(page), "--json", str(out_json),
            "--permutations", "20"]  # fmt: skip
    out = CliRunner().invoke(main, args)
    assert out.exit_code == 0, out.output
    assert "Multi-class fairness audit" in out.output
    assert "balanced accuracy" in page.read_text()
    assert "data:image/png;base64," in page.read_text()
    assert MulticlassAuditResult.read(out_json).classes == ISIC2019_CLASSES


def test_permutation_tests_of_the_gap_and_the_contrast_move_patients(tmp_path: Path) -> None:
    frame = _file(tmp_path / "pred.csv", n=600, drop_df_in_v=False)
    dark = frame["fst"] == "V"
    scores = frame.loc[dark, list(ISIC2019_CLASSES)].to_numpy()
    frame.loc[dark, list(ISIC2019_CLASSES)] = scores[:, ::-1]  # V: the arg-max is mostly wrong
    frame["fst"] = np.where(dark, "V", "I")
    frame.to_csv(tmp_path / "pred.csv", index=False)
    options = AuditOptions(n_permutations=40, seed=0, calibration_draws=50)
    result = multiclass_audit_file(tmp_path / "pred.csv", ISIC2019_CLASSES, options=options)
    ba = next(g for g in result.gaps if g.metric == "balanced_accuracy")
    assert ba.value.value > 0.3
    assert ba.test is not None
    assert ba.test.p_value == pytest.approx(1 / 41)
    assert ba.test.p_holm == pytest.approx(2 / 41)
    assert ba.test.unit == "patients"
    contrast = result.contrasts[0]
    assert contrast.difference.value < -0.3  # macro AUC V-VI minus I-II
    assert contrast.test is not None
    assert contrast.test.p_value == pytest.approx(1 / 41)
    none = multiclass_audit_file(tmp_path / "pred.csv", ISIC2019_CLASSES, options=FAST)
    assert all(g.test is None for g in none.gaps)
