"""The audit's per-group figure: sensitivity, specificity and AUC per group, with intervals."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from benchmark.core.io import atomic_path

# Bars of the figure: metric -> colour.
FIGURE_METRICS = {"sensitivity": "tab:blue", "specificity": "tab:orange", "auc": "tab:green"}


def _num(value: Any) -> float:
    """A result value as float; None (NaN after a JSON round trip) becomes NaN."""
    return math.nan if value is None else float(value)


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _bar(ax: Any, x: float, width: float, value: float, colour: str, interval: Any) -> None:
    if math.isnan(value):
        # An undefined value is an empty hatched bar, never a bar at 0.
        ax.bar(x, 1.0, width, fill=False, hatch="//", edgecolor="grey")
        ax.text(x, 0.5, "undefined", rotation=90, ha="center", va="center", fontsize=7)
        return
    ax.bar(x, value, width, color=colour)
    if interval and not math.isnan(_num(interval["low"])):
        low, high = _num(interval["low"]), _num(interval["high"])
        ax.vlines(x, low, high, colors="black", linewidth=1)
        ax.hlines([low, high], x - width / 4, x + width / 4, colors="black", linewidth=1)


def audit_figure(result: dict[str, Any], path: Path) -> None:
    """PNG of :func:`draw_audit`, written atomically."""
    plt = _plt()
    fig = draw_audit(result)
    try:
        with atomic_path(Path(path)) as tmp:
            fig.savefig(tmp, format="png", dpi=100)
    finally:
        plt.close(fig)


def draw_audit(result: dict[str, Any]) -> Any:
    """Figure of per-group sensitivity, specificity and AUC, with CI whiskers when present.

    The x axis labels each group with its support; undefined values are hatched empty bars
    labelled "undefined". The caller closes it.
    """
    from matplotlib.patches import Patch

    plt = _plt()
    groups = list(result["by_group"])
    cis = (result.get("ci") or {}).get("by_group", {})
    width = 0.8 / len(FIGURE_METRICS)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.3 * len(groups) + 2), 4))
    for k, (metric, colour) in enumerate(FIGURE_METRICS.items()):
        for i, g in enumerate(groups):
            value = _num(result["by_group"][g][metric])
            interval = cis.get(g, {}).get(metric)
            _bar(ax, i + (k - 1) * width, width, value, colour, interval)
    labels = [f"{g}\nn={result['by_group'][g]['support']}" for g in groups]
    ax.set_xticks(range(len(groups)), labels)
    ax.set_ylim(0, 1.15)  # headroom for the legend
    ax.set_ylabel("value (share)")
    ax.set_title(f"Per group at threshold {result['threshold']:.3f}", fontsize=9)
    handles = [Patch(color=c, label=m) for m, c in FIGURE_METRICS.items()]
    handles.append(Patch(fill=False, hatch="//", edgecolor="grey", label="undefined"))
    ax.legend(handles=handles, fontsize=8, ncol=4, loc="upper center")
    fig.tight_layout()
    return fig
