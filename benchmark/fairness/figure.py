"""The audits' figures: metrics per group with intervals, reliability per group, tone study.

Drawn from the typed results (:mod:`benchmark.fairness.result`), saved as PNG atomically.
An undefined value is an empty hatched bar labelled "undefined", never a bar at 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmark.core.fitzpatrick import side_label
from benchmark.core.io import atomic_path
from benchmark.fairness.result import AuditResult, CalibrationResult, ContrastResult
from benchmark.metrics.estimates import Estimate

# Bars of the group figure: metric -> colour.
FIGURE_METRICS = {"sensitivity": "tab:blue", "specificity": "tab:orange", "auc": "tab:green"}


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(fig: Any, path: Path) -> Path:
    """Write ``fig`` as PNG atomically and close it."""
    plt = _plt()
    try:
        with atomic_path(Path(path)) as tmp:
            fig.savefig(tmp, format="png", dpi=100)
    finally:
        plt.close(fig)
    return Path(path)


def _bar(ax: Any, x: float, width: float, estimate: Estimate, colour: str) -> None:
    if not estimate.defined:
        ax.bar(x, 1.0, width, fill=False, hatch="//", edgecolor="grey")
        ax.text(x, 0.5, "undefined", rotation=90, ha="center", va="center", fontsize=7)
        return
    ax.bar(x, estimate.value, width, color=colour)
    iv = estimate.interval
    if iv is not None and iv.defined:
        ax.vlines(x, iv.low, iv.high, colors="black", linewidth=1)
        ax.hlines([iv.low, iv.high], x - width / 4, x + width / 4, colors="black", linewidth=1)


def draw_groups(result: AuditResult) -> Any:
    """Sensitivity, specificity and AUC per group with interval whiskers; the caller saves."""
    from matplotlib.patches import Patch

    plt = _plt()
    rows = result.groups
    width = 0.8 / len(FIGURE_METRICS)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.3 * len(rows) + 2), 4))
    for k, (metric, colour) in enumerate(FIGURE_METRICS.items()):
        for i, row in enumerate(rows):
            _bar(ax, i + (k - 1) * width, width, row.metrics[metric], colour)
    ax.set_xticks(range(len(rows)), [f"{r.group}\nn={r.counts.images}" for r in rows])
    ax.set_ylim(0, 1.15)  # headroom for the legend
    ax.set_ylabel("value (share)")
    runs = result.runs
    how = f"mean of {len(runs)} runs" if len(runs) > 1 else f"threshold {runs[0].threshold:.3f}"
    ax.set_title(f"Per group ({how})", fontsize=9)
    handles = [Patch(color=c, label=m) for m, c in FIGURE_METRICS.items()]
    handles.append(Patch(fill=False, hatch="//", edgecolor="grey", label="undefined"))
    ax.legend(handles=handles, fontsize=8, ncol=4, loc="upper center")
    fig.tight_layout()
    return fig


def draw_reliability(calibration: CalibrationResult) -> Any:
    """One reliability curve per group (equal-width bins) and the diagonal."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 4.5))
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="calibrated")
    for row in calibration.rows:
        pairs = [(s, r) for s, r in zip(row.mean_score, row.positive_rate, strict=True)
                 if not (math.isnan(s) or math.isnan(r))]  # fmt: skip
        if pairs:
            xs, ys = zip(*pairs, strict=True)
            ax.plot(xs, ys, marker="o", label=f"{row.group} (n={row.images})")
    ax.set(xlabel="mean score in bin", ylabel="share positive", xlim=(0, 1), ylim=(0, 1))
    ax.set_title(f"Reliability by group ({calibration.bins} equal-width bins)", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def draw_contrasts(names: Sequence[str], contrasts: Sequence[ContrastResult]) -> Any:
    """Per model: the metric on each side of the contrast, with interval whiskers."""
    from matplotlib.patches import Patch

    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.5, 3.4))
    first = contrasts[0]
    sides = (side_label(first.high), side_label(first.low))
    width = 0.8 / max(len(names), 1)
    for k, c in enumerate(contrasts):
        for t, estimate in enumerate((c.low_value, c.high_value)):
            x = t + (k - (len(names) - 1) / 2) * width
            _bar(ax, x, width, estimate, f"C{k}")
    metric = "AUC" if first.metric == "auc" else first.metric
    ax.set_xticks([0, 1], [sides[1], sides[0]])
    ax.set_ylim(0, 1.05)
    ax.set_ylabel(f"{metric} (mean over seeds)")
    ax.set_title(f"{metric} on each side of the contrast (95% intervals over seeds and patients)",
                 fontsize=9)  # fmt: skip
    handles = [Patch(color=f"C{k}", label=name) for k, name in enumerate(names)]
    ax.legend(handles=handles, fontsize=7, loc="lower left")
    fig.tight_layout()
    return fig
