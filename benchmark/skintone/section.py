"""The skintone stage's part of the report: paper Table 1 beside ours, Figure 4, agreement."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from benchmark.core.document import (
    Block,
    Figure,
    Para,
    Section,
    SectionFile,
    Table,
    count,
    diff,
    fmt,
    pct,
    phantom_warning,
    slot,
    stage_notes,
    warnings,
)
from benchmark.core.fitzpatrick import DARK_TYPES, GROUP_ORDER, few_dark_warning
from benchmark.core.groupings import (
    NAMES,
    PAPER,
    PROTOCOL,
    ROBUST,
    SKIN_TYPE,
    SKIN_TYPE_SHORT,
    describe,
)
from benchmark.skintone.tables import CrossTab

ESTIMATES = {"paper": describe(PAPER), "robust": describe(ROBUST)}
COLUMNS: tuple[str, ...] = (
    SKIN_TYPE_SHORT,
    "melanocytic (ours)",
    "non-melanocytic (ours)",
    "total (ours)",
    "share (ours)",
)
COLUMNS += ("melanoma (paper)", "non-melanoma (paper)", "total (paper)", "share (paper)")
COLUMNS += ("Δ share (ours − paper)",)
FIGURE4 = Figure(
    "figure4",
    "skintone/figure4.png",
    f"Bar chart of image counts per {SKIN_TYPE} and superclass, log scale",
    f"Figure 4: our images by {describe(PROTOCOL)} (the paper's Figure 4 shows ISIC by its "
    "ITA-derived FST).",
)


def table1_section(
    rows: Sequence[Mapping[Any, Any]],
    notes: list[str],
    agreement: dict[str, Any],
    phantom: bool,
    both: CrossTab | None = None,
) -> SectionFile:
    """Paper Table 1 (skin-type distribution) beside ours, Figure 4 and the ITA agreement.

    Args:
        rows: ``table1.json`` rows (``fst``, our counts and share, the paper's counts).
        notes: The stage's notes.
        agreement: Estimate name -> :func:`~benchmark.metrics.agreement.fst_agreement`.
        phantom: The images are phantoms.
        both: The two groupings cross-tabulated (None: not both estimated).
    """
    dark = sum(int(r["total"]) for r in rows if r["fst"] in DARK_TYPES)
    table = Table(
        "table1",
        f"{describe(PROTOCOL)} × superclass: ours beside the paper's (ISIC, 17,728 images, "
        "by the paper's ITA-derived FST); Δ = our share − the paper's share, in percentage "
        "points.",
        COLUMNS,
        tuple(_table1_rows(rows)),
        warnings(few_dark_warning(dark, "image"), phantom_warning(phantom)),
        stage_notes(notes),
    )
    place = slot("skintone")
    parts: list[Block] = [table, FIGURE4]
    if both is not None:
        parts += crosstab_blocks(both)
    section = Section(place.id, place.title, (*parts, agreement_section(agreement)))
    return SectionFile((section,), phantom)


def _table1_rows(rows: Sequence[Mapping[Any, Any]]) -> list[tuple[str, ...]]:
    paper_all = next((r["paper_total"] for r in rows if r["fst"] == "Total"), None)
    paper_all = paper_all or sum(r["paper_total"] for r in rows)
    body = []
    for r in rows:
        paper_share = r["paper_total"] / paper_all if paper_all else None
        body.append(
            (
                r["fst"],
                *(count(r[k]) for k in ("melanocytic", "non_melanocytic", "total")),
                pct(r["share"]),
                *(count(r[k]) for k in ("paper_melanoma", "paper_non_melanoma", "paper_total")),
                pct(paper_share),
                diff(r["share"], paper_share, 2, 100.0, " pp"),
            )
        )
    return body


def agreement_section(agreement: dict[str, Any]) -> Section:
    """Each ITA estimate against labelled Fitzpatrick type, where the metadata has labels."""
    sid, title = "sec-agreement", f"Agreement of the {SKIN_TYPE} with labelled Fitzpatrick type"
    if not agreement:
        none = "No image has a labelled Fitzpatrick type: agreement not computed."
        return Section(sid, title, (Para(none),))
    body = []
    for name, result in agreement.items():
        reason = result.get("reason") or "not computed"
        cells = [
            fmt(result[k], 3, f"undefined ({reason})")
            for k in ("exact", "within_one", "kappa_quadratic")
        ]
        body.append(
            (
                ESTIMATES.get(name, name),
                count(result["support"]),
                *cells,
                count(result.get("uncertain")),
            )
        )
    first = next(iter(agreement.values()))
    dark = sum(sum(first["confusion"].get(g, {}).values()) for g in DARK_TYPES)
    blocks: list[Block] = [
        Table(
            "agreement",
            "Estimated against labelled Fitzpatrick type (images with both).",
            ("estimate", "images", "exact", "within one type", "quadratic κ", "uncertain"),
            tuple(body),
            warnings(few_dark_warning(int(dark), "labelled image")),
        )
    ]
    blocks += [_confusion(name, result) for name, result in agreement.items()]
    return Section(sid, title, tuple(blocks))


def _confusion(name: str, result: dict[str, Any]) -> Table:
    confusion: dict[str, dict[str, Any]] = result["confusion"]
    columns = [c for c in GROUP_ORDER if any(c in row for row in confusion.values())]
    rows = tuple(
        (label, *(count(row.get(c, 0)) for c in columns)) for label, row in confusion.items()
    )
    return Table(
        f"agreement-{name}",
        f"Confusion of the {ESTIMATES.get(name, name)}: rows labelled, columns estimated.",
        ("labelled \\ estimated", *columns),
        rows,
    )


def crosstab_blocks(both: CrossTab) -> list[Block]:
    """The two groupings against each other, and the sentence the numbers say."""
    labels = [c for c in both.counts["Total"] if c != "Total"]
    rows = tuple(
        (label, *(count(row.get(c, 0)) for c in (*labels, "Total")))
        for label, row in both.counts.items()
    )
    if both.paper_dark:
        said = (
            f"Of the {both.paper_dark} images the paper's rule as printed calls V–VI, "
            f"{both.paper_dark_light} ({pct(both.share_relabelled, 1)}) are I–IV by the "
            "robust estimate: the paper's rule reads lesion pixels, vignetting and colour "
            "casts as skin."
        )
    else:
        said = "The paper's rule as printed calls no image V–VI."
    return [
        Table(
            "crosstab",
            f"{SKIN_TYPE} by both estimates: rows the {NAMES[PAPER]} ({PAPER}), columns the "
            f"{NAMES[ROBUST]} ({ROBUST}); the margins are each grouping's Table 1 totals.",
            ("paper \\ robust", *labels, "Total"),
            rows,
            notes=(said,),
        )
    ]
