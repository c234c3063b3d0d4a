"""Sections about the models: Tables 3, 4 and 5, seed intervals, Figure 5, segmentation plots."""

from __future__ import annotations

from typing import Any

from benchmark.core.caveats import SEED_INTERVAL
from benchmark.core.status import NotRun
from benchmark.report.collect import SEG_LABELS, ReportData, Runtime
from benchmark.report.model import (
    DARK,
    DASH,
    Block,
    Context,
    Para,
    Section,
    Table,
    dark_warning,
    diff,
    figure,
    fmt,
    not_run,
    number,
    stage_notes,
    warnings,
    with_interval,
)

SEG_ROWS = {
    "iou": "Mean IoU",
    "dice": "Dice coefficient",
    "precision": "Precision",
    "recall": "Recall (sensitivity)",
    "hausdorff": "Hausdorff dist. (px)",
    "hd95": "HD95 (px)",
    "specificity": "Specificity",
    "missed": "Missed lesions (empty prediction; images)",
    "ms_per_image": "Execution time (ms/image)",
}
FST_COLUMNS = ("iou", "dice", "precision", "recall", "specificity", "hausdorff", "missed")
# Rows whose Δ against the paper is left out, and why.
NO_SEG_DELTA = {
    "hausdorff": "not comparable: pixels at our cache size, the paper's resolution unknown",
    "hd95": "the paper reports no HD95",
    "missed": "the paper does not report misses",
}
CLS_ROWS = {
    "loss": "Loss",
    "accuracy": "Accuracy (%)",
    "auc": "AUC",
    "precision": "Precision",
    "recall": "Recall",
    "f1": "F1",
}
CLS_LABELS = {"baseline": "Baseline", "augmented": "Augmented"}
NOT_RECORDED = "not recorded"
NOT_RUN_CELL = "not run"
UNDEFINED_SEEDS = "undefined (not defined in any seed)"


def _ordered(keys: Any, first: tuple[str, ...]) -> list[str]:
    keys = list(keys)
    return [k for k in first if k in keys] + [k for k in keys if k not in first]


def table3_section(data: ReportData, ctx: Context) -> Section:
    """Paper Table 3 beside ours (Δ = ours − paper), per-FST results and the figures."""
    title = "Table 3: segmentation on real test images"
    if data.table3 is None:
        return not_run("sec-table3", title, data.not_run.get("segment", "no table3.json"))
    t3 = data.table3
    models = _ordered(t3["models"], tuple(SEG_LABELS))
    body = []
    for key, label in SEG_ROWS.items():
        row = [label]
        for m in models:
            paper = t3["paper"].get(m, {}).get(key)
            if key == "ms_per_image":
                ours: Any = data.seg_ms.get(m)
                row += [fmt(paper, 1), fmt(ours, 3, NOT_RECORDED), diff(ours, paper, 1)]
            elif key == "missed":
                ours = t3["models"][m].get("empty_cases", {}).get("pred_empty")
                row += [fmt(paper, 0), fmt(ours, 0), f"— ({NO_SEG_DELTA[key]})"]
            else:
                ours = t3["models"][m]["mean"].get(key)
                delta = f"— ({NO_SEG_DELTA[key]})" if key in NO_SEG_DELTA else diff(ours, paper, 3)
                row += [fmt(paper, 3), fmt(ours, 3), delta]
        body.append(tuple(row))
    columns = ["metric"]
    for m in models:
        name = SEG_LABELS.get(m, m)
        columns += [f"{name} (paper)", f"{name} (ours)", f"{name} Δ (ours − paper)"]
    table = Table(
        "table3",
        "Mean over real test images; Δ = ours − paper where the two measure the same thing "
        "(for time, lower is better); a Δ left out says why. A missed lesion scores "
        "Hausdorff/HD95 as the image diagonal.",
        tuple(columns),
        tuple(body),
        warnings(ctx.phantom_warning()),
        stage_notes(t3["notes"]),
    )
    blocks: list[Block] = [
        table,
        *_not_run_paras(t3.get("not_run", {}), SEG_LABELS),
        _by_fst(t3["by_fst"], models, ctx),
        *_seg_figures(data),
    ]
    return Section("sec-table3", title, tuple(blocks))


def _not_run_paras(skipped: dict[str, str], labels: dict[str, str]) -> list[Para]:
    """One line per model or variant that did not run: it has no number, only this reason."""
    return [Para(NotRun(why).sentence(labels.get(k, k)), "notrun") for k, why in skipped.items()]


