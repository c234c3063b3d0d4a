from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.typing import NDArray
from PIL import Image

from benchmark.core.imaging import ImageProblemError
from benchmark.core.io import write_json_atomic
from benchmark.metrics.segmentation import METRICS, MaskError
from benchmark.segmentation.evaluate import evaluate_folders, mask_id, read_mask


def save(path: Path, array: NDArray[np.uint8], mode: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.fromarray(array)
    (image.convert(mode) if mode else image).save(path)
    return path


def square(rows: slice, cols: slice, shape: tuple[int, int] = (6, 6)) -> NDArray[np.uint8]:
    mask = np.zeros(shape, np.uint8)
    mask[rows, cols] = 255
    return mask


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    truth, pred = tmp_path / "truth", tmp_path / "pred"
    # a: perfect; b: prediction empty; c: 2x2 truth, 2x3 prediction (TP 4, FP 2);
    # d: no prediction; z: prediction without truth.
    save(truth / "a_Segmentation.png", square(slice(1, 4), slice(1, 4)))
    save(truth / "b_segmentation.png", square(slice(0, 2), slice(0, 2)))
    save(truth / "c.png", square(slice(2, 4), slice(2, 4)))
    save(truth / "d_lesion.png", square(slice(0, 1), slice(0, 1)))
    save(pred / "a.png", square(slice(1, 4), slice(1, 4)))
    save(pred / "b_Segmentation.png", np.zeros((6, 6), np.uint8))
    save(pred / "c_segmentation.png", square(slice(2, 4), slice(2, 5)))
    save(pred / "z.png", square(slice(0, 1), slice(0, 1)))
    (pred / "notes.txt").write_text("not a mask")
    return truth, pred


def test_mask_id_strips_suffixes_case_insensitively() -> None:
    assert mask_id(Path("ISIC_0000031_Segmentation.png")) == "ISIC_0000031"
    assert mask_id(Path("ISIC_0000031_segmentation.png")) == "ISIC_0000031"
    assert mask_id(Path("ISIC_0000031.png")) == "ISIC_0000031"
    assert mask_id(Path("IMD002_LESION.bmp")) == "IMD002"


def test_evaluate_folders_matches_scores_and_reports(folders: tuple[Path, Path]) -> None:
    got = evaluate_folders(*folders)
    rows = {row["image_id"]: row for row in got["per_image"]}
    assert [row["image_id"] for row in got["per_image"]] == ["a", "b", "c"]
    assert all(set(row) == {"image_id", *METRICS} for row in got["per_image"])
    assert rows["a"]["iou"] == 1.0
    assert rows["a"]["hausdorff"] == 0.0
    assert rows["b"]["recall"] == 0.0
    assert math.isnan(rows["b"]["precision"])
    assert rows["b"]["hd95"] == pytest.approx(math.hypot(6, 6))  # missed: the diagonal
    # c: truth rows 2-3 cols 2-3, prediction one column wider: TP 4, FP 2, FN 0, TN 30.
    assert rows["c"]["iou"] == pytest.approx(4 / 6)
    assert rows["c"]["dice"] == pytest.approx(8 / 10)
    assert rows["c"]["precision"] == pytest.approx(4 / 6)
    assert rows["c"]["recall"] == 1.0
    assert rows["c"]["specificity"] == pytest.approx(30 / 32)
    assert rows["c"]["hausdorff"] == 1.0  # column 4 is 1 px from the truth's column 3
    assert got["n_images"] == 3
    assert got["mean"]["iou"] == pytest.approx((1 + 0 + 4 / 6) / 3)
    assert got["mean"]["precision"] == pytest.approx((1 + 4 / 6) / 2)
    assert got["n_defined"]["precision"] == 2
    assert got["empty_cases"] == {"both_empty": 0, "truth_empty": 0, "pred_empty": 1}
    assert got["missing_predictions"] == ["d"]
    assert got["n_missing_predictions"] == 1
    assert got["unmatched_predictions"] == ["z.png"]
    assert got["n_unmatched_predictions"] == 1
    assert "by_group" not in got


def test_result_is_json_with_nan_as_null(folders: tuple[Path, Path], tmp_path: Path) -> None:
    out = tmp_path / "scores.json"
    write_json_atomic(out, evaluate_folders(*folders))
    loaded = json.loads(out.read_text())
    assert loaded["per_image"][1]["precision"] is None
    assert loaded["per_image"][0]["iou"] == 1.0


def test_by_group_from_manifest(folders: tuple[Path, Path]) -> None:
    manifest = pd.DataFrame({"image_id": ["a", "b", "x"], "fst": ["II", "II", "V"]})
    got = evaluate_folders(*folders, manifest=manifest)
    assert list(got["by_group"]) == ["II", "missing"]
    assert got["by_group"]["II"]["support"] == 2
    assert got["by_group"]["II"]["mean"]["iou"] == pytest.approx(0.5)
    assert got["by_group"]["II"]["n_defined"]["precision"] == 1
    assert got["by_group"]["missing"]["support"] == 1  # c is not in the manifest
    assert got["by_group"]["missing"]["mean"]["iou"] == pytest.approx(4 / 6)


def test_manifest_without_group_values_goes_to_missing(folders: tuple[Path, Path]) -> None:
    manifest = pd.DataFrame({"image_id": ["a", "b", "c"], "fst": ["I", None, np.nan]})
    got = evaluate_folders(*folders, manifest=manifest)
    assert {k: v["support"] for k, v in got["by_group"].items()} == {"I": 1, "missing": 2}


def test_manifest_without_group_column_is_an_error(folders: tuple[Path, Path]) -> None:
    with pytest.raises(ValueError, match=r"no column\(s\) \['fst'\]"):
        evaluate_folders(*folders, manifest=pd.DataFrame({"image_id": ["a"]}))


def test_size_mismatch_names_both_files_and_sizes(tmp_path: Path) -> None:
    t = save(tmp_path / "t" / "a_Segmentation.png", square(slice(0, 2), slice(0, 2), (6, 8)))
    p = save(tmp_path / "p" / "a.png", square(slice(0, 2), slice(0, 2), (6, 6)))
    with pytest.raises(MaskError) as err:
        evaluate_folders(t.parent, p.parent)
    message = str(err.value)
    assert str(t) in message
    assert str(p) in message
    assert "8x6" in message
    assert "6x6" in message


@pytest.mark.parametrize(
    ("array", "mode", "message"),
    [
        (np.full((4, 4), 128, np.uint8), None, r"values \[128\]"),
        (np.eye(4, dtype=np.uint8), None, r"values \[1\]"),
        (np.zeros((4, 4, 3), np.uint8), None, "image mode RGB"),
    ],
)
def test_non_binary_prediction_names_the_file(
    tmp_path: Path, array: NDArray[np.uint8], mode: str | None, message: str
) -> None:
    save(tmp_path / "t" / "a.png", np.zeros((4, 4), np.uint8))
    bad = save(tmp_path / "p" / "a.png", array, mode)
    with pytest.raises(MaskError, match=message) as err:
        evaluate_folders(tmp_path / "t", tmp_path / "p")
    assert str(bad) in str(err.value)
    assert "predicted mask" in str(err.value)


def test_one_bit_masks_are_read(tmp_path: Path) -> None:
    path = save(tmp_path / "m.png", square(slice(0, 2), slice(1, 3), (3, 4)), mode="1")
    assert read_mask(path).tolist() == [
        [False, True, True, False],
        [False, True, True, False],
        [False, False, False, False],
    ]


def test_unreadable_truth_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "t" / "a_Segmentation.png"
    bad.parent.mkdir()
    bad.write_bytes(b"not a png")
    save(tmp_path / "p" / "a.png", np.zeros((4, 4), np.uint8))
    with pytest.raises(ImageProblemError, match=re.escape(str(bad))):
        evaluate_folders(tmp_path / "t", tmp_path / "p")


def test_duplicate_ids_in_a_folder_are_an_error(tmp_path: Path) -> None:
    save(tmp_path / "t" / "a_segmentation.png", np.zeros((4, 4), np.uint8))
    save(tmp_path / "t" / "a_Segmentation.png", np.zeros((4, 4), np.uint8))
    save(tmp_path / "p" / "a.png", np.zeros((4, 4), np.uint8))
    with pytest.raises(ValueError, match=r"a_Segmentation\.png and a_segmentation\.png both have"):
        evaluate_folders(tmp_path / "t", tmp_path / "p")


def test_an_isic_folder_of_images_and_masks_uses_the_masks(tmp_path: Path) -> None:
    """ISIC 2016 ships X.jpg beside X_Segmentation.png: the suffixed file is the truth."""
    truth = np.zeros((4, 4), np.uint8)
    truth[1:3, 1:3] = 255
    Image.fromarray(np.full((4, 4, 3), 90, np.uint8)).save(tmp_path / "a.jpg")
    save(tmp_path / "a_Segmentation.png", truth)
    save(tmp_path / "p" / "a.png", truth)
    result = evaluate_folders(tmp_path, tmp_path / "p")
    assert result["n_images"] == 1
    assert result["per_image"][0]["dice"] == 1.0


def test_missing_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"prediction folder .*nowhere"):
        evaluate_folders(tmp_path, tmp_path / "nowhere")


