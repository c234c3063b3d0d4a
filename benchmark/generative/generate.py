"""Conditional generation of synthetic lesions, one seed per image, resumable by batch."""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from PIL import Image
from tqdm import tqdm

from benchmark.core.config.generative import GenerateConfig
from benchmark.core.manifest import empty_manifest
from benchmark.core.provenance import data_digest
from benchmark.core.status import NOT_RUN_FILE, NotRun
from benchmark.generative.data import prompt_for

GENERATOR_NAMES = {"melanocytic": "Generator-1", "non_melanocytic": "Generator-2"}
_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


@dataclass(frozen=True)
class GenerationResult:
    """Rows of the synthetic manifest, and how long generation took."""

    manifest: pd.DataFrame
    generated: int
    skipped: int
    seconds_per_image: float


def plan(cfg: GenerateConfig) -> pd.DataFrame:
    """One row per image: index, superclass, requested FST, prompt and seed."""
    counts = {"melanocytic": cfg.melanocytic, "non_melanocytic": cfg.non_melanocytic}
    if cfg.class_balanced:
        mean = round((cfg.melanocytic + cfg.non_melanocytic) / 2)
        counts = dict.fromkeys(counts, mean)
    rows: list[dict[str, object]] = []
    for superclass, count in counts.items():
        for _ in range(count):
            index = len(rows)
            fst = cfg.tones[index % len(cfg.tones)]
            rows.append(
                {
                    "index": index,
                    "image_id": f"SYN_{index:06d}",
                    "superclass": superclass,
                    "fst_label": fst,
                    "prompt": prompt_for(superclass, fst),
                    "seed": cfg.seed + index,
                    "generator": GENERATOR_NAMES[superclass],
                }
            )
    return pd.DataFrame(rows)


def _fresh_if_changed(
    out_dir: Path, rows: pd.DataFrame, cfg: GenerateConfig, base_model: str, lora_sha256: str
) -> None:
    """Keep earlier images only if they came from the same plan, model and LoRA."""
    stamp = out_dir / "plan.json"
    text = json.dumps(
        {
            "plan": rows.to_dict("records"),
            "steps": cfg.steps,
            "guidance": cfg.guidance,
            "batch_size": cfg.batch_size,
            "dtype": cfg.dtype,
            "base_model": base_model,
            "lora": lora_sha256,
            # Images made by other generation code are not reused either.
            "code": data_digest([Path(__file__).parent / n for n in ("data.py", "generate.py")]),
        },
        sort_keys=True,
        default=str,
    )
    if stamp.is_file() and stamp.read_text() == text:
        return
    shutil.rmtree(out_dir / "images", ignore_errors=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp.write_text(text)


def _batch_done(rows: pd.DataFrame, images: Path) -> bool:
    return all((images / f"{i}.png").is_file() for i in rows["image_id"])


def generate(
    pipe: Any,
    cfg: GenerateConfig,
    out_dir: Path,
    base_model: str,
    lora_sha256: str,
    progress: bool = True,
    base_digest: str = "",
) -> GenerationResult:
    """Generate every planned image into ``out_dir/images`` (batches already complete are kept).

    Batches are fixed by index, and a batch with any image missing is generated again whole,
    so an interrupted run completed later equals an uninterrupted one (at a fixed thread
    count). The scheduler is PNDM (deterministic given the seeded initial noise).

    Returns:
        The synthetic manifest rows and timing.
    """
    from diffusers import PNDMScheduler

    pipe.scheduler = PNDMScheduler.from_config(pipe.scheduler.config, skip_prk_steps=True)
    size = pipe.unet.config.sample_size * pipe.vae_scale_factor
    rows = plan(cfg)
    images = Path(out_dir) / "images"
    (Path(out_dir) / NOT_RUN_FILE).unlink(missing_ok=True)
    _fresh_if_changed(Path(out_dir), rows, cfg, f"{base_model}@{base_digest}", lora_sha256)
    images.mkdir(parents=True, exist_ok=True)
    batches = [rows.iloc[i : i + cfg.batch_size] for i in range(0, len(rows), cfg.batch_size)]
    generated, seconds = 0, 0.0
    for batch in tqdm(batches, desc="generate", unit="batch", disable=not progress):
        if _batch_done(batch, images):
            continue
        start = time.perf_counter()
        with torch.no_grad():
            out = pipe(
                list(batch["prompt"]),
                num_inference_steps=cfg.steps,
                guidance_scale=cfg.guidance,
                height=size,
                width=size,
                generator=[torch.Generator().manual_seed(int(s)) for s in batch["seed"]],
                output_type="np",
            ).images
        seconds += time.perf_counter() - start
        for image_id, pixels in zip(batch["image_id"], out, strict=True):
            tmp = images / f".{image_id}.png.tmp"
            Image.fromarray(np.clip(np.round(pixels * 255), 0, 255).astype(np.uint8)).save(
                tmp, format="PNG"
            )
            tmp.replace(images / f"{image_id}.png")
        generated += len(batch)
    manifest = rows.drop(columns=["index"]).assign(
        image_path=[f"images/{i}.png" for i in rows["image_id"]],
        mask_path=None,
        patient_id=rows["image_id"],
        patient_id_source="image_id",
        dataset="synthetic",
        diagnosis="synthetic " + rows["superclass"].str.replace("_", "-"),
        diagnosis_code=None,
        source="synthetic",
        image_manipulation="synthetic",
        width=size,
        height=size,
        base_model=base_model,
        lora_sha256=lora_sha256,
        mask_source=None,
    )
    return GenerationResult(
        manifest,
        generated,
        len(rows) - generated,
        seconds / generated if generated else float("nan"),
    )


def not_generated(out_dir: Path, why: NotRun) -> pd.DataFrame:
    """Empty ``out_dir`` but for ``not_run.json``; returns the empty synthetic manifest.

    Images of an earlier run are removed: they came from a LoRA that no longer exists.
    """
    shutil.rmtree(out_dir / "images", ignore_errors=True)
    (Path(out_dir) / "plan.json").unlink(missing_ok=True)
    why.write(out_dir)
    return empty_manifest()


def load_generation_pipeline(base_model: str, lora: Path, dtype: str) -> Any:
    """The base pipeline with the LoRA loaded by stock ``load_lora_weights``.

    Raises:
        ValueError: A LoRA from another base (its shapes do not fit), with both named.
    """
    from benchmark.generative.model import load_pipeline

    pipe = load_pipeline(base_model, _DTYPES[dtype])
    if torch.cuda.is_available():
        pipe = pipe.to("cuda")
    try:
        pipe.load_lora_weights(str(Path(lora).parent), weight_name=Path(lora).name)
    except (RuntimeError, ValueError, KeyError) as exc:
        raise ValueError(f"LoRA {lora} does not fit base model {base_model}: {exc}") from exc
    return pipe
