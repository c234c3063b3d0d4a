"""Does colour constancy make the robust ITA estimate robust to a dermatoscope's colour cast?

A measurement, not a test. Phantoms (uniform skin-type mix, so dark skin is represented)
are rendered with ground truth; each is given every planted cast of :data:`CASTS` (a
white-balance shift, R and B gains in linear RGB with G fixed, "warm" and "cool"; an
illumination gain on all channels; and no cast), then optionally colour-corrected with each
method of :mod:`benchmark.skintone.constancy`, then estimated (``estimate(...)["robust"]``,
ground-truth lesion mask, ``default(SkintoneConfig)`` defaults). Prints per method and cast family:

- ``ita_mae``: mean absolute ITA error (degrees) against ``true_ita``, over certain estimates;
- ``type_changed``: share of images whose type differs from the uncast, uncorrected estimate;
- ``uncertain``: share uncertain (the estimate's, or the correction's note);
- ``b_star_median``: median b* of the estimates (a method that greys the skin drives it to 0);
- ``type_accuracy``: share whose type equals ``fst_label`` (uncertain counts as wrong).

With ``--realdata``, the same for the real dermoscopy images (light skin, no ground truth):
how many land in V-VI, how many are uncertain, how many change type.

Usage (about a minute for 120 phantoms of 256 px on 2 cores)::

    python -m tests.perf.colour_cast --n 120 --size 256 --seed 7 --realdata /work/shared/realdata
"""

from __future__ import annotations

import argparse
import math
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from PIL import Image

from benchmark.core.config.data import PhantomConfig, SkintoneConfig
from benchmark.core.fitzpatrick import DARK_TYPES, UNCERTAIN
from benchmark.core.manifest import read_manifest
from benchmark.phantoms.generate import generate_phantoms
from benchmark.skintone.constancy import METHODS, Method, apply_cast, correct
from benchmark.skintone.estimate import estimate
from benchmark.skintone.run import load_for_ita
from tests.support.config import default, paper

UNIFORM_MIX = (1 / 6,) * 6


@dataclass(frozen=True)
class Cast:
    """A planted cast: (R, G, B) gains in linear RGB."""

    name: str
    family: str
    gains: tuple[float, float, float]


CASTS: tuple[Cast, ...] = (
    Cast("none", "none", (1.0, 1.0, 1.0)),
    Cast("warm 1.12", "warm", (1.12, 1.0, 1 / 1.12)),
    Cast("warm 1.25", "warm", (1.25, 1.0, 0.8)),
    Cast("cool 1.12", "cool", (1 / 1.12, 1.0, 1.12)),
    Cast("cool 1.25", "cool", (0.8, 1.0, 1.25)),
    Cast("dim 0.6", "illumination", (0.6, 0.6, 0.6)),
    Cast("dim 0.8", "illumination", (0.8, 0.8, 0.8)),
    Cast("bright 1.15", "illumination", (1.15, 1.15, 1.15)),
    Cast("bright 1.3", "illumination", (1.3, 1.3, 1.3)),
)
FAMILIES = ("none", "warm", "cool", "illumination")

Sample = tuple[str, NDArray[np.uint8], NDArray[np.bool_] | None]


def cast_estimates(
    samples: Iterable[Sample],
    methods: Sequence[Method] = METHODS,
    casts: Sequence[Cast] = CASTS,
    cfg: SkintoneConfig | None = None,
) -> pd.DataFrame:
    """Robust ITA of every image under every cast and method (one row each).

    Args:
        samples: ``(image_id, rgb, lesion)``: uint8 (H, W, 3) and a bool (H, W) mask or None.
        methods: Colour-constancy methods, applied to the cast image before the estimate.
        casts: Planted casts; the first should be the no-cast case.
        cfg: Estimate settings (``default(SkintoneConfig)`` if None).

    Returns:
        Columns ``image_id, cast, family, method, ita, b_star, fst, note``.
    """
    cfg = cfg or default(SkintoneConfig)
    rows = []
    for image_id, rgb, lesion in samples:
        for cast in casts:
            seen = apply_cast(rgb, cast.gains)
            for method in methods:
                fixed = correct(seen, method)
                got = estimate(fixed.rgb, lesion, cfg)["robust"]
                uncertain = bool(fixed.note) or got.fst == UNCERTAIN
                rows.append({
                    "image_id": image_id, "cast": cast.name, "family": cast.family,
                    "method": method, "ita": math.nan if uncertain else got.ita,
                    "b_star": math.nan if uncertain else got.b_star,
                    "fst": UNCERTAIN if uncertain else got.fst, "note": fixed.note or got.note,
                })  # fmt: skip
    return pd.DataFrame(rows)


def _with_reference(rows: pd.DataFrame) -> pd.DataFrame:
    """Add ``reference_fst``: the type without cast and without correction."""
    plain = rows[(rows.cast == rows.cast.iloc[0]) & (rows.method == "none")]
    reference = plain.set_index("image_id")["fst"].rename("reference_fst")
    return rows.join(reference, on="image_id")


