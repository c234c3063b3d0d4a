"""The cross-CPU check: its comparison finds a planted change; the check itself under -m perf."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from tests.perf.cross_cpu import differences, fingerprint, main


def _run(root: Path, lora_md5: str, loss: float) -> Path:
    (root / "metrics").mkdir(parents=True)
    (root / "metrics" / "finetune_lora.json").write_text(json.dumps({"final_loss": loss}))
    lock = {
        "stages": {
            "ingest": {"outs": [{"path": "data/ingested", "md5": "a1.dir"}]},
            "finetune_lora": {
                "outs": [
                    {"path": "models/lora", "md5": lora_md5},
                    {"path": "metrics/finetune_lora.json", "md5": "ignored"},
                ]
            },
        }
    }
    (root / "dvc.lock").write_text(yaml.safe_dump(lock))
    return root


def test_a_changed_output_or_metric_is_named_under_its_stage(tmp_path: Path) -> None:
    native = fingerprint(_run(tmp_path / "a", "b2.dir", 0.7523038983345032))
    assert differences(native, native) == {"ingest": [], "finetune_lora": []}
    loss = fingerprint(_run(tmp_path / "b", "b2.dir", 0.7523049116134644))
    assert differences(native, loss) == {
        "ingest": [],
        "finetune_lora": ["metrics/finetune_lora.json"],
    }
    weights = fingerprint(_run(tmp_path / "c", "c3.dir", 0.7523038983345032))
    assert differences(native, weights)["finetune_lora"] == ["models/lora"]


@pytest.mark.perf
@pytest.mark.skipif(shutil.which("qemu-x86_64") is None, reason="needs qemu-user")
def test_the_tiny_pipeline_gives_the_same_bytes_on_emulated_intel_and_amd(tmp_path: Path) -> None:
    done = CliRunner().invoke(main, ["--out", str(tmp_path / "cross")])
    assert done.exit_code == 0, done.output
    assert "Haswell-noTSX-IBRS" in done.output
