"""Training data for the generative branch: the dark-skin subset and its prompts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch
from PIL import Image

from benchmark.core.fitzpatrick import FST_LABELS, MISSING
from benchmark.core.imaging import open_image, to_rgb8

TONE_WORDS = {
    "I": "very light",
    "II": "light",
    "III": "intermediate",
    "IV": "tan",
    "V": "brown",
    "VI": "dark brown",
}
LESION_WORDS = {"melanocytic": "melanocytic", "non_melanocytic": "non-melanocytic"}
PROMPT = "dermoscopic image of a {lesion} lesion on {tone} skin, Fitzpatrick {fst}"


def prompt_for(superclass: str, fst: str) -> str:
    """The one prompt template: lesion type and skin tone (paper section 3.2)."""
    return PROMPT.format(lesion=LESION_WORDS[superclass], tone=TONE_WORDS[fst], fst=fst)


def _train_rows(manifest: pd.DataFrame) -> pd.DataFrame:
    """Labelled real rows of the train split: the only images the generator may learn from."""
    if "split" not in manifest:
        raise ValueError(
            "the generative branch needs the split manifest (a 'split' column): the LoRA, the "
            "tiny base and the synthetic-image references may see train patients only"
        )
    return manifest[
        (manifest["source"] == "real")
        & manifest["superclass"].notna()
        & (manifest["split"] == "train")
    ]


def base_rows(manifest: pd.DataFrame) -> pd.DataFrame:
    """The tiny base's pre-training images: every labelled real train-split row."""
    return _train_rows(manifest)


def dark_subset(manifest: pd.DataFrame, types: tuple[str, ...]) -> pd.DataFrame:
    """Labelled real train-split rows whose estimated FST is in ``types`` (paper: V and VI).

    May be empty; :func:`subset_counts` says what each type holds.
    """
    train = _train_rows(manifest)
    return train[train["fst"].isin(types)]


def subset_counts(manifest: pd.DataFrame) -> dict[str, int]:
    """Labelled real train-split images per estimated FST (for a not-run reason)."""
    counts = _train_rows(manifest)["fst"].astype(object).fillna(MISSING).value_counts()
    return {str(k): int(v) for k, v in sorted(counts.items())}


def tone_span(types: tuple[str, ...]) -> str:
    """``V–VI`` for consecutive types, else ``I/III``."""
    order = [FST_LABELS.index(t) for t in types if t in FST_LABELS]
    if len(order) == len(types) > 1 and order == list(range(order[0], order[0] + len(order))):
        return f"{types[0]}–{types[-1]}"
    return "/".join(types)


def load_images(rows: pd.DataFrame, root: Path, resolution: int) -> torch.Tensor:
    """Images as a float tensor (N, 3, R, R) in [-1, 1]: shorter side resized, centre crop."""
    out = []
    for rel in rows["image_path"]:
        image = Image.fromarray(to_rgb8(open_image(root / str(rel)))[0])
        scale = resolution / min(image.size)
        size = (
            max(resolution, round(image.size[0] * scale)),
            max(resolution, round(image.size[1] * scale)),
        )
        image = image.resize(size, Image.Resampling.BICUBIC)
        left, top = (size[0] - resolution) // 2, (size[1] - resolution) // 2
        image = image.crop((left, top, left + resolution, top + resolution))
        out.append(np.asarray(image, dtype=np.float32) / 127.5 - 1.0)
    return torch.from_numpy(np.stack(out)).permute(0, 3, 1, 2).contiguous()
