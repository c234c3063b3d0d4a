"""The pipeline on real images without dark skin: what can run, runs; the rest says why.

ISIC 2016 (masks, one class) and an ISIC Archive layout without masks. No FST V-VI image and
no (or almost no) non-melanocytic label: the generative branch and the classifier must record
why they did not run, ``dvc repro`` must exit 0, and the report must say it all. Skips
without ``../shared/realdata``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.support.scratch import dvc, make_scratch

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
    assert finetune["reason"].startswith("0 ITA type V–VI training images (min 20)")
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
    assert "Stages not run: finetune_lora (0 ITA type V–VI training images (min 20)" in tables
    assert "Augmented CNN: not run" in tables
    assert 'id="table3"' in (root / "reports" / "index.html").read_text(encoding="utf-8")
    assert "Traceback" not in out


DIAGNOSES = {"MEL": "melanoma", "NV": "nevus", "BKL": "pigmented benign keratosis"}


def _archive(raw: Path, realdata: Path) -> int:
    """An ``isic image download`` folder (images + metadata.csv, no masks); image count."""
    images = sorted((realdata / "ham10000_seg" / "images").glob("*.jpg"))
    images += sorted((realdata / "isic2017_cls").glob("*.jpg"))
    raw.mkdir(parents=True)
    truth = pd.read_csv(realdata / "metadata" / "ISIC_2019_Training_GroundTruth.csv")
    truth = truth.set_index("image")
    rows = []
    for image in images:
        shutil.copy2(image, raw / image.name)
        hot = truth.loc[image.stem, list(DIAGNOSES)]
        rows.append({"isic_id": image.stem, "diagnosis": DIAGNOSES[str(hot.idxmax())]})
    pd.DataFrame(rows).to_csv(raw / "metadata.csv", index=False)
    return len(images)


@pytest.mark.slow
def test_archive_download_without_masks_reaches_the_report(realdata: Path, tmp_path: Path) -> None:
    def archive(params: dict[str, Any]) -> None:
        params["data"]["raw_dir"] = "raw/isic"
        params["ingest"].update(source="isic-archive", metadata="metadata.csv")

    root = make_scratch(tmp_path / "repo", archive)
    n = _archive(root / "raw" / "isic", realdata)
    out = dvc(root, "repro")
    assert "Running stage 'report'" in out
    skintone = _metrics(root, "skintone")
    # No mask anywhere: every robust estimate left out a Max-Flow lesion; all are light skin.
    assert skintone["ita_mask_source"] == {"estimated": n}
    assert skintone["counts"]["V"] + skintone["counts"]["VI"] == 0
    assert skintone["uncertain"] == 0
    segment = _metrics(root, "segment")
    assert segment["status"] == "not run"
    assert "no real test image with a ground-truth lesion mask" in segment["reason"]
    tables = (root / "reports" / "tables.md").read_text(encoding="utf-8")
    assert f"Not run: {segment['reason']}." in tables
