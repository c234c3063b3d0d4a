"""The robust ITA estimate: lesion-free skin of the field of view, even without a mask.

Steps, on one image at analysis resolution:

1. Candidate skin: every pixel of the field of view (not a near-black dermatoscope corner
   connected to the border; ``robust_rule: fov``), or a YCbCr rule's pixels.
2. The lesion grown by ``lesion_margin`` is removed: the ground-truth mask where one exists,
   else the lesion that the suite's Max-Flow segmenter finds (``lesion_estimate: maxflow``).
   An estimated lesion covering almost nothing (``min_lesion_fraction``) is "no lesion
   found": nothing is removed. One covering almost everything (``max_lesion_fraction``)
   leaves too little skin: the estimate is ``uncertain``. Both reasons are recorded.
3. Vignetting: only the central ellipse shrunk by ``border`` is kept, unless it holds less
   than ``rim_share`` of the remaining skin (a lesion that fills the view leaves skin only at
   the rim); then the whole field of view is used.
4. Centre of (L*, b*): by default the mode, a Gaussian mean shift started at the densest
   colour. Lesion remnants, hairs and shadows lie far from the skin colour and carry almost
   no weight, while symmetric skin texture averages out exactly.
5. ITA = ``atan2(L* - 50, b*)`` (:func:`~benchmark.core.fitzpatrick.ita_angle`): a bluish
   colour cast (b* <= 0, common in dermoscopy) is typed by L* instead of left uncertain.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from benchmark.core.color import lightness_and_b
from benchmark.core.config.data import SkintoneConfig
from benchmark.core.fitzpatrick import fst_from_ita, ita_angle
from benchmark.core.manifest import ItaMaskSource

# Mean-shift kernel width in L*/b* units: wider than skin texture (about 1-4 units), narrower
# than the skin-lesion contrast even on dark skin (about 7 units and more).
MODE_BANDWIDTH = 4.0
_MODE_STEPS = 50
_PACK = np.array([65536, 256, 1], dtype=np.int64)
# The lesion the estimate leaves out is grown by a margin anyway, so Max-Flow works coarser
# than for segmentation: on the 30 bundled real images, 96 px against its default 160 gives
# lesion masks of median Dice 0.976 (least 0.883) to the default's at 0.44 of the time.
LESION_WORK_SIZE = 96


@dataclass(frozen=True)
class Lesion:
    """The lesion pixels the robust estimate leaves out.

    Attributes:
        mask: Boolean (H, W), or ``None`` when nothing is left out.
        source: ``ground_truth``, ``estimated`` or ``none``.
        note: Why an estimate fell back ("" when it did not).
    """

    mask: NDArray[np.bool_] | None
    source: ItaMaskSource
    note: str = ""


def grow(lesion: NDArray[np.bool_], margin: float) -> NDArray[np.bool_]:
    """Dilate a boolean mask by ``margin`` times its longer side (elliptic kernel)."""
    radius = round(margin * max(lesion.shape))
    if radius < 1:
        return lesion
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    return np.asarray(cv2.dilate(lesion.astype(np.uint8), kernel).astype(bool))


def estimated_lesion(rgb: NDArray[np.uint8]) -> Lesion:
    """The lesion the Max-Flow segmenter finds in an RGB image of shape (H, W, 3)."""
    from benchmark.core.maxflow import MaxflowParams, segment

    return Lesion(segment(rgb, MaxflowParams(work_size=LESION_WORK_SIZE)) > 0, "estimated")


def checked_lesion(
    lesion: Lesion, fov: NDArray[np.bool_], cfg: SkintoneConfig
) -> tuple[Lesion, NDArray[np.bool_] | None, str]:
    """Apply the coverage rules to an estimated lesion; grow any lesion by the margin.

    Returns:
        The lesion as used (an estimate covering almost nothing becomes source ``none``), the
        grown mask to remove (or ``None``), and a reason to give up ("" when there is none).
    """
    if lesion.mask is None:
        return lesion, None, ""
    grown = grow(lesion.mask, cfg.lesion_margin)
    share = float((grown & fov).sum() / max(int(fov.sum()), 1))
    if lesion.source != "estimated":
        return lesion, grown, ""
    if share < cfg.min_lesion_fraction:
        note = (
            f"estimated lesion covers {share:.1%} of the field of view (under "
            f"{cfg.min_lesion_fraction:.1%}): no lesion found, nothing excluded"
        )
        return Lesion(None, "none", note), None, ""
    if share > cfg.max_lesion_fraction:
        note = (
            f"estimated lesion covers {share:.0%} of the field of view (over "
            f"{cfg.max_lesion_fraction:.0%}): too little skin to measure"
        )
        return Lesion(lesion.mask, "estimated", note), grown, note
    return lesion, grown, ""


def choose_pixels(
    candidates: NDArray[np.bool_], ellipse: NDArray[np.bool_], rim_share: float
) -> NDArray[np.bool_]:
    """The central ellipse's candidates, or all of them when the ellipse holds too few."""
    inner = candidates & ellipse
    if inner.sum() < rim_share * candidates.sum():
        return candidates
    return inner


def mode_centre(rgb_pixels: NDArray[np.uint8]) -> tuple[float, float]:
    """(L*, b*) of the densest colour of pixels (N, 3): a Gaussian mean shift.

    Runs on the distinct 8-bit colours with their counts, so it is exact and fast. The start
    is the peak of the (L*, b*) histogram (1-unit bins) smoothed at half the bandwidth.
    """
    keys, counts = np.unique(rgb_pixels.astype(np.int64) @ _PACK, return_counts=True)
    colours = np.stack([keys >> 16, (keys >> 8) & 255, keys & 255], axis=1).astype(np.uint8)
    light, yellow = (v.astype(np.float64) for v in lightness_and_b(colours))
    weights = counts.astype(np.float64)
    lo_l, lo_b = math.floor(light.min()), math.floor(yellow.min())
    hist, _, _ = np.histogram2d(
        light - lo_l,
        yellow - lo_b,
        bins=(int(light.max() - lo_l) + 2, int(yellow.max() - lo_b) + 2),
        range=((0, int(light.max() - lo_l) + 2), (0, int(yellow.max() - lo_b) + 2)),
        weights=weights,
    )
    smooth = cv2.GaussianBlur(hist.astype(np.float32), (0, 0), MODE_BANDWIDTH / 2)
    row, col = np.unravel_index(int(np.argmax(smooth)), smooth.shape)
    centre = np.array([lo_l + row + 0.5, lo_b + col + 0.5])
    for _ in range(_MODE_STEPS):
        dist = (light - centre[0]) ** 2 + (yellow - centre[1]) ** 2
        kernel = weights * np.exp(-dist / (2 * MODE_BANDWIDTH**2))
        moved = np.array([kernel @ light, kernel @ yellow]) / kernel.sum()
        done = float(np.abs(moved - centre).max()) < 1e-6
        centre = moved
        if done:
            break
    return float(centre[0]), float(centre[1])


def robust_ita(l_star: float, b_star: float) -> tuple[float, str]:
    """ITA (``atan2``) and type of a robust centre."""
    ita = float(ita_angle(l_star, b_star))
    return ita, fst_from_ita(ita)
