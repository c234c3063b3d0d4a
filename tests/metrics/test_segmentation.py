from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from isic_challenge_scoring.confusion import create_binary_confusion_matrix
from isic_challenge_scoring.metrics import (
    binary_dice,
    binary_jaccard,
    binary_sensitivity,
    binary_specificity,
)
from numpy.typing import NDArray
from PIL import Image
from scipy import ndimage
from scipy.spatial import cKDTree
from scipy.spatial.distance import directed_hausdorff

from benchmark.metrics.segmentation import (
    METRICS,
    MaskError,
    as_binary,
    boundary,
    by_group,
    confusion,
    directed_distances,
    empty_case,
    hausdorff_hd95,
    miss_penalty,
    overlap_from_counts,
    score_pair,
    summarise,
    undefined_reasons,
)

NAN = math.nan


def pixels(shape: tuple[int, int], *coords: tuple[int, int]) -> NDArray[np.uint8]:
    """A uint8 0/255 mask with the given (row, col) pixels set."""
    mask = np.zeros(shape, np.uint8)
    for r, c in coords:
        mask[r, c] = 255
    return mask


def assert_scores(got: dict[str, float], want: dict[str, float]) -> None:
    assert set(got) == set(METRICS)
    for key, value in want.items():
        if math.isnan(value):
            assert math.isnan(got[key]), f"{key}: expected NaN, got {got[key]}"
        else:
            assert got[key] == pytest.approx(value, abs=1e-12), key


# ---------------------------------------------------------------- hand-computed cases


def test_shifted_square_overlap_and_distances() -> None:
    truth = np.zeros((5, 5), np.uint8)
    truth[1:4, 1:4] = 255
    pred = np.zeros((5, 5), np.uint8)
    pred[1:4, 2:5] = 255
    # Overlap: columns 2-3 of rows 1-3 = 6; one column each side unmatched (3 + 3); 13 TN.
    assert confusion(truth, pred) == (6, 3, 3, 13)
    # Each 3x3 boundary is its 8-pixel ring; 4 of each ring lie 1 px from the other ring's
    # nearest pixel, the other 4 are shared (0), so 16 distances: eight 0 and eight 1.
    a, b = directed_distances(truth, pred)
    assert sorted(a.tolist()) == [0, 0, 0, 0, 1, 1, 1, 1]
    assert sorted(b.tolist()) == [0, 0, 0, 0, 1, 1, 1, 1]
    assert_scores(
        score_pair(truth, pred),
        {
            "iou": 6 / 12,
            "dice": 12 / 18,
            "precision": 6 / 9,
            "recall": 6 / 9,
            "specificity": 13 / 16,
            "hausdorff": 1.0,
            "hd95": 1.0,
        },
    )


def test_diagonal_pixels_hausdorff_and_interpolated_hd95() -> None:
    truth = pixels((5, 5), (0, 0), (4, 4))
    pred = pixels((5, 5), (1, 1))
    # truth->pred: sqrt(2), sqrt(18); pred->truth: sqrt(2). Sorted [r2, r2, 3 r2]; the 95th
    # percentile sits at index 0.95 * 2 = 1.9: r2 + 0.9 * (3 r2 - r2) = 2.8 r2.
    a, b = directed_distances(truth, pred)
    assert sorted(a.tolist()) == pytest.approx([math.sqrt(2), math.sqrt(18)])
    assert b.tolist() == pytest.approx([math.sqrt(2)])
    hd, hd95 = hausdorff_hd95(truth, pred)
    assert hd == pytest.approx(3 * math.sqrt(2))
    assert hd95 == pytest.approx(2.8 * math.sqrt(2))
    assert confusion(truth, pred) == (0, 1, 2, 22)
    got = score_pair(truth, pred)
    assert (got["iou"], got["dice"], got["precision"], got["recall"]) == (0, 0, 0, 0)
    assert got["specificity"] == pytest.approx(22 / 23)


