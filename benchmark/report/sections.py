"""Assemble the whole report, in the paper's order, from the collected data."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from benchmark.core.caveats import PHANTOM_WARNING
from benchmark.report.collect import ReportData
from benchmark.report.data_sections import composition_section, table1_section, table2_section
from benchmark.report.fairness import fairness_section
from benchmark.report.model import (
    DARK,
    Context,
    Figure,
    Para,
    Section,
    Table,
    number,
    walk,
)
from benchmark.report.model_sections import table3_section, table4_section, table5_section

TITLE = "skintone-bench: the paper's tables beside ours"


def context(data: ReportData) -> Context:
    """Whether the data are phantoms, and how many test images are FST V–VI."""
    notes: list[str] = []
    for loaded in (data.table1, data.table3, data.table5):
        notes += loaded["notes"] if loaded else []
    phantom = any("phantom" in note.lower() for note in notes)
    return Context(phantom=phantom, test_dark=_test_dark(data))


def _test_dark(data: ReportData) -> int | None:
    """FST V–VI test images: from the split composition, else from the fairness audits."""
    if data.composition is not None:
        return sum(
            int(number(r["images"]) or 0)
            for r in data.composition
            if r["split"] == "test" and r["fst"] in DARK
        )
    if data.fairness:
        return max(
            sum(int(a["by_group"][g]["support"]) for g in DARK if g in a["by_group"])
            for a in data.fairness.values()
        )
    return None


def build(data: ReportData, header: Mapping[str, str]) -> list[Section]:
    """Every section of the report, the header first."""
    ctx = context(data)
    return [
        header_section(data, header, ctx),
        table1_section(data, ctx),
        table2_section(data, ctx),
        composition_section(data),
        table3_section(data, ctx),
        table4_section(data),
        table5_section(data, ctx),
        fairness_section(data, ctx),
    ]


def header_section(data: ReportData, header: Mapping[str, str], ctx: Context) -> Section:
    """The caller's key/values (data source, profile, commit...), then report-wide warnings."""
    blocks: list[Table | Para] = [
        Table(
            "run-info",
            "This report's run.",
            ("item", "value"),
            tuple((str(k), str(v)) for k, v in header.items()),
        )
    ]
    if ctx.phantom:
        blocks.append(Para(PHANTOM_WARNING, "warning"))
    if data.not_run:
        listed = "; ".join(f"{stage} ({why})" for stage, why in data.not_run.items())
        blocks.append(Para(f"Stages not run: {listed}.", "notrun"))
    if data.absent:
        blocks.append(Para(f"Files not written by a stage that ran: {', '.join(data.absent)}."))
    return Section("run", "Run", tuple(blocks))


def summary(sections: list[Section], data: ReportData) -> dict[str, Any]:
    """Table ids, figures present and missing, the warning count and the stages not run."""
    blocks = [b for section in sections for b in walk(section)]
    tables = [b for b in blocks if isinstance(b, Table)]
    figures = [b for b in blocks if isinstance(b, Figure)]
    paras = [b for b in blocks if isinstance(b, Para) and b.kind == "warning"]

    def rel(f: Figure) -> str:
        return f.path.relative_to(data.reports_dir).as_posix()

    return {
        "tables": [t.id for t in tables],
        "figures": [rel(f) for f in figures if f.exists],
        "figures_missing": [rel(f) for f in figures if not f.exists],
        "warnings": len(paras) + sum(len(t.warnings) for t in tables),
        "not_run": sorted(data.not_run),
    }
