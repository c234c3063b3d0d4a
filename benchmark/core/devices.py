"""Devices, mixed precision and data-parallel processes for the training loops, via accelerate.

One :class:`Runner` per training run wraps ``accelerate.Accelerator``. Under ``accelerate
launch`` (several GPUs, several nodes, or ``--cpu --num_processes N``) every process runs
the same loop: each global batch is split between the processes (:meth:`Runner.local`),
gradients are averaged (:meth:`Runner.sync_gradients`), and validation and inference are
sharded and gathered (:meth:`Runner.gather`), so every process sees the same validation
metric and early stopping, LR plateaus and the kept epoch agree. Only the main process
writes files or opens tracking runs (:func:`benchmark.core.processes.is_main_process`).

With one process nothing is wrapped, split or gathered: the loop is the single-process
loop of earlier releases, bit for bit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

import numpy as np
import torch
from numpy.typing import NDArray

from benchmark.core.config.base import ConfigError, Device, Precision
from benchmark.core.io import atomic_path
from benchmark.core.processes import rank_and_world

DEVICES: tuple[str, ...] = get_args(Device)
PRECISIONS: tuple[str, ...] = get_args(Precision)


@dataclass(frozen=True)
class DeviceChoice:
    """Where a run trains, and in which precision, with what was changed and why.

    Attributes:
        device: ``cpu`` or ``cuda``.
        mixed_precision: ``no``, ``fp16`` or ``bf16`` (accelerate's autocast).
        notes: One line per fallback (``auto`` without a GPU, fp16 on a CPU).
    """

    device: str
    mixed_precision: str
    notes: tuple[str, ...] = ()

    def tags(self) -> dict[str, str]:
        """Tracking tags: ``device``, ``mixed_precision`` and, if any, ``device_note``."""
        tags = {"device": self.device, "mixed_precision": self.mixed_precision}
        if self.notes:
            tags["device_note"] = "; ".join(self.notes)
        return tags


def choose_device(
    device: str, mixed_precision: str, *, param: str, cuda: bool | None = None
) -> DeviceChoice:
    """Resolve the ``device``/``mixed_precision`` params of a stage.

    ``auto`` takes the GPU when torch sees one, else the CPU in float32 (a CPU's bf16
    autocast is slower than float32 on most CPUs and changes results), and says so. An
    explicit ``cpu`` keeps ``bf16`` (torch autocasts it on CPUs) but maps ``fp16``, which
    needs a GPU's gradient scaler, to float32 with a note.

    Args:
        device: ``auto``, ``cpu`` or ``cuda``.
        mixed_precision: ``no``, ``fp16`` or ``bf16``.
        param: The params section, named in errors and notes (e.g. ``classify``).
        cuda: Whether a CUDA GPU is usable (default: ``torch.cuda.is_available()``).

    Raises:
        ConfigError: Unknown value, or ``cuda`` asked for where torch finds no GPU.
    """
    if device not in DEVICES:
        raise ConfigError(f"{param}.device must be one of {DEVICES}, got {device!r}")
    if mixed_precision not in PRECISIONS:
        raise ConfigError(
            f"{param}.mixed_precision must be one of {PRECISIONS}, got {mixed_precision!r}"
        )
    has_gpu = torch.cuda.is_available() if cuda is None else cuda
    if device == "cuda" and not has_gpu:
        raise ConfigError(
            f"{param}.device is 'cuda' but torch finds no CUDA GPU (torch "
            f"{torch.__version__}, CUDA build {torch.version.cuda}); use 'auto' or 'cpu'"
        )
    if device == "cuda" or (device == "auto" and has_gpu):
        return DeviceChoice("cuda", mixed_precision)
    notes: list[str] = []
    precision = mixed_precision
    if device == "auto":
        notes.append(f"{param}.device auto: no CUDA GPU, training on the CPU")
        if precision != "no":
            notes.append(f"{param}.mixed_precision {precision} dropped on the CPU (float32)")
            precision = "no"
    elif precision == "fp16":
        notes.append(f"{param}.mixed_precision fp16 needs a GPU: float32 on the CPU")
        precision = "no"
    return DeviceChoice("cpu", precision, tuple(notes))


def _accelerator(choice: DeviceChoice) -> Any:
    from accelerate import Accelerator
    from accelerate.state import AcceleratorState, PartialState

    cpu = choice.device == "cpu"
    if rank_and_world()[1] == 1 and AcceleratorState._shared_state:
        # One process may train several runs with different precisions (tests, variants);
        # accelerate keeps one state per process and refuses a change without a reset.
        AcceleratorState._reset_state(reset_partial_state=True)
    # cpu first, so that a CPU launch of several processes joins a gloo process group.
    PartialState(cpu=cpu)
    return Accelerator(cpu=cpu, mixed_precision=choice.mixed_precision)


class Runner:
    """One training run's devices and processes (a thin view of ``accelerate``).

    Attributes:
        choice: The resolved device and precision.
        device: The torch device of this process.
        rank: This process's index (0 is the main process).
        world: Number of processes.
    """

    def __init__(self, choice: DeviceChoice) -> None:
        """Start (or join) accelerate's state for ``choice``."""
        self.choice = choice
        self.accelerator = _accelerator(choice)
        self.device: torch.device = self.accelerator.device
        self.rank: int = int(self.accelerator.process_index)
        self.world: int = int(self.accelerator.num_processes)

    @property
    def is_main(self) -> bool:
        """Whether this process writes files and tracking runs."""
        return self.rank == 0

    def place(self, model: torch.nn.Module) -> torch.nn.Module:
        """The model on this process's device (before its optimizer is made).

        It is not wrapped in DDP: :meth:`sync_gradients` averages the gradients that exist,
        so a frozen backbone (no gradients, no update) needs no special case.
        """
        if self.world > 1 and self.device.type == "cuda":
            # Batch statistics over the global batch, as with one process (CUDA only).
            model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)  # type: ignore[no-untyped-call]
        return model.to(self.device)

    def wrap(self, optimizer: Any) -> Any:
        """The optimizer wrapped by accelerate (gradient scaling and skipped steps in fp16)."""
        return self.accelerator.prepare(optimizer)

    def sync_gradients(self, model: torch.nn.Module) -> None:
        """Average the gradients over processes (one all-reduce; nothing with one process).

        Every local loss is scaled to its share of the global batch, so the average of
        these gradients is the gradient of the global batch's loss.
        """
        if self.world == 1:
            return
        import torch.distributed as dist

        grads = [p.grad for p in model.parameters() if p.grad is not None]
        flat = torch.cat([g.reshape(-1) for g in grads])
        dist.all_reduce(flat)
        flat /= self.world
        offset = 0
        for g in grads:
            g.copy_(flat[offset : offset + g.numel()].view_as(g))
            offset += g.numel()

    def sync_buffers(self, model: torch.nn.Module) -> None:
        """Copy the main process's buffers (BatchNorm running statistics) to every process."""
        if self.world == 1:
            return
        import torch.distributed as dist

        for buffer in model.buffers():
            dist.broadcast(buffer.data, src=0)

    def autocast(self) -> AbstractContextManager[Any]:
        """Mixed-precision autocast of the run (a no-op for ``no``)."""
        context: AbstractContextManager[Any] = self.accelerator.autocast()
        return context

    def backward(self, loss: torch.Tensor) -> None:
        """Backward pass through accelerate (gradient scaling under fp16)."""
        self.accelerator.backward(loss)

    def clip(self, model: Any, max_norm: float) -> None:
        """Clip the gradient norm (unscaled first under fp16)."""
        self.accelerator.clip_grad_norm_(model.parameters(), max_norm)

    def local(self, rows: NDArray[np.int64]) -> NDArray[np.int64]:
        """This process's contiguous share of ``rows`` (all of them with one process)."""
        if self.world == 1:
            return rows
        return np.array_split(rows, self.world)[self.rank]

    def gather(self, local: NDArray[Any], total: int) -> NDArray[Any]:
        """Concatenate every process's :meth:`local` results, in rank order.

        Args:
            local: (n_local, ...) this process's results for its share of ``total`` items.
            total: Items over all processes.

        Returns:
            (total, ...) on every process.
        """
        if self.world == 1:
            return local
        sizes = [len(part) for part in np.array_split(np.arange(total), self.world)]
        tensor = torch.from_numpy(np.ascontiguousarray(local)).to(self.device)
        padded = torch.zeros((max(sizes), *tensor.shape[1:]), dtype=tensor.dtype)
        padded = padded.to(self.device)
        padded[: len(tensor)] = tensor
        gathered = self.accelerator.gather(padded).cpu().numpy()
        parts = np.split(gathered, self.world)
        return np.concatenate([p[:n] for p, n in zip(parts, sizes, strict=True)])

    @contextmanager
    def output_folder(self, folder: Path) -> Iterator[Path | None]:
        """A fresh temporary folder, renamed to ``folder`` at the end; None off the main process.

        See :func:`benchmark.core.io.atomic_path`.
        """
        if not self.is_main:
            yield None
            return
        with atomic_path(folder) as tmp:
            tmp.mkdir(parents=True)
            yield tmp

    def wait(self) -> None:
        """Block until every process gets here."""
        self.accelerator.wait_for_everyone()

    def total(self, value: float) -> float:
        """The sum of ``value`` over every process (``value`` itself with one process)."""
        if self.world == 1:
            return value
        return float(self.gather(np.array([value], np.float64), self.world).sum())
