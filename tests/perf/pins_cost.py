"""What the CPU pins cost: the same workloads pinned and unpinned, timed in one run.

Each workload runs in its own process (the pins act when the libraries load), pinned
(``SKINBENCH_PINS`` unset: ``import stages`` sets them) and unpinned (``SKINBENCH_PINS=off``),
alternating, ``--repeat`` times; the table gives the median seconds and the ratio
pinned / unpinned, and pinned under :class:`~stages.support.roots.ExactRoots` (as every
stage runs) / unpinned. Workloads: EfficientNet-B0 training steps (64 px, batch 32: conv, BatchNorm
and MKL matmuls), the FCN's training steps (128 px), preprocessing (Non-Local Means, CLAHE,
hair removal on 224 px images: OpenCV and NumPy).

Usage (out of the test run; a few minutes on 2 cores)::

    python -m tests.perf.pins_cost --repeat 3
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parents[2]
WORKLOADS = {
    "classifier step (EfficientNet-B0, 64 px, batch 32)": """
import torch
from benchmark.classification.model import build_model
torch.manual_seed(0); torch.set_num_threads(2)
m = build_model("none"); opt = torch.optim.Adam(m.parameters(), 1e-3)
x, y = torch.randn(32, 3, 64, 64), torch.randint(0, 2, (32,))
def step():
    loss = torch.nn.functional.cross_entropy(m(x), y); loss.backward(); opt.step(); opt.zero_grad()
step()
t = time.perf_counter()
for _ in range(5): step()
print((time.perf_counter() - t) / 5)
""",
    "FCN step (128 px, batch 8)": """
import torch
from benchmark.segmentation.fcn import PaperFCN
torch.manual_seed(0); torch.set_num_threads(2)
m = PaperFCN(); opt = torch.optim.Adam(m.parameters(), 1e-3)
x, y = torch.randn(8, 3, 128, 128), (torch.rand(8, 1, 128, 128) > 0.5).float()
def step():
    loss = torch.nn.functional.binary_cross_entropy_with_logits(m(x), y)
    loss.backward(); opt.step(); opt.zero_grad()
step()
t = time.perf_counter()
for _ in range(5): step()
print((time.perf_counter() - t) / 5)
""",
    "preprocessing (224 px image: NLM, gamma, CLAHE, hair)": """
import numpy as np
from benchmark.core.config.downstream import PreprocessConfig
from benchmark.preprocess.steps import preprocess
from tests.support.config import paper
rgb = np.random.default_rng(0).integers(0, 255, (448, 448, 3), dtype=np.uint8)
cfg = paper(PreprocessConfig, size=224)
preprocess(rgb, cfg)
t = time.perf_counter()
for _ in range(5): preprocess(rgb, cfg)
print((time.perf_counter() - t) / 5)
""",
}


# Every stage runs under ExactRoots (stages.support.tracking.stage_run); it is timed apart.
ROOTS = "from stages.support.roots import ExactRoots\nExactRoots().__enter__()\n"


def _time(code: str, pinned: bool, roots: bool = False) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("SKINBENCH_PINS", None)
    if not pinned:
        env["SKINBENCH_PINS"] = "off"
        for name in ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA", "MKL_CBWR",
                     "MKL_DYNAMIC", "OPENBLAS_CORETYPE", "NPY_DISABLE_CPU_FEATURES",
                     "OPENCV_CPU_DISABLE"):  # fmt: skip
            env.pop(name, None)
    program = "import time\nimport stages\n" + (ROOTS if roots else "") + code
    done = subprocess.run([sys.executable, "-c", program], env=env, capture_output=True,
                          text=True, check=True, cwd=ROOT)  # fmt: skip
    return float(done.stdout.strip().splitlines()[-1])


@click.command()
@click.option("--repeat", default=3, show_default=True)
def main(repeat: int) -> None:
    """Print the table."""
    click.echo("| workload | unpinned (s) | pinned (s) | + exact roots (s) | pinned / unpinned "
               "| pinned + roots / unpinned |")  # fmt: skip
    click.echo("|---|---:|---:|---:|---:|---:|")
    for name, code in WORKLOADS.items():
        times: dict[tuple[bool, bool], list[float]] = {}
        for _ in range(repeat):
            for how in ((False, False), (True, False), (True, True)):
                times.setdefault(how, []).append(_time(code, *how))
        off, on, roots = (statistics.median(times[h]) for h in sorted(times))
        click.echo(f"| {name} | {off:.3f} | {on:.3f} | {roots:.3f} | {on / off:.2f} "
                   f"| {roots / off:.2f} |")  # fmt: skip


if __name__ == "__main__":
    main()
