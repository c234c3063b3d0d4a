"""Downstream stages on data they cannot fully use: no masks, no synthetic images, one class.

Each stage exits 0, writes its declared outputs, and records what did not run and why;
no table holds a number for a model that was not trained.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from stages import classify as classify_stage
from stages import fairness as fairness_stage
from stages import segment as segment_stage
from tests.conftest import invoke_ok, preprocessed_split

PARAMS = {
    "profile": "tiny",
    "preprocess": {"size": 32, "workers": 1, "hair_kernel": 9, "inpaint_radius": 3},
    "segment": {"epochs": 1, "batch_size": 8, "overlays": 1},
    "classify": {
        "architecture": "phantom_cnn",
        "variants": ["baseline", "augmented"],
        "schedule": "one_cycle",
        "max_epochs": 6,
        "augmentation": "geometric",
        "learning_rate": 0.003,
        "freeze_epochs": 0,
        "batch_size": 8,
        "seeds": [1],
    },
    "fairness": {"bootstrap": 0, "compare": [["baseline", "augmented"]]},
}
SEGMENT = ["--cache-dir", "data/preprocessed", "--data-root", "data"]
SEGMENT += ["--models-dir", "models/segment", "--out-dir", "reports/segment"]
SEGMENT += ["--metrics", "metrics/segment.json", "--runtime", "metrics/runtime/segment.json"]
CLASSIFY = ["--cache-dir", "data/preprocessed", "--models-dir", "models/classify"]
CLASSIFY += ["--predictions-dir", "data/predictions", "--out-dir", "reports/classify"]
CLASSIFY += ["--metrics", "metrics/classify.json"]
CLASSIFY += ["--runtime", "metrics/runtime/classify.json"]
FAIRNESS = ["--predictions-dir", "data/predictions", "--out-dir", "reports/fairness"]
FAIRNESS += ["--metrics", "metrics/fairness.json"]


def _metrics(stage: str) -> dict[str, object]:
    return dict(json.loads(Path(f"metrics/{stage}.json").read_text()))


def _files(folder: str) -> list[str]:
    return sorted(p.name for p in Path(folder).iterdir())


def _no_masks(real: pd.DataFrame) -> pd.DataFrame:
    return real.assign(mask_path=None)


def _one_class(real: pd.DataFrame) -> pd.DataFrame:
    return real.assign(superclass="melanocytic", diagnosis_code="nv", diagnosis="nevus")


def test_data_without_masks_records_segmentation_not_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    preprocessed_split(tmp_path, PARAMS, n=24, size=32, synthetic=0, edit=_no_masks)
    invoke_ok(segment_stage.main, SEGMENT)
    metrics = _metrics("segment")
    assert metrics["status"] == "not run"
    assert "no real test image with a ground-truth lesion mask" in str(metrics["reason"])
    assert _files("reports/segment") == _files("models/segment") == ["not_run.json"]


@pytest.mark.slow
def test_without_synthetic_images_the_augmented_variants_are_not_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    preprocessed_split(tmp_path, PARAMS, n=40, size=32, synthetic=0)
    invoke_ok(segment_stage.main, SEGMENT)
    segment = _metrics("segment")
    assert segment["augmented"] == {"status": "not run", "reason": segment["augmented"]["reason"]}  # type: ignore[index]
    assert "no synthetic training image" in segment["augmented"]["reason"]  # type: ignore[index]
    assert _files("models/segment") == ["baseline.safetensors"]
    table3 = json.loads(Path("reports/segment/table3.json").read_text())
    assert sorted(table3["models"]) == ["baseline", "maxflow"]
    assert list(table3["not_run"]) == ["augmented"]
    assert "Augmented CNN (ours)" not in pd.read_csv("reports/segment/table3.csv").columns
    invoke_ok(classify_stage.main, CLASSIFY)
    classify = _metrics("classify")
    assert classify["augmented"]["status"] == "not run"  # type: ignore[index]
    assert "test" in classify["baseline"]  # type: ignore[operator]
    assert _files("models/classify") == ["baseline_seed1.safetensors"]
    assert not any(name.startswith("augmented") for name in _files("data/predictions"))
    table5 = json.loads(Path("reports/classify/table5.json").read_text())
    assert list(table5["ours"]) == ["baseline"]
    assert list(table5["not_run"]) == ["augmented"]
    invoke_ok(fairness_stage.main, FAIRNESS)
    assert list(_metrics("fairness")) == ["baseline_seed1", "tone_gaps", "tone_gaps_fst_paper"], (
        _metrics("fairness")
    )


def test_one_class_data_records_classification_and_audit_not_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    preprocessed_split(tmp_path, PARAMS, n=24, size=32, synthetic=0, edit=_one_class)
    invoke_ok(classify_stage.main, CLASSIFY)
    metrics = _metrics("classify")
    assert metrics["status"] == "not run"
    assert "baseline: the training images hold one class only" in str(metrics["reason"])
    assert "non_melanocytic 0" in str(metrics["reason"])
    for folder in ("models/classify", "data/predictions", "reports/classify"):
        assert _files(folder) == ["not_run.json"]
    invoke_ok(fairness_stage.main, FAIRNESS)
    audit = _metrics("fairness")
    assert audit["status"] == "not run"
    assert str(audit["reason"]).startswith("classify not run: baseline: the training images")
    assert _files("reports/fairness") == ["not_run.json"]
