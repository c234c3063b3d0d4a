"""preprocess, classify and fairness stages end to end on a tiny phantom split."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from benchmark.classification.run import PREDICTION_COLUMNS
from benchmark.fairness.result import AuditResult
from stages import classify as classify_stage
from stages import fairness as fairness_stage
from tests.conftest import invoke_ok, preprocessed_split

PARAMS = {
    "profile": "tiny",
    "preprocess": {"size": 32, "workers": 1},
    "classify": {
        "architecture": "phantom_cnn",
        "variants": ["baseline", "augmented"],
        "schedule": "one_cycle",
        "augmentation": "geometric",
        "max_epochs": 10,
        "freeze_epochs": 0,
        "batch_size": 8,
        "seeds": [1],
        "learning_rate": 0.003,
        "threads": 1,
    },
    "fairness": {"bootstrap": 20, "permutations": 50, "compare": [["baseline", "augmented"]]},
}


@pytest.mark.slow
def test_classify_then_fairness(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    preprocessed_split(tmp_path, PARAMS, n=96, size=40)
    invoke_ok(
        classify_stage.main,
        [
            "--cache-dir",
            "data/preprocessed",
            "--models-dir",
            "models/classify",
            "--predictions-dir",
            "data/predictions",
            "--out-dir",
            "reports/classify",
            "--metrics",
            "metrics/classify.json",
            "--runtime",
            "metrics/runtime/classify.json",
        ],
    )

    runs = ["augmented_seed1", "baseline_seed1"]
    assert sorted(p.stem for p in Path("models/classify").iterdir()) == runs
    test = pd.read_csv("data/predictions/baseline_seed1_test.csv")
    assert list(test.columns) == list(PREDICTION_COLUMNS)
    assert test["patient_id"].notna().all()  # the fairness bootstrap resamples patients
    # Both skin-type groupings travel with every prediction, as the split holds them.
    assert set(test["fst_robust"]) <= {"I", "II", "III", "IV", "V", "VI"}
    assert (test["fst_paper"] != test["fst_robust"]).any()
    assert set(test["source"]) == {"real"}
    assert test["y_score"].between(0, 1).all()
    train_aug = pd.read_csv("data/predictions/augmented_seed1_train.csv")
    train_base = pd.read_csv("data/predictions/baseline_seed1_train.csv")
    assert len(train_aug) == len(train_base) + 4  # the 4 synthetic rows
    table = pd.read_csv("reports/classify/table5.csv", index_col="metric")
    assert table.loc["Accuracy (%)", "Baseline val (paper)"] == 85.45
    assert table.loc["AUC", "Augmented train (paper)"] == 0.9725
    assert "Baseline test, real only (ours)" in table.columns
    assert Path("reports/classify/figure5.png").stat().st_size > 1000
    per_seed = pd.read_csv("reports/classify/per_seed.csv")
    assert len(per_seed) == 2 * 3  # variants x splits

    invoke_ok(
        fairness_stage.main,
        [
            "--predictions-dir",
            "data/predictions",
            "--out-dir",
            "reports/fairness",
            "--metrics",
            "metrics/fairness.json",
        ],
    )
    metrics = json.loads(Path("metrics/fairness.json").read_text())
    assert sorted(metrics) == [*runs, "paired", "tone_gaps", "tone_gaps_fst_paper"]
    # Each variant over its seeds: the pre-specified contrast with its interval and p.
    assert set(metrics["tone_gaps"]) == {"baseline", "augmented"}
    assert {"auc_contrast", "auc_contrast_low", "auc_contrast_p", "sensitivity_contrast"} <= set(
        metrics["tone_gaps"]["baseline"]
    )
    tone_md = Path("reports/fairness/tone_gaps.md").read_text()
    assert "AUC V–VI − I–II" in tone_md
    assert Path("reports/fairness/tone_gaps.png").stat().st_size > 1000
    paired = metrics["paired"]["augmented_vs_baseline"]
    assert 0 < paired["overall_auc_p"] <= 1
    audit = AuditResult.read(Path("reports/fairness/baseline_seed1.json"))
    assert audit.runs[0].threshold_source == "validation:baseline_seed1_val.csv"
    assert audit.provenance.unit == "patients"
    assert audit.settings.n_permutations > 0
    # Tiny data: the contrast is tested, or it says which side fails the rule or is empty.
    primary, reason = audit.primary, str(audit.primary.difference.reason)
    assert primary.test is not None or "the rule asks" in reason or "no images in" in reason
    assert AuditResult.read(Path("reports/fairness/baseline.json")).runs[0].name == (
        "baseline_seed1_test.csv"
    )
    compare = Path("reports/fairness/compare_augmented_vs_baseline.md").read_text()
    assert "Δ = B − A" in compare
    summary = Path("reports/fairness/summary.md").read_text()
    assert "not reliable" in summary
    assert "fairness-summary" in summary

    from mlflow.tracking import MlflowClient

    client = MlflowClient()
    experiment = client.get_experiment_by_name("skintone-bench/tiny")
    assert experiment is not None
    found = client.search_runs([experiment.experiment_id], "tags.stage = 'classify'")
    by_name = {r.info.run_name: r for r in found}
    assert {"classify", "classify/baseline", "classify/baseline_seed1"} <= set(by_name)
    seed_run = by_name["classify/baseline_seed1"]
    assert seed_run.data.tags["mlflow.parentRunId"] == by_name["classify/baseline"].info.run_id
    assert seed_run.data.tags["variant"] == "baseline"
    assert seed_run.data.tags["seed"] == "1"
    assert len(client.get_metric_history(seed_run.info.run_id, "val_auc")) == 10  # epochs
    logged = client.search_logged_models([experiment.experiment_id])
    assert len(logged) == 2
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"

    # The rows each seed saw are its datasets; the logged model scores uint8 batches.
    inputs = {d.context: d for d in _datasets(seed_run)}
    assert set(inputs) == {"train", "val", "test"}
    assert inputs["train"].name == "tiny-baseline-train"
    _check_pyfunc_and_registry(client)


def _datasets(run: Any) -> list[Any]:
    class Found:
        def __init__(self, name: str, context: str) -> None:
            self.name, self.context = name, context

    out = []
    for item in run.inputs.dataset_inputs:
        context = {t.key: t.value for t in item.tags}.get("mlflow.data.context", "")
        out.append(Found(item.dataset.name, context))
    return out


def _check_pyfunc_and_registry(client: Any) -> None:
    import mlflow
    from mlflow.exceptions import MlflowException

    from benchmark.classification.inference import predict_proba
    from benchmark.classification.model import load_checkpoint
    from benchmark.preprocess.cache import load_split

    names = {m.name: m for m in client.search_registered_models()}
    assert set(names) == {f"skintone-bench-tiny-classifier-{v}" for v in ("baseline", "augmented")}
    version = client.get_model_version_by_alias("skintone-bench-tiny-classifier-baseline", "best")
    assert version.tags["variant"] == "baseline"
    assert version.tags["data_digest"]
    assert version.tags["git_commit"]
    assert client.get_run(version.tags["run_id"]).info.run_name == "classify/baseline_seed1"

    model = mlflow.pyfunc.load_model("models:/skintone-bench-tiny-classifier-baseline@best")
    spec = model.metadata.get_input_schema().inputs[0]
    assert (spec.type, spec.shape) == (np.dtype(np.uint8), (-1, 32, 32, 3))
    images = np.asarray(load_split(Path("data/preprocessed"), "train").images)
    reference = load_checkpoint(Path("models/classify/baseline_seed1.safetensors"))
    for batch in (1, 7, 32):
        x = np.resize(images, (batch, *images.shape[1:]))  # repeats rows past the split's end
        scores = np.asarray(model.predict(x))
        assert scores.shape == (batch, 2)
        np.testing.assert_allclose(scores[:, 1], predict_proba(reference, x), atol=1e-5)
    with pytest.raises(MlflowException, match="shape"):
        model.predict(np.zeros((2, 40, 40, 3), np.uint8))


@pytest.mark.slow
def test_runs_that_did_not_learn_are_failed_named_and_the_pipeline_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """EfficientNet-B0 from random weights, 2 epochs on 48 phantoms: constant scores."""
    monkeypatch.chdir(tmp_path)
    paper = {
        "architecture": "efficientnet_b0",
        "schedule": "plateau",
        "augmentation": "paper",
        "learning_rate": 1e-4,
        "early_stopping": 7,
        "variants": ["baseline", "augmented"],
    }
    params = {**PARAMS, "classify": {**paper, "max_epochs": 2, "freeze_epochs": 1,
                                     "batch_size": 8, "seeds": [1], "threads": 1}}  # fmt: skip
    preprocessed_split(tmp_path, params, n=48, size=40)
    outputs = ["--models-dir", "models/classify", "--predictions-dir", "data/predictions",
               "--out-dir", "reports/classify", "--metrics", "metrics/classify.json",
               "--runtime", "metrics/runtime/classify.json"]  # fmt: skip
    invoke_ok(classify_stage.main, ["--cache-dir", "data/preprocessed", *outputs])
    metrics = json.loads(Path("metrics/classify.json").read_text())
    for variant in ("baseline", "augmented"):
        assert metrics[variant]["status"] == "every run failed"
        assert "constant test scores" in metrics[variant]["failed"]["1"]
        assert metrics[variant]["test"]["auc"] is None  # no mean over a failed run
    table = Path("reports/classify/table5.md").read_text()
    assert "Baseline: 1 of 1 seeds failed: " in table
    assert "no number of this variant stands" in table
    assert json.loads(Path("data/predictions/runs.json").read_text())["runs"][0]["reason"]
    fairness_args = ["--predictions-dir", "data/predictions", "--out-dir", "reports/fairness"]
    invoke_ok(fairness_stage.main, [*fairness_args, "--metrics", "metrics/fairness.json"])
    fairness = json.loads(Path("metrics/fairness.json").read_text())
    assert fairness["status"] == "not run"
    assert "every classifier run failed the guard" in fairness["reason"]

    from mlflow.tracking import MlflowClient

    client = MlflowClient()
    experiment = client.get_experiment_by_name("skintone-bench/tiny")
    assert experiment is not None
    (seed_run,) = client.search_runs(
        [experiment.experiment_id], "attributes.run_name = 'classify/baseline_seed1'"
    )
    assert seed_run.info.status == "FAILED"
    assert "constant test scores" in seed_run.data.tags["run.failed"]
