"""CPU pins: the same kernels, and so the same bytes, on any x86-64 CPU with AVX2.

Floating-point results depend on the CPU through the kernels each library picks at run time:
PyTorch's vectorised ATen kernels (AVX2 or AVX-512), oneDNN's JIT convolutions, MKL's
branches (Intel and AMD take different ones), OpenBLAS's core-type kernels, NumPy's and
OpenCV's SIMD dispatch, and the thread counts that split their reductions. Each is pinned
here to its AVX2 level (MKL to its vendor-independent ``COMPATIBLE`` branch, the only one
MKL honours on AMD as on Intel), threads to fixed counts, by environment variables
that the libraries read when they load, so :func:`apply_pins` runs when the ``stages``
package is imported, before NumPy or PyTorch (``python -m stages.<stage>`` and the
``skinbench`` command both import it first); child processes (DataLoader workers,
``torchrun``) inherit them. :func:`read_back` asks the libraries what they actually use, and
every stage run records it as MLflow tags beside the CPU model.

Not pinned: oneDNN sizes some blocks of its AVX2 convolutions by the cache sizes it detects,
which can change a reduction's order between CPU models; turning oneDNN off (ATen's own
convolutions through MKL) would pin that too, at 7.6 times the time of a classifier step
(measured), so it stays on. Not pinnable: MKL's vector math refines the CPU's own
approximate reciprocal square roots, which Intel and AMD compute differently whatever
``MKL_CBWR`` says; :mod:`stages.support.roots` takes those roots exactly instead.
``SKINBENCH_PINS=off`` runs unpinned (faster on AVX-512 machines, results then differ from
the committed ``dvc.lock`` in the last bits).
"""

from __future__ import annotations

import os
import platform
from collections.abc import MutableMapping
from pathlib import Path

SWITCH = "SKINBENCH_PINS"  # "off": run unpinned
PINS: dict[str, str] = {
    "ATEN_CPU_CAPABILITY": "avx2",
    "ONEDNN_MAX_CPU_ISA": "AVX2",
    "DNNL_MAX_CPU_ISA": "AVX2",
    "MKL_CBWR": "COMPATIBLE",
    "MKL_DYNAMIC": "FALSE",
    "OPENBLAS_CORETYPE": "Haswell",
    "NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR",
    "OPENCV_CPU_DISABLE": "AVX512-SKX",
    # The thread count decides how a reduction is split: two for PyTorch/MKL/OpenMP (the
    # reference machines have 2 cores; a stage's ``threads`` param overrides it for torch),
    # one for OpenBLAS (NumPy and SciPy's linear algebra is small here).
    "OMP_NUM_THREADS": "2",
    "MKL_NUM_THREADS": "2",
    "OPENBLAS_NUM_THREADS": "1",
}


class PinError(RuntimeError):
    """The CPU cannot honour a pin; the message names the pin and the way out."""


def is_x86(machine: str | None = None) -> bool:
    """Whether the CPU is x86-64 (the pins are x86 kernel levels)."""
    return (machine or platform.machine()).lower() in ("x86_64", "amd64")


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> set[str] | None:
    """The CPU's feature flags (Linux), or None where they cannot be read."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    line = next((ln for ln in text.splitlines() if ln.startswith("flags")), "")
    return set(line.partition(":")[2].split()) or None


def cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The CPU's model name, as the machine reports it."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return platform.processor() or platform.machine()
    line = next((ln for ln in text.splitlines() if ln.startswith("model name")), "")
    return line.partition(":")[2].strip() or platform.machine()


def apply_pins(
    environ: MutableMapping[str, str] | None = None,
    flags: set[str] | None = None,
    machine: str | None = None,
) -> bool:
    """Set :data:`PINS` in ``environ`` (the process's by default); whether they were set.

    Nothing is set with ``SKINBENCH_PINS=off`` or on a CPU that is not x86-64.

    Raises:
        PinError: An x86-64 CPU without AVX2, naming the pin and ``SKINBENCH_PINS=off``.
    """
    env = os.environ if environ is None else environ
    if env.get(SWITCH, "on").lower() == "off" or not is_x86(machine):
        return False
    found = cpu_flags() if flags is None else flags
    if found is not None and "avx2" not in found:
        raise PinError(
            f"ATEN_CPU_CAPABILITY={PINS['ATEN_CPU_CAPABILITY']}: this CPU has no AVX2, so the "
            f"pinned kernels cannot run; set {SWITCH}=off to run unpinned (results then differ "
            "from the committed dvc.lock in the last bits)"
        )
    env.update(PINS)
    return True


def read_back() -> dict[str, str]:
    """What the libraries use, read from them (MLflow tags ``cpu.*``)."""
    import cv2
    import torch
    from numpy._core._multiarray_umath import __cpu_features__ as features
    from threadpoolctl import threadpool_info

    from stages.support.roots import in_force

    blas = sorted({str(i.get("architecture")) for i in threadpool_info() if "openblas" in
                   str(i.get("internal_api"))})  # fmt: skip
    opencv = cv2.getCPUFeaturesLine()
    return {
        "cpu.model": cpu_model(),
        "cpu.pins": "on" if os.environ.get("ATEN_CPU_CAPABILITY") == "avx2" else "off",
        "cpu.torch_capability": str(torch.backends.cpu.get_cpu_capability()),
        "cpu.numpy_avx512": str(bool(features.get("X86_V4"))),
        "cpu.openblas_coretype": ",".join(blas) or "none",
        "cpu.opencv_avx512": str("AVX512-SKX" in opencv and "AVX512-SKX?" not in opencv),
        "cpu.mkl_cbwr": os.environ.get("MKL_CBWR", "unset"),
        "cpu.onednn_max_isa": os.environ.get("ONEDNN_MAX_CPU_ISA", "unset"),
        "cpu.torch_threads": str(torch.get_num_threads()),
        "cpu.exact_roots": str(in_force()),
    }
