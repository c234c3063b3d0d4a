"""Load what the stages contributed: their report sections, what did not run, the runtimes.

Every stage writes its part of the report ready to render (``<folder>/section.json``, see
:mod:`benchmark.core.document`) and its runtimes to ``metrics/runtime/<stage>.json``
(:mod:`benchmark.core.runtime`); this module only finds and reads them. A part that is
absent is recorded as not run; a file that is present but malformed raises
:class:`~benchmark.core.io.FileContentError` naming it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from benchmark.core.document import OUTLINE, SECTION_FILE, SectionFile, read_sections
from benchmark.core.io import read_json
from benchmark.core.runtime import Runtimes
from benchmark.core.status import NOT_RUN, read_not_run

# Stages without a report folder: their metrics file says whether they ran.
METRICS_ONLY = ("finetune_lora", "generate")
# Stages that time themselves, by the runtimes file they write.
TIMED = ("segment", "generate", "classify")
RUNTIME_DIR = "runtime"  # under the metrics folder


@dataclass(frozen=True)
class ReportData:
    """Everything the report renders.

    Attributes:
        reports_dir: The stage reports folder (``reports/``); figure paths are under it.
        parts: Report folder (``skintone``, ``segment``...) -> the section file it wrote.
        not_run: Stage or folder -> why it has no part: the reason it recorded
            (``not_run.json``, or ``status: not run`` in its metrics), else what is absent.
        runtimes: Timed stage -> its runtimes; ``runtime_dir`` names the files' folder.
        runtimes_shown: False for the DVC-hashed report, which must not change between
            reproductions: Table 4 then says where our times are instead of showing them.
    """

    reports_dir: Path
    runtime_dir: Path
    parts: dict[str, SectionFile] = field(default_factory=dict)
    not_run: dict[str, str] = field(default_factory=dict)
    runtimes: dict[str, Runtimes] = field(default_factory=dict)
    runtimes_shown: bool = True

    @property
    def phantom(self) -> bool:
        """Some stage's data are phantoms."""
        return any(part.phantom for part in self.parts.values())


def collect(
    reports_dir: Path,
    metrics_dir: Path,
    runtime_dir: Path | None = None,
    *,
    runtimes: bool = True,
) -> ReportData:
    """Read every stage's section file and runtimes that exist.

    Args:
        reports_dir: Folder holding the stages' report folders.
        metrics_dir: Folder holding ``<stage>.json`` metrics (for the stages without a
            report folder; may be absent).
        runtime_dir: Folder holding ``<stage>.json`` runtimes (may be absent; default
            ``metrics_dir/runtime``).
        runtimes: Read the runtimes (False: Table 4 points to them; see
            :attr:`ReportData.runtimes_shown`).

    Raises:
        FileContentError: A file that exists is malformed (named in the message).
    """
    reports_dir, metrics_dir = Path(reports_dir), Path(metrics_dir)
    runtime_dir = Path(runtime_dir) if runtime_dir is not None else metrics_dir / RUNTIME_DIR
    data = ReportData(reports_dir, runtime_dir, runtimes_shown=runtimes)
    for stage in METRICS_ONLY:
        if (why := _recorded_not_run(metrics_dir / f"{stage}.json")) is not None:
            data.not_run[stage] = why
    for folder in dict.fromkeys(s.folder for s in OUTLINE):
        path = reports_dir / folder
        if not path.is_dir():
            data.not_run[folder] = f"{reports_dir.name}/{folder}/ does not exist"
        elif (recorded := read_not_run(path)) is not None:
            data.not_run[folder] = recorded.reason
        elif not (path / SECTION_FILE).is_file():
            data.not_run[folder] = f"{reports_dir.name}/{folder}/{SECTION_FILE} does not exist"
        else:
            data.parts[folder] = read_sections(path / SECTION_FILE)
    for stage in TIMED if runtimes else ():
        if (runtime_dir / f"{stage}.json").is_file():
            data.runtimes[stage] = Runtimes.read(runtime_dir / f"{stage}.json")
    return data


def _recorded_not_run(path: Path) -> str | None:
    """The reason a metrics file records for a stage that did not run, else None."""
    if not path.is_file():
        return None
    metrics = read_json(path, dict)
    if metrics.get("status") != NOT_RUN:
        return None
    return str(metrics.get("reason", "not recorded"))
