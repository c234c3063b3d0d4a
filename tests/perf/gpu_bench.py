"""GPU benchmark of the paper profile's heavy parts, with random weights (no download).

One table: LoRA steps/s at 512 px on a UNet with Stable Diffusion 1.5's architecture
(built from its config: 320-640-1280-1280 channels, cross-attention 768, random init),
batch 8, fp16 or bf16, through the suite's own ``train_unet``; generation seconds per image
at 30 steps, guidance 7.5, batched; an EfficientNet-B0 epoch over 18.5k cached 224 px images
and an FCN epoch, through the suite's ``train_classifier``/``train_fcn`` with mixed
precision and DataLoader workers; peak GPU memory of each; and the paper profile's
predicted wall time from them (``params-paper.yaml`` counts).

Usage::

    python -m tests.perf.gpu_bench                 # on a GPU (minutes)
    python -m tests.perf.gpu_bench --tiny          # CPU smoke test (tests/perf/test_gpu_bench.py)
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import numpy as np
import torch
import yaml

from tests.support.config import default

ROOT = Path(__file__).resolve().parents[2]
TARGETS = {"classifier epoch s": 60.0, "generation s/image": 0.5}


@dataclass(frozen=True)
class Scale:
    """What one benchmark run builds: paper sizes, or tiny ones for a CPU smoke test."""

    resolution: int = 512
    lora_steps: int = 30
    lora_batch: int = 8
    gen_images: int = 16
    gen_batch: int = 8
    gen_steps: int = 30
    cls_images: int = 18_500
    cache: int = 224
    fcn_images: int = 2_000  # ISIC 2017's training set
    workers: int = 8
    tiny: bool = False


TINY = Scale(32, 3, 2, 2, 2, 2, 24, 32, 16, 0, True)


def _device() -> tuple[str, str]:
    if torch.cuda.is_available():
        bf16 = torch.cuda.is_bf16_supported()
        return "cuda", "bf16" if bf16 else "fp16"
    return "cpu", "no"


@contextmanager
def _measured(row: dict[str, Any]) -> Iterator[None]:
    if torch.cuda.is_available():
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    yield
    if torch.cuda.is_available():
        torch.cuda.synchronize()
        row["peak GPU GiB"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
    row.setdefault("wall s", round(time.perf_counter() - start, 2))


def _pipeline(scale: Scale, folder: Path, dtype: torch.dtype) -> Any:
    """SD 1.5's UNet, VAE and text-encoder sizes (or the suite's tiny base), random init."""
    from diffusers import (
        AutoencoderKL,
        DDPMScheduler,
        StableDiffusionPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    from benchmark.generative.model import build_tiny, load_pipeline, write_char_tokenizer

    if scale.tiny:
        return load_pipeline(str(build_tiny(folder, scale.resolution, 0)), dtype)
    torch.manual_seed(0)
    src = write_char_tokenizer(folder / "tok", max_length=77)
    tokenizer = CLIPTokenizer(str(src / "vocab.json"), str(src / "merges.txt"))
    eos = int(tokenizer.convert_tokens_to_ids("<|endoftext|>"))  # type: ignore[arg-type]
    text = CLIPTextModel(
        CLIPTextConfig(vocab_size=len(tokenizer), eos_token_id=eos, pad_token_id=eos)
    )  # CLIP ViT-L/14's text tower: 12 layers of 768, 77 tokens
    unet = UNet2DConditionModel(sample_size=scale.resolution // 8, cross_attention_dim=768)
    vae = AutoencoderKL(
        block_out_channels=(128, 256, 512, 512),
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        latent_channels=4,
        layers_per_block=2,
        sample_size=scale.resolution,
    )
    scheduler = DDPMScheduler(
        beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012, steps_offset=1
    )
    pipe = StableDiffusionPipeline(
        vae=vae,
        text_encoder=text,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    return pipe.to(dtype=dtype)


def bench_lora(scale: Scale, precision: str, folder: Path) -> dict[str, Any]:
    """LoRA steps/s through ``train_unet`` (the first two steps are warm-up)."""
    from benchmark.generative.train import TrainSettings, train_unet

    row: dict[str, Any] = {"part": f"LoRA {scale.resolution} px, batch {scale.lora_batch}"}
    pipe = _pipeline(scale, folder / "lora", torch.float32)
    gen = torch.Generator().manual_seed(0)
    images = torch.rand(
        (scale.lora_batch * 2, 3, scale.resolution, scale.resolution), generator=gen
    )
    settings = TrainSettings(
        steps=scale.lora_steps,
        batch_size=scale.lora_batch,
        learning_rate=1e-4,
        seed=0,
        mixed_precision=precision,
    )
    stamps: list[float] = []
    with _measured(row):
        train_unet(
            pipe,
            images * 2 - 1,
            ["a dermoscopic image"] * len(images),
            settings,
            folder / "ckpt",
            on_step=lambda step, loss: stamps.append(time.perf_counter()),
            resume=False,
        )
    timed = stamps[2:] if len(stamps) > 3 else stamps
    row["rate"] = round((len(timed) - 1) / (timed[-1] - timed[0]), 3) if len(timed) > 1 else None
    row["unit"] = f"steps/s ({precision})"
    return row


def bench_generation(scale: Scale, precision: str, folder: Path) -> dict[str, Any]:
    """Seconds per image at ``gen_steps`` steps, guidance 7.5, ``gen_batch`` per call."""
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision, torch.float32)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    pipe = _pipeline(scale, folder / "gen", dtype).to(device)
    pipe.set_progress_bar_config(disable=True)
    prompts = ["a dermoscopic image of a melanocytic lesion"] * scale.gen_batch
    call = {"num_inference_steps": scale.gen_steps, "guidance_scale": 7.5, "output_type": "np"}
    pipe(prompts, **call)  # warm-up
    row: dict[str, Any] = {"part": f"generation {scale.gen_steps} steps, batch {scale.gen_batch}"}
    with _measured(row):
        for _ in range(max(1, scale.gen_images // scale.gen_batch)):
            pipe(prompts, **call)
    row["rate"] = round(row["wall s"] / max(scale.gen_images, scale.gen_batch), 3)
    row["unit"] = f"s/image ({dtype})"
    return row


def _cache(folder: Path, n: int, size: int, masks: bool = False) -> Any:
    """A memory-mapped cache-like (n, size, size, 3) uint8 file of random images."""
    folder.mkdir(parents=True, exist_ok=True)
    shape = (n, size, size) if masks else (n, size, size, 3)
    array = np.lib.format.open_memmap(folder / "a.npy", "w+", np.uint8, shape)
    rng = np.random.default_rng(0)
    for start in range(0, n, 512):
        part = rng.integers(0, 256, (min(512, n - start), *shape[1:]), dtype=np.uint8)
        array[start : start + 512] = (part > 127) * 255 if masks else part
    array.flush()
    return np.load(folder / "a.npy", mmap_mode="r")


def bench_classifier(scale: Scale, device: str, precision: str, folder: Path) -> dict[str, Any]:
    """One EfficientNet-B0 epoch (augmented, per-image seeds, workers) plus a 64-image val."""
    from benchmark.classification.train import train_classifier
    from benchmark.core.batches import CacheRows
    from benchmark.core.config.downstream import ClassifyConfig

    images = CacheRows(_cache(folder / "cls", scale.cls_images, scale.cache))
    labels = (np.arange(scale.cls_images) % 2).astype(np.int64)
    n_val = min(64, scale.cls_images)
    val = (images[np.arange(n_val)], labels[:n_val])
    cfg = default(
        ClassifyConfig,
        max_epochs=1,
        freeze_epochs=0,
        device=device,  # type: ignore[arg-type]
        mixed_precision=precision,  # type: ignore[arg-type]
        workers=scale.workers,
        augment_rng="per_image",
    )
    row: dict[str, Any] = {"part": f"EfficientNet-B0 epoch, {scale.cls_images} x {scale.cache} px"}
    with _measured(row):
        fit = train_classifier((images, labels), val, cfg, seed=0, desc="classifier epoch")
    row["rate"] = round(scale.cls_images / fit.seconds, 1)
    row["unit"] = f"images/s ({precision})"
    return row


def bench_fcn(scale: Scale, device: str, precision: str, folder: Path) -> dict[str, Any]:
    """One FCN epoch (batch 16, flips) plus a 64-image validation."""
    from benchmark.core.batches import CacheRows
    from benchmark.core.config.downstream import SegmentConfig
    from benchmark.segmentation.train import train_fcn

    n = scale.fcn_images
    images = CacheRows(_cache(folder / "fcn", n, scale.cache))
    masks = CacheRows(_cache(folder / "fcnm", n, scale.cache, masks=True))
    cfg = default(
        SegmentConfig,
        epochs=1,
        flips=True,
        device=device,  # type: ignore[arg-type]
        mixed_precision=precision,  # type: ignore[arg-type]
        workers=scale.workers,
    )
    val = (images[np.arange(min(64, n))], masks[np.arange(min(64, n))])
    row: dict[str, Any] = {"part": f"FCN epoch, {n} x {scale.cache} px"}
    with _measured(row):
        fit = train_fcn((images, masks), val, cfg, desc="fcn epoch")
    row["rate"] = round(n / fit.seconds, 1)
    row["unit"] = f"images/s ({precision})"
    return row


def predicted_hours(rows: dict[str, dict[str, Any]], scale: Scale) -> dict[str, float]:
    """The paper profile's GPU time from the measured rates and ``params-paper.yaml``."""
    from stages.support.params import apply_overlay

    paper = yaml.safe_load(apply_overlay(ROOT / "params.yaml", ROOT / "params-paper.yaml"))
    lora_steps = paper["finetune_lora"]["steps"] * paper["finetune_lora"]["batch_size"] / 8
    images = paper["generate"]["melanocytic"] + paper["generate"]["non_melanocytic"]
    cls = paper["classify"]
    runs = len(cls["variants"]) * len(cls["seeds"])
    epoch = scale.cls_images / rows["classifier"]["rate"]
    fcn_epoch = scale.fcn_images / rows["fcn"]["rate"]
    seconds = {
        "finetune_lora": lora_steps / rows["lora"]["rate"],
        "generate": images * rows["generation"]["rate"],
        "classify (max epochs)": runs * cls["max_epochs"] * epoch,
        "segment": 2 * paper["segment"]["epochs"] * fcn_epoch,
    }
    return {k: round(v / 3600, 3) for k, v in seconds.items()}


