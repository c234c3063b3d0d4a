"""Checking, converting and placing one image and its mask in the ingested set.

Policy, applied to every source:

* Zero-byte, corrupt or truncated files, and directories where a file is expected, are
  excluded with the reason.
* 8-bit RGB JPEG/PNG/BMP files enter unchanged (linked or copied). Other modes are converted
  to 8-bit RGB and written as PNG, and ``converted_from`` records the original mode:
  grayscale is replicated to three channels, alpha is dropped (dermoscopic exports are
  opaque), palette images are expanded, 16-bit values are scaled by 255/65535.
* Masks are written as single-channel PNG with values {0, 255}. Masks already in {0, 255}
  are unchanged; {0, 1} masks are scaled; anything else is thresholded at
  ``value > mask_threshold`` and ``mask_binarized`` records it. A mask whose size differs
  from its image is excluded with both sizes, never resized silently. A mask with no lesion
  pixel (after thresholding) is excluded as ``empty_mask``: the image is of a lesion, so the
  mask is wrong. Masks that are lesion everywhere are kept and counted (``masks_full``).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image

_PASS_THROUGH_FORMATS = {"JPEG", "PNG", "BMP"}


class ImageProblemError(Exception):
    """A file cannot be used; ``reason`` is a short code, the message the detail."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


@dataclass(frozen=True)
class PlaceResult:
    """What happened to one image.

    Attributes:
        image_path: Path of the image relative to the output root.
        mask_path: Path of the mask relative to the output root, or ``None``.
        width: Image width in pixels.
        height: Image height in pixels.
        converted_from: Original PIL mode when the image was converted, else ``None``.
        mask_binarized: Whether the mask needed thresholding or scaling (``None``: no mask).
        mask_full: Whether the mask marks every pixel as lesion.
    """

    image_path: str
    mask_path: str | None
    width: int
    height: int
    converted_from: str | None
    mask_binarized: bool | None
    mask_full: bool = False


def _open(path: Path, what: str) -> Image.Image:
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


def _png_bit_depth(path: Path) -> int | None:
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
    """Binary mask {0, 255} of shape (H, W) and whether thresholding/scaling was needed."""
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


def _link_or_copy(src: Path, dst: Path, link: str) -> None:
    if link == "hardlink":
        try:
            os.link(src, dst)
            return
        except OSError:  # other filesystem, or links not allowed: fall back to a copy
            pass
    shutil.copyfile(src, dst)


def place(
    image_id: str,
    image_file: Path,
    mask_file: Path | None,
    out_root: Path,
    link: str,
    mask_threshold: int,
) -> PlaceResult:
    """Validate one image (and mask) and write it into ``out_root/images`` (``/masks``).

    Raises:
        ImageProblemError: When the image or mask cannot be used.
    """
    image = _open(image_file, "image")
    width, height = image.size
    mask: tuple[NDArray[np.uint8], bool] | None = None
    if mask_file is not None:
        mask_image = _open(mask_file, "mask")
        if mask_image.size != image.size:
            raise ImageProblemError(
                "mask_size_mismatch",
                (
                    f"mask {mask_file} is {mask_image.size[0]}x{mask_image.size[1]} but image "
                    f"{image_file} is {width}x{height}"
                ),
            )
        mask = to_mask(mask_image, mask_threshold)
        if not mask[0].any():
            raise ImageProblemError(
                "empty_mask",
                (
                    f"mask {mask_file} has no lesion pixel"
                    + (f" after thresholding at > {mask_threshold}" if mask[1] else "")
                ),
            )
    pixels, converted = to_rgb8(image)
    if converted is None and image.format == "PNG" and _png_bit_depth(image_file) == 16:
        converted = "RGB;16"
    if converted is None and image.format in _PASS_THROUGH_FORMATS:
        rel = f"images/{image_id}{image_file.suffix.lower()}"
        _link_or_copy(image_file, out_root / rel, link)
    else:
        rel = f"images/{image_id}.png"
        Image.fromarray(pixels).save(out_root / rel, format="PNG")
    mask_rel = None
    if mask is not None:
        mask_rel = f"masks/{image_id}.png"
        Image.fromarray(mask[0]).save(out_root / mask_rel, format="PNG")
    return PlaceResult(
        rel,
        mask_rel,
        width,
        height,
        converted,
        None if mask is None else mask[1],
        mask is not None and bool(mask[0].all()),
    )
