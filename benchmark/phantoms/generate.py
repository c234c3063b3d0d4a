"""Plan and write a phantom data set: images, masks and a manifest with ground truth."""

from __future__ import annotations

import math
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from PIL import Image
from tqdm import tqdm

from benchmark.core.config.data import PhantomConfig
from benchmark.core.diagnosis import CANONICAL_NAME, SUPERCLASS_OF
from benchmark.core.fitzpatrick import (
    FST_LABELS,
    FST_LOWER_BOUNDS,
    fst_from_ita,
    fst_interval,
    ita_degrees,
)
from benchmark.core.io import atomic_path
from benchmark.core.manifest import write_manifest
from benchmark.core.seeding import derive_rng
from benchmark.phantoms.render import PhantomSpec, quantised_skin_lab, render

IMAGES_PER_PATIENT = (1, 2, 3, 4)
IMAGES_PER_PATIENT_P = (0.55, 0.25, 0.12, 0.08)
MELANOCYTIC_CODES = (("mel", 0.5), ("nv", 0.5))
NON_MELANOCYTIC_CODES = (
    ("bkl", 0.35),
    ("bcc", 0.25),
    ("ak", 0.15),
    ("df", 0.1),
    ("vasc", 0.1),
    ("scc", 0.05),
)
_L_RANGE = (22.0, 92.0)


def _skin_lab(ita: float, rng: np.random.Generator) -> tuple[float, float, float]:
    """A plausible skin colour (L*, a*, b*) whose ITA is ``ita`` degrees."""
    b_star = rng.uniform(12.0, 20.0)
    l_star = 50.0 + b_star * math.tan(math.radians(ita))
    if not _L_RANGE[0] <= l_star <= _L_RANGE[1]:
        # Keep L* physiological and move b* instead, preserving the angle.
        l_star = float(np.clip(l_star, *_L_RANGE))
        b_star = (l_star - 50.0) / math.tan(math.radians(ita))
    return l_star, float(rng.uniform(6.0, 12.0)), b_star


def _patient_ita(fst: str, cfg: PhantomConfig, rng: np.random.Generator) -> float:
    lower, upper = fst_interval(fst)
    if rng.uniform() < cfg.boundary_fraction:
        inner = [b for b in (lower, upper) if b in FST_LOWER_BOUNDS]
        bound = float(rng.choice(inner))
        # Inside the bin, within 1.5 degrees of the boundary.
        offset = rng.uniform(0.2, 1.5)
        return bound + offset if bound == lower else bound - offset
    return float(rng.uniform(lower + 1.5, upper - 1.5))


def _quotas(n: int, mix: tuple[float, ...]) -> NDArray[np.float64]:
    """Integer image counts per type that sum to ``n`` (largest remainders)."""
    raw = np.asarray(mix) * n
    counts = np.floor(raw)
    order = np.argsort(-(raw - counts), kind="stable")
    counts[order[: n - int(counts.sum())]] += 1
    return np.asarray(counts, dtype=np.float64)


def plan_phantoms(cfg: PhantomConfig) -> pd.DataFrame:
    """Draw patients, skin colours, diagnoses and artefacts for every image.

    Args:
        cfg: Phantom settings.

    Returns:
        One row per image with ``image_id, patient_id, diagnosis_code, skin_l, skin_a,
        skin_b, hair, vignette``.
    """
    rng = derive_rng(cfg.seed, 0)
    remaining = _quotas(cfg.n, cfg.fst_mix)
    # Melanocytic images per type by quota too, so every type holds its share exactly.
    melanocytic = np.round(remaining * cfg.melanocytic_fraction)
    rows: list[dict[str, object]] = []
    patient = 0
    while len(rows) < cfg.n:
        patient += 1
        # Patients draw their type in proportion to what is left of each type's quota, so
        # the mix matches fst_mix closely even for small n while a patient keeps one skin.
        index = int(rng.choice(len(FST_LABELS), p=remaining / remaining.sum()))
        count = min(
            int(rng.choice(IMAGES_PER_PATIENT, p=IMAGES_PER_PATIENT_P)), int(remaining[index])
        )
        ita = _patient_ita(FST_LABELS[index], cfg, rng)
        for _ in range(count):
            is_melanocytic = rng.uniform() < melanocytic[index] / remaining[index]
            melanocytic[index] -= is_melanocytic
            remaining[index] -= 1
            rows.append(_plan_row(len(rows) + 1, patient, ita, is_melanocytic, cfg, rng))
    return pd.DataFrame(rows)


