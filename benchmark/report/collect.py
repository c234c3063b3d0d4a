"""Load what the pipeline stages wrote under ``reports/`` and ``metrics/``.

A stage whose outputs are absent is recorded as not run; a file that is present but
malformed raises :class:`~benchmark.core.io.FileContentError` naming it. Runtimes that only the
tracking store holds (generation, classification) are passed in by the calling stage.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmark.core.io import FileContentError
from benchmark.core.status import NOT_RUN, NOT_RUN_FILE, read_not_run
from benchmark.report import schema as s
from benchmark.report.specs import AGREEMENT, FAIRNESS, METRICS, PAIRED, TABLE1, TABLE3, TABLE5

# Stage -> the file whose presence means the stage ran (``not_run.json`` says why it did not).
STAGE_FILES = {
    "skintone": "table1.json",
    "synthetic": "table2.csv",
    "split": "composition.csv",
    "merge": "composition.csv",
    "segment": "table3.json",
    "classify": "table5.json",
    "fairness": "*.json",
}
SEG_LABELS = {"maxflow": "Max-Flow", "baseline": "Baseline CNN", "augmented": "Augmented CNN"}
SEG_TIME_ROW = "Execution time (ms/image)"
# Stages without a report folder: their metrics file says whether they ran.
METRICS_ONLY = ("finetune_lora", "generate")
RUNTIME_KEYS = ("segmentation", "generation", "classification")
COMPARE_PREFIX = "compare_"  # the fairness stage's paired comparisons: compare_<B>_vs_<A>_seed<s>


CsvRows = list[dict[str, str]]


@dataclass(frozen=True)
class Runtime:
    """One measured runtime of ours and where it was read."""

    value: float
    source: str


@dataclass(frozen=True)
class ReportData:
    """Everything the report renders, as loaded and checked by :func:`collect`.

    Attributes:
        reports_dir: The stage reports folder (``reports/``).
        metrics_dir: The stage metrics folder (``metrics/``).
        not_run: Stage -> why it did not run: the reason it recorded (``not_run.json``, or
            ``status: not run`` in its metrics), else which file is absent.
        table1: ``skintone/table1.json``; ``agreement``: ``skintone/agreement.json``.
        table2: Rows of ``synthetic/table2.csv``; ``composition``: ``merge/composition.csv``
            (real and synthetic rows), else ``split/composition.csv``.
        table3: ``segment/table3.json``; ``seg_ms``: model -> our ms/image (``table3.csv``).
        table5: ``classify/table5.json``; ``per_seed``: rows of ``classify/per_seed.csv``.
        fairness: Run name -> its audit JSON (``fairness/<run>.json``).
        paired: Comparison name -> its paired comparison (``fairness/compare_<name>.json``).
        metrics: Stage -> ``metrics/<stage>.json``.
        runtimes: ``segmentation``/``generation``/``classification`` -> our runtime, where
            some file (or the caller) records it.
        absent: Secondary files of a stage that ran but that are not there.
    """

    reports_dir: Path
    metrics_dir: Path
    not_run: dict[str, str] = field(default_factory=dict)
    table1: dict[str, Any] | None = None
    agreement: dict[str, Any] | None = None
    table2: CsvRows | None = None
    composition: CsvRows | None = None
    table3: dict[str, Any] | None = None
    seg_ms: dict[str, float] = field(default_factory=dict)
    table5: dict[str, Any] | None = None
    per_seed: CsvRows | None = None
    fairness: dict[str, dict[str, Any]] = field(default_factory=dict)
    paired: dict[str, dict[str, Any]] = field(default_factory=dict)
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)
    runtimes: dict[str, Runtime] = field(default_factory=dict)
    absent: list[str] = field(default_factory=list)

    def path(self, relative: str) -> Path:
        """The absolute path of a file under ``reports_dir``."""
        return self.reports_dir / relative


def collect(
    reports_dir: Path,
    metrics_dir: Path,
    *,
    runtimes: Mapping[str, Runtime] | None = None,
) -> ReportData:
    """Load every stage output that exists under ``reports_dir`` and ``metrics_dir``.

    Args:
        reports_dir: Folder holding ``<stage>/`` report folders.
        metrics_dir: Folder holding ``<stage>.json`` metrics files (may be absent).
        runtimes: Runtimes the caller read elsewhere (e.g. from MLflow), keyed
            ``segmentation``, ``generation`` or ``classification``; they replace those found
            in the files.

    Returns:
        The loaded data; stages without outputs are listed in ``not_run``.

    Raises:
        FileContentError: A file that exists is malformed (named in the message).
        ValueError: ``runtimes`` has an unknown key.
    """
    reports_dir, metrics_dir = Path(reports_dir), Path(metrics_dir)
    unknown = set(runtimes or {}) - set(RUNTIME_KEYS)
    if unknown:
        raise ValueError(f"unknown runtime key(s) {sorted(unknown)}; use {RUNTIME_KEYS}")
    read = _Reader(reports_dir)
    seg_ms = _seg_ms(read.csv("segment", "table3.csv", {"metric": False}))
    metrics = _metrics(metrics_dir)
    found = _runtimes(reports_dir.name, metrics_dir.name, seg_ms, metrics)
    recorded = {
        stage: str(metrics[stage].get("reason", "not recorded"))
        for stage in METRICS_ONLY
        if metrics.get(stage, {}).get("status") == NOT_RUN
    }
    real_split = read.csv("split", "composition.csv", _COMPOSITION_COLUMNS)
    merged = read.csv("merge", "composition.csv", _COMPOSITION_COLUMNS)
    return ReportData(
        reports_dir=reports_dir,
        metrics_dir=metrics_dir,
        not_run={**recorded, **read.not_run},
        table1=read.json("skintone", "table1.json", TABLE1),
        agreement=read.json("skintone", "agreement.json", AGREEMENT),
        table2=read.csv("synthetic", "table2.csv", _TABLE2_COLUMNS),
        composition=merged if merged is not None else real_split,
        table3=read.json("segment", "table3.json", TABLE3),
        seg_ms=seg_ms,
        table5=read.json("classify", "table5.json", TABLE5),
        per_seed=read.csv("classify", "per_seed.csv", {"variant": False, "seed": False}),
        fairness={} if "fairness" in read.not_run else _fairness(reports_dir / "fairness"),
        paired={} if "fairness" in read.not_run else _paired(reports_dir / "fairness"),
        metrics=metrics,
        runtimes={**found, **(runtimes or {})},
        absent=read.absent,
    )


class _Reader:
    """Reads a stage's files, skipping stages that did not run and noting absent files."""

    def __init__(self, reports_dir: Path) -> None:
        self.reports_dir = reports_dir
        self.not_run = {
            stage: why for stage in STAGE_FILES if (why := _not_run(reports_dir, stage)) is not None
        }
        self.absent: list[str] = []

    def _path(self, stage: str, name: str) -> Path | None:
        if stage in self.not_run:
            return None
        path = self.reports_dir / stage / name
        if not path.is_file():
            self.absent.append(f"{stage}/{name}")
            return None
        return path

    def json(self, stage: str, name: str, spec: s.Spec) -> Any:
        path = self._path(stage, name)
        return None if path is None else read_json(path, spec)

    def csv(self, stage: str, name: str, columns: dict[str, bool]) -> CsvRows | None:
        path = self._path(stage, name)
        return None if path is None else read_csv(path, columns)


