"""Training data for the generative branch: the dark-skin subset and its prompts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch
from PIL import Image

from benchmark.imaging import open_image, to_rgb8

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


class EmptySubsetError(ValueError):
    """The subset to fine-tune on has no image."""


def prompt_for(superclass: str, fst: str) -> str:
    """The one prompt template: lesion type and skin tone (paper section 3.2)."""
    return PROMPT.format(lesion=LESION_WORDS[superclass], tone=TONE_WORDS[fst], fst=fst)


def dark_subset(manifest: pd.DataFrame, types: tuple[str, ...]) -> pd.DataFrame:
    """Labelled real rows whose estimated FST is in ``types`` (paper: V and VI).

    Raises:
        EmptySubsetError: Naming how many images each FST has, and how to proceed.
    """
    labelled = manifest[(manifest["source"] == "real") & manifest["superclass"].notna()]
    subset = labelled[labelled["fst"].isin(types)]
    if subset.empty:
        counts = labelled["fst"].value_counts().sort_index().to_dict()
        raise EmptySubsetError(
            f"no labelled real image has FST {'/'.join(types)}; images per FST: {counts}. "
            "Ingest data with dark-skin images, or change finetune_lora.fst_types."
        )
    return subset


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