def test_collinear_pixels_hd95_between_distances() -> None:
    truth = pixels((1, 5), (0, 0), (0, 4))
    pred = pixels((1, 5), (0, 1))
    # truth->pred: 1, 3; pred->truth: 1. Sorted [1, 1, 3] -> 1 + 0.9 * 2 = 2.8.
    assert hausdorff_hd95(truth, pred) == pytest.approx((3.0, 2.8))


def test_full_image_truth_uses_image_frame_as_boundary() -> None:
    truth = np.full((5, 5), 255, np.uint8)
    pred = pixels((5, 5), (2, 2))
    # Edge pixels are boundary: the 16-pixel frame. Frame -> centre: 4 corners sqrt(8),
    # 4 edge midpoints 2, 8 others sqrt(5). Centre -> frame: 2 (not 0: the centre is inside
    # the truth, but distances are between boundaries).
    a, b = directed_distances(truth, pred)
    assert sorted(a.tolist()) == pytest.approx([2] * 4 + [math.sqrt(5)] * 8 + [math.sqrt(8)] * 4)
    assert b.tolist() == [2.0]
    # 17 distances; index 0.95 * 16 = 15.2 lies among the sqrt(8)s.
    assert_scores(
        score_pair(truth, pred),
        {
            "iou": 1 / 25,
            "dice": 2 / 26,
            "precision": 1.0,
            "recall": 1 / 25,
            "specificity": NAN,
            "hausdorff": math.sqrt(8),
            "hd95": math.sqrt(8),
        },
    )
    assert undefined_reasons(*confusion(truth, pred)) == {"specificity": "no_negatives"}


def test_boundary_is_four_connected_and_keeps_edge_pixels() -> None:
    plus = pixels((5, 5), (1, 2), (2, 1), (2, 2), (2, 3), (3, 2))
    # The centre has all four 4-neighbours inside (an 8-connected erosion would call it
    # boundary, its diagonals being outside).
    assert np.array_equal(boundary(plus), plus.astype(bool) & ~pixels((5, 5), (2, 2)).astype(bool))
    square = np.zeros((4, 4), bool)
    square[:3, :3] = True
    want = square.copy()
    want[1, 1] = False  # the only pixel with four lesion neighbours; row/col 0 are on the edge
    assert np.array_equal(boundary(square), want)


def test_identical_masks_score_perfectly() -> None:
    truth = np.zeros((6, 7), bool)
    truth[1:5, 2:6] = True
    assert_scores(
        score_pair(truth, truth),
        {m: 1.0 for m in METRICS[:5]} | {"hausdorff": 0.0, "hd95": 0.0},
    )


def test_bool_and_uint8_masks_agree() -> None:
    truth = pixels((4, 4), (0, 0), (1, 1), (2, 1))
    pred = pixels((4, 4), (1, 1), (3, 3))
    assert score_pair(truth, pred) == score_pair(truth > 0, pred > 0)


def test_distance_work_is_cropped_without_changing_the_answer() -> None:
    small_t = pixels((5, 5), (0, 0), (4, 4))
    small_p = pixels((5, 5), (1, 1))
    big_t = np.zeros((300, 400), np.uint8)
    big_p = np.zeros((300, 400), np.uint8)
    big_t[100:105, 200:205], big_p[100:105, 200:205] = small_t, small_p
    assert hausdorff_hd95(big_t, big_p) == pytest.approx(hausdorff_hd95(small_t, small_p))


# ---------------------------------------------------------------- empty-mask policy


def test_both_empty() -> None:
    empty = np.zeros((4, 4), np.uint8)
    assert empty_case(empty, empty) == "both_empty"
    assert_scores(
        score_pair(empty, empty),
        {m: NAN for m in METRICS} | {"specificity": 1.0},
    )
    assert undefined_reasons(*confusion(empty, empty)) == dict.fromkeys(
        ("iou", "dice", "precision", "recall", "hausdorff", "hd95"), "both_empty"
    )