def _seg_figures(data: ReportData) -> tuple[Block, ...]:
    return (
        figure(
            data.reports_dir,
            "segment/by_fst.png",
            "figure-seg-by-fst",
            "Segmentation metrics per Fitzpatrick type and model",
            "Segmentation per FST (ours).",
        ),
        figure(
            data.reports_dir,
            "segment/overlays.png",
            "figure-seg-overlays",
            "Test images with ground-truth and predicted lesion outlines",
            "Segmentation overlays (ours).",
        ),
    )


def _by_fst(rows: list[dict[str, Any]], models: list[str], ctx: Context) -> Table:
    rank = {m: i for i, m in enumerate(models)}
    rows = sorted(rows, key=lambda r: rank.get(r["model"], len(rank)))
    dark: dict[str, int] = {}
    for r in rows:
        if r["fst"] in DARK:
            dark[r["model"]] = dark.get(r["model"], 0) + int(r["support"])
    n_dark = max(dark.values(), default=0) if rows else ctx.test_dark
    return Table(
        "table3-fst",
        "Segmentation by Fitzpatrick type (estimated), real test images.",
        ("model", "FST", "images", *(SEG_ROWS[c] for c in FST_COLUMNS)),
        tuple(
            (
                SEG_LABELS.get(r["model"], r["model"]),
                r["fst"],
                str(int(r["support"])),
                *tuple(fmt(r.get(c), 3, "undefined (no defined value)") for c in FST_COLUMNS),
            )
            for r in rows
        ),
        warnings(dark_warning(n_dark, "test image"), ctx.phantom_warning()),
    )


# Paper Table 4: key, task, unit, paper value (None: a range), paper text.
PAPER_TABLE4 = (
    ("segmentation", "Segmentation (Augmented CNN), inference", "ms/image", 130.0, "130 ms/image"),
    ("generation", "Synthetic generation (Diffusers)", "s/image", None, "~4–6 s/image"),
    ("classification", "Classification (EfficientNet-B0)", "ms/image", 60.0, "60 ms/image"),
)
GENERATION_RANGE = (4.0, 6.0)
MISSING_RUNTIME = {
    "segmentation": ("not recorded", "segment/table3.csv has no time row for the Augmented CNN"),
    "generation": (
        "not recorded here",
        "the generate stage logs seconds_per_image to MLflow only (not to a file)",
    ),
    "classification": ("not recorded", "no stage output records classification ms/image"),
}


def table4_section(data: ReportData) -> Section:
    """Paper Table 4 (runtimes) beside ours where a file records them."""
    body = []
    for key, task, unit, paper, paper_text in PAPER_TABLE4:
        runtime = data.runtimes.get(key)
        if runtime is None:
            ours, source = MISSING_RUNTIME[key]
            if key == "segmentation" and "segment" in data.not_run:
                source = f"segment stage not run ({data.not_run['segment']})"
            body.append((task, paper_text, ours, DASH, source))
            continue
        body.append(
            (
                task,
                paper_text,
                f"{fmt(runtime.value, 2)} {unit}",
                _runtime_diff(runtime, paper, unit),
                runtime.source,
            )
        )
    table = Table(
        "table4",
        "Mean runtimes: the paper's (Stanage HPC, NVIDIA Tesla GPUs) beside ours; "
        "Δ = ours − paper.",
        ("task", "paper", "ours", "Δ (ours − paper)", "source of ours"),
        tuple(body),
        notes=(
            "Ours ran on the machine and at the image size of this run's profile (see the "
            "header and Table 3's notes): runtimes do not transfer across hardware, image "
            "size or batch size.",
            "The other segmentation models' times are in Table 3.",
        ),
    )
    return Section("sec-table4", "Table 4: runtimes", (table,))


def _runtime_diff(runtime: Runtime, paper: float | None, unit: str) -> str:
    if paper is not None:
        return diff(runtime.value, paper, 2, unit=f" {unit}")
    low, high = GENERATION_RANGE
    where = "below" if runtime.value < low else "above" if runtime.value > high else "within"
    return f"{where} the paper's range ({low:g}–{high:g})"


