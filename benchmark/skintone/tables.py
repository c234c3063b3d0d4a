"""Paper Table 1 and Figure 4 beside ours, and the lesion-in/lesion-out comparison."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from benchmark.core.fitzpatrick import (
    DARK_TYPES,
    FST_LABELS,
    MISSING,
    UNCERTAIN,
    few_dark_warning,
    ordered_groups,
)
from benchmark.core.groupings import PAPER, ROBUST, SKIN_TYPE, SKIN_TYPE_SHORT
from benchmark.core.records import Record

ROWS = (*FST_LABELS, UNCERTAIN)
# Paper Table 1 (ISIC, 17,728 images, ITA-derived FST): melanoma / non-melanoma counts.
PAPER_TABLE1 = {
    "I": (0, 0),
    "II": (506, 4382),
    "III": (2005, 7756),
    "IV": (426, 1213),
    "V": (8, 47),
    "VI": (215, 1137),
    "uncertain": (5, 28),
}


def table1(manifest: pd.DataFrame, fst_col: str = "fst") -> pd.DataFrame:
    """Skin-type x superclass counts with totals, ours beside the paper's.

    Args:
        manifest: Rows with ``superclass`` (may be missing) and ``fst_col``.
        fst_col: Which estimate to count.

    Returns:
        Index FST I..VI, uncertain, Total; columns ``melanocytic``, ``non_melanocytic``,
        ``unlabelled`` (only if any), ``total``, ``share`` (of all images), and the paper's
        ``paper_melanoma``, ``paper_non_melanoma``, ``paper_total``.
    """
    superclass = (
        manifest["superclass"].astype("object").where(manifest["superclass"].notna(), "unlabelled")
    )
    counts = pd.crosstab(pd.Categorical(manifest[fst_col], ROWS), superclass, dropna=False)
    counts = counts.reindex(
        columns=[
            c
            for c in ("melanocytic", "non_melanocytic", "unlabelled")
            if c in counts.columns or c != "unlabelled"
        ],
        fill_value=0,
    )
    counts.index = list(ROWS)
    counts["total"] = counts.sum(axis=1)
    counts.loc["Total"] = counts.sum(axis=0)
    counts["share"] = counts["total"] / max(int(counts["total"].iloc[-1]), 1)
    paper = pd.DataFrame(PAPER_TABLE1, index=["paper_melanoma", "paper_non_melanoma"]).T
    paper.loc["Total"] = paper.sum(axis=0)
    paper["paper_total"] = paper.sum(axis=1)
    return counts.join(paper).astype({c: int for c in counts.columns if c != "share"})


def lesion_effect(manifest: pd.DataFrame) -> pd.DataFrame:
    """Per paper-rule FST: images with a mask, and how many change type without the lesion.

    Returns:
        Index FST rows that occur; columns ``with_mask``, ``changed``, ``to_lighter``,
        ``to_darker``, ``to_uncertain`` (comparing ``fst_paper`` with ``fst_lesion_excluded``).
    """
    if "fst_lesion_excluded" not in manifest or "fst_paper" not in manifest:
        rows = manifest.iloc[0:0].assign(fst_paper=None, fst_lesion_excluded=None)
    else:
        rows = manifest[manifest["fst_lesion_excluded"].notna()]
    order = {label: i for i, label in enumerate(ROWS)}
    # float: mapping an empty string column (no image has a mask) keeps the string dtype
    before = rows["fst_paper"].astype(object).map(order).astype(float)
    after = rows["fst_lesion_excluded"].astype(object).map(order).astype(float)
    unc = order[UNCERTAIN]
    frame = pd.DataFrame(
        {
            "fst_paper": rows["fst_paper"],
            "changed": before != after,
            "to_lighter": (after < before) & (before != unc),
            "to_darker": (after > before) & (after != unc),
            "to_uncertain": (after == unc) & (before != unc),
        }
    )
    grouped = frame.groupby("fst_paper").agg(
        with_mask=("changed", "size"),
        changed=("changed", "sum"),
        to_lighter=("to_lighter", "sum"),
        to_darker=("to_darker", "sum"),
        to_uncertain=("to_uncertain", "sum"),
    )
    grouped = grouped.reindex([r for r in ROWS if r in grouped.index])
    grouped.loc["Total"] = grouped.sum(axis=0)
    return grouped.astype(int)


@dataclass(frozen=True)
class CrossTab(Record):
    """Images by both groupings: the paper's rule as printed (rows) against the robust estimate.

    Attributes:
        counts: Row label -> column label -> images; labels I..VI, ``uncertain`` and
            ``missing`` (no estimate), each present in either grouping; margins ``Total``.
        paper_dark: Images the printed rule calls V-VI.
        paper_dark_light: Of them, images the robust estimate calls I-IV.
    """

    counts: dict[str, dict[str, int]]
    paper_dark: int
    paper_dark_light: int

    @property
    def share_relabelled(self) -> float:
        """Share of the printed rule's V-VI that the robust estimate calls I-IV (NaN: none)."""
        return self.paper_dark_light / self.paper_dark if self.paper_dark else math.nan

    def metrics(self) -> dict[str, Any]:
        """The stage-metrics part: the counts and the relabelled share with its support."""
        return {
            "counts": self.counts,
            "paper_V_VI": self.paper_dark,
            "paper_V_VI_robust_I_IV": self.paper_dark_light,
            "paper_V_VI_robust_I_IV_share": self.share_relabelled,
        }


