"""Render the report as Markdown and as self-contained HTML, and write both atomically.

The usual targets are ``reports/tables.md`` and ``reports/index.html``.
The HTML has inline CSS only: no script, no external resource. Images are referenced by
paths relative to the output folder, so the folder can be copied as a whole.
"""

from __future__ import annotations

import html as html_module
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from benchmark.core.document import Figure
from benchmark.core.io import write_text_atomic
from benchmark.core.markup import html, markdown, page
from benchmark.report.collect import ReportData, collect
from benchmark.report.runtimes import table4_section
from benchmark.report.sections import TITLE, build, summary


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
        lines += markdown([section], _Place(data.reports_dir, base).figure, 2)
    return "\n".join(lines).rstrip() + "\n"


class _Place:
    """Where figures are (``reports``) and where the page goes (``out``)."""

    def __init__(self, reports: Path, out: Path) -> None:
        self.reports, self.out = reports, out

    def figure(self, fig: Figure) -> str | None:
        """The figure's URL-quoted path relative to the page; None when the file is missing."""
        path = self.reports / fig.path
        return quote(_relative(path, self.out)) if path.is_file() else None


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
    nav = "".join(f'<li><a href="#{s.id}">{html_module.escape(s.title)}</a></li>' for s in sections)
    place = _Place(data.reports_dir, Path(out_dir))
    return page(TITLE, html(sections, place.figure, 2), f"<nav><ul>{nav}</ul></nav>\n")


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
    text_html = render_html(data, header, out_html.parent)
    text = render_markdown(data, header, out_md.parent)
    write_text_atomic(out_html, text_html)
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
    return "\n".join(markdown([table4_section(data)], place.figure, 1)).rstrip() + "\n"
