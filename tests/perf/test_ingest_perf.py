"""Ingest throughput: serial vs one process per core, as a ratio measured in one run.

Run with ``./run.sh test -m perf -s``; out of the default run.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pandas as pd
import pytest

from benchmark.core.config.data import PhantomConfig
from benchmark.ingest.run import IngestInputs, ingest
from benchmark.phantoms.generate import generate_phantoms
from tests.support.config import paper

N = 400


@pytest.mark.perf
def test_parallel_ingest_speedup(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    start = time.perf_counter()
    generate_phantoms(paper(PhantomConfig, n=N, size=384), raw, progress=False)
    generate_s = time.perf_counter() - start
    timings: dict[int, float] = {}
    manifests = []
    for workers in (1, os.cpu_count() or 1):
        start = time.perf_counter()
        result = ingest(
            IngestInputs("phantoms", raw),
            tmp_path / f"out{workers}",
            link="copy",
            workers=workers,
            progress=False,
        )
        timings[workers] = time.perf_counter() - start
        manifests.append(result.manifest)
    serial, parallel = timings[1], timings[max(timings)]
    print(
        f"\nphantoms {N / generate_s:.1f} img/s; ingest serial {N / serial:.1f} img/s, "
        f"{max(timings)} workers {N / parallel:.1f} img/s: speed-up x{serial / parallel:.2f}"
    )
    pd.testing.assert_frame_equal(manifests[0], manifests[-1])
