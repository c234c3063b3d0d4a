"""The validate_synthetic stage's part of the report: paper Table 2 beside ours, Figure 3."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from benchmark.core.document import (
    Figure,
    Section,
    SectionFile,
    Table,
    count,
    diff,
    fmt,
    number,
    pct,
    phantom_warning,
    slot,
    warnings,
)
from benchmark.core.fitzpatrick import few_dark_warning
from benchmark.core.groupings import SKIN_TYPE_SHORT

# Paper Table 2's dark originals (its ITA-derived FST V-VI) per class (223 + 1,184 = 1,407).
PAPER_DARK = {"melanocytic": 223, "non_melanocytic": 1184, "Total": 1407}


def table2_section(
    rows: Sequence[Mapping[Any, Any]], validation: dict[str, Any], phantom: bool
) -> SectionFile:
    """Paper Table 2 (original, synthetic, augmented) beside ours, and Figure 3.

    Args:
        rows: Table 2's rows (``class``, our counts, the paper's counts), as in table2.csv.
        validation: The stage metrics (``synthetic``, ``rejected``, ``validated``,
            ``reference_images``).
        phantom: The real images are phantoms.
    """
    body = [_table2_row(r) for r in rows]
    total = next((r for r in rows if r["class"] == "Total"), None)
    dark = number(total["original_dark"]) if total else None
    table = Table(
        "table2",
        f"Images per class; synthetic images target {SKIN_TYPE_SHORT} V–VI only. Ours count "
        "the synthetic images that passed validation. Δ = our synthetic share − the paper's, "
        "in points.",
        (
            "class",
            "original (ours)",
            f"original {SKIN_TYPE_SHORT} V–VI (ours)",
            "synthetic (ours)",
            "augmented (ours)",
            "original (paper)",
            "original dark (paper)",
            "synthetic (paper)",
            "augmented (paper)",
            "synthetic share (ours)",
            "synthetic share (paper)",
            "Δ share (ours − paper)",
        ),
        tuple(body),
        warnings(
            few_dark_warning(None if dark is None else int(dark), "original image"),
            phantom_warning(phantom),
        ),
        _validation_notes(validation),
    )
    fig3 = Figure(
        "figure3",
        "synthetic/figure3.png",
        f"Grid of synthetic lesion images beside real {SKIN_TYPE_SHORT} V–VI images",
        "Figure 3: synthetic samples (ours).",
    )
    place = slot("synthetic")
    return SectionFile((Section(place.id, place.title, (table, fig3)),), phantom)


def _table2_row(r: Mapping[Any, Any]) -> tuple[str, ...]:
    ours_share = _share(r["synthetic"], r["augmented"])
    paper_share = _share(r["paper_synthetic"], r["paper_augmented"])
    return (
        r["class"],
        *(count(r[k]) for k in ("original", "original_dark", "synthetic", "augmented")),
        count(r["paper_original"]),
        count(PAPER_DARK.get(r["class"])),
        *(count(r[k]) for k in ("paper_synthetic", "paper_augmented")),
        pct(ours_share),
        pct(paper_share),
        diff(ours_share, paper_share, 2, 100.0, " pp"),
    )


def _share(part: Any, whole: Any) -> float | None:
    p, w = number(part), number(whole)
    return p / w if p is not None and w else None


def _validation_notes(m: dict[str, Any]) -> tuple[str, ...]:
    if not {"synthetic", "rejected", "validated"} <= set(m):
        return ()
    notes = [
        f"{count(m['synthetic'])} synthetic images generated, {count(m['rejected'])} rejected "
        f"by validation, {count(m['validated'])} kept (synthetic/rejected.csv lists reasons).",
    ]
    if "kept_lesion_rate" in m:
        notes.append(
            f"Of the kept synthetic images, {pct(m['kept_lesion_rate'], 0)} contain a lesion "
            f"({pct(m.get('lesion_rate'), 0)} of all generated): Max-Flow finds a region of "
            "2–60% of the image whose colour differs from the skin by at least half the "
            f"references' median lesion–skin ΔE*ab ({fmt(m.get('reference_delta_e'), 1)}) and "
            "by more than the skin's own colour spread. "
            f"{pct(m.get('kept_tone_rate'), 0)} land in the requested tone group (estimated "
            "with the suite's primary ITA estimate)."
        )
    if "reference_images" in m:
        notes.append(
            f"The LoRA trained on the {count(m['reference_images'])} {SKIN_TYPE_SHORT} V–VI "
            "images of the train split with a class label, which are also validation's "
            "references (synthetic/reference.csv); the original "
            f"{SKIN_TYPE_SHORT} V–VI column counts every split."
        )
    return tuple(notes)
