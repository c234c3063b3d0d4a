"""The pipeline on real ISIC 2016 images (light skin, masks, one class): what can run, runs.

No FST V-VI image and no non-melanocytic label: the generative branch and the classifier
must record why they did not run, segmentation and the report must still run, and
``dvc repro`` must exit 0. Skips without ``../shared/realdata``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.test_pipeline import dvc, make_scratch

IMAGES = 12  # the smallest files of the 21 ISIC 2016 pairs: decode time dominates


def _metrics(root: Path, stage: str) -> dict[str, Any]:
    return dict(json.loads((root / "metrics" / f"{stage}.json").read_text()))


def _real_data(raw: Path, realdata: Path) -> None:
    source = realdata / "isic2016_seg"
    images = sorted(source.glob("*.jpg"), key=lambda p: (p.stat().st_size, p.name))[:IMAGES]
    raw.mkdir(parents=True)
    for image in images:
        shutil.copy2(image, raw / image.name)
        mask = f"{image.stem}_Segmentation.png"
        shutil.copy2(source / mask, raw / mask)
    labels = pd.read_csv(realdata / "metadata" / "ISIC_2019_Training_GroundTruth.csv")
    labels[labels["image"].isin([p.stem for p in images])].to_csv(raw / "labels.csv", index=False)


@pytest.mark.slow
def test_isic2016_sample_reaches_the_report(realdata: Path, tmp_path: Path) -> None:
    def real(params: dict[str, Any]) -> None:
        params["data"]["raw_dir"] = "raw/isic2016"
        params["ingest"].update(source="segmentation-folder", metadata="labels.csv")
        params["finetune_lora"]["min_images"] = 20  # the paper profile's threshold

    root = make_scratch(tmp_path / "repo", real)
    _real_data(root / "raw" / "isic2016", realdata)
    out = dvc(root, "repro")
    for stage in ("ingest", "skintone", "split", "finetune_lora", "segment", "report"):
        assert f"Running stage '{stage}'" in out
    skintone = _metrics(root, "skintone")
    assert skintone["ita_mask_source"] == {"ground_truth": IMAGES}
    assert skintone["counts"]["V"] + skintone["counts"]["VI"] == 0
    finetune = _metrics(root, "finetune_lora")
    assert finetune["status"] == "not run"
    assert finetune["reason"].startswith("0 FST V–VI training images (min 20)")
    for stage in ("generate", "validate_synthetic"):
        assert _metrics(root, stage)["status"] == "not run"
    segment = _metrics(root, "segment")
    assert {"mean", "test_images"} <= set(segment["maxflow"]) & set(segment["baseline"])
    assert segment["augmented"]["status"] == "not run"
    classify = _metrics(root, "classify")
    assert classify["status"] == "not run"
    assert "one class only" in classify["reason"]
    assert _metrics(root, "fairness")["status"] == "not run"
    tables = (root / "reports" / "tables.md").read_text(encoding="utf-8")
    assert "Stages not run: finetune_lora (0 FST V–VI training images (min 20)" in tables
    assert "Augmented CNN: not run" in tables
    assert 'id="table3"' in (root / "reports" / "index.html").read_text(encoding="utf-8")
    assert "Traceback" not in out
