"""ExactRoots: square roots from IEEE operations only, wherever a stage's code takes them."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pytest
import torch

from stages.support.roots import ExactRoots, exact_sqrt


def _correctly_rounded(x: torch.Tensor) -> np.ndarray:
    return np.sqrt(x.numpy().astype(np.float64)).astype(np.float32)


def _values() -> torch.Tensor:
    gen = torch.Generator().manual_seed(0)
    spread = torch.exp(torch.empty(50_000).uniform_(-80, 80, generator=gen))  # 1e-35 .. 5e34
    tiny = torch.tensor([1e-45, 3e-40, 1.1754942e-38], dtype=torch.float32)  # subnormals
    return torch.cat([spread, tiny, torch.rand(50_000, generator=gen)])


def test_exact_sqrt_is_the_correctly_rounded_float32_root() -> None:
    x = _values()
    assert np.array_equal(exact_sqrt(x).numpy(), _correctly_rounded(x))


def test_exact_sqrt_keeps_ieee_special_values_and_dtype() -> None:
    x = torch.tensor([0.0, -0.0, float("inf"), -4.0, float("nan"), 4.0])
    got = exact_sqrt(x)
    assert got.dtype == torch.float32
    assert got[:3].tolist() == [0.0, 0.0, float("inf")]
    assert torch.signbit(got[1])  # sqrt(-0) = -0
    assert torch.isnan(got[3:5]).all()
    assert got[5] == 2.0
    assert exact_sqrt(torch.tensor([9], dtype=torch.int64)).tolist() == [3.0]  # promoted as torch


def test_float64_roots_are_within_two_units_in_the_last_place() -> None:
    x = _values().to(torch.float64)
    got, ref = exact_sqrt(x).numpy(), np.sqrt(x.numpy())
    assert np.all(np.abs(got - ref) <= 2 * np.spacing(ref))


ENTRY_POINTS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "torch.sqrt": torch.sqrt,
    "Tensor.sqrt": torch.Tensor.sqrt,
    "Tensor.sqrt_": lambda x: x.clone().sqrt_(),
    "** 0.5": lambda x: x**0.5,
    "torch.pow": lambda x: torch.pow(x, 0.5),
    "Tensor.pow_": lambda x: x.clone().pow_(0.5),
    "_foreach_sqrt": lambda x: torch._foreach_sqrt([x])[0],
    "_foreach_sqrt_": lambda x: _foreach_inplace(x.clone()),
}


def _foreach_inplace(x: torch.Tensor) -> torch.Tensor:
    torch._foreach_sqrt_([x])
    return x


@pytest.mark.parametrize("name", sorted(ENTRY_POINTS))
def test_every_square_root_entry_point_is_exact_under_the_mode(name: str) -> None:
    x = _values()
    with ExactRoots():
        got = ENTRY_POINTS[name](x)
    assert np.array_equal(got.numpy(), _correctly_rounded(x)), name


def test_other_powers_and_out_arguments_are_left_to_torch() -> None:
    x = torch.rand(1000) + 0.5
    with ExactRoots():
        cube = x**3.0
        into = torch.empty(1000)
        torch.sqrt(x, out=into)
    assert torch.equal(cube, x**3.0)
    assert torch.equal(into, torch.sqrt(x))


def test_gradients_flow_through_the_exact_root() -> None:
    x = (torch.rand(64, dtype=torch.float64) + 0.1).requires_grad_()
    with ExactRoots():
        (x**0.5).sum().backward()
    assert x.grad is not None
    assert torch.allclose(x.grad, 0.5 / x.detach().sqrt(), rtol=1e-12)


class _Spy(ExactRoots):
    def __init__(self) -> None:
        super().__init__()
        self.roots = 0

    def __torch_function__(
        self,
        func: Callable[..., Any],
        types: Sequence[type],
        args: Sequence[Any] = (),
        kwargs: Mapping[str, Any] | None = None,
    ) -> Any:
        self.roots += func in (torch.Tensor.sqrt, torch.sqrt, torch._foreach_sqrt)
        return super().__torch_function__(func, types, args, kwargs)


@pytest.mark.parametrize("optimizer", [torch.optim.Adam, torch.optim.AdamW])
def test_the_optimizers_the_stages_use_take_their_roots_through_the_mode(
    optimizer: type[torch.optim.Optimizer],
) -> None:
    layer = torch.nn.Linear(4, 2)
    opt = optimizer(layer.parameters(), lr=1e-2)
    spy = _Spy()
    with spy:
        layer(torch.ones(3, 4)).sum().backward()
        opt.step()
    assert spy.roots >= 1  # a new torch that took its root in C++ would need another guard
