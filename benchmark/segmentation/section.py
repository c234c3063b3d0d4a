"""The segment stage's part of the report: paper Table 3 beside ours, per skin type, figures."""

from __future__ import annotations

from typing import Any

from benchmark.core.document import (
    Block,
    Section,
    SectionFile,
    Table,
    diff,
    fmt,
    not_run_paras,
    ordered,
    phantom_warning,
    slot,
    stage_notes,
    warnings,
)
from benchmark.core.document import Figure as Fig
from benchmark.core.fitzpatrick import DARK_TYPES, few_dark_warning
from benchmark.core.groupings import PROTOCOL, SKIN_TYPE, SKIN_TYPE_SHORT, describe

LABELS = {"maxflow": "Max-Flow", "baseline": "Baseline CNN", "augmented": "Augmented CNN"}
ROWS = {
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
NO_DELTA = {
    "hausdorff": "not comparable: pixels at our cache size, the paper's resolution unknown",
    "hd95": "the paper reports no HD95",
    "missed": "the paper does not report misses",
    "ms_per_image": "ours vary run to run, so they are in Table 4 (metrics/runtime/segment.json)",
}
FIGURES = (
    Fig(
        "figure-seg-by-fst",
        "segment/by_fst.png",
        f"Segmentation metrics per {SKIN_TYPE} and model",
        f"Segmentation per {describe(PROTOCOL)} (ours).",
    ),
    Fig(
        "figure-seg-overlays",
        "segment/overlays.png",
        "Test images with ground-truth and predicted lesion outlines",
        "Segmentation overlays (ours).",
    ),
)


def _row(t3: dict[str, Any], key: str, label: str, models: list[str]) -> tuple[str, ...]:
    row = [label]
    for m in models:
        paper = t3["paper"].get(m, {}).get(key)
        if key == "ms_per_image":
            row += [fmt(paper, 1), "Table 4", f"— ({NO_DELTA[key]})"]
        elif key == "missed":
            ours = t3["models"][m].get("empty_cases", {}).get("pred_empty")
            row += [fmt(paper, 0), fmt(ours, 0), f"— ({NO_DELTA[key]})"]
        else:
            ours = t3["models"][m]["mean"].get(key)
            delta = f"— ({NO_DELTA[key]})" if key in NO_DELTA else diff(ours, paper, 3)
            row += [fmt(paper, 3), fmt(ours, 3), delta]
    return tuple(row)


def table3_section(t3: dict[str, Any], phantom: bool, test_dark: int) -> SectionFile:
    """Paper Table 3 beside ours (Δ = ours − paper), per-skin-type results and the figures.

    Args:
        t3: What ``table3.json`` holds (``models``, ``paper``, ``notes``, ``by_fst``,
            ``not_run``).
        phantom: The test images are phantoms.
        test_dark: ITA type V–VI images in the real test split.
    """
    models = ordered(t3["models"], tuple(LABELS))
    columns = ["metric"]
    for m in models:
        name = LABELS.get(m, m)
        columns += [f"{name} (paper)", f"{name} (ours)", f"{name} Δ (ours − paper)"]
    table = Table(
        "table3",
        "Mean over real test images; Δ = ours − paper where the two measure the same thing; "
        "a Δ left out says why. A missed lesion scores Hausdorff/HD95 as the image diagonal.",
        tuple(columns),
        tuple(_row(t3, key, label, models) for key, label in ROWS.items()),
        warnings(phantom_warning(phantom)),
        stage_notes(t3["notes"]),
    )
    blocks: list[Block] = [
        table,
        *not_run_paras(t3.get("not_run", {}), LABELS),
        _by_fst(t3["by_fst"], models, phantom, test_dark),
        *FIGURES,
    ]
    place = slot("segment")
    return SectionFile((Section(place.id, place.title, tuple(blocks)),), phantom)


def _by_fst(rows: list[dict[str, Any]], models: list[str], phantom: bool, test_dark: int) -> Table:
    rank = {m: i for i, m in enumerate(models)}
    rows = sorted(rows, key=lambda r: rank.get(r["model"], len(rank)))
    dark: dict[str, int] = {}
    for r in rows:
        if r["fst"] in DARK_TYPES:
            dark[r["model"]] = dark.get(r["model"], 0) + int(r["support"])
    n_dark = max(dark.values(), default=0) if rows else test_dark
    return Table(
        "table3-fst",
        f"Segmentation by {describe(PROTOCOL)}, real test images.",
        ("model", SKIN_TYPE_SHORT, "images", *(ROWS[c] for c in FST_COLUMNS)),
        tuple(
            (
                LABELS.get(r["model"], r["model"]),
                r["fst"],
                str(int(r["support"])),
                *(fmt(r.get(c), 3, "undefined (no defined value)") for c in FST_COLUMNS),
            )
            for r in rows
        ),
        warnings(few_dark_warning(n_dark, "test image"), phantom_warning(phantom)),
    )
