"""Binary lesion-mask metrics per image: overlap (IoU, Dice, ...) and boundary distances.

Masks are 2-D arrays of shape (H, W), either bool or uint8 holding only 0 and 255; a pixel
is lesion where the uint8 value is above 128, as in ``isic-challenge-scoring``. Anything
else raises :class:`MaskError`.

Overlap metrics come from the confusion counts TP, FP, FN, TN (pixels):
IoU = TP / (TP + FP + FN), Dice = 2TP / (2TP + FP + FN), precision = TP / (TP + FP),
recall (sensitivity) = TP / (TP + FN), specificity = TN / (TN + FP); all in [0, 1].

Hausdorff and HD95 are in pixels and measured between mask *boundaries*, as medpy and
MONAI do: the boundary of a mask is ``mask & ~binary_erosion(mask, cross)`` with a
4-connected cross and a background border, so lesion pixels on the image edge are boundary
pixels (a mask filling the whole image has the image frame as boundary). With ``d(a, B)``
the Euclidean distance from boundary pixel ``a`` of one mask to the nearest boundary pixel
of the other, Hausdorff is the larger of the two directed maxima and HD95 the 95th
percentile (numpy's linear interpolation) of all directed distances of both directions
together, like medpy ``hd95``.

Empty-mask policy. A metric is NaN exactly when it is undefined, never a silent 0 or 1; the
reason codes are those of :func:`undefined_reasons`. The same rules hold for one image and
for counts summed over many (:func:`overlap_from_counts`):

==========================  =========  =========  =========  ===========  ===============
case                        IoU, Dice  precision  recall     specificity  Hausdorff, HD95
==========================  =========  =========  =========  ===========  ===============
both empty                  NaN (b)    NaN (b)    NaN (b)    TN/(TN+FP)   NaN (b)
truth empty, pred not       0          0          NaN (t)    TN/(TN+FP)   diagonal (o)
pred empty, truth not       0          NaN (p)    0          TN/(TN+FP)   diagonal (o)
truth all lesion (TN+FP=0)  formula    formula    formula    NaN (n)      as for emptiness
==========================  =========  =========  =========  ===========  ===============

Reason codes: (b) ``both_empty``; (t) ``truth_empty``, the truth has no positives; (p)
``pred_empty``, nothing is predicted positive; (o) ``one_empty``: a distance to an empty set
is undefined, so a *missed lesion* (or a lesion found where there is none) is scored with the
penalty :func:`miss_penalty`, the image diagonal in pixels, the largest distance two pixels
of the image can have; (n) ``no_negatives``, the truth has no background pixels.

Not NaN: a NaN would leave the mean, so missing more lesions (plausibly on low-contrast dark
skin) would improve it. ``empty_cases`` counts these images beside the mean.

Equivalently: an overlap metric is NaN when its denominator is zero, and a distance is NaN
only when both masks are empty.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import ndimage

from benchmark.core.fitzpatrick import MISSING

METRICS = ("iou", "dice", "precision", "recall", "specificity", "hausdorff", "hd95")
OVERLAP_METRICS = METRICS[:5]
DISTANCE_METRICS = METRICS[5:]
EMPTY_CASES = ("both_empty", "truth_empty", "pred_empty")

BoolMask = NDArray[np.bool_]
_CROSS = ndimage.generate_binary_structure(2, 1)


class MaskError(ValueError):
    """A mask is not a 2-D binary array, or two masks do not match in shape."""


def as_binary(mask: Any, what: str = "mask") -> BoolMask:
    """Validate a mask and return it as bool.

    Args:
        mask: Array of shape (H, W), bool, or uint8 with values only 0 and 255.
        what: How to name the mask in errors (e.g. ``"truth"`` or a file path).

    Returns:
        Bool array of shape (H, W), True for lesion.

    Raises:
        MaskError: Not a numpy array, not 2-D, no pixels, a dtype other than bool/uint8, or
            uint8 values other than 0 and 255.
    """
    if not isinstance(mask, np.ndarray):
        raise MaskError(f"{what} is a {type(mask).__name__}, expected a numpy array")
    if mask.ndim != 2:
        raise MaskError(f"{what} has shape {mask.shape}, expected a 2-D (H, W) mask")
    if mask.size == 0:
        raise MaskError(f"{what} has shape {mask.shape}: no pixels")
    if mask.dtype == np.bool_:
        return mask
    if mask.dtype != np.uint8:
        raise MaskError(f"{what} has dtype {mask.dtype}, expected bool or uint8 (0/255)")
    # bincount over 256 bins is linear time, unlike np.unique's sort on multi-megapixel masks.
    present = np.flatnonzero(np.bincount(mask.ravel(), minlength=256))
    bad = [int(v) for v in present if v not in (0, 255)]
    if bad:
        raise MaskError(
            f"{what} has values {bad[:8]}{' ...' if len(bad) > 8 else ''}; "
            "expected only 0 and 255 (or a bool array)"
        )
    return mask > 128


def _pair(truth: Any, pred: Any) -> tuple[BoolMask, BoolMask]:
    t = as_binary(truth, "truth")
    p = as_binary(pred, "pred")
    if t.shape != p.shape:
        raise MaskError(f"truth has shape {t.shape} but pred has shape {p.shape}")
    return t, p


def confusion(truth: Any, pred: Any) -> tuple[int, int, int, int]:
    """Pixel confusion counts of a prediction against the truth.

    Args:
        truth: Reference mask, shape (H, W), bool or uint8 0/255.
        pred: Predicted mask, same shape and rules.

    Returns:
        ``(tp, fp, fn, tn)`` in pixels; they sum to H * W.

    Raises:
        MaskError: See :func:`as_binary`; also when the shapes differ.
    """
    t, p = _pair(truth, pred)
    tp = int(np.count_nonzero(t & p))
    fp = int(np.count_nonzero(p)) - tp
    fn = int(np.count_nonzero(t)) - tp
    return tp, fp, fn, t.size - tp - fp - fn


def _ratio(num: int, den: int) -> float:
    return num / den if den > 0 else math.nan


def overlap_from_counts(tp: int, fp: int, fn: int, tn: int) -> dict[str, float]:
    """IoU, Dice, precision, recall and specificity from confusion counts.

    Works for one image or for counts summed over several (pooled); the empty policy of
    the module docstring follows from "NaN when the denominator is zero".

    Args:
        tp: True-positive pixels.
        fp: False-positive pixels.
        fn: False-negative pixels.
        tn: True-negative pixels.

    Returns:
        The five overlap metrics (keys of ``OVERLAP_METRICS``), each in [0, 1] or NaN.

    Raises:
        ValueError: A count is negative.
    """
    if min(tp, fp, fn, tn) < 0:
        raise ValueError(f"confusion counts must be >= 0, got tp={tp} fp={fp} fn={fn} tn={tn}")
    return {
        "iou": _ratio(tp, tp + fp + fn),
        "dice": _ratio(2 * tp, 2 * tp + fp + fn),
        "precision": _ratio(tp, tp + fp),
        "recall": _ratio(tp, tp + fn),
        "specificity": _ratio(tn, tn + fp),
    }


def _case_from_counts(tp: int, fp: int, fn: int) -> str | None:
    truth_empty = tp + fn == 0
    pred_empty = tp + fp == 0
    if truth_empty and pred_empty:
        return "both_empty"
    if truth_empty:
        return "truth_empty"
    return "pred_empty" if pred_empty else None


def empty_case(truth: Any, pred: Any) -> str | None:
    """Which mask is empty: ``"both_empty"``, ``"truth_empty"``, ``"pred_empty"`` or None.

    Args:
        truth: Reference mask, shape (H, W), bool or uint8 0/255.
        pred: Predicted mask, same shape and rules.
    """
    tp, fp, fn, _ = confusion(truth, pred)
    return _case_from_counts(tp, fp, fn)


def undefined_reasons(tp: int, fp: int, fn: int, tn: int) -> dict[str, str]:
    """Why each NaN metric is undefined, for confusion counts of one image or pooled.

    Args:
        tp: True-positive pixels.
        fp: False-positive pixels.
        fn: False-negative pixels.
        tn: True-negative pixels.

    Returns:
        ``{metric: reason}`` for the metrics that are NaN under the empty policy; reasons are
        ``both_empty``, ``truth_empty``, ``pred_empty``, ``no_negatives`` (a distance with
        one empty mask is the penalty, not NaN).
    """
    case = _case_from_counts(tp, fp, fn)
    reasons: dict[str, str] = {}
    if case == "both_empty":
        reasons.update(dict.fromkeys(("iou", "dice", "precision", "recall"), case))
        reasons.update(dict.fromkeys(DISTANCE_METRICS, case))
    elif case is not None:
        reasons["recall" if case == "truth_empty" else "precision"] = case
    if tn + fp == 0:
        reasons["specificity"] = "no_negatives"
    return reasons


def boundary(mask: Any) -> BoolMask:
    """Boundary pixels of a mask: lesion pixels with a 4-neighbour outside the lesion.

    Pixels beyond the image edge count as background, so lesion pixels on the edge are
    boundary pixels.

    Args:
        mask: Mask of shape (H, W), bool or uint8 0/255.

    Returns:
        Bool array of shape (H, W).
    """
    m = as_binary(mask)
    eroded: BoolMask = np.asarray(ndimage.binary_erosion(m, _CROSS, border_value=0), bool)
    return m & ~eroded


def _crop(t: BoolMask, p: BoolMask) -> tuple[BoolMask, BoolMask]:
    """Crop both masks to their joint bounding box plus one background pixel where possible.

    Boundaries and distances are unchanged: the margin keeps interior crop edges background,
    and distances between pixels do not depend on the origin. Saves time on large images.
    """
    rows = np.flatnonzero((t | p).any(axis=1))
    cols = np.flatnonzero((t | p).any(axis=0))
    r0, r1 = max(int(rows[0]) - 1, 0), int(rows[-1]) + 2
    c0, c1 = max(int(cols[0]) - 1, 0), int(cols[-1]) + 2
    return t[r0:r1, c0:c1], p[r0:r1, c0:c1]


def directed_distances(truth: Any, pred: Any) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Distances from each boundary pixel of one mask to the other mask's boundary.

    Uses exact Euclidean distance transforms, not pairwise distances.

    Args:
        truth: Reference mask, shape (H, W), bool or uint8 0/255, not empty.
        pred: Predicted mask, same shape and rules.

    Returns:
        ``(truth_to_pred, pred_to_truth)`` in pixels: 1-D arrays, one value per boundary
        pixel of ``truth`` and of ``pred`` respectively.

    Raises:
        MaskError: Invalid masks, different shapes, or an empty mask (distance undefined).
    """
    t, p = _pair(truth, pred)
    if not t.any() or not p.any():
        raise MaskError("boundary distances are undefined when a mask is empty")
    t, p = _crop(t, p)
    bt, bp = boundary(t), boundary(p)
    # EDT measures the distance to the nearest zero, so invert the target boundary.
    to_pred = np.asarray(ndimage.distance_transform_edt(~bp), np.float64)
    to_truth = np.asarray(ndimage.distance_transform_edt(~bt), np.float64)
    return to_pred[bt], to_truth[bp]


