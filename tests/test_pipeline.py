"""The DVC pipeline on a tiny profile in a scratch copy of the repo: runs, then is a no-op.

``reproduced`` (tests/conftest.py) runs it once per session; tests/test_tracking_server.py
runs a second copy through ``mlflow run`` against a tracking server and compares the two.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.support.browser import chromium_flags, loaded_dom
from tests.support.scratch import dvc

# One worker runs the session's tiny reproduction and everything that uses it.
pytestmark = pytest.mark.xdist_group("pipeline")


@pytest.mark.slow
def test_repro_runs_then_changes_nothing(reproduced: tuple[Path, str]) -> None:
    scratch_repo, first = reproduced
    for stage in yaml.safe_load((scratch_repo / "dvc.yaml").read_text())["stages"]:
        assert f"Running stage '{stage}'" in first
    assert (scratch_repo / "data" / "ingested" / "manifest.parquet").is_file()
    assert (scratch_repo / "metrics" / "ingest.json").is_file()
    lock = (scratch_repo / "dvc.lock").read_text()
    second = dvc(scratch_repo, "repro")
    assert "Running stage" not in second
    assert "didn't change" in second
    assert (scratch_repo / "dvc.lock").read_text() == lock
    shown = dvc(scratch_repo, "metrics", "show")
    assert "ingest.json" in shown
    assert "segment.json" in shown
    assert (scratch_repo / "reports" / "segment" / "table3.md").is_file()


@pytest.mark.slow
def test_plots_show_renders_curves_and_fst_distribution(reproduced: tuple[Path, str]) -> None:
    root, _ = reproduced
    shown = json.loads(dvc(root, "plots", "show", "--json"))["data"]
    for name in ("segmentation_loss", "classification_curves", "fst_distribution"):
        (plot,) = shown[name]
        assert plot["type"] == "vega"
        assert plot["content"]["data"]["values"], f"plot {name} has no data"


@pytest.mark.slow
def test_report_opens_in_headless_chromium(reproduced: tuple[Path, str], tmp_path: Path) -> None:
    flags = chromium_flags()
    root, _ = reproduced
    index = root / "reports" / "index.html"
    dom, broken = loaded_dom(index)
    shot = tmp_path / "report.png"
    subprocess.run(
        [*flags, f"--screenshot={shot}", "--window-size=1280,2400", index.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert broken == "", f"broken images: {broken}"
    assert re.search(r"<img ", dom), "the report shows no image"
    tables = set(re.findall(r'<table[^>]*\bid="([^"]+)"', dom))
    assert {"table1", "table2", "table3", "table4", "table5"} <= tables
    assert any(t.startswith("fairness-") for t in tables)
    assert shot.stat().st_size > 20_000


@pytest.mark.slow
def test_the_generator_learns_from_train_patients_only(reproduced: tuple[Path, str]) -> None:
    import pandas as pd

    from benchmark.generative.record import FinetuneRecord

    root, _ = reproduced
    split = pd.read_parquet(root / "data" / "split" / "manifest.parquet")
    held_out = split[split["split"] != "train"]
    record = FinetuneRecord.read(root / "models" / "finetune" / "finetune.json")
    assert record.not_run is None
    reference = pd.read_csv(root / "reports" / "synthetic" / "reference.csv")
    for ids, patients in (
        (record.lora_training.image_ids, record.lora_training.patients),
        (record.base_training.image_ids, record.base_training.patients),
        (tuple(reference["image_id"]), tuple(reference["patient_id"])),
    ):
        assert ids
        assert not set(ids) & set(held_out["image_id"])
        assert not set(patients) & set(held_out["patient_id"])
    merged = pd.read_parquet(root / "data" / "merged" / "manifest.parquet")
    assert set(merged.loc[merged["split"] == "test", "source"]) == {"real"}


@pytest.mark.slow
def test_changing_generation_leaves_the_split(reproduced: tuple[Path, str], tmp_path: Path) -> None:
    source, _ = reproduced
    root = tmp_path / "copy"
    shutil.copytree(source, root, symlinks=True)
    before = (root / "data" / "split" / "manifest.parquet").read_bytes()
    lock = yaml.safe_load((root / "dvc.lock").read_text())["stages"]["split"]
    params = yaml.safe_load((root / "params.yaml").read_text())
    params["generate"]["melanocytic"] = 3
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    out = dvc(root, "repro", "generate")  # generate and what it needs: split is upstream
    assert "Running stage 'generate'" in out
    assert "Stage 'split' didn't change" in out
    assert (root / "data" / "split" / "manifest.parquet").read_bytes() == before
    assert yaml.safe_load((root / "dvc.lock").read_text())["stages"]["split"] == lock