def test_truth_empty_prediction_not() -> None:
    truth = np.zeros((5, 5), np.uint8)
    pred = pixels((5, 5), (0, 0), (0, 1))
    assert empty_case(truth, pred) == "truth_empty"
    assert_scores(
        score_pair(truth, pred),
        {
            "iou": 0.0,
            "dice": 0.0,
            "precision": 0.0,
            "recall": NAN,
            "specificity": 23 / 25,
            "hausdorff": math.sqrt(50),  # a lesion found where there is none: the diagonal
            "hd95": math.sqrt(50),
        },
    )
    assert undefined_reasons(*confusion(truth, pred)) == {"recall": "truth_empty"}


def test_prediction_empty_truth_not() -> None:
    truth = pixels((5, 5), (2, 2), (2, 3))
    pred = np.zeros((5, 5), np.uint8)
    assert empty_case(truth, pred) == "pred_empty"
    assert_scores(
        score_pair(truth, pred),
        {
            "iou": 0.0,
            "dice": 0.0,
            "precision": NAN,
            "recall": 0.0,
            "specificity": 1.0,
            # A missed lesion scores the penalty, so misses cannot improve the mean.
            "hausdorff": math.sqrt(50),
            "hd95": math.sqrt(50),
        },
    )
    assert undefined_reasons(*confusion(truth, pred)) == {"precision": "pred_empty"}
    with pytest.raises(MaskError, match="empty"):
        directed_distances(truth, pred)


def test_missed_lesions_make_the_mean_hausdorff_worse_not_better() -> None:
    truth = pixels((20, 20), (5, 5), (5, 6), (6, 5), (6, 6))
    near = pixels((20, 20), (5, 5), (5, 6), (6, 5), (6, 7))
    found = summarise([score_pair(truth, near)] * 2)
    missed = summarise([score_pair(truth, near), score_pair(truth, np.zeros((20, 20), np.uint8))])
    assert missed["mean"]["hausdorff"] > found["mean"]["hausdorff"]
    assert missed["mean"]["hausdorff"] == pytest.approx((1.0 + math.hypot(20, 20)) / 2)
    assert missed["empty_cases"]["pred_empty"] == 1
    assert miss_penalty((128, 128)) == pytest.approx(181.019, abs=1e-3)


def test_no_empty_case_for_overlapping_masks() -> None:
    mask = pixels((3, 3), (1, 1))
    assert empty_case(mask, mask) is None
    assert undefined_reasons(*confusion(mask, mask)) == {}


def test_pooled_counts_follow_the_same_policy() -> None:
    # Two both-empty images pooled: still undefined overlap, defined specificity.
    pooled = overlap_from_counts(0, 0, 0, 32)
    assert [math.isnan(pooled[m]) for m in METRICS[:5]] == [True] * 4 + [False]
    # A truth-empty and a pred-empty image pooled: everything defined, IoU 0.
    assert overlap_from_counts(0, 2, 3, 45) == pytest.approx(
        {"iou": 0.0, "dice": 0.0, "precision": 0.0, "recall": 0.0, "specificity": 45 / 47}
    )
    with pytest.raises(ValueError, match="must be >= 0"):
        overlap_from_counts(1, -1, 0, 0)


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("bad_value", [1, 128, 254])
def test_non_binary_uint8_values_are_rejected(bad_value: int) -> None:
    mask = np.zeros((3, 3), np.uint8)
    mask[0, 0] = bad_value
    with pytest.raises(MaskError, match=rf"truth has values \[{bad_value}\]"):
        score_pair(mask, np.zeros((3, 3), np.uint8))


def test_shape_mismatch_names_both_shapes() -> None:
    with pytest.raises(MaskError, match=r"truth has shape \(3, 4\) but pred has shape \(4, 3\)"):
        confusion(np.zeros((3, 4), bool), np.zeros((4, 3), bool))


