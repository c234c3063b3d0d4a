"""The segment stage's outputs: paper Table 3 beside ours, per-skin-type results, figures."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmark.core.caveats import PHANTOM_WARNING, is_phantom
from benchmark.core.document import write_sections
from benchmark.core.fitzpatrick import dark_count, few_dark_warning
from benchmark.core.groupings import PROTOCOL, SKIN_TYPE, SKIN_TYPE_SHORT, describe
from benchmark.core.io import atomic_path, write_json_atomic
from benchmark.core.runtime import Runtimes
from benchmark.core.status import NotRun
from benchmark.metrics.segmentation import METRICS, miss_penalty
from benchmark.preprocess.cache import CachedSplit
from benchmark.segmentation.run import Outcome, per_image_table
from benchmark.segmentation.section import LABELS, ROWS, table3_section

# Paper Table 3 (Max-Flow, baseline CNN, augmented CNN); the paper reports no HD95.
PAPER_TABLE3: dict[str, dict[str, float]] = {
    "maxflow": {
        "iou": 0.75,
        "dice": 0.82,
        "precision": 0.79,
        "recall": 0.77,
        "hausdorff": 16,
        "specificity": 0.86,
        "ms_per_image": 350,
    },
    "baseline": {
        "iou": 0.82,
        "dice": 0.88,
        "precision": 0.86,
        "recall": 0.84,
        "hausdorff": 12,
        "specificity": 0.90,
        "ms_per_image": 120,
    },
    "augmented": {
        "iou": 0.85,
        "dice": 0.90,
        "precision": 0.89,
        "recall": 0.87,
        "hausdorff": 10,
        "specificity": 0.92,
        "ms_per_image": 130,
    },
}


def table3(outcomes: list[Outcome]) -> pd.DataFrame:
    """Rows: metrics; columns: ``<model> (paper)`` and ``<model> (ours)`` per model."""
    table = pd.DataFrame(index=list(ROWS.values()))
    for o in outcomes:
        # Times vary run to run: they go to the runtimes file (see :func:`runtimes`).
        ours = dict(o.summary["mean"])
        ours["missed"] = o.summary["empty_cases"]["pred_empty"]
        paper = PAPER_TABLE3[o.name]
        table[f"{LABELS[o.name]} (paper)"] = [paper.get(k, np.nan) for k in ROWS]
        table[f"{LABELS[o.name]} (ours)"] = [ours.get(k, np.nan) for k in ROWS]
    table.index.name = "metric"
    return table


def by_fst_table(outcomes: list[Outcome]) -> pd.DataFrame:
    """One row per (model, FST group): support and the mean of every metric."""
    rows = []
    for o in outcomes:
        for group, stats in sorted(o.summary["by_group"].items()):
            rows.append(
                {
                    "model": o.name,
                    "fst": group,
                    "support": stats["support"],
                    "missed": stats["empty_cases"]["pred_empty"],
                    **{m: stats["mean"][m] for m in METRICS},
                }
            )
    return pd.DataFrame(rows, columns=["model", "fst", "support", "missed", *METRICS])


def _empty(outcome: Outcome) -> str:
    cases = {k: v for k, v in outcome.summary["empty_cases"].items() if v}
    return ", ".join(f"{k} {v}" for k, v in cases.items()) or "none"


def notes(outcomes: list[Outcome], test: CachedSplit, maxflow_input: str) -> list[str]:
    """Plain statements a reader needs beside the numbers."""
    n = len(outcomes[0].per_image)
    fst = test.index.loc[
        test.index["image_id"].isin([r["image_id"] for r in outcomes[0].per_image]), "fst"
    ]
    dark = dark_count(fst)
    size = test.images.shape[1]
    out = [
        f"Evaluated on {n} real test images with ground-truth masks (no synthetic image), at "
        f"{size}x{size} px; Hausdorff and HD95 are in pixels at that size (the paper does not "
        "give its resolution, so they are not comparable with the paper's).",
        f"A missed lesion (empty prediction) scores IoU and Dice 0 and Hausdorff/HD95 "
        f"{miss_penalty((size, size)):.1f} px (the image diagonal), so misses count against a "
        "model instead of leaving its mean. Empty masks: "
        + "; ".join(f"{LABELS[o.name]} {_empty(o)}" for o in outcomes)
        + ".",
    ]
    out.append(
        "Max-Flow segments the original image resized to the cache size (it removes hair and "
        "corrects shading itself); the FCNs see the preprocessed cache."
        if maxflow_input == "raw"
        else "Max-Flow segments the preprocessed cache images, as the FCNs do."
    )
    if (warning := few_dark_warning(dark, "test image")) is not None:
        out.append(warning)
    if is_phantom(test.index["dataset"]):
        out.append(PHANTOM_WARNING)
    return out


def runtimes(outcomes: list[Outcome]) -> Runtimes:
    """Each model's inference time on the test split, ms/image."""
    return Runtimes("ms/image", {o.name: float(o.summary["ms_per_image"]) for o in outcomes})


