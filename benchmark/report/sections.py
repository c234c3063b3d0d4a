"""Assemble the report, in the paper's order, from the stages' parts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from benchmark.core.caveats import PHANTOM_WARNING
from benchmark.core.document import OUTLINE, Figure, Para, Section, Table, not_run, walk
from benchmark.report.collect import ReportData
from benchmark.report.runtimes import table4_section

TITLE = "skintone-bench: the paper's tables beside ours"
# Table 4 (runtimes, the report's own) comes after this slot.
TABLE4_AFTER = "sec-table3"


def run_header(source: str, raw_dir: str, profile: str) -> dict[str, str]:
    """The DVC-hashed report's header: where the data came from and the profile.

    What changes between reproductions of the same inputs (the commit that records them,
    run ids, times) stays off the page, so a reproduction leaves ``dvc.lock`` unchanged.
    """
    return {
        "data source": f"{source} ({raw_dir})",
        "profile": profile,
        "commit, run ids, runtimes": "tags and table4.md of the report's MLflow run",
    }


def _slot_sections(data: ReportData) -> list[Section]:
    """Each outline slot's sections: the first of its folders that wrote a part, else why not."""
    out: list[Section] = []
    for slot_id in dict.fromkeys(s.id for s in OUTLINE):
        slots = [s for s in OUTLINE if s.id == slot_id]
        part = next((data.parts[s.folder] for s in slots if s.folder in data.parts), None)
        if part is not None:
            out += part.sections
        else:
            out.append(not_run(slot_id, slots[0].title, data.not_run[slots[-1].folder]))
        if slot_id == TABLE4_AFTER:
            out.append(table4_section(data))
    return out


def build(data: ReportData, header: Mapping[str, str]) -> list[Section]:
    """Every section of the report, the header first."""
    return [header_section(data, header), *_slot_sections(data)]


def header_section(data: ReportData, header: Mapping[str, str]) -> Section:
    """The caller's key/values (data source, profile, commit...), then report-wide warnings."""
    blocks: list[Table | Para] = [
        Table(
            "run-info",
            "This report's run.",
            ("item", "value"),
            tuple((str(k), str(v)) for k, v in header.items()),
        )
    ]
    if data.phantom:
        blocks.append(Para(PHANTOM_WARNING, "warning"))
    if data.not_run:
        listed = "; ".join(f"{stage} ({why})" for stage, why in data.not_run.items())
        blocks.append(Para(f"Stages not run: {listed}.", "notrun"))
    return Section("run", "Run", tuple(blocks))


def summary(sections: list[Section], data: ReportData) -> dict[str, Any]:
    """Table ids, figures present and missing, the warning count and the stages not run."""
    blocks = [b for section in sections for b in walk(section)]
    tables = [b for b in blocks if isinstance(b, Table)]
    figures = [b.path for b in blocks if isinstance(b, Figure)]
    paras = [b for b in blocks if isinstance(b, Para) and b.kind == "warning"]
    return {
        "tables": [t.id for t in tables],
        "figures": [f for f in figures if (data.reports_dir / f).is_file()],
        "figures_missing": [f for f in figures if not (data.reports_dir / f).is_file()],
        "warnings": len(paras) + sum(len(t.warnings) for t in tables),
        "not_run": sorted(data.not_run),
    }