def _plan_row(
    number: int,
    patient: int,
    ita: float,
    melanocytic: bool,
    cfg: PhantomConfig,
    rng: np.random.Generator,
) -> dict[str, object]:
    """One image of the plan: diagnosis within its superclass, skin colour, artefacts."""
    codes, probs = zip(*(MELANOCYTIC_CODES if melanocytic else NON_MELANOCYTIC_CODES), strict=True)
    skin = _skin_lab(ita, rng)
    return {
        "image_id": f"PH_{number:06d}",
        "patient_id": f"PHP_{patient:05d}",
        "diagnosis_code": str(rng.choice(codes, p=probs)),
        "skin_l": skin[0],
        "skin_a": skin[1],
        "skin_b": skin[2],
        "hair": int(rng.integers(1, 7)) if rng.uniform() < cfg.hair_probability else 0,
        "vignette": float(rng.uniform(0.3, 0.85))
        if rng.uniform() < cfg.vignette_probability
        else 0.0,
    }


def generate_phantoms(
    cfg: PhantomConfig, out_dir: Path, progress: bool = True, workers: int = 1
) -> pd.DataFrame:
    """Write ``images/``, ``masks/`` and ``manifest.parquet`` for a phantom set into ``out_dir``.

    The folder is written under a temporary name and renamed when complete. The same
    config gives byte-identical files, with any number of workers (each image draws from
    its own generator, ``derive_rng(seed, 1, index)``).

    Args:
        cfg: Phantom settings.
        out_dir: Destination folder (replaced if it exists).
        progress: Show a progress bar.
        workers: Rendering processes (0: one per core).

    Returns:
        The manifest, with ground truth ``true_l_star``, ``true_b_star``, ``true_ita`` and
        ``fst_label`` (the Fitzpatrick type of the true ITA).
    """
    plan = plan_phantoms(cfg)
    out_dir = Path(out_dir)
    with atomic_path(out_dir) as tmp:
        (tmp / "images").mkdir(parents=True)
        (tmp / "masks").mkdir()
        records: list[dict[str, Any]] = plan.to_dict("records")  # type: ignore[assignment]
        jobs = [(tmp, cfg, index, row) for index, row in enumerate(records)]
        workers = workers or os.cpu_count() or 1
        if workers == 1 or len(jobs) < 64:
            bar = tqdm(jobs, desc="phantoms", disable=not progress, unit="img")
            rows = [_write_job(job) for job in bar]
        else:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                done = pool.map(_write_job, jobs, chunksize=16)
                rows = list(tqdm(done, total=len(jobs), desc="phantoms", disable=not progress))
        manifest = pd.DataFrame(rows)
        write_manifest(
            manifest, tmp / "manifest.parquet", data_root=tmp, name=out_dir / "manifest.parquet"
        )
    return manifest


def _write_job(job: tuple[Path, PhantomConfig, int, dict[str, Any]]) -> dict[str, object]:
    return _write_one(*job)


def _write_one(
    root: Path, cfg: PhantomConfig, index: int, row: dict[str, Any]
) -> dict[str, object]:
    code = str(row["diagnosis_code"])
    skin = (float(row["skin_l"]), float(row["skin_a"]), float(row["skin_b"]))
    spec = PhantomSpec(
        size=cfg.size,
        skin_lab=skin,
        diagnosis_code=code,
        hair=int(row["hair"]),
        vignette=float(row["vignette"]),
        texture=cfg.texture,
    )
    image, mask = render(spec, derive_rng(cfg.seed, 1, index))
    image_id = str(row["image_id"])
    Image.fromarray(image).save(root / "images" / f"{image_id}.png", format="PNG")
    Image.fromarray(mask).save(root / "masks" / f"{image_id}.png", format="PNG")
    truth = quantised_skin_lab(skin)
    true_ita = float(ita_degrees(truth[0], truth[2]))
    return {
        "image_id": image_id,
        "image_path": f"images/{image_id}.png",
        "mask_path": f"masks/{image_id}.png",
        "patient_id": row["patient_id"],
        "patient_id_source": "patient_id",
        "lesion_id": f"PHL_{index + 1:06d}",
        "dataset": "phantoms",
        "diagnosis": CANONICAL_NAME[code],
        "diagnosis_code": code,
        "superclass": SUPERCLASS_OF[code],
        "source": "real",
        "image_manipulation": "phantom",
        "fst_label": fst_from_ita(true_ita),
        "width": cfg.size,
        "height": cfg.size,
        "true_l_star": float(truth[0]),
        "true_b_star": float(truth[2]),
        "true_ita": true_ita,
    }
