"""One self-contained HTML audit: the Markdown audit's tables and notes, and its figures.

The page is the audit Markdown (:func:`benchmark.fairness.audit.audit_markdown`) rendered to
HTML by a converter for the subset that file uses (headings, pipe tables, bullet lists,
paragraphs, ``code``), with the per-group figure and one reliability diagram per group
embedded as base64 PNGs, so it opens offline, from any folder, and can be mailed. Tables get
ids (``audit-table-1``...) for tests and links.
"""

from __future__ import annotations

import base64
import html
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}"
    "table{border-collapse:collapse;margin:1em 0;font-size:0.85em}"
    "td,th{border:1px solid #bbb;padding:3px 6px;text-align:left}th{background:#eee}"
    "img{max-width:100%}code{background:#f3f3f3}"
)


def _inline(text: str) -> str:
    escaped = html.escape(text)
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped)


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _blocks(lines: list[str]) -> Iterator[str]:
    i, tables = 0, 0
    while i < len(lines):
        line = lines[i].rstrip()
        if not line:
            i += 1
        elif line.startswith("#"):
            level = min(len(line) - len(line.lstrip("#")), 4)
            yield f"<h{level}>{_inline(line.lstrip('#').strip())}</h{level}>"
            i += 1
        elif line.startswith("|"):
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                rows.append(_cells(lines[i]))
                i += 1
            tables += 1
            head = "".join(f"<th>{_inline(c)}</th>" for c in rows[0])
            body = "".join(
                "<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in row) + "</tr>"
                for row in rows[2:]
            )
            yield f'<table id="audit-table-{tables}"><tr>{head}</tr>{body}</table>'
        elif line.startswith("- "):
            items = []
            while i < len(lines) and lines[i].startswith("- "):
                items.append(f"<li>{_inline(lines[i][2:].strip())}</li>")
                i += 1
            yield "<ul>" + "".join(items) + "</ul>"
        else:
            para = []
            while i < len(lines) and lines[i].strip() and lines[i][0] not in "#|-":
                para.append(lines[i].strip())
                i += 1
            yield f"<p>{_inline(' '.join(para))}</p>"


def markdown_to_html(text: str) -> str:
    """HTML body of the Markdown subset the audit writes (module docstring)."""
    return "\n".join(_blocks(text.splitlines()))


def _png(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def reliability_figure(result: dict[str, Any]) -> Any:
    """Matplotlib figure: one reliability curve per group (equal-width bins), diagonal."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 4.5))
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="calibrated")
    for group, values in result["calibration"]["by_group"].items():
        bins = values["reliability"]
        pairs = [
            (s, r)
            for s, r in zip(bins["mean_score"], bins["positive_rate"], strict=True)
            if s is not None and r is not None and s == s and r == r  # NaN or JSON null
        ]
        if pairs:
            xs, ys = zip(*pairs, strict=True)
            ax.plot(xs, ys, marker="o", label=f"{group} (n={values['support']})")
    ax.set(xlabel="mean score in bin", ylabel="share positive", xlim=(0, 1), ylim=(0, 1))
    ax.set_title(f"Reliability by group ({result['calibration']['bins']} equal-width bins)")
    ax.legend(fontsize=7)
    return fig


def audit_html(result: dict[str, Any], markdown: str, figures: bool = True) -> str:
    """The page: ``markdown`` rendered, then the group figure and the reliability diagram.

    ``figures`` asks for the binary audit's group figure; the reliability diagram comes
    whenever the result has calibration.
    """
    import matplotlib.pyplot as plt

    from benchmark.fairness.figure import draw_audit

    shown = []
    for make, alt in ((draw_audit, "metrics by group"), (reliability_figure, "reliability")):
        if (alt == "reliability" and not result.get("calibration")) or (
            alt != "reliability" and not figures
        ):
            continue
        fig = make(result)
        shown.append(
            f'<figure><img alt="{alt}" src="data:image/png;base64,{_png(fig)}">'
            f"<figcaption>{html.escape(alt.capitalize())}</figcaption></figure>"
        )
        plt.close(fig)
    title = markdown.splitlines()[0].lstrip("# ").strip() if markdown else "Fairness audit"
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>\n"
        f"{markdown_to_html(markdown)}\n{''.join(shown)}\n</body></html>\n"
    )


def write_audit_html(
    result: dict[str, Any], markdown: str, path: Path, figures: bool = True
) -> None:
    """Write :func:`audit_html` atomically."""
    from benchmark.core.io import write_text_atomic

    write_text_atomic(path, audit_html(result, markdown, figures))
