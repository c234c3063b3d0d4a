"""Square roots that give the same bits on Intel and AMD CPUs.

PyTorch's x86 CPU wheels compute ``sqrt`` (and ``x ** 0.5``, which ATen turns into it)
with MKL's vector math library. MKL refines an approximate reciprocal square root
(``rsqrtps``) on the branch it picks for AMD (``EX``) as on Intel's AVX2 branch (``L9``),
and Intel and AMD implement that approximation differently: on the AMD EPYC that made
``dvc.lock``, 17% of float32 square roots are one unit in the last place away from the
correctly rounded value, an exactly emulated CPU gives none, and neither ``MKL_CBWR`` nor
``MKL_ENABLE_INSTRUCTIONS`` changes the branch. Adam's update divides by such a root every
step, and the diffusion schedulers take roots of their noise levels, so every training
stage drifted between vendors (``python -m tests.perf.cross_cpu`` finds this).

:class:`ExactRoots` is a ``TorchFunctionMode`` that every stage runs under: on CPU
floating-point tensors it computes ``sqrt`` as ``1 / rsqrt(x)`` in float64, two IEEE
operations (a square root and divisions) that every x86-64 CPU rounds the same way; rounded
back to float32 that is the correctly rounded root (float64 carries more than the 2p + 2
bits that rule needs). Float64 roots come out within 1.5 units in the last place, the same
on every CPU. Autograd follows the ``rsqrt`` and ``reciprocal`` it records.

Not covered: roots taken inside C++ kernels (batch norm, group norm and the optimizers'
``fused`` kernels use ATen's own exact instructions) and ``acos``/``asin``/``atan``, which
MKL also approximates and the pipeline does not use.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
from torch.overrides import TorchFunctionMode, _get_current_function_mode_stack

_HALF = 0.5


def exact_sqrt(x: torch.Tensor) -> torch.Tensor:
    """``sqrt(x)`` computed by IEEE square root and division only (any shape, same dtype)."""
    if not (x.is_floating_point() and x.device.type == "cpu") or x.is_complex():
        return torch.sqrt(x)
    wide = x if x.dtype == torch.float64 else x.to(torch.float64)
    # 1 / (1 / sqrt(x)) keeps sqrt(0) = 0, sqrt(-0) = -0 and sqrt(inf) = inf, NaN below 0.
    return torch.rsqrt(wide).reciprocal().to(x.dtype)


def _is_half_power(args: Sequence[Any]) -> bool:
    return len(args) >= 2 and isinstance(args[1], float) and args[1] == _HALF


def _inplace(target: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return target.copy_(value)


def _sqrt(args: Sequence[Any], _kwargs: Mapping[str, Any]) -> Any:
    return exact_sqrt(args[0])


def _sqrt_(args: Sequence[Any], _kwargs: Mapping[str, Any]) -> Any:
    return _inplace(args[0], exact_sqrt(args[0]))


def _foreach(args: Sequence[Any], _kwargs: Mapping[str, Any]) -> Any:
    return [exact_sqrt(t) for t in args[0]]


def _foreach_(args: Sequence[Any], _kwargs: Mapping[str, Any]) -> Any:
    for t in args[0]:
        _inplace(t, exact_sqrt(t))


_ROOTS: dict[Callable[..., Any], Callable[[Sequence[Any], Mapping[str, Any]], Any]] = {
    torch.sqrt: _sqrt,
    torch.Tensor.sqrt: _sqrt,
    torch.Tensor.sqrt_: _sqrt_,
    torch._foreach_sqrt: _foreach,
    torch._foreach_sqrt_: _foreach_,
}
_POWERS = {
    torch.pow: _sqrt,
    torch.Tensor.pow: _sqrt,
    torch.Tensor.__pow__: _sqrt,
    torch.Tensor.pow_: _sqrt_,
    torch.Tensor.__ipow__: _sqrt_,
}


class ExactRoots(TorchFunctionMode):
    """Within it, ``sqrt(_)``, ``_foreach_sqrt(_)`` and ``** 0.5`` use :func:`exact_sqrt`."""

    def __torch_function__(
        self,
        func: Callable[..., Any],
        types: Sequence[type],
        args: Sequence[Any] = (),
        kwargs: Mapping[str, Any] | None = None,
    ) -> Any:
        kwargs = kwargs or {}
        handler = _ROOTS.get(func)
        if handler is None and func in _POWERS and not kwargs and _is_half_power(args):
            handler = _POWERS[func]
        if handler is None or kwargs.get("out") is not None:
            return func(*args, **kwargs)
        first = args[0]
        tensors = first if isinstance(first, list | tuple) else [first]
        if not all(isinstance(t, torch.Tensor) and t.device.type == "cpu" for t in tensors):
            return func(*args, **kwargs)
        return handler(args, kwargs)


def in_force() -> bool:
    """Whether this thread runs under :class:`ExactRoots` (the ``cpu.exact_roots`` tag)."""
    modes = _get_current_function_mode_stack()  # type: ignore[no-untyped-call]
    return any(isinstance(mode, ExactRoots) for mode in modes)