def summarise(rows: pd.DataFrame, truth: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per method and cast family: n, errors and shares (see the module docstring).

    Args:
        rows: :func:`cast_estimates`' output.
        truth: ``true_ita`` and ``fst_label`` indexed by image_id, or None (real images:
            ``dark`` and ``uncertain`` counts instead of errors).

    Returns:
        One row per (method, family).
    """
    rows = _with_reference(rows)
    rows["changed"] = rows.fst != rows.reference_fst
    rows["uncertain"] = rows.fst == UNCERTAIN
    rows["dark"] = rows.fst.isin(DARK_TYPES)
    if truth is not None:
        rows = rows.join(truth, on="image_id")
        rows["abs_error"] = (rows.ita - rows.true_ita).abs()
        rows["correct"] = rows.fst == rows.fst_label
    agg: dict[str, tuple[str, str]] = {
        "n": ("changed", "size"),
        "type_changed": ("changed", "mean"),
        "uncertain": ("uncertain", "mean"),
        "b_star_median": ("b_star", "median"),
    }
    if truth is not None:
        agg |= {"ita_mae": ("abs_error", "mean"), "type_accuracy": ("correct", "mean")}
    else:
        agg |= {
            "ita_median": ("ita", "median"),
            "dark_count": ("dark", "sum"),
            "uncertain_count": ("uncertain", "sum"),
        }
    rows["method"] = pd.Categorical(rows.method, categories=METHODS)
    rows["family"] = pd.Categorical(rows.family, categories=FAMILIES)
    out = rows.groupby(["method", "family"], observed=True).agg(**agg).reset_index()
    return out.astype({"method": str, "family": str})


def phantom_samples(manifest: pd.DataFrame, root: Path) -> Iterator[Sample]:
    """``(image_id, rgb, ground-truth lesion)`` of every phantom in a manifest."""
    for row in manifest.itertuples():
        rgb = np.asarray(Image.open(root / str(row.image_path)).convert("RGB"))
        lesion = np.asarray(Image.open(root / str(row.mask_path))) > 0
        yield str(row.image_id), rgb, lesion


def cast_errors(
    manifest: pd.DataFrame,
    root: Path,
    methods: Sequence[Method] = METHODS,
    casts: Sequence[Cast] = CASTS,
) -> pd.DataFrame:
    """Per method and cast family, the robust ITA's errors on phantoms (see the docstring).

    Args:
        manifest: A phantom manifest (``image_path, mask_path, true_ita, fst_label``).
        root: The folder the manifest's paths are relative to.
        methods: Colour-constancy methods.
        casts: Planted casts; the first is the reference (no cast).

    Returns:
        Columns ``method, family, n, type_changed, uncertain, b_star_median, ita_mae,
        type_accuracy``.
    """
    rows = cast_estimates(phantom_samples(manifest, root), methods, casts)
    truth = manifest.set_index("image_id")[["true_ita", "fst_label"]]
    return summarise(rows, truth)


def real_samples(realdata: Path, max_side: int) -> Iterator[Sample]:
    """The real dermoscopy images with lesion masks, decoded as the skintone stage does."""
    pairs = [(p, p.with_name(f"{p.stem}_Segmentation.png"))
             for p in sorted((realdata / "isic2016_seg").glob("*.jpg"))]  # fmt: skip
    pairs += [(p, realdata / "ham10000_seg" / "masks" / f"{p.stem}.png")
              for p in sorted((realdata / "ham10000_seg" / "images").glob("*.jpg"))]  # fmt: skip
    for image, mask in pairs:
        rgb, lesion, _ = load_for_ita(image, mask if mask.is_file() else None, max_side)
        yield image.stem, rgb, lesion


def _markdown(table: pd.DataFrame) -> str:
    return str(table.to_markdown(index=False, floatfmt=".3f"))


def main(argv: Sequence[str] | None = None) -> None:
    """Print the phantom table and, with ``--realdata``, the real-image table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=120, help="number of phantoms")
    parser.add_argument("--size", type=int, default=256, help="phantom side (pixels)")
    parser.add_argument("--seed", type=int, default=7, help="phantom seed")
    parser.add_argument("--realdata", type=Path, default=None, help="real image folder")
    args = parser.parse_args(argv)
    casts = "; ".join(f"{c.name} = gains {tuple(round(g, 3) for g in c.gains)}" for c in CASTS)
    print(f"Casts (linear R, G, B gains): {casts}\n")
    with tempfile.TemporaryDirectory() as tmp:
        cfg = paper(PhantomConfig, n=args.n, size=args.size, seed=args.seed, fst_mix=UNIFORM_MIX)
        manifest = generate_phantoms(cfg, Path(tmp) / "phantoms", progress=False, workers=0)
        manifest = read_manifest(Path(tmp) / "phantoms" / "manifest.parquet")
        table = cast_errors(manifest, Path(tmp) / "phantoms")
    print(f"Phantoms: n={args.n}, size={args.size}, seed={args.seed}, uniform type mix, "
          f"median true b* {manifest.true_b_star.median():.1f}\n")  # fmt: skip
    print(_markdown(table))
    if args.realdata is not None:
        rows = cast_estimates(real_samples(args.realdata, default(SkintoneConfig).max_side))
        print(f"\nReal images ({rows.image_id.nunique()}, light skin), counts over casts\n")
        print(_markdown(summarise(rows)))


if __name__ == "__main__":
    main()
