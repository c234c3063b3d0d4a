"""``skinbench verify``: re-run the pipeline, or named stages, and compare with the commit.

In a scratch clone of ``HEAD`` (the working tree must equal it: verify names the files that
differ), the whole pipeline is re-run (``dvc repro --force``), or each named stage alone
(``dvc repro --force --single-item``, its inputs that other stages make copied from the
working tree, where a previous ``dvc repro`` left them). Then every value of every
re-made ``metrics/<stage>.json`` is compared with the committed one: numbers within
``atol + rtol * |committed|``, everything else exactly, and each stage's outputs by their
hashes in ``dvc.lock`` (byte identity). A table lists each stage and every value that
differs; the command fails, naming them, when one is beyond the tolerance or a value is
missing on either side.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import yaml

from benchmark.core.provenance import flatten_all

RTOL, ATOL = 1e-6, 1e-9  # float32 arithmetic's last bits; pinned kernels should give 0


@dataclass(frozen=True)
class Difference:
    """One metric value that differs between the commit and the re-run."""

    stage: str
    metric: str
    committed: Any
    reproduced: Any
    within: bool


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True)
    return done.stdout


def dirty_files(repo: Path) -> list[str]:
    """Tracked files whose working-tree content differs from ``HEAD``."""
    lines = _git(repo, "status", "--porcelain", "--untracked-files=no").splitlines()
    return sorted(line[3:] for line in lines if line.strip())


def compare_values(stage: str, committed: Any, reproduced: Any, rtol: float, atol: float
                   ) -> list[Difference]:  # fmt: skip
    """Every leaf that differs between two metrics trees (missing keys differ)."""
    old, new = flatten_all(committed), flatten_all(reproduced)
    out = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key, "(missing)"), new.get(key, "(missing)")
        if a == b or (_number(a) and _number(b) and math.isnan(a) and math.isnan(b)):
            continue
        within = _number(a) and _number(b) and abs(b - a) <= atol + rtol * abs(a)
        out.append(Difference(stage, key, a, b, bool(within)))
    return out


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _lock(path: Path) -> dict[str, Any]:
    stages = yaml.safe_load(path.read_text(encoding="utf-8")).get("stages", {})
    return dict(stages)


def _outs(lock: dict[str, Any], stage: str) -> dict[str, str]:
    return {o["path"]: o.get("md5", "") for o in lock.get(stage, {}).get("outs", [])}


def _dvc(root: Path, *args: str) -> None:
    # The stages' python must be this environment's; their MLflow runs stay in the scratch.
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["MLFLOW_TRACKING_URI"] = f"sqlite:///{root / 'mlflow.db'}"
    for name in ("MLFLOW_RUN_ID", "MLFLOW_EXPERIMENT_ID"):
        env.pop(name, None)
    done = subprocess.run([sys.executable, "-m", "dvc", *args], cwd=root, env=env,
                          capture_output=True, text=True)  # fmt: skip
    if done.returncode != 0:
        raise click.ClickException(f"dvc {' '.join(args)} failed in {root}:\n"
                                   f"{(done.stdout + done.stderr)[-3000:]}")  # fmt: skip


def _metrics_files(clone: Path, stage: str) -> list[str]:
    spec = yaml.safe_load((clone / "dvc.yaml").read_text(encoding="utf-8"))["stages"][stage]
    return [m if isinstance(m, str) else next(iter(m)) for m in spec.get("metrics", [])]


def _ancestors(lock: dict[str, Any], stage: str) -> list[str]:
    """Stages whose outputs ``stage`` reads, directly or through others (by dvc.lock)."""
    maker = {path: name for name in lock for path in _outs(lock, name)}
    found: list[str] = []
    todo = [stage]
    while todo:
        for dep in lock.get(todo.pop(), {}).get("deps", []):
            name = maker.get(dep["path"])
            if name is not None and name not in found:
                found.append(name)
                todo.append(name)
    return found


def _copy_inputs(repo: Path, clone: Path, lock: dict[str, Any], stage: str) -> None:
    """The outputs of every stage upstream of ``stage``, from the working tree into the clone.

    All of them, not only the stage's declared inputs: a stage may read a file an upstream
    manifest points to (``split`` checks the ingested images exist).
    """
    for name in _ancestors(lock, stage):
        for path in _outs(lock, name):
            source, target = repo / path, clone / path
            if not source.exists():
                raise click.ClickException(
                    f"{path} (made by {name}, upstream of {stage}) is not in the working "
                    "tree: run `dvc repro` first, or verify the whole pipeline"
                )
            target.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                shutil.copytree(source, target, dirs_exist_ok=True, symlinks=True)
            else:
                shutil.copy2(source, target)


def verify(repo: Path, stages: Sequence[str], scratch: Path, rtol: float, atol: float
           ) -> tuple[list[tuple[str, bool, int]], list[Difference]]:  # fmt: skip
    """Re-run ``stages`` (all when empty) in a clone under ``scratch`` and compare.

    Returns:
        Per stage ``(name, outputs byte-identical, values compared)``, and the differences.
    """
    dirty = dirty_files(repo)
    if dirty:
        raise click.ClickException(
            f"the working tree differs from HEAD in {', '.join(dirty)}: verify compares a "
            "re-run of HEAD with what HEAD records; commit or stash them first"
        )
    clone = scratch / repo.name
    _git(repo, "clone", "--quiet", str(repo), str(clone))
    committed_lock = _lock(clone / "dvc.lock")
    names = list(stages) or list(committed_lock)
    unknown = sorted(set(names) - set(committed_lock))
    if unknown:
        raise click.ClickException(
            f"no stage {unknown} in dvc.lock; stages: {list(committed_lock)}"
        )
    committed = {n: {f: json.loads((clone / f).read_text()) for f in _metrics_files(clone, n)}
                 for n in names}  # fmt: skip
    if stages:
        for name in names:
            _copy_inputs(repo, clone, committed_lock, name)
            _dvc(clone, "repro", "--force", "--single-item", name)
    else:
        _dvc(clone, "repro", "--force")
    new_lock = _lock(clone / "dvc.lock")
    summary, differences = [], []
    for name in names:
        found = []
        for path, old in committed[name].items():
            found += compare_values(name, old, json.loads((clone / path).read_text()), rtol, atol)
        identical = _outs(committed_lock, name) == _outs(new_lock, name)
        summary.append(
            (name, identical, sum(len(flatten_all(v)) for v in committed[name].values()))
        )
        differences += found
    return summary, differences


def _cell(value: Any) -> str:
    return f"{value:.6g}" if _number(value) else str(value)


@click.command("verify")
@click.argument("stages", nargs=-1)
@click.option("--repo", type=click.Path(file_okay=False, path_type=Path), default=".",
              show_default=True, help="The checkout to verify (its HEAD).")  # fmt: skip
@click.option("--rtol", default=RTOL, show_default=True, help="Relative tolerance of numbers.")
@click.option("--atol", default=ATOL, show_default=True, help="Absolute tolerance of numbers.")
@click.option("--keep", type=click.Path(file_okay=False, path_type=Path),
              help="Scratch folder to keep (default: a temporary one, removed).")  # fmt: skip
def verify_cmd(stages: tuple[str, ...], repo: Path, rtol: float, atol: float,
               keep: Path | None) -> None:  # fmt: skip
    """Re-run the pipeline (or STAGES) from HEAD in a scratch clone and compare its metrics.

    Numbers agree within ATOL + RTOL x |committed|; outputs are compared by their dvc.lock
    hashes. Prints a table per stage and every value that differs; exits 1 naming the values
    beyond the tolerance.
    """
    root = Path(_git(repo, "rev-parse", "--show-toplevel").strip())
    scratch = keep or Path(tempfile.mkdtemp(prefix="skinbench-verify-"))
    scratch.mkdir(parents=True, exist_ok=True)
    try:
        summary, differences = verify(root, stages, scratch, rtol, atol)
    finally:
        if keep is None:
            shutil.rmtree(scratch, ignore_errors=True)
    click.echo(f"Re-run of {_git(root, 'rev-parse', '--short', 'HEAD').strip()}; numbers within "
               f"{atol:g} + {rtol:g} x |committed|.\n")  # fmt: skip
    click.echo("| stage | outputs byte-identical | values compared | beyond tolerance |")
    click.echo("|---|---|---:|---:|")
    for name, identical, count in summary:
        beyond = sum(1 for d in differences if d.stage == name and not d.within)
        click.echo(f"| {name} | {'yes' if identical else 'no'} | {count} | {beyond} |")
    if differences:
        click.echo("\n| stage | metric | committed | re-run | within tolerance |")
        click.echo("|---|---|---:|---:|---|")
        for d in differences:
            click.echo(f"| {d.stage} | {d.metric} | {_cell(d.committed)} | {_cell(d.reproduced)} "
                       f"| {'yes' if d.within else 'NO'} |")  # fmt: skip
    bad = [f"{d.stage}: {d.metric}" for d in differences if not d.within]
    if bad:
        raise click.ClickException(f"{len(bad)} value(s) beyond the tolerance: {', '.join(bad)}")
