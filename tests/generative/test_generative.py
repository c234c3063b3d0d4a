"""The generative branch on the tiny base: LoRA effect, reload, resume, bad input."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from benchmark.core.config.generative import FinetuneConfig, GenerateConfig
from benchmark.core.fitzpatrick import DARK_TYPES
from benchmark.generative.data import base_rows, dark_subset, prompt_for, tone_span
from benchmark.generative.finetune import finetune
from benchmark.generative.generate import generate, load_generation_pipeline, plan
from benchmark.generative.model import BaseModelError, build_tiny, load_pipeline
from benchmark.generative.record import FinetuneRecord
from benchmark.generative.train import (
    NonFiniteLossError,
    TrainSettings,
    latest_checkpoint,
    save_lora,
    train_unet,
)
from tests.support.config import default

PROMPT = prompt_for("melanocytic", "VI")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.set_num_threads(2)
    return build_tiny(tmp_path_factory.mktemp("tiny") / "base", 32, seed=0)


def _images(n: int = 8) -> torch.Tensor:
    return torch.rand(n, 3, 32, 32, generator=torch.Generator().manual_seed(0)) * 2 - 1


def _settings(steps: int, **kw: object) -> TrainSettings:
    return TrainSettings(steps=steps, batch_size=4, learning_rate=5e-2, seed=3, **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def lora(tiny: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    pipe = load_pipeline(str(tiny))
    train_unet(
        pipe, _images(), [PROMPT] * 8, _settings(4), tmp_path_factory.mktemp("ck"), resume=False
    )
    return save_lora(pipe, tmp_path_factory.mktemp("lora"))


def _sample(pipe, seed: int = 5, **kw: object) -> np.ndarray:  # type: ignore[no-untyped-def]
    from diffusers import PNDMScheduler

    pipe.scheduler = PNDMScheduler.from_config(pipe.scheduler.config, skip_prk_steps=True)
    return pipe(
        PROMPT,
        num_inference_steps=4,
        guidance_scale=7.5,
        height=32,
        width=32,
        generator=torch.Generator().manual_seed(seed),
        output_type="np",
        **kw,
    ).images


def test_lora_changes_output_and_scale_zero_is_the_base(tiny: Path, lora: Path) -> None:
    base = _sample(load_pipeline(str(tiny)))
    pipe = load_generation_pipeline(str(tiny), lora, "float32")
    with_lora = _sample(pipe)
    assert np.abs(with_lora - base).max() > 1e-3
    off = _sample(pipe, cross_attention_kwargs={"scale": 0.0})
    np.testing.assert_allclose(off, base, atol=1e-6)


def test_save_and_reload_give_identical_images(tiny: Path, lora: Path) -> None:
    first = _sample(load_generation_pipeline(str(tiny), lora, "float32"))
    again = _sample(load_generation_pipeline(str(tiny), lora, "float32"))
    np.testing.assert_array_equal(first, again)


def test_resumed_training_equals_uninterrupted(tiny: Path, tmp_path: Path) -> None:
    whole = load_pipeline(str(tiny))
    full = train_unet(whole, _images(), [PROMPT] * 8, _settings(6), tmp_path / "a", resume=False)
    part = load_pipeline(str(tiny))
    train_unet(part, _images(), [PROMPT] * 8, _settings(3, checkpoint_every=3), tmp_path / "b")
    resumed_pipe = load_pipeline(str(tiny))
    resumed = train_unet(resumed_pipe, _images(), [PROMPT] * 8, _settings(6), tmp_path / "b")
    assert resumed.resumed_from == 3
    np.testing.assert_allclose(resumed.losses, full.losses, rtol=1e-5)
    a = dict(whole.unet.named_parameters())
    for name, value in resumed_pipe.unet.named_parameters():
        if "lora" in name:
            torch.testing.assert_close(value, a[name])


def test_nan_loss_stops_with_step_and_keeps_checkpoint(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import benchmark.generative.train as train_module

    real = train_module._step_loss

    def flaky(unet, pipe, encoded, step, *rest):  # type: ignore[no-untyped-def]
        loss = real(unet, pipe, encoded, step, *rest)
        return loss * float("nan") if step == 3 else loss

    monkeypatch.setattr(train_module, "_step_loss", flaky)
    with pytest.raises(NonFiniteLossError, match=r"at step 3; last good checkpoint: .*000002"):
        train_unet(
            load_pipeline(str(tiny)),
            _images(),
            [PROMPT] * 8,
            _settings(5, checkpoint_every=2),
            tmp_path,
        )
    assert latest_checkpoint(tmp_path).name == "checkpoint-000002"


def test_interrupted_generation_completes_identically(
    tiny: Path, lora: Path, tmp_path: Path
) -> None:
    cfg = default(GenerateConfig, melanocytic=3, non_melanocytic=3, steps=3, batch_size=2)
    pipe = load_generation_pipeline(str(tiny), lora, "float32")
    full = generate(pipe, cfg, tmp_path / "full", "tiny", "x", progress=False)
    assert full.generated == 6
    partial = tmp_path / "partial"
    shutil.copytree(tmp_path / "full", partial)
    for image_id in ("SYN_000003", "SYN_000005"):
        (partial / "images" / f"{image_id}.png").unlink()
    again = generate(pipe, cfg, partial, "tiny", "x", progress=False)
    assert (again.generated, again.skipped) == (4, 2)  # batches 2 and 3 redone whole
    for name in sorted(p.name for p in (tmp_path / "full" / "images").iterdir()):
        assert (partial / "images" / name).read_bytes() == (
            tmp_path / "full" / "images" / name
        ).read_bytes()
    assert list(full.manifest["seed"]) == [1000 + i for i in range(6)]
    assert set(full.manifest["image_manipulation"]) == {"synthetic"}


def test_plan_counts_and_class_balance() -> None:
    rows = plan(default(GenerateConfig, melanocytic=144, non_melanocytic=664))
    assert rows.superclass.value_counts().to_dict() == {"non_melanocytic": 664, "melanocytic": 144}
    assert set(rows.generator) == {"Generator-1", "Generator-2"}
    balanced = plan(
        default(GenerateConfig, melanocytic=144, non_melanocytic=664, class_balanced=True)
    )
    assert balanced.superclass.value_counts().to_dict() == {
        "melanocytic": 404,
        "non_melanocytic": 404,
    }


def _split_manifest() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "image_id": [f"I{i}" for i in range(8)],
            "patient_id": [f"P{i}" for i in range(8)],
            "source": "real",
            "superclass": ["melanocytic"] * 7 + [None],
            "fst": ["I", "I", "III", "V", "VI", "V", "VI", "V"],
            "split": ["train", "train", "train", "train", "train", "val", "test", "train"],
        }
    )


def test_generator_subsets_hold_labelled_train_rows_only() -> None:
    manifest = _split_manifest()
    assert dark_subset(manifest, DARK_TYPES)["image_id"].tolist() == ["I3", "I4"]
    assert base_rows(manifest)["image_id"].tolist() == ["I0", "I1", "I2", "I3", "I4"]
    with pytest.raises(ValueError, match="needs the split manifest"):
        dark_subset(manifest.drop(columns="split"), DARK_TYPES)


def test_too_few_dark_train_images_is_recorded_not_raised(tmp_path: Path) -> None:
    out = tmp_path / "finetune"
    (out / "lora").mkdir(parents=True)  # an earlier run's LoRA must not survive
    result = finetune(_split_manifest(), tmp_path, default(FinetuneConfig, min_images=3), out)
    record = FinetuneRecord.read(out / "finetune.json")
    assert record == result.record
    assert record.not_run is not None
    assert record.reason.startswith("2 ITA type V–VI training images (min 3)")
    assert "{'I': 2, 'III': 1, 'V': 1, 'VI': 1}" in record.reason
    assert result.metrics() == {"status": "not run", "reason": record.reason}
    assert sorted(p.name for p in out.iterdir()) == ["finetune.json"]
    assert tone_span(DARK_TYPES) == "V–VI"
    assert tone_span(("I", "III")) == "I/III"


def test_base_model_that_is_not_a_diffusers_folder(tmp_path: Path) -> None:
    with pytest.raises(BaseModelError, match="not a diffusers pipeline folder"):
        load_pipeline(str(tmp_path))
    with pytest.raises(BaseModelError, match="huggingface-cli download"):
        load_pipeline("someone/not-a-cached-model")


def test_lora_from_another_base_is_refused(tiny: Path, tmp_path: Path) -> None:
    from diffusers import StableDiffusionPipeline

    other = load_pipeline(str(tiny))
    other.unet.add_adapter(
        __import__("peft").LoraConfig(
            r=4, lora_alpha=4, target_modules=["to_k", "to_q", "to_v", "to_out.0"]
        )
    )
    from diffusers.utils.state_dict_utils import convert_state_dict_to_diffusers
    from peft.utils import get_peft_model_state_dict

    layers = convert_state_dict_to_diffusers(get_peft_model_state_dict(other.unet))
    wrong = {k: torch.zeros(v.shape[0] + 3, *v.shape[1:]) for k, v in layers.items()}
    StableDiffusionPipeline.save_lora_weights(
        str(tmp_path), unet_lora_layers=wrong, safe_serialization=True
    )
    with pytest.raises(ValueError, match="does not fit base model"):
        load_generation_pipeline(
            str(tiny), tmp_path / "pytorch_lora_weights.safetensors", "float32"
        )


def test_reloaded_lora_equals_the_trained_pipeline_when_alpha_differs_from_rank(
    tiny: Path, tmp_path: Path
) -> None:
    trained = load_pipeline(str(tiny))
    train_unet(
        trained,
        _images(),
        [PROMPT] * 8,
        _settings(3, lora_rank=4, lora_alpha=16),
        tmp_path / "ck",
        resume=False,
    )
    lora = save_lora(trained, tmp_path / "lora")
    reloaded = load_generation_pipeline(str(tiny), lora, "float32")
    np.testing.assert_allclose(_sample(reloaded), _sample(trained), atol=1e-5)


def test_noise_offset_shifts_each_channel_by_a_constant(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipe = load_pipeline(str(tiny))
    seen: list[torch.Tensor] = []
    real = pipe.scheduler.add_noise

    def spy(latents, noise, timesteps):  # type: ignore[no-untyped-def]
        seen.append(noise.clone())
        return real(latents, noise, timesteps)

    monkeypatch.setattr(pipe.scheduler, "add_noise", spy)
    for offset in (0.0, 0.5):
        settings = _settings(1, lora_rank=0, noise_offset=offset)
        train_unet(pipe, _images(), [PROMPT] * 8, settings, tmp_path / str(offset), resume=False)
    plain, shifted = seen
    shift = shifted - plain  # same seed: only the offset differs
    assert shift.abs().max() > 0.05
    torch.testing.assert_close(shift, shift[..., :1, :1].expand_as(shift))
