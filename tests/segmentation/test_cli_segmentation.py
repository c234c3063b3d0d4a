"""``skinbench maxflow`` and ``skinbench seg-eval``, on phantoms and on the real masks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
from click.testing import CliRunner
from PIL import Image

from stages.support.cli import main


def _run(args: list[str]) -> str:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


def test_maxflow_then_seg_eval_on_phantoms(tmp_path: Path) -> None:
    _run(["phantoms", "--out", str(tmp_path / "ph"), "--n", "6", "--size", "64"])
    out = _run(["maxflow", str(tmp_path / "ph" / "images"), "--out", str(tmp_path / "pred")])
    assert "wrote 6 masks" in out
    for mask in (tmp_path / "pred").iterdir():
        arr = np.asarray(Image.open(mask))
        assert arr.shape == (64, 64)
        assert set(np.unique(arr).tolist()) <= {0, 255}
    manifest = pd.read_parquet(tmp_path / "ph" / "manifest.parquet")
    manifest.assign(fst=manifest["fst_label"]).to_csv(tmp_path / "groups.csv", index=False)
    report = tmp_path / "eval.json"
    _run(
        [
            "seg-eval",
            "--truth",
            str(tmp_path / "ph" / "masks"),
            "--pred",
            str(tmp_path / "pred"),
            "--manifest",
            str(tmp_path / "groups.csv"),
            "--json",
            str(report),
        ]
    )
    result = json.loads(report.read_text())
    assert result["n_images"] == 6
    assert result["missing_predictions"] == []
    assert sum(g["support"] for g in result["by_group"].values()) == 6
    assert set(result["per_image"][0]) == {
        "image_id",
        "iou",
        "dice",
        "precision",
        "recall",
        "specificity",
        "hausdorff",
        "hd95",
    }
    assert result["mean"]["dice"] > 0.5


def test_seg_eval_reports_a_missing_prediction_and_refuses_bad_masks(tmp_path: Path) -> None:
    (tmp_path / "t").mkdir()
    (tmp_path / "p").mkdir()
    square = np.zeros((8, 8), np.uint8)
    square[2:6, 2:6] = 255
    for name in ("a_segmentation.png", "b_segmentation.png"):
        Image.fromarray(square).save(tmp_path / "t" / name)
    Image.fromarray(square).save(tmp_path / "p" / "a.png")
    out = _run(["seg-eval", "--truth", str(tmp_path / "t"), "--pred", str(tmp_path / "p")])
    assert '"missing_predictions": [\n  "b"\n ]' in out
    Image.fromarray(square // 255 * 128).save(tmp_path / "p" / "b.png")
    result = CliRunner().invoke(
        main, ["seg-eval", "--truth", str(tmp_path / "t"), "--pred", str(tmp_path / "p")]
    )
    assert result.exit_code != 0
    assert "b.png" in result.output


def test_maxflow_and_seg_eval_on_the_26_real_pairs(realdata: Path, tmp_path: Path) -> None:
    """Acceptance: Max-Flow mean Dice on ISIC 2016 + HAM10000 (paper: 0.82 on ISIC)."""
    truth = tmp_path / "truth"
    truth.mkdir()
    for mask in [
        *realdata.glob("isic2016_seg/*_Segmentation.png"),
        *realdata.glob("ham10000_seg/masks/*.png"),
    ]:
        shutil.copy(mask, truth / mask.name)
    images = [str(realdata / "isic2016_seg"), str(realdata / "ham10000_seg" / "images")]
    _run(["maxflow", *images, "--out", str(tmp_path / "pred"), "--workers", "2"])
    _run(
        [
            "seg-eval",
            "--truth",
            str(truth),
            "--pred",
            str(tmp_path / "pred"),
            "--json",
            str(tmp_path / "eval.json"),
        ]
    )
    result = json.loads((tmp_path / "eval.json").read_text())
    assert result["n_images"] == 26
    assert not result["missing_predictions"]
    assert result["mean"]["dice"] >= 0.80
