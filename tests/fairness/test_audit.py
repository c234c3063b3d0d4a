from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from benchmark.fairness.audit import audit_file, audit_markdown, write_audit
from benchmark.fairness.figure import _bar, audit_figure
from benchmark.metrics.fairness import audit, choose_threshold

# Validation hand case of test_fairness: Youden's J picks 0.35.
VAL_Y = [0, 0, 1, 1, 0, 1]
VAL_S = [0.1, 0.3, 0.35, 0.8, 0.7, 0.9]


def _write(path: Path, y: list[int], s: list[float], fst: list[str | None]) -> Path:
    frame = pd.DataFrame(
        {
            "image_id": [f"ISIC_{i:07d}" for i in range(len(y))],
            "y_true": y,
            "y_score": s,
            "fst": fst,
            "source": "real",
        }
    )
    frame.to_csv(path, index=False)
    return path


def _predictions(tmp_path: Path, dark: int = 10, name: str = "test.csv") -> Path:
    """60 images of type II, ``dark`` of V (5 positives of them), 3 of VI (no positive)."""
    rng = np.random.default_rng(0)
    y = [int(v) for v in rng.integers(0, 2, 60)] + [1] * 5 + [0] * (dark - 5) + [0, 0, 0]
    s = [round(float(v), 3) for v in rng.random(len(y))]
    fst = ["II"] * 60 + ["V"] * dark + ["VI"] * 3
    return _write(tmp_path / name, y, s, fst)


def test_audit_file_equals_audit_with_default_threshold(tmp_path: Path) -> None:
    path = _predictions(tmp_path)
    got = audit_file(path)
    frame = pd.read_csv(path)
    direct = audit(frame["y_true"], frame["y_score"], groups=frame["fst"].astype(str))
    assert got["threshold_source"] == "default 0.5"
    assert got["predictions"] == "test.csv"
    assert got["threshold"] == 0.5
    assert json.dumps(got["by_group"]) == json.dumps(direct["by_group"])
    assert got["equalized_odds_difference"] == direct["equalized_odds_difference"]


def test_given_threshold(tmp_path: Path) -> None:
    got = audit_file(_predictions(tmp_path), threshold=0.7)
    assert (got["threshold"], got["threshold_source"]) == (0.7, "given")


def test_threshold_from_validation_file(tmp_path: Path) -> None:
    val = _write(tmp_path / "val.csv", VAL_Y, VAL_S, ["I"] * 6)
    test = _predictions(tmp_path)
    got = audit_file(test, threshold_from=val)
    assert got["threshold"] == 0.35
    assert got["threshold_source"] == "validation:val.csv"
    frame = pd.read_csv(test)
    # The test file's own optimum differs: the threshold really came from validation.
    assert choose_threshold(frame["y_true"], frame["y_score"]) != 0.35


def test_threshold_and_threshold_from_together_are_refused(tmp_path: Path) -> None:
    val = _write(tmp_path / "val.csv", VAL_Y, VAL_S, ["I"] * 6)
    with pytest.raises(ValueError, match="not both"):
        audit_file(_predictions(tmp_path), threshold=0.4, threshold_from=val)


def test_threshold_from_the_audited_file_is_refused(tmp_path: Path) -> None:
    path = _predictions(tmp_path)
    with pytest.raises(ValueError, match="threshold_from is the audited file"):
        audit_file(path, threshold_from=tmp_path / "." / "test.csv")


def test_missing_column_names_file_and_column(tmp_path: Path) -> None:
    path = _predictions(tmp_path)
    pd.read_csv(path).drop(columns="fst").to_csv(path, index=False)
    with pytest.raises(ValueError, match=r"test\.csv, column 'fst': missing column"):
        audit_file(path)


def test_custom_column_names(tmp_path: Path) -> None:
    path = _predictions(tmp_path)
    frame = pd.read_csv(path).rename(columns={"fst": "ita_type", "y_score": "p"})
    frame.to_csv(path, index=False)
    got = audit_file(path, group_col="ita_type", score_col="p")
    assert list(got["by_group"]) == ["II", "V", "VI"]
    with pytest.raises(ValueError, match=r"missing column\(s\) \['y_score', 'fst'\]"):
        audit_file(path)


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("y_score", "1.5", r"test\.csv, row 3, column 'y_score': score must be .* got '1\.5'"),
        ("y_score", "abc", r"test\.csv, row 3, column 'y_score': not a number: 'abc'"),
        ("y_true", "2", r"test\.csv, row 3, column 'y_true': label must be 0 or 1"),
        ("fst", None, r"test\.csv, row 3, column 'fst': group is missing"),
        ("fst", "NaN", r"test\.csv, row 3, column 'fst': group is missing"),
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
        audit_file(path)


