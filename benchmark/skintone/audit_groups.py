"""Skin type from the images when the predictions carry none (``audit --images DIR``).

The suite's robust ITA estimate (lesion and vignette left out, modal skin colour; the same
call as ``skinbench ita --robust``) is made for every image of the folder and joined to the
predictions by image id (file stem). The groups are estimates, not annotations, and the
audit says so with the count of ``uncertain`` images and of rows without an image.
It lives with the estimator, so that the audit itself (and the ``fairness`` stage) never
depends on image code: the CLI passes it in.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from benchmark.core.config.data import SkintoneConfig
from benchmark.core.fitzpatrick import MISSING, UNCERTAIN
from benchmark.core.io import FileContentError
from benchmark.skintone.run import find_images, ita_table

ESTIMATE = "robust"


@dataclass(frozen=True)
class ImageGroups:
    """Estimated types joined to the predictions.

    Attributes:
        fst: Type per predictions row (``missing`` where no image matched).
        note: The sentence the audit prints about them.
        problems: Unreadable images and the like, to print on stderr.
    """

    fst: pd.Series
    note: str
    problems: tuple[str, ...]


def estimate_groups(
    frame: pd.DataFrame,
    images: Path,
    masks: Path | None,
    path: Path | str,
    cfg: SkintoneConfig,
    id_col: str = "image_id",
    progress: bool = False,
) -> ImageGroups:
    """Robust ITA type per predictions row from the images in ``images``.

    Args:
        frame: The predictions (one row per image, ``id_col`` naming it by file stem).
        images: Folder (or file) of the images.
        masks: Folder of lesion masks matched by stem; without it Max-Flow estimates the
            lesion to leave out.
        path: The predictions file, for messages.
        cfg: The robust estimate's settings (the skintone stage's).
        id_col: Image-id column.
        progress: Show a progress bar.

    Raises:
        FileContentError: No ``id_col`` column, or no predictions row matches an image.
    """
    if id_col not in frame.columns:
        raise FileContentError(path, f"--images needs an '{id_col}' column to match images")
    table, problems = ita_table(find_images([images]), masks, ESTIMATE, cfg, progress)
    by_id = dict(zip(table["image_id"].astype(str), table["fst"].astype(str), strict=True))
    fst = frame[id_col].astype(str).map(by_id)
    unmatched = int(fst.isna().sum())
    if unmatched == len(frame):
        raise FileContentError(
            path, f"no '{id_col}' matches an image stem under {images}", column=id_col
        )
    fst = fst.fillna(MISSING)
    uncertain = int((fst == UNCERTAIN).sum())
    note = (
        f"groups are robust ITA estimates from the images in {images} (as `skinbench ita "
        f"--robust`), not annotations: {uncertain} uncertain, {unmatched} row(s) without an "
        "image (missing)"
    )
    return ImageGroups(fst, note, tuple(problems))
