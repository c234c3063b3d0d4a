"""Skin-type group columns as public datasets spell them, read into one vocabulary.

===============  =======================  =============================================
source           column                   values -> groups
===============  =======================  =============================================
isic             fitzpatrick_skin_type    I..VI as they are
fitzpatrick17k   fitzpatrick_scale        1..6 -> I..VI; -1 -> missing (unknown)
ddi              skin_tone                12 -> I-II, 34 -> III-IV, 56 -> V-VI
pad-ufes-20      fitspatrick              1..6 -> I..VI (the dataset's spelling)
milk10k          skin_tone_class          0..5 kept as "MILK10k tone k": the dataset does
                                          not document whether 0 is lightest or darkest
===============  =======================  =============================================

A column may also hold the suite's own labels (``I``..``VI``, tone groups ``I-II``...,
``uncertain``, ``missing``). Empty cells are ``missing``. A column that mixes vocabularies
(``V`` beside ``5``) is refused, naming the values and the file: which one it means is a
question for the data's owner, not a guess.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from benchmark.core.fitzpatrick import FST_LABELS, MISSING, UNCERTAIN
from benchmark.core.io import FileContentError
from benchmark.core.splits import TONE_GROUPS

ROMAN = dict(zip(("1", "2", "3", "4", "5", "6"), FST_LABELS, strict=True))
DDI = {"12": "I-II", "34": "III-IV", "56": "V-VI"}
OWN = {*FST_LABELS, *TONE_GROUPS.values(), UNCERTAIN, MISSING}


@dataclass(frozen=True)
class LabelSource:
    """One dataset's spelling of skin type.

    Attributes:
        name: Short name (``--label-source``).
        column: The column the dataset names it.
        read: Cell text -> group label, or None when the text is not of this vocabulary.
        note: What a reader of the audit must know about the groups.
    """

    name: str
    column: str
    read: Callable[[str], str | None]
    note: str


def _integer(text: str) -> str:
    return text[:-2] if text.endswith(".0") else text


def _roman(text: str) -> str | None:
    value = _integer(text)
    return MISSING if value == "-1" else ROMAN.get(value)


def _milk(text: str) -> str | None:
    value = _integer(text)
    return f"MILK10k tone {value}" if value in {"0", "1", "2", "3", "4", "5"} else None


SOURCES: dict[str, LabelSource] = {
    s.name: s
    for s in (
        LabelSource("isic", "fitzpatrick_skin_type", lambda t: t if t in FST_LABELS else None,
                    "ISIC metadata: Fitzpatrick type as recorded by the contributor."),
        LabelSource("fitzpatrick17k", "fitzpatrick_scale", _roman,
                    "Fitzpatrick17k: annotator-labelled type; -1 (unknown) read as missing."),
        LabelSource("ddi", "skin_tone", lambda t: DDI.get(_integer(t)),
                    "DDI: pairs of types (12, 34, 56) read as I-II, III-IV, V-VI."),
        LabelSource("pad-ufes-20", "fitspatrick", _roman,
                    "PAD-UFES-20: clinician-recorded type (column spelled 'fitspatrick')."),
        LabelSource("milk10k", "skin_tone_class", _milk,
                    "MILK10k: skin_tone_class 0-5 kept as classes; the dataset does not say "
                    "whether 0 is the lightest or the darkest, so no class is called dark."),
    )
}  # fmt: skip


# Spellings of the suite's own labels a hand-made file may use: case, stray spaces, digits,
# "type VI" / "FST VI", an en dash in tone groups; unknown tokens are missing.
_PREFIX = re.compile(r"^(?:fitzpatrick(?:\s+skin)?(?:\s+type)?|skin\s+type|fst|type)\s*", re.I)
_UNKNOWN = {"unknown": MISSING, "missing": MISSING, "uncertain": UNCERTAIN, "n/a": MISSING}


def is_skin_type_column(column: str) -> bool:
    """Whether a column holds the suite's skin types (``fst``, ``fst_*``, ``tone_group``)."""
    return column in ("fst", "tone_group") or column.startswith("fst_")


