"""The classify stage's outputs: paper Table 5 beside ours (with a real test column), Figure 5."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmark.classification.run import SPLIT_NAMES as SPLITS
from benchmark.classification.run import RunResult
from benchmark.classification.section import LABELS, METRICS, table5_section
from benchmark.core.caveats import PHANTOM_WARNING, SEED_INTERVAL, is_phantom
from benchmark.core.document import write_sections
from benchmark.core.fitzpatrick import dark_count, few_dark_warning
from benchmark.core.groupings import SKIN_TYPE_SHORT
from benchmark.core.io import atomic_path, write_json_atomic
from benchmark.core.naming import parse_run_name
from benchmark.core.run_checks import failure_summary
from benchmark.core.runtime import Runtimes
from benchmark.core.status import NotRun
from benchmark.metrics.classification import binary_summary
from benchmark.metrics.intervals import mean_interval

# Paper Table 5: (train, validation); accuracy in percent. The paper has no test column.
PAPER_TABLE5: dict[str, dict[str, tuple[float, float]]] = {
    "baseline": {
        "loss": (0.33, 0.47),
        "accuracy": (87.65, 85.45),
        "auc": (0.988, 0.9765),
        "precision": (0.85, 0.82),
        "recall": (0.82, 0.78),
        "f1": (0.83, 0.80),
    },
    "augmented": {
        "loss": (0.15, 0.23),
        "accuracy": (94.00, 92.14),
        "auc": (0.9725, 0.9480),
        "precision": (0.91, 0.89),
        "recall": (0.89, 0.87),
        "f1": (0.90, 0.88),
    },
}


# The range each Table 5 metric can take: a t-interval over a few seeds ignores it, so its
# ends are cut there (a proportion's interval stays inside [0, 1]).
RANGES = {"loss": (0.0, math.inf), "accuracy": (0.0, 100.0)}


def seed_metrics(results: list[RunResult], class_weights: tuple[float, float]) -> pd.DataFrame:
    """One row per (variant, seed, split): Table 5's metrics at threshold 0.5.

    ``failed`` holds the guard's reason (``""`` for a run that passed).
    """
    rows = []
    for r in results:
        reason = r.check.reason if r.check is not None else ""
        for split, frame in r.predictions.items():
            summary = binary_summary(frame["y_true"], frame["y_score"], 0.5, class_weights)
            summary["accuracy"] *= 100.0  # the paper reports accuracy in percent
            rows.append(
                {
                    "variant": r.variant,
                    "seed": r.seed,
                    "split": split,
                    **{k: summary[k] for k in (*METRICS, "n", "positives")},
                    "failed": reason,
                }
            )
    return pd.DataFrame(rows)


def table5(per_seed: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Table 5 (means over seeds) and ``{variant: {split: {metric: (mean, low, high)}}}``.

    Runs the guard failed are left out; a variant whose every run failed has NaN cells.
    """
    table = pd.DataFrame(index=list(METRICS.values()))
    intervals: dict[str, Any] = {}
    failed = per_seed["failed"] if "failed" in per_seed else pd.Series("", per_seed.index)
    for variant, part in per_seed.groupby("variant", sort=False):
        name, paper = LABELS[str(variant)], PAPER_TABLE5.get(str(variant))
        passed = part[failed[part.index] == ""]  # every run failed: NaN, said in the notes
        intervals[str(variant)] = {}
        for split in SPLITS:
            rows = passed[passed["split"] == split]
            ours = {m: mean_interval(rows[m].tolist(), RANGES.get(m, (0.0, 1.0))) for m in METRICS}
            intervals[str(variant)][split] = ours
            if split != "test" and paper is not None:  # the paper ran two variants only
                k = 0 if split == "train" else 1
                table[f"{name} {split} (paper)"] = [paper[m][k] for m in METRICS]
            label = "test, real only" if split == "test" else split
            table[f"{name} {label} (ours)"] = [ours[m][0] for m in METRICS]
    table.index.name = "metric"
    return table, intervals


