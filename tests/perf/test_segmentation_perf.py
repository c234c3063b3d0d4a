"""Segmentation speed at 224 px, measured in one run and printed as ratios.

FCN inference at batch 16 (the plain eager module against ``predict``: channels-last,
inference mode, uint8 in and mask out), Max-Flow per image, and one training epoch read from
the cache against one that decodes and preprocesses JPEGs. Paper (its GPU cluster): FCN
120-130 ms/image, Max-Flow 350 ms/image. Targets here (2 CPU cores): FCN <= 5 ms, Max-Flow
<= 12 ms, cache >= 5x.
Run with ``./run.sh test -m perf -s``; out of the default run.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F  # noqa: N812
from PIL import Image

from benchmark.core.config.data import PhantomConfig
from benchmark.core.config.downstream import PreprocessConfig
from benchmark.core.maxflow import MaxflowParams, segment
from benchmark.phantoms.generate import generate_phantoms
from benchmark.preprocess.steps import preprocess, resize_mask
from benchmark.segmentation.fcn import PaperFCN, predict, to_input
from tests.support.config import paper

SIZE, BATCH, N = 224, 16, 64


def _best_ms(fn: object, repeats: int, per: int) -> float:
    """Best of ``repeats`` timings of ``fn()``, in ms per item (``per`` items a call)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return 1000 * min(times) / per


@pytest.fixture(scope="module")
def jpegs(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Path, Path]]:
    """N phantom lesions written as 600x450 JPEGs with PNG masks, like HAM10000."""
    root = tmp_path_factory.mktemp("perf")
    manifest = generate_phantoms(
        paper(PhantomConfig, n=N, size=512, seed=11), root / "ph", progress=False
    )
    pairs = []
    for row in manifest.itertuples():
        rgb = Image.open(root / "ph" / str(row.image_path)).convert("RGB").resize((600, 450))
        rgb.save(root / f"{row.image_id}.jpg", quality=90)
        pairs.append((root / f"{row.image_id}.jpg", root / "ph" / str(row.mask_path)))
    return pairs


@pytest.mark.perf
def test_fcn_and_maxflow_ms_per_image(jpegs: list[tuple[Path, Path]]) -> None:
    torch.manual_seed(0)
    cfg = paper(PreprocessConfig, size=SIZE)
    images = np.stack([preprocess(np.asarray(Image.open(p)), cfg).image for p, _ in jpegs[:BATCH]])
    model = PaperFCN().eval()
    plain = to_input(images).contiguous()  # the default NCHW layout
    with torch.no_grad():
        expected = (model(plain)[:, 0] > 0).numpy().astype(np.uint8) * 255
        eager = _best_ms(lambda: model(plain), 5, BATCH)
    end_to_end = _best_ms(lambda: predict(model, images, 0.5, BATCH), 5, BATCH)
    params = MaxflowParams()
    maxflow = np.median([_best_ms(lambda im=im: segment(im, params), 1, 1) for im in images])
    print(
        f"\nFCN {SIZE}px batch {BATCH}, {torch.get_num_threads()} threads: plain eager "
        f"{eager:.2f} ms/img; predict() (channels-last, inference mode, uint8 in, mask out) "
        f"{end_to_end:.2f} ms/img (x{eager / end_to_end:.2f}); "
        f"Max-Flow {maxflow:.2f} ms/img (median of {len(images)})"
    )
    # Same masks: only pixels whose logit rounds differently across layouts may flip.
    assert (predict(model, images, 0.5) == expected).mean() > 0.9999


def _train_epoch(model: PaperFCN, batches: object) -> None:
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    for images, masks in batches:  # type: ignore[attr-defined]
        target = torch.from_numpy((masks > 127).astype(np.float32))[:, None]
        loss = F.binary_cross_entropy_with_logits(model(to_input(images)), target)
        optimizer.zero_grad()
        loss.backward()  # type: ignore[no-untyped-call]
        optimizer.step()


@pytest.mark.perf
def test_epoch_from_cache_against_decoding(jpegs: list[tuple[Path, Path]], tmp_path: Path) -> None:
    cfg = paper(PreprocessConfig, size=SIZE)

    def decoded() -> object:
        for start in range(0, N, BATCH):
            pairs = jpegs[start : start + BATCH]
            images = [preprocess(np.asarray(Image.open(p)), cfg).image for p, _ in pairs]
            masks = [resize_mask(np.asarray(Image.open(m)), SIZE) for _, m in pairs]
            yield np.stack(images), np.stack(masks)

    # Build the cache the way the preprocess stage stores it: .npy files, memory-mapped.
    arrays = list(decoded())
    np.save(tmp_path / "images.npy", np.concatenate([a for a, _ in arrays]))
    np.save(tmp_path / "masks.npy", np.concatenate([m for _, m in arrays]))
    images = np.load(tmp_path / "images.npy", mmap_mode="r")
    masks = np.load(tmp_path / "masks.npy", mmap_mode="r")

    def cached() -> object:
        for start in range(0, N, BATCH):
            yield (
                np.asarray(images[start : start + BATCH]),
                np.asarray(masks[start : start + BATCH]),
            )

    # The cache serves exactly what decoding and preprocessing give, batch by batch.
    for (a_img, a_mask), (b_img, b_mask) in zip(cached(), arrays, strict=True):  # type: ignore[call-overload]
        np.testing.assert_array_equal(a_img, b_img)
        np.testing.assert_array_equal(a_mask, b_mask)
    model = PaperFCN().to(memory_format=torch.channels_last)
    from_cache = _best_ms(lambda: _train_epoch(model, cached()), 2, N)
    from_jpeg = _best_ms(lambda: _train_epoch(model, decoded()), 1, N)
    print(
        f"\nepoch of {N} images at {SIZE}px: from cache {from_cache:.1f} ms/img, decoding "
        f"and preprocessing JPEGs {from_jpeg:.1f} ms/img: cache x{from_jpeg / from_cache:.1f}"
    )
    # A ratio measured in this one run: reading the cache must beat decoding and preprocessing.
    assert from_jpeg / from_cache > 1.0
