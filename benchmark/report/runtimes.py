"""Paper Table 4 (runtimes) beside ours, from the stages' runtimes files."""

from __future__ import annotations

from dataclasses import dataclass

from benchmark.core.document import DASH, Section, Table, diff, fmt
from benchmark.report.collect import ReportData


@dataclass(frozen=True)
class PaperRuntime:
    """One row of paper Table 4 and where our number for it comes from.

    Attributes:
        task: The row label.
        stage: The stage whose runtimes file holds ours.
        names: Entries of that file to use, the first found (the paper times the augmented
            models; the baseline stands in where augmented did not run).
        unit: ``ms/image`` or ``s/image``.
        paper: The paper's value, or None where it gives a range.
        paper_text: The paper's value as printed.
    """

    task: str
    stage: str
    names: tuple[str, ...]
    unit: str
    paper: float | None
    paper_text: str


PAPER_TABLE4 = (
    PaperRuntime(
        "Segmentation (Augmented CNN), inference",
        "segment",
        ("augmented", "baseline"),
        "ms/image",
        130.0,
        "130 ms/image",
    ),
    PaperRuntime(
        "Synthetic generation (Diffusers)",
        "generate",
        ("generation",),
        "s/image",
        None,
        "~4–6 s/image",
    ),
    PaperRuntime(
        "Classification (EfficientNet-B0)",
        "classify",
        ("augmented", "baseline"),
        "ms/image",
        60.0,
        "60 ms/image",
    ),
)
GENERATION_RANGE = (4.0, 6.0)
# Where our times are when the page may not show them (it is hashed by DVC; times vary).
ELSEWHERE = (
    "outside DVC's hashes, as times vary run to run: `skinbench runtimes`, "
    "`dvc metrics show`, or table4.md in the report's MLflow run"
)


def table4_section(data: ReportData) -> Section:
    """Paper Table 4 beside ours where a runtimes file records them."""
    table = Table(
        "table4",
        "Mean runtimes: the paper's (Stanage HPC, NVIDIA Tesla GPUs) beside ours; "
        "Δ = ours − paper.",
        ("task", "paper", "ours", "Δ (ours − paper)", "source of ours"),
        tuple(_row(data, row) for row in PAPER_TABLE4),
        notes=(
            "Ours ran on the machine and at the image size of this run's profile (see the "
            "header and Table 3's notes): runtimes do not transfer across hardware, image "
            "size or batch size.",
            "Every segmentation model's time is in "
            f"{_file(data, 'segment')}; runtimes are the only outputs that vary run to run.",
        ),
    )
    return Section("sec-table4", "Table 4: runtimes", (table,))


def _file(data: ReportData, stage: str) -> str:
    return f"{data.runtime_dir.parent.name}/{data.runtime_dir.name}/{stage}.json"


def _row(data: ReportData, row: PaperRuntime) -> tuple[str, ...]:
    runtimes = data.runtimes.get(row.stage)
    if row.stage in data.not_run:
        return (row.task, row.paper_text, "not recorded", DASH, _not_run(data, row.stage))
    if not data.runtimes_shown:
        where = f"{_file(data, row.stage)} ({ELSEWHERE})"
        return (row.task, row.paper_text, "not on this page", DASH, where)
    if runtimes is None:
        return (row.task, row.paper_text, "not recorded", DASH, f"{_file(data, row.stage)} absent")
    name = next((n for n in row.names if n in runtimes.values), None)
    if name is None:
        why = f"{_file(data, row.stage)} holds no {' or '.join(row.names)} time (none measured)"
        return (row.task, row.paper_text, "not recorded", DASH, why)
    value = runtimes.values[name]
    return (
        row.task,
        row.paper_text,
        f"{fmt(value, 2)} {runtimes.unit}",
        _diff(value, row),
        f"{_file(data, row.stage)}, {name}",
    )


def _not_run(data: ReportData, stage: str) -> str:
    return f"{stage} stage not run ({data.not_run[stage]})"


def _diff(value: float, row: PaperRuntime) -> str:
    if row.paper is not None:
        return diff(value, row.paper, 2, unit=f" {row.unit}")
    low, high = GENERATION_RANGE
    where = "below" if value < low else "above" if value > high else "within"
    return f"{where} the paper's range ({low:g}–{high:g})"