def test_bad_validation_file_is_named(tmp_path: Path) -> None:
    val = _write(tmp_path / "val.csv", VAL_Y, [*VAL_S[:-1], 1.5], ["I"] * 6)
    with pytest.raises(ValueError, match=r"val\.csv, row 5, column 'y_score'"):
        audit_file(_predictions(tmp_path), threshold_from=val)


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"nothing\.csv: predictions file not found"):
        audit_file(tmp_path / "nothing.csv")


def test_markdown_warns_about_few_dark_images(tmp_path: Path) -> None:
    result = audit_file(_predictions(tmp_path, dark=10), n_bootstrap=20)
    text = audit_markdown(result, "Audit of the baseline")
    assert text.startswith("# Audit of the baseline\n")
    # V has 10 images and VI 3.
    assert (
        "Only 13 test images in this audit are FST V–VI: numbers about dark skin are not reliable"
        in text
    )
    assert "Group V has 10 images (fewer than 30)" in text
    assert "Group VI has 3 images (fewer than 30)" in text
    assert "Group II has" not in text
    assert "- VI, sensitivity: no positives" in text
    assert "default 0.5, not one chosen on validation" in text
    assert "| VI | 3 | 0 |" in text
    ci = result["ci"]["by_group"]["II"]["accuracy"]
    assert f"{result['by_group']['II']['accuracy']:.3f} [{ci['low']:.3f}, {ci['high']:.3f}]" in text
    assert "Equalized-odds difference" in text
    assert "Demographic-parity difference" in text
    assert "Gap intervals lean high" in text
    assert "invalid and counted" in text
    assert "exact" in text
    assert "Clopper-Pearson" in text


def test_markdown_without_warning_when_enough_dark_images(tmp_path: Path) -> None:
    text = audit_markdown(audit_file(_predictions(tmp_path, dark=50), threshold=0.5), "t")
    assert "dark skin" not in text
    assert "Group V has" not in text
    assert "Group VI has 3 images" in text


def test_write_audit_json_markdown_png(tmp_path: Path) -> None:
    result = audit_file(_predictions(tmp_path), n_bootstrap=10)
    out = tmp_path / "out"
    write_audit(result, out / "a.json", out / "a.md", out / "a.png", title="Baseline")
    loaded = json.loads((out / "a.json").read_text())
    assert loaded["by_group"]["VI"]["sensitivity"] is None  # NaN -> null
    assert loaded["by_group"]["VI"]["support"] == 3
    assert (out / "a.md").read_text() == audit_markdown(result, "Baseline")
    # A report can be rebuilt from the JSON, whose NaN came back as None.
    assert audit_markdown(loaded, "Baseline") == audit_markdown(result, "Baseline")
    with Image.open(out / "a.png") as image:
        assert image.format == "PNG"
        assert image.width > 300
    assert sorted(p.name for p in out.iterdir()) == ["a.json", "a.md", "a.png"]


def test_figure_without_ci(tmp_path: Path) -> None:
    result = audit_file(_predictions(tmp_path))
    audit_figure(result, tmp_path / "fig.png")
    assert (tmp_path / "fig.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_undefined_bar_is_hatched_and_labelled_not_zero() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    _bar(ax, 0.0, 0.2, math.nan, "tab:blue", None)
    _bar(ax, 1.0, 0.2, 0.6, "tab:blue", {"low": 0.5, "high": 0.7, "n_valid": 10})
    undefined, defined = ax.patches
    assert undefined.get_height() == 1.0
    assert not undefined.get_fill()
    assert undefined.get_hatch() == "//"
    assert [t.get_text() for t in ax.texts] == ["undefined"]
    assert defined.get_height() == 0.6
    assert len(ax.collections) == 2  # CI whisker and its caps
    plt.close(fig)
