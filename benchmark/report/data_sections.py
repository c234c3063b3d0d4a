"""Sections about the data: Table 1, Figure 4, FST agreement, Table 2, Figure 3, splits."""

from __future__ import annotations

from typing import Any

from benchmark.report.collect import ReportData
from benchmark.report.model import (
    DARK,
    Block,
    Context,
    Para,
    Section,
    Table,
    count,
    dark_warning,
    diff,
    figure,
    fmt,
    not_run,
    number,
    pct,
    stage_notes,
    warnings,
)

FST_ORDER = ("I", "II", "III", "IV", "V", "VI", "uncertain")
# Paper Table 2's dark (FST V-VI) originals per class (223 + 1,184 = 1,407).
PAPER_DARK = {"melanocytic": 223, "non_melanocytic": 1184, "Total": 1407}
ESTIMATES = {"primary": "primary estimate (fst)", "paper": "paper rule (fst_paper)"}


def table1_section(data: ReportData, ctx: Context) -> Section:
    """Paper Table 1 (FST distribution) beside ours, Figure 4 and the ITA agreement."""
    title = "Table 1: Fitzpatrick skin type distribution"
    if data.table1 is None:
        return not_run("sec-table1", title, data.not_run.get("skintone", "no table1.json"))
    rows: list[dict[str, Any]] = data.table1["rows"]
    body = _table1_rows(rows)
    dark = sum(int(r["total"]) for r in rows if r["fst"] in DARK)
    table = Table(
        "table1",
        "FST (ITA-estimated) × superclass: ours beside the paper's (ISIC, 17,728 images); "
        "Δ = our share − the paper's share, in percentage points.",
        (
            "FST",
            "melanocytic (ours)",
            "non-melanocytic (ours)",
            "total (ours)",
            "share (ours)",
            "melanoma (paper)",
            "non-melanoma (paper)",
            "total (paper)",
            "share (paper)",
            "Δ share (ours − paper)",
        ),
        tuple(body),
        warnings(dark_warning(dark, "image"), ctx.phantom_warning()),
        stage_notes(data.table1["notes"]),
    )
    fig4 = figure(
        data.reports_dir,
        "skintone/figure4.png",
        "figure4",
        "Bar chart of image counts per Fitzpatrick type and superclass, log scale",
        "Figure 4: FST distribution of our images (the paper's Figure 4 shows ISIC).",
    )
    return Section("sec-table1", title, (table, fig4, agreement_section(data)))


def _table1_rows(rows: list[dict[str, Any]]) -> list[tuple[str, ...]]:
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


def agreement_section(data: ReportData) -> Section:
    """ITA-estimated FST against labelled FST, where the metadata has labels."""
    sid, title = "sec-agreement", "Agreement of ITA-estimated FST with labelled FST"
    if data.agreement is None:
        return Section(sid, title, (Para("Not recorded: skintone/agreement.json is absent."),))
    if not data.agreement:
        return Section(sid, title, (Para("No image has a labelled FST: agreement not computed."),))
    body = []
    for name, result in data.agreement.items():
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
    first = next(iter(data.agreement.values()))
    dark = sum(sum(first["confusion"].get(g, {}).values()) for g in DARK)
    blocks: list[Block] = [
        Table(
            "agreement",
            "Estimated against labelled Fitzpatrick type (images with both).",
            ("estimate", "images", "exact", "within one type", "quadratic κ", "uncertain"),
            tuple(body),
            warnings(dark_warning(int(dark), "labelled image")),
        )
    ]
    blocks += [_confusion(name, result) for name, result in data.agreement.items()]
    return Section(sid, title, tuple(blocks))


