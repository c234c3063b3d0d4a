from __future__ import annotations

import re
from pathlib import Path

import cv2
import maxflow
import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image

from benchmark.core.imaging import ImageProblemError
from benchmark.core.maxflow import MaxflowParams, _recut, segment, segment_files
from benchmark.phantoms.render import PhantomSpec, render

PARAMS = MaxflowParams()
SKIN = (222, 178, 160)
LESION = (120, 78, 60)
# Mean Dice of the default parameters over the 26 real pairs at full resolution (0.913 when
# tuned), less the 0.03 the brief allows for library drift.
REAL_DICE_FLOOR = 0.883


def dice(pred: NDArray[np.uint8], truth: NDArray[np.uint8]) -> float:
    a, b = pred > 0, truth > 0
    total = int(a.sum() + b.sum())
    return 1.0 if total == 0 else 2.0 * float((a & b).sum()) / total


def skin_with_lesion(
    height: int,
    width: int,
    axes: tuple[int, int],
    seed: int = 0,
    lesion: tuple[int, int, int] = LESION,
    noise: float = 6.0,
) -> tuple[NDArray[np.uint8], NDArray[np.uint8]]:
    """A noisy skin-coloured image with a dark rotated ellipse in the middle, and its mask."""
    rng = np.random.default_rng(seed)
    truth = np.zeros((height, width), np.uint8)
    cv2.ellipse(truth, (width // 2 + 5, height // 2 - 3), axes, 30, 0, 360, 255, -1)
    image = np.where(truth[..., None] > 0, np.array(lesion), np.array(SKIN)).astype(np.float64)
    image += rng.normal(0, noise, image.shape)
    return np.clip(np.round(image), 0, 255).astype(np.uint8), truth


def corner_distance(height: int, width: int) -> NDArray[np.float64]:
    """Distance from the image centre, 1 at the middle of the longer side."""
    yy, xx = np.mgrid[0:height, 0:width]
    distance = np.hypot(yy - (height - 1) / 2, xx - (width - 1) / 2) / (max(height, width) / 2)
    return np.asarray(distance, np.float64)


@pytest.mark.parametrize(("height", "width"), [(224, 224), (300, 451), (97, 130), (640, 480)])
def test_dark_ellipse_is_found_at_any_size(height: int, width: int) -> None:
    image, truth = skin_with_lesion(height, width, (width // 5, height // 6))
    mask = segment(image, PARAMS)
    assert mask.dtype == np.uint8
    assert mask.shape == (height, width)
    assert set(np.unique(mask).tolist()) == {0, 255}
    assert dice(mask, truth) > 0.9


def test_lesion_is_255_not_the_complement() -> None:
    image, truth = skin_with_lesion(200, 200, (12, 12))
    mask = segment(image, PARAMS)
    # A small disk: a correct mask is small; the inverted one would cover 98 % of the image.
    assert mask[97, 105] == 255
    assert mask[0, 0] == 0
    assert mask[-1, -1] == 0
    assert 0.7 < (mask > 0).sum() / (truth > 0).sum() < 1.5
    assert dice(mask, truth) > 0.85


def test_recut_reusing_the_graph_equals_a_fresh_cut() -> None:
    rng = np.random.default_rng(3)
    weights = rng.uniform(0, 3, (40, 50))
    first, second = rng.normal(0, 4, (2, 40, 50)).astype(np.float32)

    def graph() -> tuple[maxflow.GraphFloat, NDArray[np.int_]]:
        g = maxflow.Graph[float]()
        nodes = g.add_grid_nodes((40, 50))
        g.add_grid_edges(nodes, weights=weights, symmetric=True)
        return g, nodes

    reused, nodes = graph()
    _recut(reused, nodes, first, reuse=False)
    updated = _recut(reused, nodes, second - first, reuse=True)
    fresh, fresh_nodes = graph()
    assert np.array_equal(updated, _recut(fresh, fresh_nodes, second, reuse=False))
    # Positive gain means lesion: with no n-links the cut is just the sign of the gain.
    alone = maxflow.Graph[float]()
    alone_nodes = alone.add_grid_nodes((40, 50))
    assert np.array_equal(_recut(alone, alone_nodes, second, reuse=False), second > 0)


def test_same_input_same_output_and_input_untouched() -> None:
    image, _ = skin_with_lesion(180, 240, (40, 30), seed=5)
    before = image.copy()
    first = segment(image, PARAMS)
    assert np.array_equal(image, before)
    assert np.array_equal(first, segment(image.copy(), PARAMS))


# The near-black lesion is as dark as the corners: only their touching the border tells them apart.
@pytest.mark.parametrize("lesion", [LESION, (22, 16, 12)])
def test_black_dermatoscope_corners_are_not_lesion(lesion: tuple[int, int, int]) -> None:
    image, truth = skin_with_lesion(240, 320, (45, 35), seed=1, lesion=lesion)
    outside = corner_distance(240, 320) > 0.92
    image[outside] = np.random.default_rng(2).integers(0, 12, (int(outside.sum()), 3))
    mask = segment(image, PARAMS)
    assert not mask[outside].any()
    assert dice(mask, truth) > 0.9


def test_graded_vignette_corners_are_not_lesion() -> None:
    image, truth = skin_with_lesion(240, 320, (40, 30), seed=4)
    # Corners darken to the lesion's lightness, as with a dermatoscope's fall-off.
    falloff = np.clip((corner_distance(240, 320) - 0.6) / 0.65, 0, 1)
    image = np.round(image * (1 - 0.5 * falloff[..., None])).astype(np.uint8)
    mask = segment(image, PARAMS)
    assert not mask[falloff > 0.5].any()
    assert dice(mask, truth) > 0.9


@pytest.mark.parametrize("noise", [0.0, 1.0])
def test_flat_image_gives_an_empty_mask(noise: float) -> None:
    rng = np.random.default_rng(0)
    image = np.clip(np.array(SKIN) + rng.normal(0, noise, (120, 160, 3)), 0, 255)
    mask = segment(np.round(image).astype(np.uint8), PARAMS)
    assert mask.shape == (120, 160)
    assert not mask.any()


def test_rejects_non_rgb_input() -> None:
    with pytest.raises(ValueError, match="uint8"):
        segment(np.zeros((10, 10), np.uint8), PARAMS)
    with pytest.raises(ValueError, match="connectivity"):
        MaxflowParams(connectivity=6)


@pytest.mark.parametrize(
    ("skin_lab", "code"), [((85.0, 7.0, 15.0), "nv"), ((28.0, 9.0, 14.0), "mel")]
)
@pytest.mark.parametrize("vignette", [0.0, 0.6])
def test_phantoms_light_and_dark_skin(
    skin_lab: tuple[float, float, float], code: str, vignette: float
) -> None:
    # Lesion contrast falls with skin lightness by design (the phantom world's bias
    # mechanism), so a single dark vignetted melanoma can be hard; the typical one is not.
    spec = PhantomSpec(size=256, skin_lab=skin_lab, diagnosis_code=code, hair=2, vignette=vignette)
    scores = []
    for seed in range(11, 19):
        image, truth = render(spec, np.random.default_rng(seed))
        scores.append(dice(segment(image, PARAMS), truth))
    assert np.median(scores) > 0.9


def test_segment_files_writes_one_mask_per_image(tmp_path: Path) -> None:
    paths = []
    for stem, (height, width) in {"a": (120, 160), "b.x": (90, 70), "c": (200, 200)}.items():
        image, _ = skin_with_lesion(height, width, (width // 5, height // 5))
        paths.append(tmp_path / "in" / f"{stem}.png")
        paths[-1].parent.mkdir(exist_ok=True)
        Image.fromarray(image).save(paths[-1])
    records = segment_files(paths, tmp_path / "out", PARAMS)
    assert [r["image"] for r in records] == [str(p) for p in paths]
    for path, record in zip(paths, records, strict=True):
        assert record["mask"] == str(tmp_path / "out" / f"{path.stem}.png")
        assert record["ms"] > 0
        written = Image.open(record["mask"])
        assert written.mode == "L"
        assert written.size == Image.open(path).size
        expected = segment(np.asarray(Image.open(path).convert("RGB")), PARAMS)
        assert np.array_equal(np.asarray(written), expected)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.png", "b.x.png", "c.png"]
    pooled = segment_files(paths, tmp_path / "pooled", PARAMS, workers=2)
    for record, other in zip(records, pooled, strict=True):
        mine, theirs = (np.asarray(Image.open(r["mask"])) for r in (record, other))
        assert np.array_equal(mine, theirs)


# Two workers: the error has to come back out of a worker process too.
@pytest.mark.parametrize("workers", [1, 2])
def test_segment_files_names_a_corrupt_image(tmp_path: Path, workers: int) -> None:
    good = tmp_path / "good.png"
    Image.fromarray(skin_with_lesion(60, 80, (15, 10))[0]).save(good)
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 this is not a JPEG")
    with pytest.raises(ImageProblemError, match=re.escape(str(bad))) as caught:
        segment_files([good, bad], tmp_path / "out", PARAMS, workers=workers)
    assert caught.value.reason == "unreadable_image"
    with pytest.raises(ValueError, match="unique"):
        segment_files([good, tmp_path / "other" / "good.jpg"], tmp_path / "out", PARAMS)


def real_pairs(root: Path) -> list[tuple[Path, Path, str]]:
    isic = root / "isic2016_seg"
    ham = root / "ham10000_seg"
    pairs = [
        (image, image.with_name(f"{image.stem}_Segmentation.png"), "isic2016")
        for image in sorted(isic.glob("ISIC_*.jpg"))
    ]
    pairs += [
        (image, ham / "masks" / f"{image.stem}.png", "ham10000")
        for image in sorted((ham / "images").glob("*.jpg"))
    ]
    return pairs


def test_real_dermoscopy_mean_dice(realdata: Path) -> None:
    pairs = real_pairs(realdata)
    assert len(pairs) == 26
    scores = []
    for image_path, mask_path, _ in pairs:
        image = np.asarray(Image.open(image_path).convert("RGB"))
        truth = np.asarray(Image.open(mask_path).convert("L"))
        mask = segment(image, PARAMS)
        assert mask.shape == truth.shape
        scores.append(dice(mask, truth))
    assert float(np.mean(scores)) >= REAL_DICE_FLOOR
    # Not one image may fail outright (vignetting and dark corners are in this sample).
    assert min(scores) > 0.5
