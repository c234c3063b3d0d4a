"""The same bytes on an Intel and an AMD CPU: the tiny pipeline natively and under QEMU.

No Intel machine is within reach of the machines that build this suite (AMD EPYC), so the
vendor is changed by emulation: ``qemu-x86_64 -cpu MODEL`` (Debian's ``qemu-user``) runs
every stage's Python with another CPU's identity (CPUID vendor, family, feature flags, cache
geometry), which is all the libraries read to pick their kernels: MKL takes its Intel
branches on ``Haswell-noTSX-IBRS`` (``GenuineIntel``, AVX2; ``MKL_VERBOSE`` says so) and its
generic one on ``EPYC-Rome``; oneDNN sizes its blocks by the emulated caches. QEMU computes
the approximate instructions (``rsqrtps``, ``rcpps``) exactly, so it is also a third
"vendor" for those: a result that leans on them differs from the native one.

The tiny profile of the tests (``tests.support.scratch``) is reproduced natively, then once
per CPU model in a copy (``dvc repro --force``, each stage's ``python`` run under QEMU); the
table compares every stage's output hashes in ``dvc.lock`` and its metrics file with the
native run. Stages after a differing one inherit its difference: read the first.

Usage (out of the test run; about 25 minutes on 2 cores, the models run side by side)::

    apt-get install qemu-user
    python -m tests.perf.cross_cpu --out /tmp/cross_cpu
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import click
import yaml

from tests.support.scratch import env, make_scratch, tiny_world

MODELS = ("Haswell-noTSX-IBRS", "EPYC-Rome")


def _in_process(params: dict[str, Any]) -> None:
    """The tiny world, every stage in one process (QEMU's user mode loses pool workers)."""
    tiny_world(params)
    for section in ("ingest", "skintone", "preprocess"):  # 0 there: a process per core
        params[section]["workers"] = 1


def _repro(root: Path, path: str | None = None) -> None:
    run_env = env()
    if path is not None:
        run_env["PATH"] = f"{path}:{run_env['PATH']}"
    args = [sys.executable, "-m", "dvc", "repro"] + ([] if path is None else ["--force"])
    done = subprocess.run(args, cwd=root, env=run_env, capture_output=True, text=True)
    if done.returncode != 0:
        raise click.ClickException(f"dvc repro failed in {root}:\n{done.stderr[-3000:]}")


def _wrapper(folder: Path, model: str) -> Path:
    """A ``python`` that runs this interpreter under QEMU as ``model``."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "python"
    script.write_text(f'#!/bin/sh\nexec qemu-x86_64 -cpu {model} {sys.executable} "$@"\n')
    script.chmod(0o755)
    return folder


def fingerprint(root: Path) -> dict[str, dict[str, str]]:
    """Per stage: each output's hash in ``dvc.lock`` and each metrics file's text."""
    stages = yaml.safe_load((root / "dvc.lock").read_text(encoding="utf-8"))["stages"]
    out: dict[str, dict[str, str]] = {}
    for stage, entry in stages.items():
        prints = {o["path"]: str(o.get("md5")) for o in entry.get("outs", [])}
        for path in list(prints):
            if path.startswith("metrics/") and path.endswith(".json"):
                prints[path] = json.dumps(json.loads((root / path).read_text()), sort_keys=True)
        out[stage] = prints
    return out


def differences(native: dict[str, dict[str, str]], other: dict[str, dict[str, str]]
                ) -> dict[str, list[str]]:  # fmt: skip
    """Per stage, the outputs whose hash or metrics differ from the native run."""
    return {
        stage: sorted(p for p in files if other.get(stage, {}).get(p) != files[p])
        for stage, files in native.items()
    }


def _emulated(native_root: Path, out: Path, model: str) -> dict[str, list[str]]:
    copy = out / model
    shutil.copytree(native_root, copy, symlinks=True)
    _repro(copy, str(_wrapper(out / f"bin-{model}", model)))
    return differences(fingerprint(native_root), fingerprint(copy))


@click.command()
@click.option("--out", type=click.Path(path_type=Path), required=True, help="A new folder.")
@click.option("--model", "models", multiple=True, default=MODELS, show_default=True)
def main(out: Path, models: tuple[str, ...]) -> None:
    """Reproduce the tiny pipeline natively and under each CPU model; compare the bytes."""
    if shutil.which("qemu-x86_64") is None:
        raise click.ClickException("qemu-x86_64 not found: apt-get install qemu-user")
    out.mkdir(parents=True)
    native = make_scratch(out / "native", _in_process)
    _repro(native)
    with ThreadPoolExecutor(len(models)) as pool:
        runs = pool.map(lambda model: _emulated(native, out, model), models)
        found = dict(zip(models, runs, strict=True))
    click.echo("| stage | " + " | ".join(models) + " |")
    click.echo("|---" * (len(models) + 1) + "|")
    for stage in fingerprint(native):
        cells = [", ".join(found[m][stage]) or "same bytes" for m in models]
        click.echo(f"| {stage} | " + " | ".join(cells) + " |")
    if any(any(d.values()) for d in found.values()):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
