"""Multi-class audit of a predictions file with ISIC 2019 class columns."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from sklearn.metrics import balanced_accuracy_score, roc_auc_score

from benchmark.fairness.audit_multiclass import ISIC2019_CLASSES, multiclass_audit_file


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
    frame.to_csv(path, index=False)
    return frame


def test_per_group_parity_and_undefined_class(tmp_path: Path) -> None:
    frame = _file(tmp_path / "pred.csv")
    result = multiclass_audit_file(tmp_path / "pred.csv", ISIC2019_CLASSES)
    for g in ("II", "V"):
        rows = frame[frame["fst"] == g]
        y = rows["y_true"].map({c: i for i, c in enumerate(ISIC2019_CLASSES)}).to_numpy()
        prob = rows[list(ISIC2019_CLASSES)].to_numpy()
        expected = balanced_accuracy_score(y, prob.argmax(axis=1))
        assert abs(result["by_group"][g]["balanced_accuracy"] - expected) < 1e-9
    ii = frame[frame["fst"] == "II"]
    y_ii = ii["y_true"].map({c: i for i, c in enumerate(ISIC2019_CLASSES)}).to_numpy()
    macro = roc_auc_score(y_ii, ii[list(ISIC2019_CLASSES)].to_numpy(), multi_class="ovr")
    assert abs(result["by_group"]["II"]["macro_auc"] - macro) < 1e-6  # CSV round trip
    assert np.isnan(result["by_group"]["V"]["macro_auc"])
    assert {"group": "V", "metric": "sensitivity[DF]", "reason": "no images of class DF"} in (
        result["undefined"]
    )
    assert np.isnan(result["gaps"]["macro_auc"])  # undefined in V: no gap claimed


def test_scores_off_one_are_refused_naming_the_row(tmp_path: Path) -> None:
    from benchmark.fairness.audit import PredictionsError

    frame = _file(tmp_path / "pred.csv", drop_df_in_v=False)
    frame.loc[3, "MEL"] += 0.2
    frame.to_csv(tmp_path / "pred.csv", index=False)
    with pytest.raises(PredictionsError, match=r"pred\.csv, row 3.*sum to 1\.2"):
        multiclass_audit_file(tmp_path / "pred.csv", ISIC2019_CLASSES)
    fixed = multiclass_audit_file(tmp_path / "pred.csv", ISIC2019_CLASSES, renormalize=True)
    assert fixed["renormalized"] is True


def test_cli_detects_the_isic_header_and_writes_html(tmp_path: Path) -> None:
    from benchmark.cli import main

    _file(tmp_path / "pred.csv")
    page, out_json = tmp_path / "audit.html", tmp_path / "audit.json"
    args = ["audit", str(tmp_path / "pred.csv"), "--html", str(page), "--json", str(out_json)]
    out = CliRunner().invoke(main, args)
    assert out.exit_code == 0, out.output
    assert "Multi-class fairness audit" in out.output
    assert "balanced accuracy" in page.read_text()
    assert json.loads(out_json.read_text())["classes"] == list(ISIC2019_CLASSES)


def test_permutation_test_of_the_balanced_accuracy_gap(tmp_path: Path) -> None:
    frame = _file(tmp_path / "pred.csv", n=600, drop_df_in_v=False)
    dark = frame["fst"] == "V"
    scores = frame.loc[dark, list(ISIC2019_CLASSES)].to_numpy()
    frame.loc[dark, list(ISIC2019_CLASSES)] = scores[:, ::-1]  # V: the arg-max is mostly wrong
    frame.to_csv(tmp_path / "pred.csv", index=False)
    result = multiclass_audit_file(
        tmp_path / "pred.csv", ISIC2019_CLASSES, n_permutations=100, seed=0
    )
    ba = result["significance"]["by_metric"]["balanced_accuracy"]
    assert ba["observed"] > 0.3
    assert ba["p_value"] == pytest.approx(1 / 101)  # no permutation reaches it
    assert ba["p_holm"] == pytest.approx(2 / 101)
    assert multiclass_audit_file(tmp_path / "pred.csv", ISIC2019_CLASSES)["significance"] is None