def table5_section(data: ReportData, ctx: Context) -> Section:
    """Paper Table 5 beside ours (means over seeds), the strictly real test column, seeds."""
    title = "Table 5: classification"
    if data.table5 is None:
        return not_run("sec-table5", title, data.not_run.get("classify", "no table5.json"))
    t5 = data.table5
    variants = _ordered({**t5["paper"], **t5["ours"]}, tuple(CLS_LABELS))
    skipped: dict[str, str] = t5.get("not_run", {})
    body = [row for v in variants for row in _table5_rows(t5, v, v in skipped)]
    table = Table(
        "table5",
        "Threshold 0.5; ours are means over seeds (intervals in the Seeds table); "
        "Δ = ours − paper where both measure the same thing (a Δ left out says why). The "
        "test column is strictly real images and has no paper "
        "counterpart (the paper validated the augmented model on a real + synthetic mix).",
        (
            "model",
            "metric",
            "train (paper)",
            "train (ours)",
            "train Δ",
            "val (paper)",
            "val (ours)",
            "val Δ",
            "test, real only (ours)",
        ),
        tuple(body),
        warnings(dark_warning(ctx.test_dark, "test image"), ctx.phantom_warning()),
        stage_notes(t5["notes"]),
    )
    ran = [v for v in variants if v not in skipped]
    blocks: list[Block] = [
        table,
        *_not_run_paras(skipped, CLS_LABELS),
        seeds_section(data, t5["ours"], ran),
    ]
    blocks.append(
        figure(
            data.reports_dir,
            "classify/figure5.png",
            "figure5",
            "Training curves: loss, accuracy and validation AUC per epoch for each model and seed",
            "Figure 5: training dynamics (ours, every model and seed).",
        )
    )
    return Section("sec-table5", title, tuple(blocks))


def _table5_rows(t5: dict[str, Any], variant: str, skipped: bool) -> list[tuple[str, ...]]:
    """A variant's rows: the paper's values, ours (or "not run": no number stands in)."""
    paper, ours = t5["paper"].get(variant, {}), t5["ours"].get(variant, {})
    body = []
    for key, label in CLS_ROWS.items():
        digits = 2 if key == "accuracy" else 4
        row = [CLS_LABELS.get(variant, variant), label]
        for k, split in enumerate(("train", "val")):
            p = paper[key][k] if key in paper else None
            o = None if skipped else _mean(ours, split, key)
            missing = NOT_RUN_CELL if skipped else _undefined(ours, split, key)
            why = None if skipped else _no_delta(t5, variant, split)
            delta = f"— ({why})" if why else diff(o, p, digits)
            row += [fmt(p, digits), fmt(o, digits, missing), delta]
        test = None if skipped else _mean(ours, "test", key)
        missing = NOT_RUN_CELL if skipped else _undefined(ours, "test", key)
        body.append((*row, fmt(test, digits, missing)))
    return body


def _no_delta(t5: dict[str, Any], variant: str, split: str) -> str | None:
    """Why a Table 5 Δ would compare unlike things, or None where it is comparable."""
    if split == "train":
        return (
            "not comparable: ours scores the kept weights in eval mode, the paper's is "
            "likely the running training value"
        )
    synthetic = t5.get("val_synthetic", {}).get(variant)
    if variant == "augmented" and not synthetic:
        return "not comparable: our validation is real only, the paper's real + synthetic"
    return None


def _mean(ours: dict[str, Any], split: str, key: str) -> float | None:
    triple = ours.get(split, {}).get(key)
    return None if triple is None else number(triple[0])


def _undefined(ours: dict[str, Any], split: str, key: str) -> str:
    return UNDEFINED_SEEDS if key in ours.get(split, {}) else NOT_RECORDED


def seeds_section(data: ReportData, ours: dict[str, Any], variants: list[str]) -> Section:
    """Mean and 95% interval over seeds of every Table 5 metric (``ours`` of table5.json)."""
    rows = []
    for v in variants:
        for split in _ordered(ours.get(v, {}), ("train", "val", "test")):
            cells = [_seed_cell(ours[v][split], k) for k in CLS_ROWS]
            rows.append((CLS_LABELS.get(v, v), split, *cells))
    table = Table(
        "seeds",
        "Mean over seeds [95% t-interval]; one seed gives no interval.",
        ("model", "split", *CLS_ROWS.values()),
        tuple(rows),
        notes=(SEED_INTERVAL,),
    )
    return Section("sec-seeds", "Seeds", (Para(_seed_text(data)), table))


def _seed_cell(metrics: dict[str, Any], key: str) -> str:
    if key not in metrics:
        return NOT_RECORDED
    mean, low, high = metrics[key]
    if number(mean) is None:
        return UNDEFINED_SEEDS
    return with_interval(mean, low, high, digits=2 if key == "accuracy" else 4)


def _seed_text(data: ReportData) -> str:
    if data.per_seed is None:
        return "Seeds: classify/per_seed.csv is absent, so the seeds used are not listed here."
    seeds: dict[str, set[str]] = {}
    for row in data.per_seed:
        seeds.setdefault(row["variant"], set()).add(row["seed"])
    parts = [
        f"{CLS_LABELS.get(v, v)}: {len(s)} seed(s) ({', '.join(sorted(s, key=_seed_key))})"
        for v, s in seeds.items()
    ]
    return "Seeds per model — " + "; ".join(parts) + "."


def _seed_key(seed: str) -> tuple[float, str]:
    x = number(seed)
    return (x if x is not None else float("inf"), seed)