def miss_penalty(shape: tuple[int, ...]) -> float:
    """Hausdorff/HD95 of an image where one mask is empty: the diagonal, in pixels.

    Args:
        shape: The mask shape (H, W).
    """
    return float(math.hypot(shape[0], shape[1]))


def hausdorff_hd95(truth: Any, pred: Any) -> tuple[float, float]:
    """Symmetric Hausdorff distance and HD95 between mask boundaries, in pixels.

    Args:
        truth: Reference mask, shape (H, W), bool or uint8 0/255.
        pred: Predicted mask, same shape and rules.

    Returns:
        ``(hausdorff, hd95)``; both NaN when both masks are empty, both
        :func:`miss_penalty` when exactly one is.
    """
    t, p = _pair(truth, pred)
    if not t.any() and not p.any():
        return math.nan, math.nan
    if not t.any() or not p.any():
        penalty = miss_penalty(t.shape)
        return penalty, penalty
    a, b = directed_distances(t, p)
    both = np.concatenate([a, b])
    return float(max(a.max(), b.max())), float(np.percentile(both, 95))


def score_pair(truth: Any, pred: Any) -> dict[str, float]:
    """All metrics of one image under the module's empty policy.

    Args:
        truth: Reference mask, shape (H, W), bool or uint8 0/255.
        pred: Predicted mask, same shape and rules.

    Returns:
        ``{metric: value}`` for every name in ``METRICS``; overlap metrics in [0, 1],
        distances in pixels, NaN where undefined (see :func:`undefined_reasons`).

    Raises:
        MaskError: Invalid masks or different shapes.
    """
    t, p = _pair(truth, pred)
    scores = overlap_from_counts(*confusion(t, p))
    scores["hausdorff"], scores["hd95"] = hausdorff_hd95(t, p)
    return scores


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def case_of_scores(scores: Mapping[str, Any]) -> str | None:
    """The empty case of an image from its scores, as :func:`empty_case` gives it.

    Under the module's policy recall is NaN exactly when the truth is empty, and precision
    exactly when the prediction is.

    Args:
        scores: One image's scores with at least ``precision`` and ``recall``.
    """
    truth_empty, pred_empty = _is_nan(scores["recall"]), _is_nan(scores["precision"])
    if truth_empty and pred_empty:
        return "both_empty"
    if truth_empty:
        return "truth_empty"
    return "pred_empty" if pred_empty else None


