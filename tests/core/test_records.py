"""Typed JSON: nested dataclasses, tuples, dicts, NaN as null, None kept apart from NaN."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pytest

from benchmark.core.records import RecordError, from_json, read_record, to_json, write_record


@dataclass(frozen=True)
class Leaf:
    value: float
    note: str | None = None


@dataclass(frozen=True)
class Tree:
    name: str
    kind: Literal["a", "b"]
    leaves: tuple[Leaf, ...]
    by_key: dict[str, Leaf]
    pair: tuple[int, str]
    maybe: Leaf | None


def test_round_trip_keeps_types_and_nan(tmp_path: Path) -> None:
    tree = Tree("t", "a", (Leaf(1.0), Leaf(math.nan, "undefined")), {"x": Leaf(2)}, (3, "y"),
                None)  # fmt: skip
    write_record(tmp_path / "t.json", tree)
    back = read_record(Tree, tmp_path / "t.json")
    assert back.leaves[0] == Leaf(1.0)
    assert math.isnan(back.leaves[1].value)
    assert back.leaves[1].note == "undefined"
    assert back.by_key == {"x": Leaf(2.0)}
    assert isinstance(back.by_key["x"].value, float)
    assert back.pair == (3, "y")
    assert back.maybe is None
    assert to_json(back) == to_json(tree)
    assert to_json(tree)["leaves"][1]["value"] is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": "c"}, r"kind: 'c' is not one of \['a', 'b'\]"),
        ({"pair": [1]}, r"pair: expected 2 items, found 1"),
        ({"leaves": [{"value": "x", "note": None}]}, r"leaves\[0\]\.value: expected float"),
        ({"extra": 1}, r"unknown key\(s\) \['extra'\]"),
    ],
)
def test_mismatches_name_the_key(change: dict[str, object], message: str) -> None:
    data = to_json(Tree("t", "a", (), {}, (1, "a"), None)) | change
    with pytest.raises(RecordError, match=message):
        from_json(Tree, data)
