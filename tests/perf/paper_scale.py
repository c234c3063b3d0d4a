"""Paper-scale CPU benchmark: 17,728 phantoms through the data stages and classifier steps.

Renders the phantoms first (the stand-in for a download, timed apart), then runs ingest on
that folder (the library call the ingest stage makes after rendering) and the real stage
commands (``python -m stages.<stage>``, each in its own process, with a throw-away MLflow
store) on a params file derived from ``params.yaml``: skintone -> split -> preprocess
(224 px), then classifier training steps on the cache (a fixed number, extrapolated to one
epoch, and said so). Prints one Markdown table: wall time, images/s and peak RSS per
stage, with the targets.

Peak RSS is the largest single process of the stage (``wait4``'s ``ru_maxrss`` covers the
stage and every worker it reaped); workers run side by side, so their sum can be higher.

Usage (out of the test run; minutes to an hour on 2 cores)::

    python -m tests.perf.paper_scale --work /tmp/paper-scale            # everything
    python -m tests.perf.paper_scale --work /tmp/ps --n 64 --steps 2   # a smoke run
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import click
import yaml

ROOT = Path(__file__).resolve().parents[2]
PAPER_N = 17_728  # ISIC 2019 + 2020 images the paper kept (SPEC)
DATA_STAGES = ("ingest", "skintone", "split", "preprocess")
STEPS = ("phantoms", *DATA_STAGES, "classify")
TARGET_DATA_S = 30 * 60
TARGET_RSS_GB = 4.0


def _params(work: Path, n: int, size: int, cache: int) -> Path:
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["ingest"]["phantoms"].update({"n": n, "size": size})
    params["preprocess"]["size"] = cache
    out = work / "params.yaml"
    out.write_text(yaml.safe_dump(params, sort_keys=False))
    return out


def _commands(work: Path, params: Path) -> dict[str, list[str]]:
    d = work / "data"
    common = ["--params", str(params)]
    cfg = yaml.safe_load(params.read_text())["ingest"]["phantoms"]
    return {
        "phantoms": [
            "-c",
            "from pathlib import Path; from benchmark.core.config.data import PhantomConfig; "
            "from benchmark.phantoms.generate import generate_phantoms; "
            f"generate_phantoms(paper(PhantomConfig, n={cfg['n']}, size={cfg['size']}, "
            f"seed={cfg['seed']}), Path({str(d / 'phantoms')!r}), workers=0)",
        ],
        "ingest": [
            "-c",
            "from pathlib import Path; from benchmark.ingest.run import IngestInputs, ingest; "
            f"ingest(IngestInputs('phantoms', Path({str(d / 'phantoms')!r})), "
            f"Path({str(d / 'ingested')!r}), link='hardlink', workers=0)",
        ],
        "skintone": [
            *("-m", "stages.skintone", *common, "--data-root", str(d / "ingested")),
            *("--manifest", str(d / "ingested/manifest.parquet")),
            *("--out-manifest", str(d / "skintone/manifest.parquet")),
            *("--out-dir", str(work / "reports/skintone"), "--metrics", str(work / "m/st.json")),
        ],
        "split": [
            *("-m", "stages.split", *common, "--manifest", str(d / "skintone/manifest.parquet")),
            *("--data-root", str(d / "ingested")),
            *("--out-manifest", str(d / "split/manifest.parquet")),
            *("--out-dir", str(work / "reports/split"), "--metrics", str(work / "m/split.json")),
        ],
        # The split manifest stands in for the merged one (no synthetic rows at this scale).
        "preprocess": [
            *("-m", "stages.preprocess", *common, "--manifest", str(d / "split/manifest.parquet")),
            *("--data-root", str(d / "ingested"), "--out-dir", str(d / "preprocessed")),
            *("--metrics", str(work / "m/preprocess.json")),
        ],
    }


def measure(argv: list[str], env: dict[str, str], log: Path) -> tuple[float, float]:
    """Run ``python argv`` from the repo root; (wall seconds, peak RSS in GB)."""
    start = time.perf_counter()
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, *argv], cwd=ROOT, env=env, stdout=out, stderr=out)
        _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise click.ClickException(f"{argv[:2]} failed ({proc.returncode}); see {log}")
    return seconds, usage.ru_maxrss / 1024**2  # Linux reports KiB


def _row(stage: str, seconds: float, images: int, rss: float, note: str = "") -> dict[str, Any]:
    return {
        "stage": stage,
        "seconds": round(seconds, 1),
        "images_per_s": round(images / seconds, 2) if seconds else None,
        "peak_rss_gb": round(rss, 2),
        "note": note,
    }


def table(rows: list[dict[str, Any]], n: int) -> str:
    """The Markdown table of ``rows`` with a total line for the data stages and the targets."""
    lines = [
        f"| stage ({n} phantoms) | wall s | images/s | peak RSS GB | note |",
        "|---|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['stage']} | {r['seconds']} | {r['images_per_s']} | {r['peak_rss_gb']} | "
            f"{r['note']} |"
        )
    data = [r for r in rows if r["stage"] in DATA_STAGES]
    render = [r["seconds"] for r in rows if r["stage"] == "phantoms"]
    total = sum(r["seconds"] for r in data)
    peak = max((r["peak_rss_gb"] for r in rows), default=0.0)
    lines.append(
        f"| **data stages** | {total:.0f} ({total / 60:.1f} min; target <= "
        f"{TARGET_DATA_S / 60:.0f} min) | {n / total:.2f} | max {peak} (target <= "
        f"{TARGET_RSS_GB}) | phantom rendering ({sum(render):.0f} s) not included |"
    )
    return "\n".join(lines)


@click.command()
@click.option("--work", type=click.Path(path_type=Path), required=True, help="Scratch folder.")
@click.option("--n", default=PAPER_N, show_default=True, help="Phantoms.")
@click.option("--size", default=450, show_default=True, help="Phantom side in px.")
@click.option("--cache", default=224, show_default=True, help="Preprocess cache side in px.")
@click.option("--steps", default=20, show_default=True, help="Classifier steps to time.")
@click.option("--only", default="", help="Comma-separated stages (default: all, in order).")
def main(work: Path, n: int, size: int, cache: int, steps: int, only: str) -> None:
    """Time the data stages and classifier steps at paper scale; print the table."""
    work.mkdir(parents=True, exist_ok=True)
    (work / "m").mkdir(exist_ok=True)
    params = _params(work, n, size, cache)
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{work / 'mlflow.db'}"}
    commands = _commands(work, params)
    wanted = [s for s in STEPS if not only or s in only.split(",")]
    results_file = work / "results.json"
    rows = json.loads(results_file.read_text()) if results_file.is_file() else []
    rows = [r for r in rows if r["stage"] not in wanted]
    for stage in wanted:
        click.echo(f"{stage} ...", err=True)
        if stage == "classify":
            argv = ["-m", "tests.perf.classifier_steps", "--cache-dir"]
            argv += [str(work / "data/preprocessed"), "--steps", str(steps)]
            argv += ["--out", str(work / "m/classify.json")]
            seconds, rss = measure(argv, env, work / "classify.log")
            got = json.loads((work / "m/classify.json").read_text())
            rows.append(
                _row(
                    "classifier epoch (extrapolated)",
                    got["epoch_seconds"],
                    got["train_images"],
                    rss,
                    f"{got['steps']} steps of {got['batch_size']} timed "
                    f"({got['seconds_per_step']:.2f} s/step), x{got['steps_per_epoch']} steps",
                )
            )
        else:
            seconds, rss = measure(commands[stage], env, work / f"{stage}.log")
            rows.append(_row(stage, seconds, n, rss))
        results_file.write_text(json.dumps(rows, indent=1))
    order = [*STEPS[:-1], "classifier epoch (extrapolated)"]
    rows.sort(key=lambda r: order.index(r["stage"]))
    click.echo(table(rows, n))


if __name__ == "__main__":
    main()