def figure5(results: list[RunResult], path: Path) -> None:
    """Loss, accuracy and validation AUC per epoch: a colour per variant, a line per seed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    variants = list(dict.fromkeys(r.variant for r in results))
    for r in results:
        h = pd.DataFrame(r.fit.history)
        # One colour per variant, one line per seed; the legend names each variant once.
        first = r is next(x for x in results if x.variant == r.variant)
        label = LABELS[r.variant] if first else None
        style = {"color": f"C{variants.index(r.variant)}", "lw": 1.0}
        axes[0].plot(h["epoch"], h["train_loss"], label=label and f"{label} train", **style)
        axes[0].plot(h["epoch"], h["val_loss"], "--", label=label and f"{label} val", **style)
        axes[1].plot(h["epoch"], 100 * h["train_accuracy"], **style)
        axes[1].plot(h["epoch"], 100 * h["val_accuracy"], "--", **style)
        axes[2].plot(h["epoch"], h["val_auc"], label=label, **style)
        axes[2].axvline(r.fit.best_epoch, color="grey", lw=0.5)
    for ax, title in zip(
        axes, ("loss", "accuracy (%)", "validation AUC (grey: kept epoch)"), strict=True
    ):
        ax.set_xlabel("epoch")
        ax.set_title(title, fontsize=9)
    axes[0].legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def notes(results: list[RunResult]) -> list[str]:
    """Plain statements a reader needs beside Table 5."""
    test = results[0].predictions["test"]
    val = results[0].predictions["val"]
    dark = dark_count(test["fst"])
    seeds = sorted({r.seed for r in results})
    out = [
        f"Threshold 0.5 (argmax), as the paper. Test: {len(test)} real images, none synthetic; "
        f"validation: {len(val)} images, {int((val['source'] != 'real').sum())} synthetic "
        "(the paper validated on a real + synthetic mix).",
        "Our train column scores the kept (best-validation) weights on the training images "
        "in eval mode, without augmentation; the paper's is likely the running training value.",
        f"Seeds {seeds}: ours are means over seeds"
        + (
            "; one seed gives no interval."
            if len(seeds) < 2
            else "; 95% t-intervals in table5.json."
        ),
        SEED_INTERVAL,
    ]
    variants = list(dict.fromkeys(r.variant for r in results))
    if {"reweight", "resample"} & set(variants):
        sizes = {r.variant: r.train_images for r in results}
        out.append(
            "Mitigation baselines under the same protocol (the paper ran baseline and augmented "
            "only, so they have no paper column): reweighted weighs each training image's loss "
            "inversely to its tone group's frequency; oversampled repeats real "
            f"{SKIN_TYPE_SHORT} V–VI training images, per class, as many times as generation "
            "added validated synthetic images. Training images per epoch: "
            + ", ".join(f"{LABELS.get(v, v)} {sizes[v]}" for v in variants)
            + "."
        )
    if is_phantom(test.get("dataset", [])):
        out.insert(0, PHANTOM_WARNING)
    if (warning := few_dark_warning(dark, "test image")) is not None:
        out.append(warning)
    return out


def _failed(runs: list[RunResult]) -> dict[str, str]:
    """Failed run name -> the guard's reason."""
    return {r.name: r.check.reason for r in runs if r.check is not None and r.check.failed}


def failure_notes(results: list[RunResult]) -> list[str]:
    """One sentence per variant with a failed run ("Reweighted: 2 of 5 seeds failed: ...")."""
    out = []
    for variant in dict.fromkeys(r.variant for r in results):
        runs = [r for r in results if r.variant == variant]
        if summary := failure_summary(_failed(runs), len(runs)):
            everything = " Every run failed: no number of this variant stands." if len(
                _failed(runs)) == len(runs) else " They are left out of every mean."  # fmt: skip
            out.append(f"{LABELS.get(variant, variant)}: {summary}.{everything}")
    return out


