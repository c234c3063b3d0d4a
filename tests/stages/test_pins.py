"""CPU pins: set when the stages package loads, in force inside a stage, recorded as tags."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import mlflow
import pytest
import yaml

from stages.support.pins import PINS, PinError, apply_pins
from tests.stages.test_ingest_stage import TINY
from tests.support.config import params_with

ROOT = Path(__file__).resolve().parents[2]


def test_apply_pins_sets_every_pin_unless_switched_off_or_not_x86() -> None:
    env: dict[str, str] = {"ATEN_CPU_CAPABILITY": "avx512"}
    assert apply_pins(env, flags={"avx2", "fma"}, machine="x86_64")
    assert env == PINS  # a stray value is overwritten: the pins are the contract
    off = {"SKINBENCH_PINS": "off"}
    assert not apply_pins(off, flags={"avx2"}, machine="x86_64")
    assert off == {"SKINBENCH_PINS": "off"}
    arm: dict[str, str] = {}
    assert not apply_pins(arm, flags=set(), machine="aarch64")
    assert arm == {}


def test_a_cpu_without_avx2_is_refused_naming_the_pin_and_the_way_out() -> None:
    with pytest.raises(PinError, match=r"ATEN_CPU_CAPABILITY=avx2: this CPU has no AVX2.*"
                       r"SKINBENCH_PINS=off"):  # fmt: skip
        apply_pins({}, flags={"sse4_2", "avx"}, machine="x86_64")


@pytest.mark.skipif(not os.path.exists("/proc/cpuinfo"), reason="reads the CPU's flags")
def test_the_pins_are_in_force_inside_a_stage_process(tmp_path: Path) -> None:
    Path(tmp_path / "params.yaml").write_text(yaml.safe_dump(params_with(TINY)))
    env = {k: v for k, v in os.environ.items() if k not in PINS}  # the stage must set them
    env |= {"PYTHONPATH": str(ROOT), "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path}/m.db"}
    env |= {"ONEDNN_VERBOSE": "1", "MKL_VERBOSE": "1"}
    env.pop("MLFLOW_EXPERIMENT_ID", None)
    args = ["--raw-dir", "unused", "--out-dir", "data/ingested", "--metrics", "m.json"]
    done = subprocess.run([sys.executable, "-m", "stages.ingest", *args], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    client = mlflow.MlflowClient(f"sqlite:///{tmp_path}/m.db")
    (run,) = client.search_runs([e.experiment_id for e in client.search_experiments()])
    tags = run.data.tags
    # Read back from the libraries inside the stage, not from the environment.
    assert tags["cpu.torch_capability"] == "AVX2"
    assert tags["cpu.numpy_avx512"] == "False"
    assert tags["cpu.openblas_coretype"] == "Haswell"
    assert tags["cpu.opencv_avx512"] == "False"
    assert tags["cpu.model"]
    assert tags["cpu.exact_roots"] == "True"  # the stage ran under ExactRoots
    probe = subprocess.run(
        [sys.executable, "-c", "import stages, torch; x = torch.randn(4, 8, 16, 16); "
         "torch.nn.Conv2d(8, 8, 3)(x); torch.mm(torch.randn(64, 64), torch.randn(64, 64))"],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert "isa:Intel AVX2" in probe.stdout + probe.stderr  # oneDNN's own report
    assert "CNR:COMPATIBLE" in probe.stdout + probe.stderr  # MKL's own report