@pytest.mark.parametrize(
    ("mask", "message"),
    [
        (np.zeros((3, 3, 3), np.uint8), r"shape \(3, 3, 3\), expected a 2-D"),
        (np.zeros(9, np.uint8), r"shape \(9,\), expected a 2-D"),
        (np.zeros((0, 4), np.uint8), "no pixels"),
        (np.zeros((3, 3), np.int64), "dtype int64"),
        (np.zeros((3, 3), np.float32), "dtype float32"),
        ([[0, 255]], "is a list"),
    ],
)
def test_malformed_masks_are_rejected(mask: object, message: str) -> None:
    with pytest.raises(MaskError, match=message):
        as_binary(mask, "pred")
    assert issubclass(MaskError, ValueError)


def test_as_binary_thresholds_uint8() -> None:
    assert as_binary(np.array([[0, 255]], np.uint8)).tolist() == [[False, True]]


# ---------------------------------------------------------------- aggregation


def _rows() -> list[dict[str, float]]:
    full = {"iou": 0.5, "dice": 0.6, "precision": 0.7, "recall": 0.8, "specificity": 0.9}
    return [
        full | {"hausdorff": 4.0, "hd95": 3.0},
        {"iou": 0.3, "dice": 0.4, "precision": 0.5, "recall": 0.6, "specificity": 0.7}
        | {"hausdorff": 2.0, "hd95": 1.0},
        {m: NAN for m in METRICS} | {"specificity": 1.0},  # both empty
        {"iou": 0.0, "dice": 0.0, "precision": 0.0, "recall": NAN, "specificity": 0.5}
        | {"hausdorff": NAN, "hd95": NAN},  # truth empty
    ]


def test_summarise_nanmean_with_support() -> None:
    got = summarise([{"image_id": f"x{i}", **row} for i, row in enumerate(_rows())])
    assert got["n_images"] == 4
    assert got["mean"]["iou"] == pytest.approx((0.5 + 0.3 + 0.0) / 3)
    assert got["mean"]["recall"] == pytest.approx((0.8 + 0.6) / 2)
    assert got["mean"]["specificity"] == pytest.approx((0.9 + 0.7 + 1.0 + 0.5) / 4)
    assert got["mean"]["hausdorff"] == pytest.approx(3.0)
    assert got["n_defined"] == {
        "iou": 3,
        "dice": 3,
        "precision": 3,
        "recall": 2,
        "specificity": 4,
        "hausdorff": 2,
        "hd95": 2,
    }
    assert got["empty_cases"] == {"both_empty": 1, "truth_empty": 1, "pred_empty": 0}


def test_summarise_metric_never_defined_is_nan() -> None:
    got = summarise([_rows()[2]])
    assert math.isnan(got["mean"]["iou"])
    assert got["n_defined"]["iou"] == 0
    assert got["mean"]["specificity"] == 1.0
    empty = summarise([])
    assert empty["n_images"] == 0
    assert all(math.isnan(v) for v in empty["mean"].values())


def test_by_group_splits_and_sends_missing_labels_to_missing() -> None:
    got = by_group(_rows(), ["I", None, "I", NAN])
    assert list(got) == ["I", "missing"]
    assert got["I"]["support"] == 2
    assert got["I"]["mean"]["iou"] == pytest.approx(0.5)
    assert got["I"]["n_defined"]["iou"] == 1
    assert got["I"]["empty_cases"]["both_empty"] == 1
    assert got["missing"]["support"] == 2
    assert got["missing"]["mean"]["iou"] == pytest.approx(0.15)
    assert got["missing"]["mean"]["recall"] == pytest.approx(0.6)
    with pytest.raises(ValueError, match="4 items but groups has 3"):
        by_group(_rows(), ["I", "II", "III"])


# ---------------------------------------------------------------- parity on real masks


