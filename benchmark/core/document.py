"""The report's document model: sections of tables, figures and paragraphs, as stages write them.

Each stage's writer builds its part of the report (its tables with their labels, warnings and
notes) and saves it as ``<report folder>/section.json`` through :func:`write_sections`; the
report stage reads every part back with :func:`read_sections` and only assembles and renders.
So a label, a warning or a note has one owner: the module that computed the numbers.

:data:`OUTLINE` is the report's order: which stage folder fills which section.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from benchmark.core.caveats import PHANTOM_WARNING
from benchmark.core.fitzpatrick import FEW_DARK_PHRASE
from benchmark.core.groupings import SKIN_TYPE
from benchmark.core.io import FileContentError, read_json, write_json_atomic
from benchmark.core.status import NotRun

SECTION_FILE = "section.json"
DASH = "—"
ParaKind = Literal["text", "warning", "notrun"]


@dataclass(frozen=True)
class Slot:
    """One place in the report: the stage folder that fills it, its id and its title."""

    folder: str
    id: str
    title: str


# The report in the paper's order. ``split`` and ``merge`` fill one slot (merge wins).
OUTLINE: tuple[Slot, ...] = (
    Slot("skintone", "sec-table1", f"Table 1: {SKIN_TYPE} distribution"),
    Slot("synthetic", "sec-table2", "Table 2: composition of the original and augmented data"),
    Slot("merge", "sec-split", "Split composition"),
    Slot("split", "sec-split", "Split composition"),
    Slot("segment", "sec-table3", "Table 3: segmentation on real test images"),
    Slot("classify", "sec-table5", "Table 5: classification"),
    Slot("fairness", "sec-fairness", f"Fairness audit by {SKIN_TYPE} (real test images)"),
)


def slot(folder: str) -> Slot:
    """The outline slot a stage folder fills."""
    return next(s for s in OUTLINE if s.folder == folder)


@dataclass(frozen=True)
class Table:
    """A table: ``warnings`` are shown just before it, ``notes`` just after."""

    id: str
    caption: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Figure:
    """An image; ``path`` is relative to the reports folder (``segment/by_fst.png``)."""

    id: str
    path: str
    alt: str
    caption: str


@dataclass(frozen=True)
class Para:
    """A paragraph: ``kind`` is ``text``, ``warning`` or ``notrun``."""

    text: str
    kind: ParaKind = "text"


@dataclass(frozen=True)
class Section:
    """A titled section; ``blocks`` may hold nested sections."""

    id: str
    title: str
    blocks: tuple[Block, ...] = field(default_factory=tuple)


Block = Table | Figure | Para | Section


@dataclass(frozen=True)
class SectionFile:
    """What one stage contributes to the report.

    Attributes:
        sections: Its sections, in order (usually one).
        phantom: The stage's data are phantoms (the report warns once, at the top).
    """

    sections: tuple[Section, ...]
    phantom: bool = False


def write_sections(folder: Path, part: SectionFile) -> Path:
    """Write ``folder/section.json`` atomically; returns its path."""
    path = Path(folder) / SECTION_FILE
    write_json_atomic(
        path, {"phantom": part.phantom, "sections": [asdict(s) for s in part.sections]}
    )
    return path


def read_sections(path: Path) -> SectionFile:
    """Read a file :func:`write_sections` wrote.

    Raises:
        FileContentError: Unreadable, not JSON, or not a section file (naming where).
    """
    data = read_json(path, dict)
    try:
        sections = tuple(_section(s) for s in data["sections"])
        phantom = data["phantom"]
        if not isinstance(phantom, bool):
            raise TypeError(f"phantom: expected true or false, found {phantom!r:.40}")
    except (KeyError, TypeError, ValueError) as exc:
        raise FileContentError(path, f"not a section file: {exc!s:.200}") from exc
    return SectionFile(sections, phantom)


def _strings(value: Any, what: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError(f"{what}: expected a list of strings, found {value!r:.40}")
    return tuple(value)


def _block(data: dict[str, Any]) -> Block:
    if "blocks" in data:
        return _section(data)
    if "columns" in data:
        rows = tuple(_strings(r, f"table {data['id']} row") for r in data["rows"])
        return Table(
            str(data["id"]),
            str(data["caption"]),
            _strings(data["columns"], f"table {data['id']} columns"),
            rows,
            _strings(data["warnings"], "warnings"),
            _strings(data["notes"], "notes"),
        )
    if "path" in data:
        return Figure(str(data["id"]), str(data["path"]), str(data["alt"]), str(data["caption"]))
    if data["kind"] not in ("text", "warning", "notrun"):
        raise ValueError(f"paragraph kind {data['kind']!r}")
    return Para(str(data["text"]), data["kind"])


def _section(data: dict[str, Any]) -> Section:
    return Section(str(data["id"]), str(data["title"]), tuple(_block(b) for b in data["blocks"]))


def not_run(section_id: str, title: str, why: str) -> Section:
    """A section that only says its stage has not run, and why."""
    return Section(section_id, title, (Para(f"Not run: {why}.", "notrun"),))


def not_run_paras(skipped: dict[str, str], labels: dict[str, str]) -> list[Para]:
    """One line per model or variant that did not run: it has no number, only this reason."""
    return [Para(NotRun(why).sentence(labels.get(k, k)), "notrun") for k, why in skipped.items()]


def ordered(keys: Any, first: tuple[str, ...]) -> list[str]:
    """``keys`` with those in ``first`` first, in that order."""
    keys = list(keys)
    return [k for k in first if k in keys] + [k for k in keys if k not in first]


def walk(block: Block) -> list[Block]:
    """Every block under ``block`` (itself included), depth first."""
    if isinstance(block, Section):
        return [block, *(b for child in block.blocks for b in walk(child))]
    return [block]


def html_id(text: str) -> str:
    """``text`` made safe as an HTML id (letters, digits, ``-`` and ``_``)."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-") or "x"