def table(rows: dict[str, dict[str, Any]], hours: dict[str, float], device: str) -> str:
    """Markdown: one line per part, then the predicted hours."""
    lines = [
        f"| part ({device}) | rate | unit | wall s | peak GPU GiB |",
        "|---|---:|---|---:|---:|",
    ]
    for row in rows.values():
        lines.append(
            f"| {row['part']} | {row['rate']} | {row['unit']} | {row['wall s']} | "
            f"{row.get('peak GPU GiB', '-')} |"
        )
    epoch = rows["classifier"]["wall s"]
    lines += [
        "",
        f"Targets: classifier epoch <= {TARGETS['classifier epoch s']:.0f} s (measured "
        f"{epoch} s, validation of 64 images included); generation <= "
        f"{TARGETS['generation s/image']} s/image (measured {rows['generation']['rate']}).",
        "",
        "| paper profile part | predicted GPU hours |",
        "|---|---:|",
        *(f"| {k} | {v} |" for k, v in hours.items()),
        f"| **total** | {round(sum(hours.values()), 2)} |",
    ]
    return "\n".join(lines)


def run(scale: Scale, out: Path | None = None) -> str:
    """Run every part at ``scale``; returns the Markdown table (and writes JSON to ``out``)."""
    device, precision = _device()
    parts: dict[str, Callable[[Path], dict[str, Any]]] = {
        "lora": lambda f: bench_lora(scale, precision, f),
        "generation": lambda f: bench_generation(scale, precision, f),
        "classifier": lambda f: bench_classifier(scale, device, precision, f),
        "fcn": lambda f: bench_fcn(scale, device, precision, f),
    }
    rows = {}
    with tempfile.TemporaryDirectory(prefix="gpu-bench-") as tmp:
        for name, part in parts.items():
            click.echo(f"{name} ...", err=True)
            rows[name] = part(Path(tmp) / name)
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
    hours = predicted_hours(rows, scale)
    if out is not None:
        out.write_text(json.dumps({"rows": rows, "hours": hours}, indent=1))
    return table(rows, hours, torch.cuda.get_device_name() if device == "cuda" else "cpu")


@click.command()
@click.option("--tiny", is_flag=True, help="Tiny sizes: a CPU smoke test of the script.")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="JSON of the rows.")
def main(tiny: bool, out: Path | None) -> None:
    """Print the GPU benchmark table."""
    click.echo(run(TINY if tiny else Scale(), out))


if __name__ == "__main__":
    main()
