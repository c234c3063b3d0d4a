"""Bad image and mask files: each is excluded with its reason, or converted and recorded."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from benchmark.core.imaging import ImageProblemError
from benchmark.ingest.images import place
from tests.conftest import write_mask, write_rgb


@pytest.fixture
def out(tmp_path: Path) -> Path:
    root = tmp_path / "out"
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    return root


def _place(image: Path, out: Path, mask: Path | None = None, link: str = "copy"):
    return place("ISIC_1", image, mask, out, link, 127)


def test_rgb_jpeg_enters_unchanged(tmp_path: Path, out: Path) -> None:
    src = write_rgb(tmp_path / "a.JPG")
    result = _place(src, out, link="hardlink")
    assert result.image_path == "images/ISIC_1.jpg"
    assert (out / result.image_path).read_bytes() == src.read_bytes()
    assert (out / result.image_path).stat().st_ino == src.stat().st_ino
    assert (result.width, result.height, result.converted_from) == (40, 30, None)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [(b"", "empty_file"), (b"not an image at all", "unreadable_image")],
)
def test_zero_byte_and_corrupt(tmp_path: Path, out: Path, payload: bytes, reason: str) -> None:
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(payload)
    with pytest.raises(ImageProblemError) as info:
        _place(bad, out)
    assert info.value.reason == reason
    assert str(bad) in str(info.value)


def test_truncated_jpeg(tmp_path: Path, out: Path) -> None:
    rng = np.random.default_rng(0)
    full = tmp_path / "full.jpg"
    Image.fromarray(rng.integers(0, 255, (200, 200, 3), dtype=np.uint8)).save(full, quality=95)
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    with pytest.raises(ImageProblemError, match="corrupt or truncated") as info:
        _place(cut, out)
    assert info.value.reason == "unreadable_image"


def test_directory_where_file_expected(tmp_path: Path, out: Path) -> None:
    folder = tmp_path / "ISIC_1.jpg"
    folder.mkdir()
    with pytest.raises(ImageProblemError, match="is a directory") as info:
        _place(folder, out)
    assert info.value.reason == "not_a_file"


@pytest.mark.parametrize(
    ("mode", "array", "expected_rgb"),
    [
        ("L", np.full((30, 40), 100, np.uint8), (100, 100, 100)),
        (
            "RGBA",
            np.dstack([np.full((30, 40, 3), 50, np.uint8), np.zeros((30, 40), np.uint8)]),
            (50, 50, 50),
        ),
        ("I;16", np.full((30, 40), 65535, np.uint16), (255, 255, 255)),
    ],
)
def test_modes_are_converted_and_recorded(
    tmp_path: Path, out: Path, mode: str, array: np.ndarray, expected_rgb: tuple[int, ...]
) -> None:
    src = tmp_path / "x.png"
    Image.fromarray(array).save(src)
    result = _place(src, out)
    assert result.converted_from == Image.open(src).mode
    assert result.converted_from.startswith(mode[:1])
    written = Image.open(out / result.image_path)
    assert written.mode == "RGB"
    assert result.image_path.endswith(".png")
    assert tuple(np.asarray(written)[0, 0]) == expected_rgb


def test_16_bit_rgb_png_is_recorded(tmp_path: Path, out: Path) -> None:
    src = tmp_path / "x16.png"
    cv2.imwrite(str(src), np.full((30, 40, 3), 257 * 200, np.uint16))
    result = _place(src, out)
    assert result.converted_from == "RGB;16"
    assert tuple(np.asarray(Image.open(out / result.image_path))[0, 0]) == (200, 200, 200)


def test_mask_of_another_size_is_excluded(tmp_path: Path, out: Path) -> None:
    image = write_rgb(tmp_path / "a.png", (40, 30))
    mask = write_mask(tmp_path / "a_segmentation.png", (20, 15))
    with pytest.raises(ImageProblemError, match=r"20x15 but image .* is 40x30") as info:
        _place(image, out, mask)
    assert info.value.reason == "mask_size_mismatch"
    assert list((out / "images").iterdir()) == []


@pytest.mark.parametrize(
    ("values", "binarized", "right_half"),
    [((0, 255), False, 255), ((0, 1), True, 255), ((10, 200), True, 255)],
)
def test_mask_values(
    tmp_path: Path, out: Path, values: tuple[int, int], binarized: bool, right_half: int
) -> None:
    image = write_rgb(tmp_path / "a.png")
    mask = write_mask(tmp_path / "a_mask.png", values=values)
    result = _place(image, out, mask)
    assert result.mask_binarized is binarized
    written = np.asarray(Image.open(out / str(result.mask_path)))
    assert set(np.unique(written)) <= {0, 255}
    assert written[0, 0] == 0
    assert written[0, -1] == right_half


def test_corrupt_mask_is_reported_as_mask(tmp_path: Path, out: Path) -> None:
    image = write_rgb(tmp_path / "a.png")
    mask = tmp_path / "a_segmentation.png"
    mask.write_bytes(b"\x89PNG\r\n\x1a\n broken")
    with pytest.raises(ImageProblemError, match=r"mask .* corrupt"):
        _place(image, out, mask)


@pytest.mark.parametrize(
    ("values", "fragment"),
    [((0, 0), "no lesion pixel$"), ((0, 100), "after thresholding at > 127")],
)
def test_empty_mask_is_excluded(
    tmp_path: Path, out: Path, values: tuple[int, int], fragment: str
) -> None:
    image = write_rgb(tmp_path / "a.png")
    mask = write_mask(tmp_path / "a_mask.png", values=values)
    with pytest.raises(ImageProblemError, match=fragment) as info:
        _place(image, out, mask)
    assert info.value.reason == "empty_mask"


def test_all_lesion_mask_is_kept_and_flagged(tmp_path: Path, out: Path) -> None:
    image = write_rgb(tmp_path / "a.png")
    result = _place(image, out, write_mask(tmp_path / "a_mask.png", values=(255, 255)))
    assert result.mask_full
    assert not _place(image, out, write_mask(tmp_path / "b.png")).mask_full