_TABLE2_COLUMNS = {
    "class": False,
    **{c: True for c in ("original", "original_dark", "synthetic", "augmented")},
    **{c: True for c in ("paper_original", "paper_synthetic", "paper_augmented")},
}
_COMPOSITION_COLUMNS = {
    "split": False,
    "superclass": False,
    "fst": False,
    "source": False,
    "images": True,
}


def _not_run(reports_dir: Path, stage: str) -> str | None:
    folder = reports_dir / stage
    if not folder.is_dir():
        return f"{reports_dir.name}/{stage}/ does not exist"
    if (recorded := read_not_run(folder)) is not None:
        return recorded.reason
    main = STAGE_FILES[stage]
    if main.startswith("*"):
        found = any(p.name != NOT_RUN_FILE for p in folder.glob(main))
        return None if found else f"{reports_dir.name}/{stage}/ holds no {main} file"
    found = (folder / main).is_file()
    return None if found else f"{reports_dir.name}/{stage}/{main} does not exist"


def read_json(path: Path, spec: s.Spec) -> Any:
    """Parse a JSON file and check it against ``spec``.

    Raises:
        FileContentError: Unreadable, not JSON, or not of the expected structure.
    """
    try:
        value = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FileContentError(path, f"not a readable JSON file: {exc}") from exc
    s.check(value, spec, Path(path))
    return value


