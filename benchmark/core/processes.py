"""Which process this is under a multi-process launcher (no torch import: stages use it).

``torchrun`` (which ``accelerate launch --multi_gpu`` runs, on GPUs or, with ``device:
cpu``, on CPUs) sets ``RANK`` and ``WORLD_SIZE``; MPI launchers set their own names.
Process 0 is the main process: the only one that writes files or tracking runs.
"""

from __future__ import annotations

import os

_NAMES = (
    ("RANK", "WORLD_SIZE"),
    ("PMI_RANK", "PMI_SIZE"),
    ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"),
)


def rank_and_world() -> tuple[int, int]:
    """This process's rank and the number of processes; (0, 1) without a launcher."""
    for rank, world in _NAMES:
        if world in os.environ:
            return int(os.environ.get(rank, "0")), int(os.environ[world])
    return 0, 1


def is_main_process() -> bool:
    """Whether this process writes files and tracking runs."""
    return rank_and_world()[0] == 0
