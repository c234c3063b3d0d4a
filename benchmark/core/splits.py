"""Patient-level train/val/test splits of real rows, stratified, seeded, leak-checked.

The unit kept whole is a *split group*: the connected component of patient ids and lesion
ids, so that an image with a patient id and a lesion id and another image with only the same
lesion id land in the same split (:func:`split_groups`). Assignment is a greedy balanced
partition: groups are visited largest first (ties in a seeded random order) and each goes,
whole, to the split whose per-stratum image counts it brings closest to the target fractions
(squared relative error, every stratum weighted by 1/its size, plus the overall size). Unlike
k-fold stratification it balances image shares and strata at once, and it is deterministic
for a seed.

Only real rows are split (:func:`make_splits`), before anything is generated; validated
synthetic rows join afterwards (:func:`merge_synthetic`), so no generation setting can move
a real image between splits.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from benchmark.core.config.data import SplitConfig
from benchmark.core.fitzpatrick import MISSING

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


# Synthetic rows have no diagnosis code: in paper_mode they are balanced by class and tone.
SYNTHETIC_STRATA = ("superclass", "tone_group")


def tone_group(fst: pd.Series) -> pd.Series:
    """Coarse skin-tone group for stratification: I-II, III-IV, V-VI, uncertain/unknown."""
    return fst.map(TONE_GROUPS).fillna("unknown").astype(str)


def with_tone_group(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with ``tone_group`` derived from ``fst`` where it is absent."""
    out = frame.copy()
    if "tone_group" not in out:
        out["tone_group"] = tone_group(out["fst"]) if "fst" in out else "unknown"
    return out


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
        cells = frame[list(strata)].astype(object).fillna(MISSING).astype(str)
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


def split_groups(frame: pd.DataFrame) -> pd.Series:
    """The unit a split keeps whole: connected components of patient ids and lesion ids.

    Rows are joined when they share a patient id or a lesion id (missing lesion ids join
    nothing; a missing patient id is replaced by the image id). Each component is named by its
    smallest member id, so the result does not depend on row order.

    Args:
        frame: Rows with ``image_id`` and ``patient_id``, optionally ``lesion_id``.

    Returns:
        A group name per row, indexed like ``frame``.
    """
    patients = (
        frame["patient_id"].astype(object).where(frame["patient_id"].notna(), frame["image_id"])
    )
    keys = ["p:" + patients.astype(str)]
    if "lesion_id" in frame:
        lesions = frame["lesion_id"].astype(object)
        keys.append(("l:" + lesions.astype(str)).where(lesions.notna()))
    nodes = pd.concat(keys, axis=1).to_numpy()
    codes, names = pd.factorize(pd.Series(nodes.ravel()).dropna(), sort=True)
    rows = np.repeat(np.arange(len(frame)), nodes.shape[1])[pd.notna(nodes.ravel())]
    n = len(frame) + len(names)
    edges = coo_matrix((np.ones(len(rows)), (rows, len(frame) + codes)), shape=(n, n))
    _, label = connected_components(edges, directed=False)
    # Name a component by its smallest node name (node codes are sorted by name).
    first = pd.Series(np.arange(len(names))).groupby(label[len(frame) :]).min()
    return pd.Series(np.asarray(names)[first[label[: len(frame)]].to_numpy()], index=frame.index)


def check_splits(frame: pd.DataFrame) -> None:
    """Refuse leakage: a patient or a lesion in two splits, or a synthetic image in test.

    Raises:
        SplitError: Naming up to ten offending patients, lesions or images.
    """
    units = [("patient_id", "patient(s)")]
    if "lesion_id" in frame:
        units.append(("lesion_id", "lesion(s)"))
    for column, what in units:
        spread = frame.dropna(subset=[column]).groupby(column)["split"].nunique()
        leaked = spread[spread > 1]
        if len(leaked):
            raise SplitError(
                f"{len(leaked)} {what} in more than one split: {leaked.index.tolist()[:10]}"
            )
    bad = frame[(frame["split"] == "test") & (frame["source"] != "real")]
    if len(bad):
        raise SplitError(
            f"{len(bad)} synthetic image(s) in the test split: {bad['image_id'].tolist()[:10]}"
        )


def check_training_ids(manifest: pd.DataFrame, ids: Sequence[str], what: str) -> None:
    """Refuse a training or reference list that names an image outside the train split.

    Args:
        manifest: The split manifest (``image_id``, ``split``).
        ids: Image ids the list names.
        what: What the list is, for the message (e.g. "models/finetune/finetune.json LoRA").

    Raises:
        SplitError: Naming up to ten ids outside train or unknown to the split.
    """
    split = manifest.set_index("image_id")["split"]
    unknown = [i for i in ids if i not in split.index]
    outside = [i for i in ids if i in split.index and split[i] != "train"]
    if unknown or outside:
        raise SplitError(
            f"{what} training list names {len(outside)} image(s) outside the train split "
            f"{outside[:10]} and {len(unknown)} not in the split manifest {unknown[:10]}: "
            "only train patients may train the generator or serve as its references"
        )