def read_csv(path: Path, columns: dict[str, bool]) -> CsvRows:
    """Read a CSV as strings; ``columns`` maps each required column to "must be numeric".

    An empty numeric cell is allowed (a value that is not defined).

    Raises:
        FileContentError: Unreadable, a required column missing, or a non-numeric cell.
    """
    try:
        with Path(path).open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            rows = [dict(row) for row in reader]
            header = list(reader.fieldnames or [])
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise FileContentError(path, f"not a readable CSV file: {exc}") from exc
    missing = [c for c in columns if c not in header]
    if missing:
        raise FileContentError(path, f"missing column(s) {missing}", column=missing[0])
    for i, row in enumerate(rows, start=2):  # row 1 is the header
        for column, numeric in columns.items():
            cell = row.get(column)
            if cell is None:
                raise FileContentError(path, "row is shorter than the header", row=i)
            if numeric and cell.strip() and not _is_number(cell):
                raise FileContentError(path, f"not a number: {cell!r}", row=i, column=column)
    return rows


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _fairness(folder: Path) -> dict[str, dict[str, Any]]:
    runs = (
        p
        for p in sorted(folder.glob("*.json"))
        if p.name != NOT_RUN_FILE and not p.name.startswith(COMPARE_PREFIX)
    )
    return {p.stem: read_json(p, FAIRNESS) for p in runs}


def _paired(folder: Path) -> dict[str, dict[str, Any]]:
    files = sorted(folder.glob(f"{COMPARE_PREFIX}*.json"))
    return {p.stem.removeprefix(COMPARE_PREFIX): read_json(p, PAIRED) for p in files}


def _metrics(folder: Path) -> dict[str, dict[str, Any]]:
    if not folder.is_dir():
        return {}
    return {p.stem: read_json(p, METRICS) for p in sorted(folder.glob("*.json"))}


def _seg_ms(rows: CsvRows | None) -> dict[str, float]:
    """Our ms/image per segmentation model, from the time row of ``table3.csv``."""
    by_label = {label: model for model, label in SEG_LABELS.items()}
    out: dict[str, float] = {}
    for row in rows or []:
        if row["metric"] != SEG_TIME_ROW:
            continue
        for column, cell in row.items():
            if column.endswith(" (ours)") and cell and _is_number(cell):
                label = column.removesuffix(" (ours)")
                out[by_label.get(label, label)] = float(cell)
    return out


def _runtimes(
    reports: str, metrics_name: str, seg_ms: dict[str, float], metrics: dict[str, dict[str, Any]]
) -> dict[str, Runtime]:
    out: dict[str, Runtime] = {}
    # The paper times the augmented CNN; the baseline stands in where augmented did not run.
    model = next((m for m in ("augmented", "baseline") if m in seg_ms), None)
    if model is not None:
        out["segmentation"] = Runtime(
            seg_ms[model],
            f"{reports}/segment/table3.csv, row '{SEG_TIME_ROW}', column "
            f"{SEG_LABELS[model]} (ours)",
        )
    for key, stage, name in (
        ("generation", "generate", "seconds_per_image"),
        ("classification", "classify", "ms_per_image"),
    ):
        found = _find_number(metrics.get(stage, {}), name)
        if found is not None:
            out[key] = Runtime(found[1], f"{metrics_name}/{stage}.json, key {found[0]}")
    return out


def _find_number(tree: Any, key: str, where: str = "") -> tuple[str, float] | None:
    """The first finite number stored under ``key`` anywhere in ``tree`` (depth first)."""
    if not isinstance(tree, dict):
        return None
    value = tree.get(key)
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return (f"{where}.{key}" if where else key), float(value)
    for name, sub in sorted(tree.items()):
        found = _find_number(sub, key, f"{where}.{name}" if where else str(name))
        if found is not None:
            return found
    return None
