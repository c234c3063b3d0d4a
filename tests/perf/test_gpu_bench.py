"""The GPU benchmark script, run on the CPU at tiny sizes (in the default test run)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.perf import gpu_bench


@pytest.mark.slow
def test_gpu_bench_runs_tiny_on_cpu_and_prints_every_part(tmp_path: Path) -> None:
    text = gpu_bench.run(gpu_bench.TINY, tmp_path / "rows.json")
    for part in ("LoRA 32 px", "generation 2 steps", "EfficientNet-B0 epoch", "FCN epoch"):
        assert part in text
    rows = json.loads((tmp_path / "rows.json").read_text())
    assert set(rows["rows"]) == {"lora", "generation", "classifier", "fcn"}
    assert all(r["rate"] and r["rate"] > 0 for r in rows["rows"].values())
    assert set(rows["hours"]) == {"finetune_lora", "generate", "classify (max epochs)", "segment"}
    assert "| **total** |" in text
