"""A stage, branch or variant that could not run on these data, and why: one typed record.

Data without dark-skin images cannot train the LoRA; data without lesion masks cannot train
or score a segmenter; a one-class validation split cannot choose a checkpoint by AUC. The
stage that meets such data still exits 0 and writes its declared outputs: a ``not_run.json``
holding the reason (read back by downstream stages and the report) and metrics saying
``status: not run``, so no table shows a number that was never measured.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from benchmark.core.io import FileContentError, atomic_path, read_json, write_json_atomic

NOT_RUN_FILE = "not_run.json"
NOT_RUN = "not run"


@dataclass(frozen=True)
class NotRun:
    """Why something did not run.

    Attributes:
        reason: One sentence, e.g. ``0 ITA type V–VI training images (min 20)``.
    """

    reason: str

    def metrics(self) -> dict[str, str]:
        """The metrics of a stage that did not run (``status`` and ``reason``)."""
        return {"status": NOT_RUN, "reason": self.reason}

    def write(self, folder: Path) -> Path:
        """Write ``folder/not_run.json`` atomically (the folder is created)."""
        path = Path(folder) / NOT_RUN_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(path, self.metrics())
        return path

    def sentence(self, label: str) -> str:
        """``<label>: not run (<reason>).``, the line a table's notes give a missing column."""
        return f"{label}: not run ({self.reason})."

    def downstream(self, stage: str) -> NotRun:
        """The same reason, as seen from a later stage (``<stage> not run: <reason>``)."""
        return NotRun(f"{stage} not run: {self.reason}")


def read_not_run(folder: Path) -> NotRun | None:
    """The record in ``folder/not_run.json``, or ``None`` when the file is absent.

    Raises:
        FileContentError: The file exists but is not such a record.
    """
    path = Path(folder) / NOT_RUN_FILE
    if not path.is_file():
        return None
    data = read_json(path)
    if not isinstance(data, dict) or data.get("status") != NOT_RUN or "reason" not in data:
        raise FileContentError(path, f"expected {{'status': '{NOT_RUN}', 'reason': ...}}")
    return NotRun(str(data["reason"]))


def write_not_run(why: NotRun, *folders: Path) -> dict[str, str]:
    """Replace each folder by one holding only ``not_run.json``; returns the stage metrics.

    What a stage writes for its declared output folders when it cannot run at all.
    """
    for folder in folders:
        with atomic_path(Path(folder)) as tmp:
            why.write(tmp)
    return why.metrics()
