"""The skin-type groupings every image carries: one column contract for every stage.

Each image carries two ITA-estimated skin types from the ``skintone`` stage on: the paper's
rule exactly as printed (``fst_paper``: YCbCr skin pixels, lesion and vignette included,
``atan((L* - 50) / b*)``) and the suite's lesion-free robust estimate (``fst_robust``), each
with its ITA in degrees (``ita_paper``, ``ita_robust``). ``fst`` is the protocol's grouping,
a copy of the estimate ``skintone.primary`` names: it stratifies the split and picks the
generator's dark-skin subset. The split, every predictions file and the per-image
segmentation table carry all of them; an audit groups by any (``--group-col``).

They are skin-colour estimates, not Fitzpatrick phototypes: a phototype describes how skin
reacts to the sun, and ITA estimators disagree with each other and with labelled types
(docs/explanation/skin-type.md). Tables therefore call the groups :data:`SKIN_TYPE`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from benchmark.core.fitzpatrick import MISSING

# The groups' names live with the labels; re-exported for the renderers.
from benchmark.core.fitzpatrick import SKIN_TYPE as SKIN_TYPE
from benchmark.core.fitzpatrick import SKIN_TYPE_SHORT as SKIN_TYPE_SHORT

PROTOCOL = "fst"
PAPER = "fst_paper"
ROBUST = "fst_robust"
# The two estimates, the suite's first: its corrected tables group by it.
GROUPINGS: tuple[str, ...] = (ROBUST, PAPER)
# What every per-image output carries beside its own columns, in this order.
CARRIED: tuple[str, ...] = (PROTOCOL, PAPER, ROBUST, "ita_paper", "ita_robust")
NAMES: Mapping[str, str] = {
    PROTOCOL: "the estimate skintone.primary names",
    PAPER: "paper's rule as printed",
    ROBUST: "robust lesion-free estimate",
}


def describe(column: str) -> str:
    """``ITA-estimated skin type (paper's rule as printed, fst_paper)`` for a group column."""
    name = NAMES.get(column)
    return f"{SKIN_TYPE} ({name}, {column})" if name else f"group column {column!r}"


def carried(index: pd.DataFrame) -> dict[str, pd.Series]:
    """The :data:`CARRIED` columns of per-image rows; a type absent becomes ``missing``.

    Args:
        index: Rows of the split (or the manifest); any of the columns may be absent.

    Returns:
        Column -> values aligned with ``index`` (types as objects, ITA as float).
    """
    out: dict[str, pd.Series] = {}
    for column in CARRIED:
        if column.startswith("ita_"):
            values = index[column] if column in index else pd.Series(float("nan"), index.index)
            out[column] = values.astype(float)
        else:
            values = index[column] if column in index else pd.Series(None, index.index)
            out[column] = values.astype(object).where(values.notna(), MISSING)
    return out


def tags(group_col: str | None = None, also: Sequence[str] = ()) -> dict[str, str]:
    """MLflow tags of a run: the groupings its per-image outputs carry, and what it grouped by.

    Args:
        group_col: The headline group column of an audit (None: the run groups nothing).
        also: Further group columns it was repeated with.
    """
    out = {"skin_type.columns": ",".join(CARRIED), "skin_type.meaning": SKIN_TYPE}
    if group_col is not None:
        out["skin_type.group_col"] = group_col
        out["skin_type.also_group_by"] = ",".join(also)
    return out
