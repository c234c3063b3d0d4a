"""Patient-level train/val/test splits, stratified, seeded, with a leakage check.

Assignment is a greedy balanced partition: patients are visited largest first (ties in a
seeded random order) and each goes, whole, to the split whose per-stratum image counts it
brings closest to the target fractions (squared relative error, every stratum weighted by
1/its size, plus the overall size). Unlike k-fold stratification it balances image shares and
strata at once, and it is deterministic for a seed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from benchmark.config.data import SplitConfig

SPLIT_NAMES = ("train", "val", "test")
TONE_GROUPS = {
    "I": "I-II",
    "II": "I-II",
    "III": "III-IV",
    "IV": "III-IV",
    "V": "V-VI",
    "VI": "V-VI",
    "uncertain": "uncertain",
}


class SplitError(ValueError):
    """A split violates a rule (patient leakage, synthetic rows in test)."""


def tone_group(fst: pd.Series) -> pd.Series:
    """Coarse skin-tone group for stratification: I-II, III-IV, V-VI, uncertain/unknown."""
    return fst.map(TONE_GROUPS).fillna("unknown").astype(str)


def assign(
    frame: pd.DataFrame,
    group_col: str,
    strata: Sequence[str],
    fractions: Sequence[float],
    seed: int,
    names: Sequence[str] = SPLIT_NAMES,
) -> pd.Series:
    """Assign every row to a split so that no group (patient) spans two splits.

    Args:
        frame: One row per image.
        group_col: Column naming the patient (or any unit that must stay together).
        strata: Columns whose combined value should keep its share in every split.
        fractions: Target image share per split, same length as ``names``.
        seed: Seed of the tie-breaking patient order.
        names: Split names.

    Returns:
        Split name per row, indexed like ``frame``.
    """
    if len(fractions) != len(names):
        raise ValueError(f"{len(fractions)} fractions for {len(names)} splits")
    if strata:
        # Missing values (unlabelled images, unknown tone) form their own stratum.
        cells = frame[list(strata)].astype(object).fillna("missing").astype(str)
        key = cells.agg("|".join, axis=1)
    else:
        key = pd.Series("all", index=frame.index)
    # Sorted codes make the result independent of row order.
    codes, _ = pd.factorize(key, sort=True)
    groups, _ = pd.factorize(frame[group_col].astype(str), sort=True)
    counts = np.zeros((groups.max() + 1, codes.max() + 1))
    np.add.at(counts, (groups, codes), 1.0)
    chosen = _greedy(counts, np.asarray(fractions, dtype=float), seed)
    return pd.Series(np.asarray(names)[chosen[groups]], index=frame.index, name="split")


def _greedy(counts: np.ndarray, fractions: np.ndarray, seed: int) -> np.ndarray:
    """Split index per group; ``counts`` is groups x strata."""
    totals = counts.sum(axis=0)
    # One extra column for the overall size, so image shares hold as well as strata shares.
    counts = np.hstack([counts, counts.sum(axis=1, keepdims=True)])
    totals = np.append(totals, totals.sum())
    weight = 1.0 / totals
    target = np.outer(fractions, totals)
    current = np.zeros_like(target)
    order = np.random.default_rng(seed).permutation(len(counts))
    order = order[np.argsort(-counts[order, -1], kind="stable")]
    chosen = np.empty(len(counts), dtype=int)
    for g in order:
        before = (current - target) ** 2
        after = (current + counts[g] - target) ** 2
        best = int(np.argmin((after - before) @ weight))
        current[best] += counts[g]
        chosen[g] = best
    return chosen


def check_splits(frame: pd.DataFrame) -> None:
    """Refuse leakage: a patient in two splits, or a synthetic image in test.

    Raises:
        SplitError: Naming up to ten offending patients or images.
    """
    spread = frame.groupby("patient_id")["split"].nunique()
    leaked = spread[spread > 1]
    if len(leaked):
        raise SplitError(
            f"{len(leaked)} patient(s) in more than one split: {leaked.index.tolist()[:10]}"
        )
    bad = frame[(frame["split"] == "test") & (frame["source"] != "real")]
    if len(bad):
        raise SplitError(
            f"{len(bad)} synthetic image(s) in the test split: {bad['image_id'].tolist()[:10]}"
        )


def make_splits(manifest: pd.DataFrame, cfg: SplitConfig) -> pd.DataFrame:
    """Split real rows 70/15/15 by patient; synthetic rows go to train (or train/val).

    Args:
        manifest: Real and synthetic rows (``source``), with ``patient_id`` and the strata
            columns (``tone_group`` is derived from ``fst`` when absent).
        cfg: Fractions, seed, strata and ``paper_mode``.

    Returns:
        The manifest with ``split`` (and ``tone_group``), checked by :func:`check_splits`.
    """
    frame = manifest.copy()
    if "tone_group" in cfg.strata and "tone_group" not in frame:
        frame["tone_group"] = tone_group(frame["fst"]) if "fst" in frame else "unknown"
    real = frame["source"] == "real"
    frame.loc[real, "split"] = assign(
        frame[real], "patient_id", cfg.strata, cfg.fractions, cfg.seed
    )
    synthetic = ~real
    if synthetic.any():
        if cfg.paper_mode:
            train, val, _ = cfg.fractions
            frame.loc[synthetic, "split"] = assign(
                frame[synthetic],
                "patient_id",
                cfg.strata,
                (train / (train + val), val / (train + val)),
                cfg.seed,
                names=("train", "val"),
            )
        else:
            frame.loc[synthetic, "split"] = "train"
    check_splits(frame)
    return frame


def composition(frame: pd.DataFrame) -> pd.DataFrame:
    """Image counts by split x superclass x FST x source (missing values shown as such)."""
    cols = ["split", "superclass", "fst", "source"]
    present = [c for c in cols if c in frame]
    table = frame[present].astype(object).fillna("missing").value_counts().rename("images")
    return table.reset_index().sort_values(present).reset_index(drop=True)


def summary(frame: pd.DataFrame) -> dict[str, Any]:
    """Per split: images, share, patients, melanocytic share, synthetic count."""
    out: dict[str, Any] = {}
    for name in SPLIT_NAMES:
        part = frame[frame["split"] == name]
        out[name] = {
            "images": len(part),
            "share": len(part) / max(len(frame), 1),
            "patients": int(part["patient_id"].nunique()),
            "melanocytic_share": float((part["superclass"] == "melanocytic").mean())
            if len(part)
            else float("nan"),
            "synthetic": int((part["source"] == "synthetic").sum()),
        }
    if "patient_id_source" in frame:
        out["images_without_patient_id"] = int((frame["patient_id_source"] == "image_id").sum())
    return out


def composition_markdown(frame: pd.DataFrame) -> str:
    """The composition table as Markdown, with notes on what limits the split's guarantees."""
    notes = []
    stand_in = (
        int((frame["patient_id_source"] == "image_id").sum()) if "patient_id_source" in frame else 0
    )
    if stand_in:
        notes.append(
            f"{stand_in} image(s) have no patient id; the image id stands in, so "
            "images of one patient may fall into different splits."
        )
    lesion = (
        int((frame["patient_id_source"] == "lesion_id").sum())
        if "patient_id_source" in frame
        else 0
    )
    if lesion:
        notes.append(f"{lesion} image(s) have no patient id; their lesion id stands in.")
    if "dataset" in frame and bool((frame["dataset"] == "phantoms").all()):
        notes.append("All images are phantoms; 'real' means not generated by the diffusion model.")
    lines = [composition(frame).to_markdown(index=False), ""]
    return "\n".join(lines + [f"- {n}" for n in notes]) + "\n"