def number(value: Any) -> float | None:
    """A finite float from a JSON value or CSV cell, else None (missing, NaN, text)."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def fmt(value: Any, digits: int = 3, missing: str = DASH) -> str:
    """A number with ``digits`` decimals (integers as integers); ``missing`` if none."""
    x = number(value)
    if x is None:
        return missing
    if isinstance(value, int) or (isinstance(value, str) and re.fullmatch(r"-?\d+", value)):
        return str(int(x))
    return f"{x:.{digits}f}"


def pct(value: Any, digits: int = 2) -> str:
    """A share in [0, 1] as a percentage."""
    x = number(value)
    return DASH if x is None else f"{100 * x:.{digits}f}%"


def count(value: Any) -> str:
    """An image count."""
    x = number(value)
    return DASH if x is None else str(int(x))


def diff(ours: Any, paper: Any, digits: int = 3, scale: float = 1.0, unit: str = "") -> str:
    """``ours − paper`` (times ``scale``) with a sign; a dash unless both are numbers."""
    o, p = number(ours), number(paper)
    if o is None or p is None:
        return DASH
    return f"{(o - p) * scale:+.{digits}f}{unit}"


def with_interval(value: Any, low: Any, high: Any, digits: int = 3) -> str:
    """``value [low, high]``; only ``value`` when the interval is not defined."""
    if number(low) is None or number(high) is None:
        return fmt(value, digits)
    return f"{fmt(value, digits)} [{fmt(low, digits)}, {fmt(high, digits)}]"


def warnings(*items: str | None) -> tuple[str, ...]:
    """The given warnings, without the Nones."""
    return tuple(w for w in items if w)


def phantom_warning(phantom: bool) -> str | None:
    """The phantom warning, when the data are phantoms."""
    return PHANTOM_WARNING if phantom else None


def stage_notes(notes: list[str]) -> tuple[str, ...]:
    """A stage's notes without its dark-skin and phantom warnings (tables carry their own)."""
    return tuple(n for n in notes if FEW_DARK_PHRASE not in n and n != PHANTOM_WARNING)