def test_real_masks_against_themselves_and_renamed_copies(realdata: Path, tmp_path: Path) -> None:
    masks = realdata / "ham10000_seg" / "masks"
    pred = tmp_path / "pred"
    pred.mkdir()
    for path in sorted(masks.glob("*.png")):  # ham masks have no suffix; add one
        shutil.copy(path, pred / f"{path.stem}_segmentation.png")
    got = evaluate_folders(masks, pred)
    assert got["n_images"] == 5
    assert got["missing_predictions"] == []
    assert got["mean"] == {
        "iou": 1.0,
        "dice": 1.0,
        "precision": 1.0,
        "recall": 1.0,
        "specificity": 1.0,
        "hausdorff": 0.0,
        "hd95": 0.0,
    }


def test_equity_scaled_dice_over_skin_types(folders: tuple[Path, Path]) -> None:
    # Dice a 1, b 0 (missed), c 0.8: overall 0.6; II (a, b) 0.5, V (c) 0.8.
    manifest = pd.DataFrame({"image_id": ["a", "b", "c"], "fst": ["II", "II", "V"]})
    got = evaluate_folders(*folders, manifest=manifest)
    assert got["equity_scaled"]["dice"] == pytest.approx(0.6 / (1 + 0.1 + 0.2))
    assert got["equity_scaled"]["groups"] == ["II", "V"]
    partial = evaluate_folders(*folders, manifest=manifest.iloc[:2])  # c goes to missing
    assert partial["equity_scaled"]["groups"] == ["II"]  # missing is not a skin type