def _real_masks(root: Path) -> list[tuple[str, NDArray[np.uint8]]]:
    files = sorted((root / "isic2016_seg").glob("*_Segmentation.png"))
    files += sorted((root / "ham10000_seg" / "masks").glob("*.png"))
    assert len(files) == 26
    return [(f.name, np.asarray(Image.open(f), dtype=np.uint8)) for f in files]


def _perturbed(truth: NDArray[np.uint8]) -> Iterator[tuple[str, NDArray[np.uint8]]]:
    lesion = truth > 128
    for shift in ((5, -7), (-31, 12), (0, 60)):
        yield f"roll{shift}", np.roll(truth, shift, axis=(0, 1))
    for n in (3, 10):
        yield f"erode{n}", ndimage.binary_erosion(lesion, iterations=n).astype(np.uint8) * 255
        yield f"dilate{n}", ndimage.binary_dilation(lesion, iterations=n).astype(np.uint8) * 255


def _isic_overlap(truth: NDArray[np.uint8], pred: NDArray[np.uint8]) -> dict[str, float]:
    cm = create_binary_confusion_matrix(
        truth_binary_values=(truth > 128).astype(np.uint8),
        prediction_binary_values=(pred > 128).astype(np.uint8),
    )
    return {
        "iou": float(binary_jaccard(cm)),
        "dice": float(binary_dice(cm)),
        "recall": float(binary_sensitivity(cm)),
        "specificity": float(binary_specificity(cm)),
    }


def _assert_overlap_parity(ours: dict[str, float], theirs: dict[str, float], label: str) -> int:
    compared = 0
    for metric, value in theirs.items():
        if not math.isnan(ours[metric]):  # isic scores undefined cases as 1.0 "freebies"
            assert ours[metric] == pytest.approx(value, abs=1e-6), f"{label} {metric}"
            compared += 1
    return compared


def test_overlap_parity_with_isic_challenge_scoring(realdata: Path) -> None:
    compared = 0
    for name, truth in _real_masks(realdata):
        for how, pred in _perturbed(truth):
            ours = overlap_from_counts(*confusion(truth, pred))
            compared += _assert_overlap_parity(ours, _isic_overlap(truth, pred), f"{name} {how}")
    assert compared == 26 * 7 * 4  # real lesions: nothing undefined at full resolution


def _inner_boundary_coords(mask: NDArray[np.bool_]) -> NDArray[np.intp]:
    # Independent of the code under test: a pixel is boundary when any 4-neighbour is
    # background, with outside the image counting as background.
    padded = np.pad(mask, 1)
    inner = padded[1:-1, 1:-1]
    all_in = padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]
    return np.argwhere(inner & ~all_in)


def test_distance_parity_with_scipy_directed_hausdorff(realdata: Path) -> None:
    compared = 0
    for name, full in _real_masks(realdata):
        step = max(1, int(np.ceil(max(full.shape) / 200)))
        truth = np.ascontiguousarray(full[::step, ::step])
        for how, pred in _perturbed(truth):
            label = f"{name} {how}"
            got = score_pair(truth, pred)
            _assert_overlap_parity(got, _isic_overlap(truth, pred), label)
            a = _inner_boundary_coords(truth > 128)
            b = _inner_boundary_coords(pred > 128)
            if len(a) == 0 and len(b) == 0:
                assert math.isnan(got["hausdorff"]), label
                continue
            if len(a) == 0 or len(b) == 0:
                assert got["hausdorff"] == pytest.approx(math.hypot(*truth.shape)), label
                continue
            want = max(directed_hausdorff(a, b)[0], directed_hausdorff(b, a)[0])
            assert got["hausdorff"] == pytest.approx(want, abs=1e-6), label
            d_ab, _ = cKDTree(b).query(a)
            d_ba, _ = cKDTree(a).query(b)
            want95 = np.percentile(np.concatenate([d_ab, d_ba]), 95)
            assert got["hd95"] == pytest.approx(want95, abs=1e-6), label
            compared += 1
    assert compared >= 26 * 6  # at most one perturbation per mask may erode it away
