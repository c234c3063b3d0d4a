"""Synthetic-image validation on constructed cases with known answers."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from benchmark.core.config.data import PhantomConfig, SkintoneConfig
from benchmark.core.config.generative import ValidateSyntheticConfig
from benchmark.core.fitzpatrick import DARK_TYPES
from benchmark.generative.validate import table2, validate
from benchmark.phantoms.generate import generate_phantoms
from tests.support.config import default


def test_copies_and_shifted_histograms_are_rejected(tmp_path: Path) -> None:
    real = generate_phantoms(
        default(
            PhantomConfig,
            n=16,
            size=64,
            seed=4,
            fst_mix=(0, 0, 0, 0, 0.5, 0.5),
            hair_probability=0.0,
        ),
        tmp_path / "real",
        progress=False,
    )
    real["fst"] = real["fst_label"]
    synth_root = tmp_path / "synth"
    (synth_root / "images").mkdir(parents=True)
    # (a) an exact copy of a training image, (b) the same image with colours shifted far away,
    # (c) a fresh phantom of the same kind: kept; (d) a mirrored copy of a training image.
    shutil.copy(tmp_path / "real" / real.image_path[0], synth_root / "images" / "copy.png")
    mirrored = np.asarray(Image.open(tmp_path / "real" / real.image_path[2]))[:, ::-1]
    Image.fromarray(np.ascontiguousarray(mirrored)).save(synth_root / "images" / "mirror.png")
    shifted = np.asarray(Image.open(tmp_path / "real" / real.image_path[1])).astype(int)
    shifted = np.clip(shifted[..., ::-1] + np.array([-80, 120, -60]), 0, 255).astype(np.uint8)
    Image.fromarray(shifted).save(synth_root / "images" / "shifted.png")
    fresh = generate_phantoms(
        default(
            PhantomConfig,
            n=1,
            size=64,
            seed=99,
            fst_mix=(0, 0, 0, 0, 0.5, 0.5),
            hair_probability=0.0,
        ),
        tmp_path / "fresh",
        progress=False,
    )
    shutil.copy(tmp_path / "fresh" / fresh.image_path[0], synth_root / "images" / "fresh.png")
    synthetic = pd.DataFrame(
        {
            "image_id": ["copy", "shifted", "fresh", "mirror"],
            "image_path": [f"images/{n}.png" for n in ("copy", "shifted", "fresh", "mirror")],
            "fst_label": ["VI", "VI", "V", "V"],
            "superclass": "melanocytic",
        }
    )
    result = validate(
        synthetic,
        synth_root,
        real,
        tmp_path / "real",
        default(ValidateSyntheticConfig, size=64),
        default(SkintoneConfig),
    )
    reasons = result.rejected.set_index("image_id")["reasons"].to_dict()
    assert "near-copy of training image PH_000001 (SSIM 1.000)" in reasons["copy"]
    assert "histogram_distance" in reasons["shifted"]
    assert f"near-copy of training image {real.image_id[2]} (SSIM 1.000)" in reasons["mirror"]
    assert list(result.validated["image_id"]) == ["fresh"]
    metrics = result.metrics.set_index("image_id")
    assert metrics.loc["copy", "nearest_ssim"] == 1.0
    assert metrics.loc["copy", "histogram_distance"] < metrics.loc["shifted", "histogram_distance"]
    assert metrics.loc["fresh", "tone_distance"] <= 1


def test_table2_beside_paper() -> None:
    real = pd.DataFrame(
        {
            "source": "real",
            "superclass": ["melanocytic"] * 3 + ["non_melanocytic"],
            "fst": ["V", "I", "VI", "VI"],
        }
    )
    validated = pd.DataFrame({"superclass": ["melanocytic", "non_melanocytic", "non_melanocytic"]})
    table = table2(real, validated, DARK_TYPES)
    assert table.loc["melanocytic"].tolist()[:4] == [3, 2, 1, 4]
    assert table.loc["Total", "augmented"] == 7
    assert table.loc["Total", "paper_augmented"] == 18536
