"""ITA stage throughput over a folder of JPEGs, as ratios measured in one run.

Against (1) a straightforward skimage reference (full decode, ``skimage.color.rgb2lab``,
mean over the paper's skin mask) and (2) JPEG decoding alone at full resolution. All three
run over the same process pool (one process per core). Run with
``./run.sh test -m perf -s tests/perf/test_skintone_perf.py``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from benchmark.core.config.data import PhantomConfig, SkintoneConfig
from benchmark.core.fitzpatrick import ita_degrees
from benchmark.phantoms.generate import generate_phantoms
from benchmark.skintone.estimate import skin_mask
from benchmark.skintone.run import estimate_path
from tests.conftest import REALDATA


def decode_only(path: Path) -> int:
    return int(np.asarray(Image.open(path).convert("RGB")).shape[0])


def skimage_reference(path: Path) -> float:
    from skimage.color import rgb2lab

    image = Image.open(path).convert("RGB")
    rgb = np.asarray(image)
    skin = skin_mask(rgb)
    lab = rgb2lab(rgb)
    return float(ita_degrees(lab[..., 0][skin].mean(), lab[..., 2][skin].mean()))


def ours(path: Path) -> float:
    """Every estimate, the robust one with its Max-Flow lesion estimate (no mask given)."""
    return estimate_path(path, None, SkintoneConfig())["paper"].ita


def ours_without_lesion_estimate(path: Path) -> float:
    return estimate_path(path, None, SkintoneConfig(lesion_estimate="none"))["paper"].ita


def _jpegs(folder: Path) -> list[Path]:
    real = sorted(REALDATA.glob("*/*.jpg")) + sorted(REALDATA.glob("*/*/*.jpg"))
    if real:
        return real * 3
    generate_phantoms(PhantomConfig(n=30, size=1024), folder / "ph", progress=False)
    out = []
    for png in sorted((folder / "ph" / "images").glob("*.png")):
        out.append(folder / f"{png.stem}.jpg")
        Image.open(png).save(out[-1], quality=92)
    return out * 3


def _throughput(
    pool: ProcessPoolExecutor, fn: Callable[[Path], object], files: list[Path]
) -> float:
    list(pool.map(fn, files[:4]))  # warm the workers (imports, caches)
    start = time.perf_counter()
    list(pool.map(fn, files, chunksize=2))
    return len(files) / (time.perf_counter() - start)


@pytest.mark.perf
def test_ita_throughput_ratios(tmp_path: Path) -> None:
    files = _jpegs(tmp_path)
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        rate = {
            name: _throughput(pool, fn, files)
            for name, fn in (
                ("decode", decode_only),
                ("skimage", skimage_reference),
                ("ours", ours),
                ("no_estimate", ours_without_lesion_estimate),
            )
        }
    print(
        f"\n{len(files)} JPEGs, {os.cpu_count()} processes: ours {rate['ours']:.1f} img/s, "
        f"skimage reference {rate['skimage']:.1f} img/s, decode only {rate['decode']:.1f} "
        f"img/s -> x{rate['ours'] / rate['skimage']:.1f} the reference, "
        f"{rate['ours'] / rate['decode']:.2f} of decode-only; without the Max-Flow lesion "
        f"estimate {rate['no_estimate']:.1f} img/s (x{rate['no_estimate'] / rate['ours']:.1f})"
    )
    assert rate["ours"] > rate["skimage"]