def crosstab(manifest: pd.DataFrame) -> CrossTab | None:
    """Cross-tabulate ``fst_paper`` against ``fst_robust`` (None when either is absent)."""
    if PAPER not in manifest or ROBUST not in manifest:
        return None
    paper, robust = (manifest[c].astype(object).fillna(MISSING) for c in (PAPER, ROBUST))
    labels = ordered_groups([*paper.unique(), *robust.unique()])
    table = pd.crosstab(
        pd.Categorical(paper, labels), pd.Categorical(robust, labels), dropna=False
    ).reindex(index=labels, columns=labels, fill_value=0)
    table.index, table.columns = list(labels), list(labels)
    table.loc["Total"] = table.sum(axis=0)
    table["Total"] = table.sum(axis=1)
    counts = {str(r): {str(c): int(v) for c, v in row.items()} for r, row in table.iterrows()}
    dark = paper.isin(DARK_TYPES)
    light = robust.isin([t for t in FST_LABELS if t not in DARK_TYPES])
    return CrossTab(counts, int(dark.sum()), int((dark & light).sum()))


def mask_sources(manifest: pd.DataFrame) -> dict[str, int]:
    """Images per ``ita_mask_source`` (which lesion mask the robust estimate left out)."""
    if "ita_mask_source" not in manifest:
        return {}
    counts = manifest["ita_mask_source"].astype(object).fillna("unreadable").value_counts()
    return {str(k): int(v) for k, v in sorted(counts.items())}


def literal_moves(manifest: pd.DataFrame) -> dict[str, int]:
    """Images the paper formula as printed types but the guarded rule leaves uncertain.

    Returns:
        ``{printed-rule type: images}`` for images whose ``fst_paper_guarded`` is uncertain
        (b* <= 0) while ``fst_paper`` is not (in practice VI: the sign flip), sorted by type.
    """
    if "fst_paper_guarded" not in manifest or "fst_paper" not in manifest:
        return {}
    moved = manifest[
        (manifest["fst_paper_guarded"] == UNCERTAIN)
        & manifest["fst_paper"].notna()
        & (manifest["fst_paper"] != UNCERTAIN)
    ]
    counts = moved["fst_paper"].value_counts()
    return {label: int(counts[label]) for label in FST_LABELS if label in counts}


def dark_note(table: pd.DataFrame) -> str | None:
    """A plain warning when the ITA type V-VI count is too small to support per-group numbers."""
    counts = _column(table, "total")
    return few_dark_warning(sum(counts[g] for g in DARK_TYPES), "image")


def figure4(table: pd.DataFrame, path: Path, title: str) -> None:
    """Counts per skin type and superclass, log scale, types V-VI shaded, written as PNG."""
    rows = table.drop(index="Total")
    columns = [c for c in ("melanocytic", "non_melanocytic", "unlabelled") if c in rows]
    fig, ax = plt.subplots(figsize=(7, 4), dpi=120)
    width = 0.8 / len(columns)
    for i, column in enumerate(columns):
        x = [j + (i - (len(columns) - 1) / 2) * width for j in range(len(rows))]
        # Zero counts draw no bar (a log axis has no zero); every bar carries its count.
        heights = rows[column].astype(float).where(rows[column] > 0)
        bars = ax.bar(x, heights, width, label=column.replace("_", "-"))
        ax.bar_label(bars, labels=[f"{int(v)}" if v > 0 else "" for v in rows[column]], fontsize=7)
    ax.axvspan(3.5, 5.5, color="0.85", zorder=0, label=f"{SKIN_TYPE_SHORT} V–VI")
    ax.set_yscale("log")
    ax.set_xticks(range(len(rows)), list(rows.index))
    ax.set_xlabel(f"{SKIN_TYPE} (I–VI)")
    ax.set_ylabel("images (log scale)")
    ax.set_title(title)
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def table1_markdown(table: pd.DataFrame, notes: list[str]) -> str:
    """Table 1 as Markdown, ours beside the paper's, followed by notes."""
    ours = [c for c in ("melanocytic", "non_melanocytic", "unlabelled") if c in table]
    header = [*ours, "total", "share", "paper melanoma", "paper non-mel.", "paper total"]
    lines = [
        f"| {SKIN_TYPE_SHORT} | " + " | ".join(h.replace("_", "-") for h in header) + " |",
        "|---|" + "---:|" * len(header),
    ]
    for label in table.index:
        row = table.loc[label].to_dict()
        cells = [str(int(row[c])) for c in (*ours, "total")] + [f"{row['share']:.2%}"]
        cells += [str(int(row[c])) for c in ("paper_melanoma", "paper_non_melanoma", "paper_total")]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines + [""] + [f"- {note}" for note in notes]) + "\n"


def _column(table: pd.DataFrame, name: str) -> dict[str, int]:
    return {str(k): int(v) for k, v in table[name].items()}


def summary(table: pd.DataFrame) -> dict[str, Any]:
    """Headline numbers: shares of types I-III and V-VI, ours and the paper's."""
    ours, paper = _column(table, "total"), _column(table, "paper_total")

    def share(counts: dict[str, int], labels: tuple[str, ...]) -> float:
        return sum(counts[label] for label in labels) / max(counts["Total"], 1)

    return {
        "images": ours["Total"],
        "uncertain": ours["uncertain"],
        "share_I_III": share(ours, ("I", "II", "III")),
        "share_V_VI": share(ours, DARK_TYPES),
        "paper_share_I_III": share(paper, ("I", "II", "III")),
        "paper_share_V_VI": share(paper, DARK_TYPES),
        "counts": {str(k): int(v) for k, v in table["total"].items()},
    }