def _markdown(table: pd.DataFrame, lines: list[str]) -> str:
    parts = [
        "# Paper Table 5: classification, paper beside ours",
        "",
        table.to_markdown(floatfmt=".4g"),
        "",
        *[f"- {line}" for line in lines],
    ]
    return "\n".join(parts) + "\n"


def val_synthetic(results: list[RunResult]) -> dict[str, int]:
    """Synthetic images in each variant's validation set (the paper's augmented val had some)."""
    return {r.variant: int((r.predictions["val"]["source"] != "real").sum()) for r in results}


def runtimes(results: list[RunResult]) -> Runtimes:
    """Each variant's test-split prediction time, ms/image, mean over its seeds."""
    by_variant: dict[str, list[float]] = {}
    for r in results:
        by_variant.setdefault(r.variant, []).append(r.ms_per_image)
    return Runtimes("ms/image", {v: float(np.mean(ms)) for v, ms in by_variant.items()})


def write_outputs(
    results: list[RunResult],
    class_weights: tuple[float, float],
    out_dir: Path,
    not_run: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Write Table 5 (CSV/JSON/Markdown), per-seed metrics, training history and Figure 5.

    Variants in ``not_run`` have no column; their reasons go into ``table5.md``'s notes,
    ``table5.json`` (``not_run``) and the metrics (``status: not run``).

    Returns:
        The stage metrics: per variant, the test metrics' mean over seeds and each seed's
        kept epoch; or its status and reason.
    """
    skipped = dict(not_run or {})
    per_seed = seed_metrics(results, class_weights)
    table, intervals = table5(per_seed)
    lines = failure_notes(results) + notes(results)
    not_run_lines = [NotRun(why).sentence(LABELS.get(v, v)) for v, why in skipped.items()]
    history = pd.concat(
        [pd.DataFrame(r.fit.history).assign(variant=r.variant, seed=r.seed) for r in results]
    )
    metrics: dict[str, Any] = {}
    for variant, splits in intervals.items():
        runs = [r for r in results if r.variant == variant]
        failed = _failed(runs)
        metrics[variant] = {
            "test": {m: v[0] for m, v in splits["test"].items()},
            "best_epoch": {str(r.seed): r.fit.best_epoch for r in runs},
            "val_auc": {str(r.seed): r.check.val_auc for r in runs if r.check is not None},
            "failed": {str(parse_run_name(run)[1]): why for run, why in failed.items()},
            "train_synthetic": runs[0].train_synthetic,
            "train_images": runs[0].train_images,
        }
        if len(failed) == len(runs):
            metrics[variant]["status"] = "every run failed"
    metrics |= {variant: NotRun(why).metrics() for variant, why in skipped.items()}
    with atomic_path(out_dir) as tmp:
        tmp.mkdir(parents=True)
        table.to_csv(tmp / "table5.csv")
        (tmp / "table5.md").write_text(_markdown(table, not_run_lines + lines))
        t5 = {
            "paper": PAPER_TABLE5,
            "ours": intervals,
            "not_run": skipped,
            "notes": lines,
            "val_synthetic": val_synthetic(results),
        }
        write_json_atomic(tmp / "table5.json", t5)
        test = results[0].predictions["test"]
        seeds = {v: sorted({r.seed for r in results if r.variant == v}) for v in intervals}
        phantom = is_phantom(test.get("dataset", []))
        write_sections(tmp, table5_section(t5, seeds, phantom, dark_count(test["fst"])))
        per_seed.to_csv(tmp / "per_seed.csv", index=False)
        history.to_csv(tmp / "history.csv", index=False)
        (tmp / "curves").mkdir()  # one file per variant (seeds one after another) for dvc plots
        for name in dict.fromkeys(r.variant for r in results):
            part = history[history["variant"] == name]
            part.to_csv(tmp / "curves" / f"{name}.csv", index=False)
        figure5(results, tmp / "figure5.png")
    return metrics
