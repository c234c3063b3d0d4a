"""Render the report as Markdown and as self-contained HTML, and write both atomically.

The usual targets are ``reports/tables.md`` and ``reports/index.html``.
The HTML has inline CSS only: no script, no external resource. Images are referenced by
paths relative to the output folder, so the folder can be copied as a whole.
"""

from __future__ import annotations

import html
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from benchmark.core.document import Block, Figure, Para, Section, Table
from benchmark.core.io import write_text_atomic
from benchmark.report.collect import ReportData, collect
from benchmark.report.runtimes import table4_section
from benchmark.report.sections import TITLE, build, summary

CSS = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1200px;
  padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; margin-top: 2em; }
table { border-collapse: collapse; margin: .5em 0; font-size: 13px; }
caption { text-align: left; font-style: italic; padding: .3em 0; }
th, td { border: 1px solid #ccc; padding: .25em .5em; vertical-align: top; }
thead th { background: #f1f1f1; } td { text-align: right; }
tbody th { text-align: left; font-weight: normal; }
.warning { background: #fff4e5; border-left: 4px solid #e8a33d; padding: .4em .8em; }
.notrun, .missing { background: #f3f3f3; border-left: 4px solid #888; padding: .4em .8em; }
.notes { color: #555; font-size: 13px; }
figure { margin: 1em 0; } img { max-width: 100%; height: auto; border: 1px solid #ddd; }
figcaption { font-size: 13px; color: #555; }
nav ul { columns: 2; }
"""


def _relative(path: Path, out_dir: Path) -> str:
    return Path(os.path.relpath(path.resolve(), Path(out_dir).resolve())).as_posix()


def render_markdown(
    data: ReportData, header: Mapping[str, str], out_dir: Path | None = None
) -> str:
    """The report as Markdown.

    Args:
        data: From :func:`~benchmark.report.collect.collect`.
        header: Key/values shown first (data source, profile, git commit, dvc.lock digest,
            MLflow run ids...), rendered as given.
        out_dir: Folder the Markdown is written to; image paths are relative to it
            (default: ``data.reports_dir``).

    Returns:
        The Markdown text.
    """
    base = Path(out_dir) if out_dir is not None else data.reports_dir
    lines = [f"# {TITLE}", ""]
    for section in build(data, header):
        lines += _md_block(section, _Place(data.reports_dir, base), 2)
    return "\n".join(lines).rstrip() + "\n"


class _Place:
    """Where figures are (``reports``) and where the page goes (``out``)."""

    def __init__(self, reports: Path, out: Path) -> None:
        self.reports, self.out = reports, out

    def figure(self, fig: Figure) -> tuple[str, bool]:
        """The figure's path relative to the page, and whether the file exists."""
        path = self.reports / fig.path
        return _relative(path, self.out), path.is_file()


def _md_block(block: Block, base: _Place, level: int) -> list[str]:
    if isinstance(block, Section):
        out = [f"{'#' * min(level, 6)} {block.title}", ""]
        for child in block.blocks:
            out += _md_block(child, base, level + 1)
        return out
    if isinstance(block, Table):
        return _md_table(block)
    if isinstance(block, Figure):
        rel, exists = base.figure(block)
        if not exists:
            return [f"> **Missing figure:** {block.path} was not found.", ""]
        return [f"![{_md(block.alt)}]({quote(rel)})", "", block.caption, ""]
    prefix = {"warning": "> **Warning:** ", "notrun": "> "}.get(block.kind, "")
    return [prefix + block.text, ""]


def _md(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _md_table(table: Table) -> list[str]:
    out = [line for w in table.warnings for line in (f"> **Warning:** {w}", "")]
    out += [f"*{table.id}: {table.caption}*", ""]
    out.append("| " + " | ".join(_md(c) for c in table.columns) + " |")
    out.append("|" + "|".join([":---"] + ["---:"] * (len(table.columns) - 1)) + "|")
    out += ["| " + " | ".join(_md(c) for c in row) + " |" for row in table.rows]
    out.append("")
    if table.notes:
        out += [f"- {n}" for n in table.notes] + [""]
    return out


def render_html(data: ReportData, header: Mapping[str, str], out_dir: Path) -> str:
    """The report as one self-contained HTML page.

    Every table is an HTML ``<table>`` with an ``id`` (``run-info``, ``table1``...
    ``table5``, ``table3-fst``, ``agreement``, ``seeds``, ``fairness-<run>``...); its
    warnings sit just before it inside the same ``<div class="block">``.

    Args:
        data: From :func:`~benchmark.report.collect.collect`.
        header: Key/values shown first, rendered as given.
        out_dir: Folder the page is written to; image ``src`` paths are relative to it.

    Returns:
        The HTML text.
    """
    sections = build(data, header)
    nav = "".join(f'<li><a href="#{s.id}">{html.escape(s.title)}</a></li>' for s in sections)
    place = _Place(data.reports_dir, Path(out_dir))
    body = "\n".join(_html_block(s, place, 2) for s in sections)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(TITLE)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f"<h1>{html.escape(TITLE)}</h1>\n<nav><ul>{nav}</ul></nav>\n{body}\n</body>\n</html>\n"
    )


def _html_block(block: Block, base: _Place, level: int) -> str:
    if isinstance(block, Section):
        h = min(level, 6)
        inner = "\n".join(_html_block(b, base, level + 1) for b in block.blocks)
        title = html.escape(block.title)
        return f'<section id="{block.id}">\n<h{h}>{title}</h{h}>\n{inner}\n</section>'
    if isinstance(block, Table):
        return _html_table(block)
    if isinstance(block, Figure):
        return _html_figure(block, base)
    return _html_para(block)


def _html_para(para: Para) -> str:
    label = "Warning: " if para.kind == "warning" else ""
    return f'<p class="{para.kind}">{html.escape(label + para.text)}</p>'


def _html_figure(fig: Figure, base: _Place) -> str:
    rel, exists = base.figure(fig)
    caption = f"<figcaption>{html.escape(fig.caption)}</figcaption>"
    if not exists:
        missing = f"Missing figure: {fig.path} was not found."
        note = f'<p class="missing">{html.escape(missing)}</p>'
        return f'<figure id="{fig.id}">\n{note}\n{caption}\n</figure>'
    src = html.escape(quote(rel), quote=True)
    alt = html.escape(fig.alt, quote=True)
    return f'<figure id="{fig.id}">\n<img src="{src}" alt="{alt}">\n{caption}\n</figure>'


def _html_table(table: Table) -> str:
    warnings = "".join(
        f'<p class="warning">{html.escape("Warning: " + w)}</p>\n' for w in table.warnings
    )
    head = "".join(f'<th scope="col">{html.escape(c)}</th>' for c in table.columns)
    rows = "".join(
        "<tr>"
        + (f'<th scope="row">{html.escape(row[0])}</th>' if row else "")
        + "".join(f"<td>{html.escape(c)}</td>" for c in row[1:])
        + "</tr>\n"
        for row in table.rows
    )
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in table.notes)
    notes = f'<ul class="notes">{notes}</ul>\n' if notes else ""
    return (
        f'<div class="block" data-table="{table.id}">\n{warnings}'
        f'<table id="{table.id}">\n<caption>{html.escape(table.caption)}</caption>\n'
        f"<thead><tr>{head}</tr></thead>\n<tbody>\n{rows}</tbody>\n</table>\n{notes}</div>"
    )


def write_report(
    reports_dir: Path,
    metrics_dir: Path,
    header: Mapping[str, str],
    out_html: Path,
    out_md: Path,
    *,
    runtime_dir: Path | None = None,
    runtimes: bool = True,
) -> dict[str, Any]:
    """Collect the stages' parts and write the HTML and Markdown reports atomically.

    Args:
        reports_dir: Folder holding the stages' report folders.
        metrics_dir: Folder holding ``<stage>.json`` metrics.
        header: Key/values shown first, rendered as given.
        out_html: Path of the HTML page (``reports/index.html``).
        out_md: Path of the Markdown (``reports/tables.md``).
        runtime_dir: Folder holding ``<stage>.json`` runtimes (default
            ``metrics_dir/runtime``).
        runtimes: Show our runtimes in Table 4 (False for the DVC-hashed report: it then
            says where they are; :func:`runtimes_markdown` renders them).

    Returns:
        ``tables`` (ids), ``figures`` and ``figures_missing`` (paths relative to
        ``reports_dir``), ``warnings`` (count) and ``not_run`` (stages).

    Raises:
        FileContentError: A stage output is malformed (the message names it).
    """
    data = collect(reports_dir, metrics_dir, runtime_dir, runtimes=runtimes)
    out_html, out_md = Path(out_html), Path(out_md)
    page = render_html(data, header, out_html.parent)
    text = render_markdown(data, header, out_md.parent)
    write_text_atomic(out_html, page)
    write_text_atomic(out_md, text)
    return summary(build(data, header), data)


def runtimes_markdown(reports_dir: Path, metrics_dir: Path, runtime_dir: Path | None = None) -> str:
    """Paper Table 4 beside this run's runtimes, as Markdown (not part of the hashed report).

    Args:
        reports_dir: Folder holding the stages' report folders (which stages ran).
        metrics_dir: Folder holding ``<stage>.json`` metrics.
        runtime_dir: Folder holding ``<stage>.json`` runtimes (default
            ``metrics_dir/runtime``).

    Returns:
        The Markdown text.

    Raises:
        FileContentError: A runtimes or section file is malformed (named in the message).
    """
    data = collect(reports_dir, metrics_dir, runtime_dir)
    place = _Place(data.reports_dir, data.reports_dir)
    return "\n".join(_md_block(table4_section(data), place, 1)).rstrip() + "\n"