def make_splits(manifest: pd.DataFrame, cfg: SplitConfig) -> pd.DataFrame:
    """Split real rows 70/15/15 by split group (patients joined through shared lesions).

    Args:
        manifest: Real rows with ``image_id``, ``patient_id`` (``lesion_id`` optional) and the
            strata columns (``tone_group`` is derived from ``fst`` when absent).
        cfg: Fractions, seed and strata.

    Returns:
        The manifest with ``split`` (and ``tone_group``), checked by :func:`check_splits`.

    Raises:
        SplitError: A synthetic row was given (they join later, see :func:`merge_synthetic`).
    """
    if manifest.empty:
        raise SplitError("no image to split: the manifest is empty")
    frame = manifest.copy()
    synthetic = frame[frame["source"] != "real"]
    if len(synthetic):
        raise SplitError(
            f"{len(synthetic)} synthetic row(s) given to the split (e.g. "
            f"{synthetic['image_id'].tolist()[:3]}): real rows are split first; validated "
            "synthetic rows join train afterwards (merge stage)"
        )
    if "tone_group" in cfg.strata or cfg.test_per_tone:
        frame = with_tone_group(frame)
    frame["split_group"] = split_groups(frame)
    if cfg.test_per_tone:
        test = balanced_test(frame, cfg)
        train, val, _ = cfg.fractions
        rest = frame[~test]
        frame["split"] = "test"
        frame.loc[rest.index, "split"] = assign(
            rest, "split_group", cfg.strata, (train / (train + val), val / (train + val)),
            cfg.seed, names=("train", "val"),
        )  # fmt: skip
    else:
        frame["split"] = assign(frame, "split_group", cfg.strata, cfg.fractions, cfg.seed)
    check_splits(frame)
    return frame


def _test_targets(cfg: SplitConfig) -> dict[tuple[str, str], int]:
    """Images wanted per (tone group, superclass) cell of a balanced test split."""
    unknown = sorted(set(cfg.test_tones) - set(TONE_GROUPS.values()))
    if unknown:
        raise SplitError(
            f"split.test_tones names unknown tone group(s) {unknown}; known: "
            f"{sorted(set(TONE_GROUPS.values()))}"
        )
    melanocytic = round(cfg.test_per_tone * cfg.test_melanocytic_share)
    targets = {}
    for tone in cfg.test_tones:
        targets[(tone, "melanocytic")] = melanocytic
        targets[(tone, "non_melanocytic")] = cfg.test_per_tone - melanocytic
    return {cell: n for cell, n in targets.items() if n > 0}


def balanced_test(frame: pd.DataFrame, cfg: SplitConfig) -> pd.Series:
    """Rows of a tone-balanced test split: at least the target count in every cell.

    Split groups are visited in a seeded random order; a group joins test when all its rows
    fall in target cells (tone group x superclass) that are still short, so whole patients
    move and a cell overshoots by less than one group.

    Args:
        frame: Rows with ``split_group``, ``tone_group`` and ``superclass``.
        cfg: ``test_per_tone``, ``test_tones``, ``test_melanocytic_share`` and ``seed``.

    Returns:
        A boolean per row, indexed like ``frame``: True for test.

    Raises:
        SplitError: A cell cannot reach its target (the message gives what it holds).
    """
    targets = _test_targets(cfg)
    cells = pd.Series(list(zip(frame["tone_group"], frame["superclass"], strict=True)), frame.index)
    filled = dict.fromkeys(targets, 0)
    members = cells.groupby(frame["split_group"]).agg(list)
    order = np.random.default_rng(cfg.seed).permutation(sorted(members.index))
    chosen = set()
    for group in order:
        rows = members[group]
        if all(c in targets and filled[c] < targets[c] for c in rows):
            chosen.add(group)
            for c in rows:
                filled[c] += 1
    short = {f"{t} {s}": (filled[(t, s)], n) for (t, s), n in targets.items() if filled[(t, s)] < n}
    if short:
        raise SplitError(
            "the balanced test split cannot be filled: "
            + "; ".join(f"{cell}: {got} of {n} images" for cell, (got, n) in short.items())
            + " (whole patients of one cell only). Lower split.test_per_tone or "
            "test_melanocytic_share, or set test_per_tone: 0"
        )
    return frame["split_group"].isin(chosen)


def merge_synthetic(split: pd.DataFrame, synthetic: pd.DataFrame, cfg: SplitConfig) -> pd.DataFrame:
    """Add validated synthetic rows to a real split: train, or train and val in ``paper_mode``.

    Args:
        split: Real rows with ``split`` (from :func:`make_splits`); unchanged.
        synthetic: Validated synthetic rows (may be empty).
        cfg: ``paper_mode``, fractions and seed (for the train/val share of synthetic rows).

    Returns:
        Both, real rows first, checked by :func:`check_splits` (test stays real).
    """
    rows = with_tone_group(synthetic) if "tone_group" in split else synthetic.copy()
    if len(rows) and cfg.paper_mode:
        train, val, _ = cfg.fractions
        rows["split"] = assign(
            with_tone_group(rows),
            "patient_id",
            SYNTHETIC_STRATA,
            (train / (train + val), val / (train + val)),
            cfg.seed,
            names=("train", "val"),
        )
    elif len(rows):
        rows["split"] = "train"
    frame = pd.concat([split, rows], ignore_index=True) if len(rows) else split.copy()
    check_splits(frame)
    return frame


def summary(frame: pd.DataFrame) -> dict[str, Any]:
    """Per split: images, share of the real images, real patients, melanocytic share, synthetic.

    ``share`` counts real images only: synthetic rows join train after the split, and counting
    them would make the real split look less like its 70/15/15 target than it is.
    """
    out: dict[str, Any] = {}
    real = frame["source"] == "real"
    for name in SPLIT_NAMES:
        part = frame[frame["split"] == name]
        out[name] = {
            "images": len(part),
            "share": int((real & (frame["split"] == name)).sum()) / max(int(real.sum()), 1),
            "patients": int(part.loc[part["source"] == "real", "patient_id"].nunique()),
            "melanocytic_share": float((part["superclass"] == "melanocytic").mean())
            if len(part)
            else float("nan"),
            "synthetic": int((part["source"] == "synthetic").sum()),
        }
    if "patient_id_source" in frame:
        stand_in = (frame["patient_id_source"] == "image_id") & real
        out["images_without_patient_id"] = int(stand_in.sum())
    return out
