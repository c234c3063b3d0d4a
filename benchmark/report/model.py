"""The report as a tree of sections, tables, figures and paragraphs, and number formatting.

The section builders fill this model from :class:`~benchmark.report.collect.ReportData`;
the Markdown and HTML renderers only walk it, so both outputs say the same thing.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmark.core.caveats import PHANTOM_WARNING
from benchmark.core.fitzpatrick import DARK_TYPES, FEW_DARK

DARK = DARK_TYPES
DASH = "—"


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
    """An image under the reports folder; ``path`` is absolute, ``exists`` checked on build."""

    id: str
    path: Path
    alt: str
    caption: str
    exists: bool


@dataclass(frozen=True)
class Para:
    """A paragraph: ``kind`` is ``text``, ``warning`` or ``notrun``."""

    text: str
    kind: str = "text"


@dataclass(frozen=True)
class Section:
    """A titled section; ``blocks`` may hold nested sections."""

    id: str
    title: str
    blocks: tuple[Block, ...] = field(default_factory=tuple)


Block = Table | Figure | Para | Section


def figure(reports_dir: Path, relative: str, fig_id: str, alt: str, caption: str) -> Figure:
    """A figure at ``reports_dir / relative``, with whether the file exists."""
    path = reports_dir / relative
    return Figure(fig_id, path, alt, caption, path.is_file())


def not_run(section_id: str, title: str, why: str) -> Section:
    """A section that only says its stage has not run, and why."""
    return Section(section_id, title, (Para(f"Not run: {why}.", "notrun"),))


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


def dark_warning(dark: int | None, what: str) -> str | None:
    """A plain warning when ``dark`` FST V–VI images are too few (None: count unknown).

    Args:
        dark: Number of FST V–VI images the numbers rest on.
        what: What they are, singular (``test image``, ``image in this audit``).

    Returns:
        The warning, or None when there are at least ``FEW_DARK`` of them.
    """
    if dark is None:
        return (
            f"The number of FST V–VI {what}s is not recorded here: treat numbers about dark "
            "skin with caution."
        )
    if dark >= FEW_DARK:
        return None
    noun, verb = (what, "is") if dark == 1 else (_plural(what), "are")
    return (
        f"Only {dark} {noun} {verb} FST V–VI: numbers about dark skin are not reliable "
        f"(fewer than {FEW_DARK})."
    )


def _plural(what: str) -> str:
    head, _, tail = what.partition(" in ")
    head = head if head.endswith("s") else head + "s"
    return f"{head} in {tail}" if tail else head


def warnings(*items: str | None) -> tuple[str, ...]:
    """The given warnings, without the Nones."""
    return tuple(w for w in items if w)


def stage_notes(notes: list[str]) -> tuple[str, ...]:
    """A stage's notes without its dark-skin and phantom warnings (the report states its own)."""
    return tuple(
        n for n in notes if not ("V-VI" in n and "not reliable" in n) and "not the methods" not in n
    )


@dataclass(frozen=True)
class Context:
    """Facts that several sections need.

    Attributes:
        phantom: The data are phantoms (a stage's notes say so).
        test_dark: FST V–VI images in the real test split, None where no file records it.
    """

    phantom: bool
    test_dark: int | None

    def phantom_warning(self) -> str | None:
        """The phantom warning, when the data are phantoms."""
        return PHANTOM_WARNING if self.phantom else None