def _confusion(name: str, result: dict[str, Any]) -> Table:
    confusion: dict[str, dict[str, Any]] = result["confusion"]
    columns = [c for c in FST_ORDER if any(c in row for row in confusion.values())]
    rows = tuple(
        (label, *(count(row.get(c, 0)) for c in columns)) for label, row in confusion.items()
    )
    return Table(
        f"agreement-{name}",
        f"Confusion of the {ESTIMATES.get(name, name)}: rows labelled, columns estimated.",
        ("labelled \\ estimated", *columns),
        rows,
    )


def table2_section(data: ReportData, ctx: Context) -> Section:
    """Paper Table 2 (original, synthetic, augmented) beside ours, and Figure 3."""
    title = "Table 2: composition of the original and augmented data"
    if data.table2 is None:
        return not_run("sec-table2", title, data.not_run.get("synthetic", "no table2.csv"))
    body = [_table2_row(r) for r in data.table2]
    total = next((r for r in data.table2 if r["class"] == "Total"), None)
    dark = number(total["original_dark"]) if total else None
    table = Table(
        "table2",
        "Images per class; synthetic images target FST V–VI only. Ours count the synthetic "
        "images that passed validation. Δ = our synthetic share − the paper's, in points.",
        (
            "class",
            "original (ours)",
            "original FST V–VI (ours)",
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
            dark_warning(None if dark is None else int(dark), "original image"),
            ctx.phantom_warning(),
        ),
        _validation_notes(data),
    )
    fig3 = figure(
        data.reports_dir,
        "synthetic/figure3.png",
        "figure3",
        "Grid of synthetic lesion images beside real FST V–VI images",
        "Figure 3: synthetic samples (ours).",
    )
    return Section("sec-table2", title, (table, fig3))


def _table2_row(r: dict[str, str]) -> tuple[str, ...]:
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


def _share(part: str, whole: str) -> float | None:
    p, w = number(part), number(whole)
    return p / w if p is not None and w else None


def _validation_notes(data: ReportData) -> tuple[str, ...]:
    m = data.metrics.get("validate_synthetic", {})
    if not {"synthetic", "rejected", "validated"} <= set(m):
        return ()
    notes = [
        f"{count(m['synthetic'])} synthetic images generated, {count(m['rejected'])} rejected "
        f"by validation, {count(m['validated'])} kept (synthetic/rejected.csv lists reasons).",
    ]
    if "reference_images" in m:
        notes.append(
            f"The LoRA trained on the {count(m['reference_images'])} labelled FST V–VI images "
            "of the train split, which are also validation's references "
            "(synthetic/reference.csv); the original FST V–VI column counts every split."
        )
    return tuple(notes)


def composition_section(data: ReportData) -> Section:
    """Images per split and FST (real and synthetic), from the split stage."""
    title = "Split composition"
    if data.composition is None:
        return not_run("sec-split", title, data.not_run.get("split", "no composition.csv"))
    counts: dict[str, dict[str, int]] = {}
    synthetic: dict[str, int] = {}
    for r in data.composition:
        n = int(number(r["images"]) or 0)
        split = counts.setdefault(r["split"], {})
        split[r["fst"]] = split.get(r["fst"], 0) + n
        if r["source"] != "real":
            synthetic[r["split"]] = synthetic.get(r["split"], 0) + n
    fsts = [f for f in FST_ORDER if any(f in c for c in counts.values())]
    fsts += sorted({f for c in counts.values() for f in c} - set(fsts))
    order = [s for s in ("train", "val", "test") if s in counts] + sorted(
        set(counts) - {"train", "val", "test"}
    )
    rows = tuple(
        (
            split,
            *(str(counts[split].get(f, 0)) for f in fsts),
            str(sum(counts[split].values())),
            str(synthetic.get(split, 0)),
        )
        for split in order
    )
    table = Table(
        "split-composition",
        "Images per split and FST (estimated), with how many are synthetic.",
        ("split", *fsts, "total", "synthetic"),
        rows,
        notes=("Tables 3 and 5 (test column) and the fairness audits use the test split.",),
    )
    return Section("sec-split", title, (table,))
