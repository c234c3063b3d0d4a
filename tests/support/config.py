"""Configs for tests: the values params.yaml sets, with a test's own changes laid over them."""

from __future__ import annotations

import dataclasses
from functools import cache
from typing import Any, TypeVar

from stages.support.params import PARAMS, load_config

T = TypeVar("T")


@cache
def _loaded(cls: type) -> Any:
    return load_config(PARAMS, cls)


def default(cls: type[T], **changes: Any) -> T:
    """``cls`` as the project's params.yaml sets it, with ``changes`` (validated again)."""
    return dataclasses.replace(_loaded(cls), **changes)  # type: ignore[type-var]


@cache
def _paper(cls: type) -> Any:
    import tempfile
    from pathlib import Path

    from stages.support.params import apply_overlay

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "params.yaml"
        path.write_text(apply_overlay(PARAMS, PARAMS.with_name("params-paper.yaml")))
        return load_config(path, cls)


def paper(cls: type[T], **changes: Any) -> T:
    """``cls`` as the paper profile sets it (params-paper.yaml over params.yaml), with changes.

    For tests written against the paper's protocol: its Table 1 phantom skew without texture,
    test as 15% of every stratum, 224 px preprocessing.
    """
    return dataclasses.replace(_paper(cls), **changes)  # type: ignore[type-var]


def params_with(changes: dict[str, Any]) -> dict[str, Any]:
    """The project's params.yaml with ``changes`` (nested, key by key) written over it.

    A test's params file states what the test changes; everything else is params.yaml's.
    """
    import copy
    from pathlib import Path

    from stages.support.params import overlaid, read_params

    base = copy.deepcopy(read_params(PARAMS))
    overlaid(base, changes, Path("<test params>"))
    return base
