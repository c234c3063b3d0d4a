"""Skin-type columns of public datasets read into the suite's groups."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from benchmark.core.io import FileContentError
from benchmark.fairness.label_sources import SOURCES, detect_source, read_groups


def _col(values: list[object], name: str) -> pd.Series:
    return pd.Series(values, name=name, dtype=object)


def test_each_source_spelling() -> None:
    f17k = read_groups(
        _col(["1", "6", "-1", None], "fitzpatrick_scale"), SOURCES["fitzpatrick17k"], "f.csv"
    )
    assert f17k.tolist() == ["I", "VI", "missing", "missing"]
    ddi = read_groups(_col(["12", "56", "34"], "skin_tone"), SOURCES["ddi"], "d.csv")
    assert ddi.tolist() == ["I-II", "V-VI", "III-IV"]
    pad = read_groups(_col(["2.0", "5"], "fitspatrick"), SOURCES["pad-ufes-20"], "p.csv")
    assert pad.tolist() == ["II", "V"]
    milk = read_groups(_col(["0", "5"], "skin_tone_class"), SOURCES["milk10k"], "m.csv")
    assert milk.tolist() == ["MILK10k tone 0", "MILK10k tone 5"]
    assert "does not say" in SOURCES["milk10k"].note


def test_detects_the_source_from_the_columns() -> None:
    assert detect_source(["image", "fitzpatrick_scale"]).name == "fitzpatrick17k"  # type: ignore[union-attr]
    assert detect_source(["image", "sex"]) is None


def test_mixed_vocabularies_are_refused_naming_values_and_file() -> None:
    with pytest.raises(FileContentError, match=r"pred\.csv.*mixes vocabularies.*\['5'\].*'V'"):
        read_groups(_col(["V", "5", "II"], "fst"), None, "pred.csv")
    with pytest.raises(FileContentError, match=r"d\.csv.*\['78'\].*not ddi"):
        read_groups(_col(["12", "78"], "skin_tone"), SOURCES["ddi"], "d.csv")


def test_real_metadata_csvs(realdata: Path) -> None:
    meta = realdata / "metadata"
    f17k = pd.read_csv(meta / "fitzpatrick17k.csv", dtype=str)
    groups = read_groups(f17k["fitzpatrick_scale"], detect_source(f17k.columns), "f17k")
    counts = groups.value_counts()
    assert counts["missing"] == (f17k["fitzpatrick_scale"] == "-1").sum() > 0
    assert set(counts.index) == {"I", "II", "III", "IV", "V", "VI", "missing"}
    milk = pd.read_csv(meta / "MILK10k_Training_Metadata.csv", dtype=str)
    source = detect_source(milk.columns)
    assert source is not None
    assert source.name == "milk10k"
    tones = read_groups(milk["skin_tone_class"], source, "milk")
    assert tones.str.startswith("MILK10k tone ").all()