def _markdown(table: pd.DataFrame, fst: pd.DataFrame, lines: list[str]) -> str:
    parts = [
        "# Paper Table 3: segmentation on real test images",
        "",
        table.to_markdown(floatfmt=".3f"),
        "",
        *[f"- {line}" for line in lines],
        "",
        f"## By {describe(PROTOCOL)}",
        "",
        fst.rename(columns={"fst": SKIN_TYPE_SHORT}).to_markdown(index=False, floatfmt=".3f"),
    ]
    return "\n".join(parts) + "\n"


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def overlay_figure(outcomes: list[Outcome], test: CachedSplit, path: Path, count: int) -> None:
    """Test images with the true contour (white) and each model's (colour), one row each.

    Rows are spread over FST groups so that dark skin appears when the test split has it.
    """
    plt = _plt()
    ids = [r["image_id"] for r in outcomes[0].per_image]
    fst = dict(zip(test.index["image_id"], test.index["fst"].astype(object), strict=True))
    cache_row = dict(zip(test.index["image_id"], test.index["cache_row"], strict=True))
    order = sorted(range(len(ids)), key=lambda i: (str(fst[ids[i]]), ids[i]))
    picked = [order[int(k)] for k in np.linspace(0, len(order) - 1, min(count, len(order)))]
    colours = {"maxflow": "tab:orange", "baseline": "tab:blue", "augmented": "tab:green"}
    fig, axes = plt.subplots(
        len(picked), len(outcomes), figsize=(2.4 * len(outcomes), 2.5 * len(picked)), squeeze=False
    )
    for r, i in enumerate(picked):
        row = int(cache_row[ids[i]])
        for c, o in enumerate(outcomes):
            ax = axes[r][c]
            ax.imshow(test.images[row])
            ax.contour(test.masks[row] > 127, levels=[0.5], colors="white", linewidths=1.2)
            ax.contour(o.predictions[i] > 127, levels=[0.5], colors=colours[o.name], linewidths=1.2)
            ax.set_title(f"{LABELS[o.name]}: Dice {o.per_image[i]['dice']:.2f}", fontsize=8)
            ax.set_axis_off()
        axes[r][0].text(
            -8, 10, f"{ids[i]}\n{SKIN_TYPE_SHORT} {fst[ids[i]]}", fontsize=7, ha="right", va="top"
        )
    fig.suptitle("white: ground truth; colour: prediction", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def fst_figure(fst: pd.DataFrame, path: Path) -> None:
    """Dice per FST group and model, bars labelled with the group's support."""
    plt = _plt()
    groups = sorted(fst["fst"].unique())
    fig, ax = plt.subplots(figsize=(7, 3.5))
    width = 0.8 / max(fst["model"].nunique(), 1)
    for k, (model, part) in enumerate(fst.groupby("model", sort=False)):
        part = part.set_index("fst").reindex(groups)
        x = np.arange(len(groups)) + k * width
        ax.bar(x, part["dice"], width, label=LABELS.get(str(model), str(model)))
    support = fst.drop_duplicates("fst").set_index("fst")["support"].reindex(groups)
    ax.set_xticks(
        np.arange(len(groups)) + 0.4 - width / 2, [f"{g}\n(n={n})" for g, n in support.items()]
    )
    ax.set_xlabel(f"{SKIN_TYPE} (I–VI)")
    ax.set_ylabel("mean Dice")
    ax.set_ylim(0, 1.15)  # headroom so the legend covers no bar
    ax.legend(fontsize=8, ncol=3, loc="upper center")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _history(outcomes: list[Outcome]) -> pd.DataFrame:
    frames = [pd.DataFrame(o.history).assign(model=o.name) for o in outcomes if o.history]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _model_metrics(o: Outcome) -> dict[str, Any]:
    return {
        "mean": o.summary["mean"],
        "n_defined": o.summary["n_defined"],
        "empty_cases": o.summary["empty_cases"],
        "test_images": o.summary["n_images"],
        "train_images": o.train_images,
        "train_synthetic": o.train_synthetic,
    }


def write_outputs(
    outcomes: list[Outcome],
    test: CachedSplit,
    out_dir: Path,
    overlays: int,
    maxflow_input: str,
    not_run: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Write Table 3 (CSV/JSON/Markdown, report section), per-image and per-FST tables, figures.

    Models in ``not_run`` get no column; their reasons go into ``table3.md``'s notes,
    ``table3.json`` (``not_run``) and the metrics (``status: not run``).

    Returns:
        The stage metrics: for each model the means, ``n_defined``, ``empty_cases``,
        and training-set sizes; or its status and reason. Times: :func:`runtimes`.
    """
    skipped = dict(not_run or {})
    table, fst, lines = (
        table3(outcomes),
        by_fst_table(outcomes),
        notes(outcomes, test, maxflow_input),
    )
    not_run_lines = [NotRun(why).sentence(LABELS[m]) for m, why in skipped.items()]
    metrics = {o.name: _model_metrics(o) for o in outcomes}
    metrics |= {name: NotRun(why).metrics() for name, why in skipped.items()}
    with atomic_path(out_dir) as tmp:
        tmp.mkdir(parents=True)
        table.to_csv(tmp / "table3.csv")
        (tmp / "table3.md").write_text(_markdown(table, fst, not_run_lines + lines))
        t3 = {
            "models": {o.name: metrics[o.name] for o in outcomes},
            "not_run": skipped,
            "notes": lines,
            "paper": PAPER_TABLE3,
            "by_fst": fst.to_dict(orient="records"),
        }
        write_json_atomic(tmp / "table3.json", t3)
        phantom = is_phantom(test.index["dataset"])
        write_sections(tmp, table3_section(t3, phantom, dark_count(test.index["fst"])))
        fst.to_csv(tmp / "by_fst.csv", index=False)
        per_image_table(outcomes, test.index).to_csv(tmp / "per_image.csv", index=False)
        _history(outcomes).to_csv(tmp / "history.csv", index=False)
        (tmp / "curves").mkdir()  # one file per model: what `dvc plots show` draws
        for o in (o for o in outcomes if o.history):
            pd.DataFrame(o.history).to_csv(tmp / "curves" / f"{o.name}.csv", index=False)
        overlay_figure(outcomes, test, tmp / "overlays.png", overlays)
        fst_figure(fst, tmp / "by_fst.png")
    return metrics
