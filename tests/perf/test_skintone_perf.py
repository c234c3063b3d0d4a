"""ITA stage throughput over a folder of JPEGs, as ratios measured in one run.

Every path runs over the same process pool (one process per core, each started as the
stage starts its workers: :func:`~benchmark.skintone.run.worker_start`, one thread each):

- ``decode``: JPEG decoding alone, at full resolution (what any reader of the images pays);
- ``skimage``: a straightforward reference (full decode, ``skimage.color.rgb2lab``, mean over
  the paper's skin mask);
- ``all``: what the stage computes per image (the paper's rule as printed and guarded, the
  robust estimate with its Max-Flow lesion step, the spread), plus the optional colour
  constancy (shades of gray) before the robust estimate;
- ``default``: the same with the default settings (colour constancy off);
- ``no_lesion_step``: the default without the Max-Flow lesion step (nothing excluded).

Run with ``./run.sh test -m perf -s tests/perf/test_skintone_perf.py``.
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
from benchmark.skintone.run import estimate_path, worker_start
from tests.conftest import REALDATA
from tests.support.config import default, paper

MIN_RATIO = 0.5  # every estimate together against decoding alone (issue 29)


def decode_only(path: Path) -> int:
    return int(np.asarray(Image.open(path).convert("RGB")).shape[0])


def skimage_reference(path: Path) -> float:
    from skimage.color import rgb2lab

    image = Image.open(path).convert("RGB")
    rgb = np.asarray(image)
    skin = skin_mask(rgb)
    lab = rgb2lab(rgb)
    return float(ita_degrees(lab[..., 0][skin].mean(), lab[..., 2][skin].mean()))


def every_estimate(path: Path) -> float:
    cfg = default(SkintoneConfig, colour_constancy="shades_of_gray")
    return estimate_path(path, None, cfg)["robust"].ita


def default_estimates(path: Path) -> float:
    return estimate_path(path, None, default(SkintoneConfig))["robust"].ita


def without_lesion_step(path: Path) -> float:
    return estimate_path(path, None, default(SkintoneConfig, lesion_estimate="none"))["robust"].ita


PATHS: dict[str, Callable[[Path], object]] = {
    "decode": decode_only,
    "skimage": skimage_reference,
    "all": every_estimate,
    "default": default_estimates,
    "no_lesion_step": without_lesion_step,
}


def _jpegs(folder: Path) -> list[Path]:
    real = sorted(REALDATA.glob("*/*.jpg")) + sorted(REALDATA.glob("*/*/*.jpg"))
    if real:
        return real * 3
    generate_phantoms(paper(PhantomConfig, n=30, size=1024), folder / "ph", progress=False)
    out = []
    for png in sorted((folder / "ph" / "images").glob("*.png")):
        out.append(folder / f"{png.stem}.jpg")
        Image.open(png).save(out[-1], quality=92)
    return out * 3


def _throughput(
    pool: ProcessPoolExecutor, fn: Callable[[Path], object], files: list[Path]
) -> float:
    list(pool.map(fn, files[:8]))  # warm every worker (imports, caches)
    start = time.perf_counter()
    list(pool.map(fn, files, chunksize=2))
    return len(files) / (time.perf_counter() - start)


@pytest.mark.perf
def test_ita_throughput_ratios(tmp_path: Path) -> None:
    files = _jpegs(tmp_path)
    workers = os.cpu_count() or 1
    with ProcessPoolExecutor(max_workers=workers, initializer=worker_start) as pool:
        rate = {name: _throughput(pool, fn, files) for name, fn in PATHS.items()}
    ratio = {name: value / rate["decode"] for name, value in rate.items()}
    print(
        f"\n{len(files)} JPEGs, {workers} processes, img/s (ratio to decode-only): "
        + ", ".join(f"{name} {rate[name]:.1f} ({ratio[name]:.2f})" for name in PATHS)
        + f"; all estimates x{rate['all'] / rate['skimage']:.1f} the skimage reference"
    )
    assert rate["all"] > rate["skimage"]
    assert ratio["all"] >= MIN_RATIO
    # The lesion step costs time: without it the estimate is faster, not slower.
    assert rate["no_lesion_step"] > rate["default"]
