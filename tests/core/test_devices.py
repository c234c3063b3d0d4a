"""Device choice, fallbacks and the one-process runner (multi-process: tests/stages)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from benchmark.core.config.base import ConfigError
from benchmark.core.devices import Runner, choose_device
from benchmark.core.processes import is_main_process, rank_and_world


def test_cuda_without_a_gpu_is_refused_naming_the_param() -> None:
    with pytest.raises(ConfigError, match=r"classify\.device is 'cuda' but torch finds no"):
        choose_device("cuda", "bf16", param="classify", cuda=False)


def test_auto_falls_back_to_the_cpu_in_float32_and_says_so() -> None:
    choice = choose_device("auto", "bf16", param="segment", cuda=False)
    assert (choice.device, choice.mixed_precision) == ("cpu", "no")
    tags = choice.tags()
    assert "segment.device auto: no CUDA GPU" in tags["device_note"]
    assert "bf16 dropped" in tags["device_note"]


def test_auto_takes_the_gpu_and_keeps_precision() -> None:
    choice = choose_device("auto", "fp16", param="classify", cuda=True)
    assert (choice.device, choice.mixed_precision, choice.notes) == ("cuda", "fp16", ())
    assert "device_note" not in choice.tags()


def test_fp16_on_an_explicit_cpu_is_mapped_with_a_note_bf16_kept() -> None:
    fp16 = choose_device("cpu", "fp16", param="classify", cuda=False)
    assert fp16.mixed_precision == "no"
    assert "fp16 needs a GPU" in fp16.notes[0]
    assert choose_device("cpu", "bf16", param="classify", cuda=False).mixed_precision == "bf16"


@pytest.mark.parametrize(("device", "precision"), [("gpu", "no"), ("cpu", "fp8")])
def test_unknown_values_are_refused(device: str, precision: str) -> None:
    with pytest.raises(ConfigError, match="classify"):
        choose_device(device, precision, param="classify", cuda=False)


def test_launcher_environment_names_rank_and_world(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RANK", "WORLD_SIZE", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE"):
        monkeypatch.delenv(name, raising=False)
    assert rank_and_world() == (0, 1)
    assert is_main_process()
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("RANK", "3")
    assert rank_and_world() == (3, 4)
    assert not is_main_process()


def test_one_process_runner_splits_and_gathers_nothing(tmp_path: Path) -> None:
    runner = Runner(choose_device("cpu", "no", param="t"))
    rows = np.arange(7, dtype=np.int64)
    assert runner.world == 1
    assert runner.is_main
    assert runner.local(rows) is rows
    assert runner.gather(rows, 7) is rows
    assert runner.total(2.5) == 2.5
    with runner.output_folder(tmp_path / "out") as tmp:
        assert tmp is not None
        (tmp / "a.txt").write_text("x")
    assert (tmp_path / "out" / "a.txt").read_text() == "x"


def test_runners_with_different_precisions_follow_each_other() -> None:
    """accelerate keeps one state per process; a new run may change precision."""
    bf16 = Runner(choose_device("cpu", "bf16", param="t"))
    with bf16.autocast():
        assert torch.mm(torch.ones(2, 2), torch.ones(2, 2)).dtype == torch.bfloat16
    plain = Runner(choose_device("cpu", "no", param="t"))
    with plain.autocast():
        assert torch.mm(torch.ones(2, 2), torch.ones(2, 2)).dtype == torch.float32
