"""Non-learned lesion segmenter: a GrabCut-like max-flow graph cut in CIELAB (PyMaxflow).

The paper's "Max-Flow graph cut" baseline. Per image, at a working resolution whose longer
side is ``work_size`` px (aspect ratio kept):

1. Grey closing removes thin dark hairs; convert to CIELAB (float32, L* 0-100).
2. Near-black pixels (L* < ``border_dark_l``) connected to the border are the dermatoscope's
   dark corners, outside the field of view: no colour model uses them; they are tied to skin.
3. A monotone radial fall-off (vignetting), then a quadratic surface, both fitted robustly to
   the bright (skin) pixels, are taken out of L*.
4. Initial labelling: Otsu on L* (lesions are darker than skin); the dark connected component
   with the largest centre-weighted area.
5. ``iterations`` GrabCut-like rounds: a full-covariance Lab Gaussian per class; unaries =
   negative log-likelihood (nats) + centre prior - contrast-scaled bias on "lesion"; n-links
   ``smoothness * exp(-||dLab||^2 / (2 sigma^2))``, ``sigma^2`` the mean squared neighbour
   difference; min cut; closing; the component overlapping the last estimate; holes filled.

The mask is resized to the input size bilinearly on 0/255, thresholded at 127 (smooth edges).
If L* barely varies in the field of view after shading removal (1st-99th percentile spread <
``min_contrast``), the mask is all zero; if a cut is empty or covers more than
``max_fraction`` of the field of view, the initial labelling is returned. No random draws.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import maxflow
import numpy as np
from numpy.typing import NDArray
from PIL import Image
from tqdm import tqdm

from benchmark.core.imaging import ImageProblemError, open_image, to_rgb8
from benchmark.core.io import atomic_path

Mask = NDArray[np.uint8]
Floats = NDArray[np.float32]
Bools = NDArray[np.bool_]

_TIED = 1e4  # t-link capacity (nats) that no realistic sum of n-links outweighs
_SHADING_STEP = 4  # shading is smooth: it is fitted on a copy this many times smaller


@dataclass(frozen=True)
class MaxflowParams:
    """Settings of :func:`segment`; defaults tuned on 26 real ISIC 2016/HAM10000 pairs.

    A "fraction" is a length over the working image's longer side (independent of work_size).

    Attributes:
        work_size: Longer side of the working image in px. 160 px gives the same Dice as 224
            on the tuning pairs at about 60 % of the time (the graph dominates the cost).
        hair_size: Fraction; diameter of the grey closing that removes hairs (0: off).
        border_dark_l: L* below which border-connected pixels are outside the field of view.
        min_contrast: Least L* spread (99th minus 1st percentile) worth segmenting.
        shading: Take vignetting and smooth illumination gradients out of L* first.
        smoothness: n-link weight ``lambda`` in nats per unit-length edge.
        connectivity: 4 or 8 neighbours per pixel.
        centre_prior: Cost (nats) of "lesion" at the image corners; 0 at the centre,
            quadratic in the distance.
        lesion_bias: Cost (nats) taken off "lesion" everywhere; without it the pale parts
            of multi-coloured lesions (regression, rims) go to skin.
        bias_delta_e: Colour difference (CIE76 dE*ab) between the class means from which the
            full ``lesion_bias`` applies; below it, the bias shrinks in proportion.
        skin_margin: Fraction; band around the current lesion left out of the skin model.
        close_size: Fraction; diameter of the closing applied to each cut.
        iterations: Colour-model fits and cuts (at least 1).
        cov_floor: Added to each colour covariance's diagonal (Lab units squared).
        max_fraction: A cut covering more of the field of view than this is rejected.
    """

    work_size: int = 160
    hair_size: float = 0.03
    border_dark_l: float = 15.0
    min_contrast: float = 3.0
    shading: bool = True
    smoothness: float = 4.0
    connectivity: int = 4
    centre_prior: float = 2.0
    lesion_bias: float = 2.0
    bias_delta_e: float = 12.0
    skin_margin: float = 0.036
    close_size: float = 0.05
    iterations: int = 2
    cov_floor: float = 1.0
    max_fraction: float = 0.95

    def __post_init__(self) -> None:
        if self.work_size < 16 or self.connectivity not in (4, 8) or self.iterations < 1:
            raise ValueError(f"need work_size >= 16, connectivity 4 or 8, iterations >= 1: {self}")

    def px(self, fraction: float) -> int:
        """A length given as a fraction, in whole working px."""
        return round(fraction * self.work_size)


def segment(rgb: NDArray[np.uint8], params: MaxflowParams) -> Mask:
    """Segment the lesion of one dermoscopic image.

    Args:
        rgb: uint8 RGB image of shape (H, W, 3).
        params: Segmenter settings.

    Returns:
        uint8 mask of shape (H, W) with values {0, 255}; 255 marks the lesion.

    Raises:
        ValueError: If ``rgb`` is not a uint8 (H, W, 3) array.
    """
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected uint8 (H, W, 3) RGB, got {rgb.dtype} {rgb.shape}")
    height, width = rgb.shape[:2]
    lesion = _segment_lab(_working_lab(rgb, params), params)
    big = cv2.resize(lesion * np.uint8(255), (width, height), interpolation=cv2.INTER_LINEAR)
    return np.where(big > 127, np.uint8(255), np.uint8(0))


def segment_files(
    paths: Sequence[Path], out_dir: Path, params: MaxflowParams, workers: int = 1
) -> list[dict[str, Any]]:
    """Segment image files and write ``out_dir/<stem>.png`` masks at each image's size.

    Args:
        paths: Image files (any mode ``to_rgb8`` reads) with unique stems (they name masks).
        out_dir: Folder for the masks (created if needed): single-channel 8-bit PNG, {0, 255}.
        params: Segmenter settings.
        workers: Processes to use; 1 runs in this process.

    Returns:
        Per input, in order: ``image`` and ``mask`` (str paths), ``ms`` (time in :func:`segment`).

    Raises:
        ValueError: If two inputs share a stem.
        benchmark.core.imaging.ImageProblemError: If an image is missing or unreadable (names it).
    """
    stems = [Path(p).stem for p in paths]
    if len(set(stems)) != len(stems):
        raise ValueError("image stems must be unique: masks are named <stem>.png")
    jobs = [(Path(p), Path(out_dir) / f"{Path(p).stem}.png", params) for p in paths]
    bar: dict[str, Any] = {"total": len(jobs), "desc": "maxflow", "unit": "img"}
    if workers <= 1 or len(jobs) < 2:
        records = [_segment_one(job) for job in tqdm(jobs, **bar)]
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            records = list(tqdm(pool.map(_segment_one, jobs, chunksize=4), **bar))
    for record in records:
        if "problem" in record:
            raise ImageProblemError(*record["problem"])
    return records


def _segment_one(job: tuple[Path, Path, MaxflowParams]) -> dict[str, Any]:
    image_path, mask_path, params = job
    try:
        rgb, _ = to_rgb8(open_image(image_path))
    except ImageProblemError as problem:
        # Passed back as data: the exception does not survive pickling out of a worker.
        return {"image": str(image_path), "problem": (problem.reason, str(problem))}
    start = time.perf_counter()
    mask = segment(rgb, params)
    elapsed_ms = (time.perf_counter() - start) * 1000
    with atomic_path(mask_path) as tmp:
        Image.fromarray(mask, mode="L").save(tmp, format="PNG")
    return {"image": str(image_path), "mask": str(mask_path), "ms": elapsed_ms}


def _disk(diameter: int) -> Mask:
    """Elliptic structuring element with an odd side of at least ``diameter`` px."""
    return np.asarray(cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (diameter | 1,) * 2))


def _working_lab(rgb: NDArray[np.uint8], params: MaxflowParams) -> Floats:
    """CIELAB float32 (h, w, 3) at the working size, hairs closed."""
    height, width = rgb.shape[:2]
    scale = params.work_size / max(height, width)
    size = (max(round(width * scale), 1), max(round(height * scale), 1))
    shrink = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    small = cv2.resize(np.ascontiguousarray(rgb), size, interpolation=shrink)
    if (hair := params.px(params.hair_size)) > 1:
        small = cv2.morphologyEx(small, cv2.MORPH_CLOSE, _disk(hair))
    image = np.asarray(small, np.float32) * np.float32(1 / 255)
    return np.asarray(cv2.cvtColor(image, cv2.COLOR_RGB2LAB), dtype=np.float32)


def _segment_lab(lab: Floats, params: MaxflowParams) -> Mask:
    """Binary {0, 1} lesion mask of shape (h, w) for a working-size Lab image (modified)."""
    fov = field_of_view(lab[..., 0], params.border_dark_l)
    if params.shading and fov.any():
        lab[..., 0] = _remove_shading(lab[..., 0], fov)
    inside = lab[..., 0][fov]
    if inside.size < 16 or np.ptp(np.percentile(inside, [1, 99])) < params.min_contrast:
        return np.zeros(fov.shape, np.uint8)
    yy, xx = _grid(fov.shape)
    prior = np.asarray((yy**2 + xx**2) / 2, np.float32)  # 0 at the centre, 1 at the corners
    init = _initial_mask(lab[..., 0], fov, prior)
    if not init.any():
        return init
    graph, nodes = _pairwise_graph(lab, params)
    on_graph = np.zeros(fov.shape, np.float32)
    mask = init
    for step in range(params.iterations):
        gain = _lesion_gain(lab, mask, fov, prior, params)
        if gain is None:
            break
        cut = _recut(graph, nodes, gain - on_graph, reuse=step > 0)
        on_graph = gain
        if (closing := params.px(params.close_size)) > 1:
            cut = np.asarray(cv2.morphologyEx(cut, cv2.MORPH_CLOSE, _disk(closing)), np.uint8)
        # The lesion is the part of the cut that overlaps the previous estimate most.
        cut = _keep_component(cut, mask + np.float32(1e-3) * (1 - prior))
        if not cut.any() or cut.sum() > params.max_fraction * fov.sum():
            return init
        mask = cut
    return mask


def _grid(shape: tuple[int, ...]) -> tuple[Floats, Floats]:
    """Row and column coordinates, shapes (h, 1) and (1, w), from -1 to 1 across the image."""
    height, width = shape[:2]
    yy = (np.arange(height, dtype=np.float32) - (height - 1) / 2) / (height / 2)
    xx = (np.arange(width, dtype=np.float32) - (width - 1) / 2) / (width / 2)
    return yy[:, None], xx[None, :]


def field_of_view(light: Floats, dark_l: float = MaxflowParams.border_dark_l) -> Bools:
    """Boolean (H, W): False on pixels of L* (0..100) below ``dark_l`` joined to the border."""
    _, labels = cv2.connectedComponents((light < dark_l).astype(np.uint8), connectivity=8)
    edge = np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])
    return np.asarray(~np.isin(labels, edge[edge > 0]))


def _remove_shading(light: Floats, fov: Bools) -> Floats:
    """L* (h, w) less the skin's vignetting and smooth illumination gradients (fit coarse)."""
    height, width = light.shape
    size = (max(width // _SHADING_STEP, 8), max(height // _SHADING_STEP, 8))
    coarse = np.asarray(cv2.resize(light, size, interpolation=cv2.INTER_AREA), np.float32)
    coarse_fov = cv2.resize(fov.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
    if coarse_fov.sum() < 32:
        return light
    radial = _radial_shading(coarse, coarse_fov)
    shade = radial + _robust_quadratic(coarse - radial, coarse_fov)
    full = cv2.resize(shade, (width, height), interpolation=cv2.INTER_LINEAR)
    return np.asarray(light - full + full[fov].max(), dtype=np.float32)


def _radial_shading(light: Floats, fov: Bools, bins: int = 16) -> Floats:
    """Vignetting of the skin's L* (h, w): a monotone radial upper-quartile profile."""
    yy, xx = _grid(light.shape)
    radius = np.sqrt((yy**2 + xx**2) / 2)
    index = np.minimum((radius * bins).astype(np.int64), bins - 1)[fov]
    values = light[fov]
    ordered = values[np.lexsort((values, index))]
    counts = np.bincount(index, minlength=bins)
    upper_quartile = np.cumsum(counts) - counts + (0.75 * (counts - 1)).astype(np.int64)
    profile = np.where(counts >= 8, ordered[np.clip(upper_quartile, 0, len(ordered) - 1)], -np.inf)
    # Running maximum from the rim inwards: a central lesion cannot pull the centre down.
    envelope = np.maximum.accumulate(profile[::-1])[::-1]
    known = np.isfinite(envelope)
    if not known.any():
        return np.zeros_like(light)
    centres = (np.arange(bins) + 0.5) / bins
    return np.interp(radius, centres[known], envelope[known]).astype(np.float32)


def _robust_quadratic(light: Floats, fov: Bools) -> Floats:
    """Quadratic surface (h, w) fitted to the outer band (skin), refitted without dark pixels."""
    yy, xx = np.broadcast_arrays(*_grid(light.shape))
    design = np.stack([np.ones_like(xx), xx, yy, xx * xx, xx * yy, yy * yy], axis=-1)
    design = design.reshape(-1, 6).astype(np.float64)
    values = light.ravel().astype(np.float64)
    inside = fov.ravel()
    keep = inside & ((np.abs(xx) > 0.7) | (np.abs(yy) > 0.7)).ravel()
    coef = np.zeros(6)
    for _ in range(4):
        if keep.sum() < 12:
            break
        coef = np.linalg.lstsq(design[keep], values[keep], rcond=None)[0]
        residual = values - design @ coef
        median = np.median(residual[keep])
        spread = 1.4826 * np.median(np.abs(residual[keep] - median)) + 0.5
        keep = inside & (residual > median - 2.5 * spread)
    return np.asarray(design @ coef, np.float32).reshape(light.shape)


def _initial_mask(light: Floats, fov: Bools, prior: Floats) -> Mask:
    """Otsu-dark pixels of the field of view, reduced to the most plausible component."""
    dark = (light < _otsu(light[fov])) & fov
    # Central pixels count fully, corner ones not at all: vignette and hair blobs lose.
    return _keep_component(dark.astype(np.uint8), 1 - prior)


def _otsu(values: Floats) -> float:
    """Otsu threshold of a 1-D float sample, found on 256 levels over its range."""
    low, high = float(values.min()), float(values.max())
    step = max(high - low, 1e-6) / 255
    levels = np.round((values - low) / step).astype(np.uint8).reshape(-1, 1)
    level, _ = cv2.threshold(levels, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    return low + (float(level) + 0.5) * step  # cv2's dark class is <= level


def _keep_component(mask: Mask, weight: Floats) -> Mask:
    """The 8-connected component of ``mask`` with the largest summed ``weight``, holes filled."""
    count, labels = cv2.connectedComponents(mask, connectivity=8)
    if count <= 1:
        return np.zeros_like(mask)
    score = np.bincount(labels.ravel(), weights=weight.ravel(), minlength=count)
    score[0] = -np.inf
    chosen = (labels == int(np.argmax(score))).astype(np.uint8)
    # Holes are the background that a flood from outside the (padded) image cannot reach.
    outside = np.pad(chosen, 1)
    cv2.floodFill(outside, None, (0, 0), 1)
    return np.asarray(chosen | (outside[1:-1, 1:-1] == 0), dtype=np.uint8)


def _pairwise_graph(lab: Floats, params: MaxflowParams) -> tuple[Any, Any]:
    """Grid graph holding only the contrast-sensitive n-links, and its node ids (h, w)."""
    offsets = [(0, 1), (1, 0)] + ([(1, 1), (1, -1)] if params.connectivity == 8 else [])
    planes = [np.ascontiguousarray(lab[..., k]) for k in range(3)]
    squared = [_neighbour_sq(planes, dy, dx) for dy, dx in offsets]
    height, width = lab.shape[:2]
    sigma_sq = (squared[0].sum() + squared[1].sum()) / (height * (width - 1) + (height - 1) * width)
    scale = np.float32(-1 / (2 * max(float(sigma_sq), 1e-6)))
    graph = maxflow.Graph[float](height * width, height * width * len(offsets))
    nodes = graph.add_grid_nodes((height, width))
    for (dy, dx), sq in zip(offsets, squared, strict=True):
        weights = np.exp(sq * scale) * np.float32(params.smoothness / np.hypot(dy, dx))
        structure = np.zeros((3, 3), np.float32)
        structure[1 + dy, 1 + dx] = 1
        graph.add_grid_edges(nodes, weights=weights, structure=structure, symmetric=True)
    return graph, nodes


def _neighbour_sq(planes: list[Floats], dy: int, dx: int) -> Floats:
    """``||Lab(p) - Lab(p + (dy, dx))||^2`` at every p (0 where the neighbour is off-grid)."""
    height, width = planes[0].shape
    out = np.zeros((height, width), np.float32)
    cols, moved = slice(max(-dx, 0), width - max(dx, 0)), slice(max(dx, 0), width + min(dx, 0))
    view = out[: height - dy, cols]
    for plane in planes:
        diff = plane[: height - dy, cols] - plane[dy:, moved]
        view += diff * diff
    return out


def _gaussian_nll(lab: Floats, sample: Floats, floor: float) -> Floats:
    """Per-pixel NLL (nats + const), (h, w), under a Gaussian fit to ``sample`` (N, 3)."""
    mean = sample.mean(axis=0, dtype=np.float64)
    cov = np.cov(sample, rowvar=False, dtype=np.float64)
    chol = np.linalg.cholesky(cov + floor * np.eye(3))
    white = np.linalg.inv(chol)
    # cv2.transform whitens (affine map), then sums half the squares, per pixel in C.
    whitened = cv2.transform(lab, np.hstack([white, -(white @ mean)[:, None]]))
    half_sq = np.array([[0.5, 0.5, 0.5, np.log(np.diag(chol)).sum()]])
    nll = cv2.transform(whitened * whitened, half_sq)
    return np.asarray(nll, dtype=np.float32).reshape(lab.shape[:2])


def _lesion_gain(
    lab: Floats, mask: Mask, fov: Bools, prior: Floats, params: MaxflowParams
) -> Floats | None:
    """Cost of "skin" minus cost of "lesion" (nats, (h, w)); None if a class is too small."""
    lesion = (mask > 0) & fov
    skin = (mask == 0) & fov
    if (margin := params.px(params.skin_margin)) > 0:
        far = skin & (cv2.dilate(mask, _disk(2 * margin + 1)) == 0)
        skin = far if far.sum() >= 64 else skin
    if lesion.sum() < 8 or skin.sum() < 8:
        return None
    lesion_lab, skin_lab = lab[lesion], lab[skin]
    gain = _gaussian_nll(lab, skin_lab, params.cov_floor)
    gain -= _gaussian_nll(lab, lesion_lab, params.cov_floor)
    gain -= np.float32(params.centre_prior) * prior
    # Full bias only for lesions clearly unlike the skin: on low-contrast (e.g. dark) skin the
    # colour models overlap and a fixed bias would flood the skin.
    contrast = float(np.linalg.norm(lesion_lab.mean(axis=0) - skin_lab.mean(axis=0)))
    gain += np.float32(params.lesion_bias * min(contrast / params.bias_delta_e, 1.0))
    gain[~fov] = -_TIED
    return gain


def _recut(graph: Any, nodes: Any, change: Floats, reuse: bool) -> Mask:
    """Add ``change`` to the t-links' lesion gain, recut, return the {0, 1} lesion (h, w).

    Source = lesion: a node left on the sink side (skin; True in get_grid_segments()) pays its
    source capacity. Only the capacities' difference matters, so a new gain goes onto the
    residual graph as a change and the search trees are reused (Kohli-Torr dynamic cut).
    """
    graph.add_grid_tedges(nodes, np.maximum(change, 0), np.maximum(-change, 0))
    if reuse:
        graph.mark_grid_nodes(nodes)
    graph.maxflow(reuse_trees=reuse)
    return np.asarray(~graph.get_grid_segments(nodes), dtype=np.uint8)
