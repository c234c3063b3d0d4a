"""Bad input to ``skinbench seg-eval``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from click.testing import CliRunner
from PIL import Image

from stages.support.cli import main


def _mask(path: Path, on: bool) -> None:
    mask = np.zeros((40, 40), np.uint8)
    if on:
        mask[10:30, 10:30] = 255
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(mask).save(path)


def test_no_prediction_matching_a_reference_is_an_error_with_valid_json(tmp_path: Path) -> None:
    _mask(tmp_path / "truth" / "a.png", True)
    (tmp_path / "pred").mkdir()
    result = CliRunner().invoke(
        main, ["seg-eval", "--truth", str(tmp_path / "truth"), "--pred", str(tmp_path / "pred")]
    )
    assert result.exit_code == 1
    assert "no prediction in" in result.stderr
    summary = json.loads(result.stdout)  # valid JSON: undefined is null, never NaN
    assert summary["n_images"] == 0
    assert summary["missing_predictions"] == ["a"]
    assert "NaN" not in result.stdout


def test_undefined_scores_are_null_in_the_printed_json(tmp_path: Path) -> None:
    _mask(tmp_path / "truth" / "a.png", False)  # empty reference and prediction
    _mask(tmp_path / "pred" / "a.png", False)
    result = CliRunner().invoke(
        main, ["seg-eval", "--truth", str(tmp_path / "truth"), "--pred", str(tmp_path / "pred")]
    )
    assert result.exit_code == 0, result.output
    assert "NaN" not in result.stdout
    json.loads(result.stdout)


def test_a_json_output_under_a_file_is_refused_first(tmp_path: Path) -> None:
    _mask(tmp_path / "truth" / "a.png", True)
    _mask(tmp_path / "pred" / "a.png", True)
    (tmp_path / "good.csv").write_text("x\n")
    result = CliRunner().invoke(
        main, ["seg-eval", "--truth", str(tmp_path / "truth"), "--pred", str(tmp_path / "pred"),
               "--json", str(tmp_path / "good.csv" / "x.json")],
    )  # fmt: skip
    assert result.exit_code == 1
    assert "good.csv is a file" in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)
