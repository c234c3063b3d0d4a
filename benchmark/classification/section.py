"""The classify stage's part of the report: paper Table 5 beside ours, seeds, Figure 5."""

from __future__ import annotations

from typing import Any

from benchmark.core.caveats import SEED_INTERVAL
from benchmark.core.document import (
    Block,
    Figure,
    Para,
    Section,
    SectionFile,
    Table,
    diff,
    fmt,
    not_run_paras,
    number,
    ordered,
    phantom_warning,
    slot,
    stage_notes,
    warnings,
    with_interval,
)
from benchmark.core.fitzpatrick import few_dark_warning
from benchmark.core.naming import VARIANT_LABELS

METRICS = {
    "loss": "Loss",
    "accuracy": "Accuracy (%)",
    "auc": "AUC",
    "precision": "Precision",
    "recall": "Recall",
    "f1": "F1",
}
LABELS = VARIANT_LABELS
NOT_RECORDED = "not recorded"
NOT_RUN_CELL = "not run"
UNDEFINED_SEEDS = "undefined (not defined in any seed)"
COLUMNS: tuple[str, ...] = ("model", "metric", "train (paper)", "train (ours)", "train Δ")
COLUMNS += ("val (paper)", "val (ours)", "val Δ", "test, real only (ours) [95% over seeds]")
FIGURE5 = Figure(
    "figure5",
    "classify/figure5.png",
    "Training curves: loss, accuracy and validation AUC per epoch for each model and seed",
    "Figure 5: training dynamics (ours, every model and seed).",
)


def table5_section(
    t5: dict[str, Any], seeds: dict[str, list[int]], phantom: bool, test_dark: int
) -> SectionFile:
    """Paper Table 5 beside ours (means over seeds), the strictly real test column, seeds.

    Args:
        t5: What ``table5.json`` holds (``paper``, ``ours``, ``notes``, ``not_run``,
            ``val_synthetic``).
        seeds: Variant -> the seeds it ran.
        phantom: The test images are phantoms.
        test_dark: ITA type V–VI images in the real test split.
    """
    variants = ordered({**t5["paper"], **t5["ours"]}, tuple(LABELS))
    skipped: dict[str, str] = t5.get("not_run", {})
    marks: dict[str, str] = {}  # why a Δ is left out -> its footnote mark, stated once
    rows = tuple(row for v in variants for row in _rows(t5, v, v in skipped, marks))
    footnotes = tuple(f"({mark}) Δ left out: {why}." for why, mark in marks.items())
    table = Table(
        "table5",
        "Threshold 0.5; ours are means over seeds, the test column with its 95% t-interval "
        "over seeds (all intervals in the Seeds table); "
        "Δ = ours − paper where both measure the same thing (a Δ left out says why). The "
        "test column is strictly real images and has no paper "
        "counterpart (the paper validated the augmented model on a real + synthetic mix).",
        COLUMNS,
        rows,
        warnings(few_dark_warning(test_dark, "test image"), phantom_warning(phantom)),
        footnotes + stage_notes(t5["notes"]),
    )
    ran = [v for v in variants if v not in skipped]
    blocks: list[Block] = [
        table,
        *not_run_paras(skipped, LABELS),
        seeds_section(t5["ours"], ran, seeds),
        FIGURE5,
    ]
    place = slot("classify")
    return SectionFile((Section(place.id, place.title, tuple(blocks)),), phantom)


def _rows(
    t5: dict[str, Any], variant: str, skipped: bool, marks: dict[str, str]
) -> list[tuple[str, ...]]:
    """A variant's rows: the paper's values, ours (or "not run": no number stands in).

    A Δ that would compare unlike things is "— (a)"; ``marks`` gains the reason's letter.
    """
    paper, ours = t5["paper"].get(variant, {}), t5["ours"].get(variant, {})
    body = []
    for key, label in METRICS.items():
        digits = 2 if key == "accuracy" else 4
        row = [LABELS.get(variant, variant), label]
        for k, split in enumerate(("train", "val")):
            p = paper[key][k] if key in paper else None
            o = None if skipped else _mean(ours, split, key)
            missing = NOT_RUN_CELL if skipped else _undefined(ours, split, key)
            why = None if skipped else _no_delta(t5, variant, split)
            if why:
                marks.setdefault(why, "abcdefgh"[len(marks)])
            delta = f"— ({marks[why]})" if why else diff(o, p, digits)
            row += [fmt(p, digits), fmt(o, digits, missing), delta]
        if skipped:
            body.append((*row, NOT_RUN_CELL))
        else:  # the column the paper lacks: mean [95% t-interval over seeds]
            body.append((*row, _seed_cell(ours.get("test", {}), key)))
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


def seeds_section(
    ours: dict[str, Any], variants: list[str], seeds: dict[str, list[int]]
) -> Section:
    """Mean and 95% interval over seeds of every Table 5 metric (``ours`` of table5.json)."""
    rows = []
    for v in variants:
        for split in ordered(ours.get(v, {}), ("train", "val", "test")):
            cells = [_seed_cell(ours[v][split], k) for k in METRICS]
            rows.append((LABELS.get(v, v), split, *cells))
    table = Table(
        "seeds",
        "Mean over seeds [95% t-interval]; one seed gives no interval.",
        ("model", "split", *METRICS.values()),
        tuple(rows),
        notes=(SEED_INTERVAL,),
    )
    parts = [
        f"{LABELS.get(v, v)}: {len(s)} seed(s) ({', '.join(str(x) for x in sorted(s))})"
        for v, s in seeds.items()
    ]
    text = "Seeds per model — " + "; ".join(parts) + "."
    return Section("sec-seeds", "Seeds", (Para(text), table))


def _seed_cell(metrics: dict[str, Any], key: str) -> str:
    if key not in metrics:
        return NOT_RECORDED
    mean, low, high = metrics[key]
    if number(mean) is None:
        return UNDEFINED_SEEDS
    return with_interval(mean, low, high, digits=2 if key == "accuracy" else 4)