def own_label(text: str) -> str | None:
    """The suite's label a cell spells (``" vi"``, ``"6"``, ``"type VI"`` -> ``VI``), or None."""
    cell = text.strip()
    if cell.lower() in _UNKNOWN:
        return _UNKNOWN[cell.lower()]
    bare = _PREFIX.sub("", cell).strip()
    if (upper := bare.upper()) in FST_LABELS:
        return upper
    if (digit := ROMAN.get(_integer(bare))) is not None:
        return digit
    group = upper.replace("–", "-").replace(" ", "")
    return group if group in TONE_GROUPS.values() else None


def read_own(values: pd.Series, path: Path | str) -> tuple[pd.Series, str | None]:
    """A skin-type column of the suite's vocabulary, respelled; empty cells stay empty.

    Returns:
        The labels, and a note counting the cells respelled (None when none was).

    Raises:
        FileContentError: Cells that spell no skin type, with the values and first rows named.
    """
    text = values.astype(object)
    read = [None if pd.isna(v) else own_label(str(v)) for v in text]
    bad = [
        (i, v)
        for i, (v, r) in enumerate(zip(text, read, strict=True))
        if r is None and not pd.isna(v)
    ]
    if bad:
        values_named = sorted({str(v) for _, v in bad})[:8]
        rows = [i + 2 for i, _ in bad[:5]]  # file line numbers: the header is line 1
        raise FileContentError(
            path,
            f"value(s) {values_named} are not skin types (I-VI, 1-6, a tone group I-II/III-IV/"
            f"V-VI, uncertain or missing); first at line(s) {rows}",
            column=str(values.name),
        )
    changed = [
        (str(v), r) for v, r in zip(text, read, strict=True) if not pd.isna(v) and str(v) != r
    ]
    out = pd.Series([r if r is not None else None for r in read], index=values.index,
                    name=values.name, dtype=object)  # fmt: skip
    out = out.where(values.notna(), values)
    if not changed:
        return out, None
    examples = ", ".join(f"{a!r} -> {b}" for a, b in sorted(set(changed))[:4])
    return (
        out,
        f"'{values.name}': {len(changed)} cell(s) respelled as the suite's labels ({examples})",
    )


def detect_source(columns: Iterable[str]) -> LabelSource | None:
    """The source whose column the file has (the first in :data:`SOURCES` order)."""
    present = set(columns)
    return next((s for s in SOURCES.values() if s.column in present), None)


def read_groups(values: pd.Series, source: LabelSource | None, path: Path | str) -> pd.Series:
    """Group labels of a column, in the suite's vocabulary (module table).

    Args:
        values: The column as read (strings; NaN for empty cells).
        source: Its dataset's spelling; None: the suite's own labels (or any free text, as
            a sex or site column for intersections).
        path: The file, for error messages.

    Raises:
        FileContentError: Values of two vocabularies, or values that are none of the
            source's, with the distinct offending values named.
    """
    text = values.astype(object).where(values.notna(), None)
    cells = [None if v is None else str(v).strip() for v in text]
    if source is None:
        out = [c if c else MISSING for c in cells]
        _check_mixed(out, path, str(values.name))
        return pd.Series(out, index=values.index, name=values.name, dtype=object)
    read = [MISSING if not c else (c if c in OWN else source.read(c)) for c in cells]
    bad = sorted({c for c, r in zip(cells, read, strict=True) if r is None and c})
    if bad:
        raise FileContentError(
            path,
            f"value(s) {bad[:8]} are not {source.name} skin types ({source.note})",
            column=str(values.name),
        )
    _check_mixed([c or "" for c in cells], path, str(values.name))
    return pd.Series(read, index=values.index, name=values.name, dtype=object)


def _check_mixed(cells: list[str], path: Path | str, column: str) -> None:
    digits = sorted({_integer(c) for c in cells if _integer(c).lstrip("-").isdigit()})
    named = sorted({c for c in cells if c in FST_LABELS or c in TONE_GROUPS.values()})
    if digits and named:
        raise FileContentError(
            path,
            f"mixes vocabularies: numbers {digits[:6]} and type labels "
            f"{named[:6]}; recode it to one before auditing",
            column=column,
        )
