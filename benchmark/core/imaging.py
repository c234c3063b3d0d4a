"""Reading images and masks into arrays, whatever their mode, with clear errors.

Used by ingest and by every stage that reads image files. 8-bit RGB comes back unchanged;
grayscale is replicated, alpha dropped, palettes expanded, 16-bit values scaled by
255/65535. Masks come back as {0, 255}.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image

MASK_THRESHOLD = 127
"""Grey level (0..255) above which a non-binary mask pixel is lesion, for :func:`to_mask`.

The default of ``ingest.mask_threshold`` and ``skinbench ingest --mask-threshold``, and the
threshold of masks read after ingest (preprocessing, the ``ita`` tool).
"""


class ImageProblemError(Exception):
    """A file cannot be used; ``reason`` is a short code, the message the detail."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason

    def __reduce__(self) -> tuple[type[ImageProblemError], tuple[str, str]]:
        # Both arguments, so the error survives pickling out of a worker process.
        return (type(self), (self.reason, str(self)))


def open_image(path: Path, what: str = "image") -> Image.Image:
    """Open and fully decode an image file.

    Raises:
        ImageProblemError: ``not_a_file``, ``missing_file``, ``empty_file`` or
            ``unreadable_image`` (corrupt or truncated), naming ``what`` and the path.
    """
    if path.is_dir():
        raise ImageProblemError("not_a_file", f"{what} {path} is a directory, expected a file")
    if not path.is_file():
        raise ImageProblemError("missing_file", f"{what} {path} does not exist")
    if path.stat().st_size == 0:
        raise ImageProblemError("empty_file", f"{what} {path} is empty (0 bytes)")
    try:
        image = Image.open(path)
        image.load()
    except Exception as exc:  # PIL raises OSError, SyntaxError, ValueError... for bad files
        raise ImageProblemError(
            "unreadable_image", f"{what} {path} is corrupt or truncated: {exc}"
        ) from exc
    return image


def png_bit_depth(path: Path) -> int | None:
    """Bit depth from a PNG's IHDR chunk (PIL reads 48-bit RGB as plain 8-bit ``RGB``)."""
    with path.open("rb") as handle:
        head = handle.read(25)
    if len(head) == 25 and head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR":
        return head[24]
    return None


def to_rgb8(image: Image.Image) -> tuple[NDArray[np.uint8], str | None]:
    """Convert any PIL image to uint8 RGB of shape (H, W, 3); return it and the old mode."""
    mode = image.mode
    if mode == "RGB":
        return np.asarray(image, dtype=np.uint8), None
    if mode.startswith("I;16") or mode == "I":
        wide = np.asarray(image, dtype=np.float64)
        gray = np.clip(np.round(wide * 255.0 / 65535.0), 0, 255).astype(np.uint8)
        return np.repeat(gray[..., None], 3, axis=2), mode
    return np.asarray(image.convert("RGB"), dtype=np.uint8), mode


def to_mask(image: Image.Image, threshold: int) -> tuple[NDArray[np.uint8], bool]:
    """Binary mask {0, 255} of shape (H, W) and whether thresholding/scaling was needed.

    Args:
        image: The mask image, any mode (16-bit values are scaled to 0..255; in colour masks
            any lit channel marks lesion).
        threshold: Masks that are neither {0, 255} nor {0, 1} become ``value > threshold``
            (usually :data:`MASK_THRESHOLD`).

    Returns:
        The mask and whether it was thresholded or scaled.
    """
    if image.mode.startswith("I;16") or image.mode == "I":
        values = np.asarray(image, dtype=np.float64) * 255.0 / 65535.0
    elif image.mode in ("L", "1", "P"):
        values = np.asarray(image.convert("L"), dtype=np.float64)
    else:  # colour masks: any lit channel marks lesion
        values = np.asarray(image.convert("RGB"), dtype=np.float64).max(axis=2)
    unique = set(np.unique(values).tolist())
    if unique <= {0.0, 255.0}:
        return (values > 0).astype(np.uint8) * 255, False
    if unique <= {0.0, 1.0}:
        return (values > 0).astype(np.uint8) * 255, True
    return (values > threshold).astype(np.uint8) * 255, True


def example_batch(size: int) -> NDArray[np.uint8]:
    """A deterministic (2, size, size, 3) uint8 batch: mid-grey, then a ramp.

    The input example a logged image model is traced with: two rows, since ``torch.export``
    fixes a batch dimension of one to a constant.
    """
    ramp = np.linspace(0, 255, size * size * 3).reshape(size, size, 3)
    return np.stack([np.full((size, size, 3), 128.0), ramp]).astype(np.uint8)
