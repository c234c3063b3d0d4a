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

from benchmark.core.imaging import ImageProblemError, open_image, png_bit_depth, to_mask, to_rgb8

_PASS_THROUGH_FORMATS = {"JPEG", "PNG", "BMP"}


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
    image = open_image(image_file, "image")
    width, height = image.size
    mask: tuple[NDArray[np.uint8], bool] | None = None
    if mask_file is not None:
        mask_image = open_image(mask_file, "mask")
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
    if converted is None and image.format == "PNG" and png_bit_depth(image_file) == 16:
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
