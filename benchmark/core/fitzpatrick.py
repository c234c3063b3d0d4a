"""ITA and its mapping to Fitzpatrick skin types (paper section 3.1, SPEC section 3).

Bins, in degrees: ITA > 55 -> I; 41 < ITA <= 55 -> II; 28 < ITA <= 41 -> III;
10 < ITA <= 28 -> IV; -30 < ITA <= 10 -> V; ITA <= -30 -> VI.

Boundary convention: each bin's upper bound is inclusive, so an ITA exactly on a boundary
goes to the darker type (ITA = 55 is II, ITA = -30 is VI). The paper prints integer ranges
("41-55", "28-40") that leave gaps; this convention closes them without overlap.

b* <= 0: ITA = atan((L* - 50) / b*) is undefined at b* = 0 and flips the sign of the angle
for b* < 0 (a bluish "skin" that no real skin has, but that dermatoscopes' colour casts
produce). Three conventions, each used by one estimate:

- :func:`ita_degrees` (guarded; the ``paper_guarded`` estimate): NaN, so the type is ``uncertain``.
- :func:`ita_literal` (the formula exactly as printed; the ``paper`` estimate): b* < 0 gives the
  flipped angle, so a light bluish background (L* = 65, b* = -3: -78.7 degrees) is type VI.
  This is how the paper's Table 1 can hold 1,352 type VI images against 55 type V.
- :func:`ita_angle` (``robust``): ``atan2(L* - 50, b*)``, equal to the printed formula for
  b* > 0 and continuing past +-90 degrees for b* <= 0, so L* > 50 stays light (type I) and
  L* < 50 dark (type VI) whatever the colour cast.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

FstLabel = Literal["I", "II", "III", "IV", "V", "VI"]
FST_LABELS: tuple[FstLabel, ...] = ("I", "II", "III", "IV", "V", "VI")
UNCERTAIN = "uncertain"
MISSING = "missing"  # no estimate at all (an unreadable image, a synthetic row without one)
# The dark-skin set the paper's synthetic data targets and every dark-skin count uses.
DARK_TYPES: tuple[FstLabel, ...] = ("V", "VI")
# The light set the primary contrast subtracts (V-VI minus I-II).
LIGHT_TYPES: tuple[FstLabel, ...] = ("I", "II")
# Every group label in display order: the six types, then the two non-types.
GROUP_ORDER: tuple[str, ...] = (*FST_LABELS, UNCERTAIN, MISSING)
# Below this many ITA type V-VI images, numbers that rest on them are flagged as not reliable.
FEW_DARK = 50
# What tables and figures call the six groups: an estimate of skin colour from the image,
# named as such (not a phototype; benchmark.core.groupings).
SKIN_TYPE = "ITA-estimated skin type"
SKIN_TYPE_SHORT = "ITA type"
FEW_DARK_PHRASE = "numbers about dark skin are not reliable"
# Lower bounds (exclusive) of types I..V; type VI is everything at or below -30.
FST_LOWER_BOUNDS: tuple[float, ...] = (55.0, 41.0, 28.0, 10.0, -30.0)
# Representative ITA range (degrees) used where a finite interval per type is needed.
ITA_RANGE = (-60.0, 80.0)


def ita_literal(l_star: ArrayLike, b_star: ArrayLike) -> NDArray[np.float64]:
    """ITA exactly as the paper prints it, ``atan((L* - 50) / b*)``, with no b* guard.

    b* = 0 gives +90 (L* > 50), -90 (L* < 50) or NaN (L* = 50); b* < 0 flips the sign.

    Args:
        l_star: CIELAB lightness, 0..100; any shape.
        b_star: CIELAB yellow-blue component, broadcastable with ``l_star``.

    Returns:
        ITA in degrees, same broadcast shape.
    """
    l_arr = np.asarray(l_star, dtype=np.float64)
    b_arr = np.asarray(b_star, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(np.degrees(np.arctan((l_arr - 50.0) / b_arr)), dtype=np.float64)


def ita_degrees(l_star: ArrayLike, b_star: ArrayLike) -> NDArray[np.float64]:
    """:func:`ita_literal` with NaN where ``b_star <= 0`` (the guarded rule); same shapes."""
    return np.where(np.asarray(b_star, dtype=np.float64) > 0, ita_literal(l_star, b_star), np.nan)


def ita_angle(l_star: ArrayLike, b_star: ArrayLike) -> NDArray[np.float64]:
    """ITA as the angle of (b*, L* - 50), ``atan2``, in (-180, 180]; same shapes as above.

    Equal to :func:`ita_degrees` where b* > 0. For b* <= 0 the angle lies beyond +-90
    degrees: above 55 (type I) when L* > 50, at or below -30 (type VI) when L* < 50.
    """
    l_arr = np.asarray(l_star, dtype=np.float64)
    return np.asarray(np.degrees(np.arctan2(l_arr - 50.0, b_star)), dtype=np.float64)


def fst_from_ita(ita: float) -> str:
    """Map one ITA value (degrees) to ``"I"``..``"VI"``, or ``"uncertain"`` for NaN."""
    if math.isnan(ita):
        return UNCERTAIN
    for label, lower in zip(FST_LABELS, FST_LOWER_BOUNDS, strict=False):
        if ita > lower:
            return label
    return FST_LABELS[-1]


def fst_interval(label: str) -> tuple[float, float]:
    """Return the (lower, upper] ITA interval of a type, clipped to :data:`ITA_RANGE`."""
    index = FST_LABELS.index(label)
    upper = ITA_RANGE[1] if index == 0 else FST_LOWER_BOUNDS[index - 1]
    lower = FST_LOWER_BOUNDS[index] if index < len(FST_LOWER_BOUNDS) else ITA_RANGE[0]
    return lower, upper


def dark_count(labels: Iterable[object]) -> int:
    """How many of ``labels`` (FST labels, any iterable) are FST V or VI."""
    return sum(1 for label in labels if label in DARK_TYPES)


def ordered_groups(groups: Iterable[str]) -> list[str]:
    """``groups`` in :data:`GROUP_ORDER`, unknown labels after them in sorted order."""
    present = set(groups)
    return [g for g in GROUP_ORDER if g in present] + sorted(present - set(GROUP_ORDER))


def few_dark_warning(dark: int | None, what: str) -> str | None:
    """The one warning for numbers that rest on too few images of ITA type V-VI.

    Args:
        dark: Number of ITA type V-VI images the numbers rest on (None: not recorded).
        what: What they are, singular (``test image``, ``image in this audit``).

    Returns:
        The warning, or None when there are at least :data:`FEW_DARK` of them.
    """
    if dark is None:
        return (
            f"The number of {SKIN_TYPE_SHORT} V–VI {what}s is not recorded here: treat numbers "
            "about dark skin with caution."
        )
    if dark >= FEW_DARK:
        return None
    noun, verb = (what, "is") if dark == 1 else (_plural(what), "are")
    return (
        f"Only {dark} {noun} {verb} {SKIN_TYPE_SHORT} V–VI: {FEW_DARK_PHRASE} "
        f"(fewer than {FEW_DARK})."
    )


def _plural(what: str) -> str:
    head, _, tail = what.partition(" in ")
    head = head if head.endswith("s") else head + "s"
    return f"{head} in {tail}" if tail else head


@dataclass(frozen=True)
class ContrastSpec:
    """A signed contrast ``high - low`` between two sets of skin types.

    Attributes:
        high: The first set (the pre-specified one, in params.yaml ``fairness.contrast``: V, VI).
        low: The set subtracted (there: I, II).
    """

    high: tuple[str, ...]
    low: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.high or not self.low or set(self.high) & set(self.low):
            raise ValueError(f"a contrast needs two disjoint, non-empty sets: {self}")

    @property
    def label(self) -> str:
        """``V–VI − I–II``."""
        return f"{side_label(self.high)} − {side_label(self.low)}"

    @classmethod
    def parse(cls, text: str) -> ContrastSpec:
        """``"V-VI:I-II"`` or ``"V,VI:I,II"`` (HIGH:LOW; a side is a range or a list)."""
        high, sep, low = text.partition(":")
        if not sep:
            raise ValueError(f"contrast {text!r}: write HIGH:LOW, e.g. V-VI:I-II or V,VI:I,II")
        return cls(_side(high), _side(low))


def _side(text: str) -> tuple[str, ...]:
    text = text.strip()
    if re.fullmatch(r"[IV]+-[IV]+", text) and all(t in FST_LABELS for t in text.split("-")):
        first, last = (FST_LABELS.index(t) for t in text.split("-"))
        return tuple(FST_LABELS[min(first, last) : max(first, last) + 1])
    return tuple(t.strip() for t in text.split(",") if t.strip())


def side_label(side: Sequence[str]) -> str:
    """``("V", "VI")`` as ``V–VI``; a set that is not a run of types as ``a/b``."""
    items = list(side)
    if all(t in FST_LABELS for t in items) and len(items) > 1:
        index = [FST_LABELS.index(t) for t in items]
        if index == list(range(index[0], index[0] + len(index))):
            return f"{items[0]}–{items[-1]}"
    return "/".join(items)
