"""preprocess and segment stages end to end on a tiny phantom split in tmp_path."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from stages import segment as segment_stage
from tests.conftest import invoke_ok, preprocessed_split

PARAMS = {
    "profile": "tiny",
    "preprocess": {"size": 32, "workers": 1},
    "segment": {"epochs": 2, "batch_size": 8, "learning_rate": 0.003, "overlays": 2},
}


@pytest.mark.slow
def test_preprocess_then_segment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    preprocessed_split(tmp_path, PARAMS, n=40, size=48)
    cached = json.loads(Path("metrics/preprocess.json").read_text())
    assert cached["images_cached"] == 44
    assert cached["splits"]["train"]["masks_maxflow"] == 4
    invoke_ok(
        segment_stage.main,
        [
            "--cache-dir",
            "data/preprocessed",
            "--data-root",
            "data",
            "--models-dir",
            "models/segment",
            "--out-dir",
            "reports/segment",
            "--metrics",
            "metrics/segment.json",
            "--runtime",
            "metrics/runtime/segment.json",
        ],
    )

    assert sorted(p.name for p in Path("models/segment").iterdir()) == [
        "augmented.safetensors",
        "baseline.safetensors",
    ]
    reports = {p.name for p in Path("reports/segment").iterdir()}
    assert {"table3.csv", "table3.md", "table3.json", "overlays.png", "by_fst.png"} <= reports
    table = pd.read_csv("reports/segment/table3.csv", index_col="metric")
    assert table.loc["Dice coefficient", "Max-Flow (paper)"] == 0.82
    assert table.loc["Mean IoU", "Augmented CNN (paper)"] == 0.85
    assert 0 <= table.loc["Dice coefficient", "Max-Flow (ours)"] <= 1
    metrics = json.loads(Path("metrics/segment.json").read_text())
    assert set(metrics) == {"maxflow", "baseline", "augmented"}
    assert metrics["augmented"]["train_synthetic"] == 4
    assert metrics["augmented"]["train_images"] == metrics["baseline"]["train_images"] + 4
    assert metrics["baseline"]["test_images"] == metrics["maxflow"]["test_images"] > 0
    notes = Path("reports/segment/table3.md").read_text()
    assert "these numbers test the pipeline, not the methods" in notes
    assert "ITA type V–VI" in notes
    runtimes = json.loads(Path("metrics/runtime/segment.json").read_text())
    assert runtimes["unit"] == "ms/image"
    assert set(runtimes["values"]) == {"maxflow", "baseline", "augmented"}
    assert "ms_per_image" not in json.dumps(
        json.loads(Path("reports/segment/table3.json").read_text())["models"]
    )

    from mlflow.tracking import MlflowClient

    client = MlflowClient()
    experiment = client.get_experiment_by_name("skintone-bench/tiny")
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id])
    by_variant = {r.data.tags.get("variant"): r for r in runs if r.data.tags["stage"] == "segment"}
    assert set(by_variant) == {None, "maxflow", "baseline", "augmented"}
    parent = by_variant[None].info.run_id
    for variant in ("maxflow", "baseline", "augmented"):
        run = by_variant[variant]
        assert run.data.tags["mlflow.parentRunId"] == parent
        assert run.data.tags["profile"] == "tiny"
        assert run.data.tags["git_commit"]
        assert 0 <= run.data.metrics["mean.dice"] <= 1
    history = client.get_metric_history(by_variant["baseline"].info.run_id, "train_loss")
    assert [m.step for m in history] == [1, 2]
    artifacts = {a.path for a in client.list_artifacts(by_variant["augmented"].info.run_id)}
    assert {"augmented.safetensors", "overlays.png"} <= artifacts

    # Each FCN's logged model maps uint8 batches to probabilities; thresholded, its masks.
    import mlflow
    import numpy as np

    from benchmark.preprocess.cache import load_split
    from benchmark.segmentation.fcn import load_fcn, predict

    (logged,) = client.search_logged_models(
        [experiment.experiment_id],
        filter_string=f"source_run_id = '{by_variant['baseline'].info.run_id}'",
    )
    model = mlflow.pyfunc.load_model(logged.model_uri)
    images = np.asarray(load_split(Path("data/preprocessed"), "test").images)[:3]
    probabilities = np.asarray(model.predict(images))
    assert probabilities.shape == images.shape[:3]
    masks = predict(load_fcn(Path("models/segment/baseline.safetensors")), images, 0.5)
    assert ((probabilities > 0.5) == (masks == 255)).mean() > 0.999