def summarise(per_image: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Mean of each metric over images, ignoring NaN, with how many images define it.

    Args:
        per_image: Scores from :func:`score_pair`, one mapping per image (other keys, such
            as ``image_id``, are ignored).

    Returns:
        ``mean`` ({metric: nanmean}, NaN where no image defines the metric), ``n_defined``
        ({metric: images with a value}), ``n_images`` and ``empty_cases`` ({case: images}).
    """
    mean: dict[str, float] = {}
    n_defined: dict[str, int] = {}
    for metric in METRICS:
        values = np.array([float(row[metric]) for row in per_image], dtype=np.float64)
        defined = values[~np.isnan(values)]
        n_defined[metric] = int(defined.size)
        mean[metric] = float(defined.mean()) if defined.size else math.nan
    cases = dict.fromkeys(EMPTY_CASES, 0)
    for row in per_image:
        if (case := case_of_scores(row)) is not None:
            cases[case] += 1
    return {"mean": mean, "n_defined": n_defined, "n_images": len(per_image), "empty_cases": cases}


def _group_label(group: Any) -> str:
    if pd.api.types.is_scalar(group) and pd.isna(group):  # None, NaN, pd.NA
        return MISSING
    return str(group)


def by_group(
    per_image: Sequence[Mapping[str, Any]], groups: Sequence[Any]
) -> dict[str, dict[str, Any]]:
    """:func:`summarise` per group (e.g. Fitzpatrick type), fairlearn ``MetricFrame``-like.

    Args:
        per_image: Scores from :func:`score_pair`, one mapping per image, shape (n,).
        groups: Group label per image, aligned with ``per_image``, shape (n,); None or NaN
            go to group ``"missing"``. Labels are turned into strings.

    Returns:
        ``{group: {"support", "mean", "n_defined", "empty_cases"}}`` in sorted group order;
        ``support`` is the number of images in the group.

    Raises:
        ValueError: ``groups`` and ``per_image`` differ in length.
    """
    if len(groups) != len(per_image):
        raise ValueError(f"per_image has {len(per_image)} items but groups has {len(groups)}")
    members: dict[str, list[Mapping[str, Any]]] = {}
    for row, group in zip(per_image, groups, strict=True):
        members.setdefault(_group_label(group), []).append(row)
    out: dict[str, dict[str, Any]] = {}
    for label in sorted(members):
        summary = summarise(members[label])
        out[label] = {"support": summary.pop("n_images"), **summary}
    return out
