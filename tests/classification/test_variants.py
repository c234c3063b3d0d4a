from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from benchmark.classification.variants import (
    resample_rows,
    tone_weights,
    variant_data,
    why_not,
)
from benchmark.preprocess.cache import CachedSplit


def _split(rows: list[tuple[str, str, str, str]]) -> CachedSplit:
    """Rows of (source, superclass, estimated fst, requested fst)."""
    index = pd.DataFrame(rows, columns=["source", "superclass", "fst", "fst_label"])
    index.insert(0, "cache_row", range(len(rows)))
    empty = np.zeros((len(rows), 2, 2, 3), np.uint8)
    return CachedSplit(empty, empty[..., 0], index)


M, N = "melanocytic", "non_melanocytic"
TRAIN = [
    # 6 real I-II, 3 real III-IV, 3 real V-VI (1 melanocytic), then 3 synthetic
    *[("real", M if i % 2 else N, "II", "II") for i in range(6)],
    *[("real", N, "III", "III") for _ in range(3)],
    ("real", M, "V", "V"),  # row 9
    ("real", N, "VI", "VI"),  # row 10
    ("real", N, "V", "V"),  # row 11
    ("synthetic", M, "uncertain", "V"),  # counts in the requested tone, V-VI
    ("synthetic", M, "IV", "VI"),
    ("synthetic", N, "V", "V"),
]


def _splits(train: list[tuple[str, str, str, str]] = TRAIN) -> dict[str, CachedSplit]:
    val = _split([("real", M, "II", "II"), ("real", N, "V", "V"), ("synthetic", M, "V", "V")])
    test = _split([("real", M, "I", "I"), ("real", N, "VI", "VI")])
    return {"train": _split(train), "val": val, "test": test}


def test_tone_weights_give_every_group_the_same_total() -> None:
    groups = np.array(["I-II"] * 6 + ["III-IV"] * 3 + ["V-VI"])
    weights = tone_weights(groups)
    # N / (G n_g): 10 / 18, 10 / 9, 10 / 3
    np.testing.assert_allclose(weights[[0, 6, 9]], [10 / 18, 10 / 9, 10 / 3])
    assert weights.mean() == pytest.approx(1.0)
    for g in ("I-II", "III-IV", "V-VI"):
        assert weights[groups == g].sum() == pytest.approx(10 / 3)


def test_reweight_sees_inverse_tone_frequency_weights_on_real_rows() -> None:
    data = variant_data(_splits(), "reweight", seed=42)
    assert data.train_rows.tolist() == list(range(12))  # real only
    assert data.sample_weights is not None
    # 6 I-II, 3 III-IV, 3 V-VI of 12: 12 / (3 * 6), 12 / 9, 12 / 9
    np.testing.assert_allclose(data.sample_weights[[0, 6, 9]], [12 / 18, 12 / 9, 12 / 9])
    assert data.val_rows.tolist() == [0, 1]


def test_resample_adds_real_dark_rows_at_generations_count_per_class() -> None:
    splits = _splits()
    extra = resample_rows(splits["train"], np.arange(12), seed=42)
    # Two synthetic melanocytic V-VI: the only real one (row 9) twice; one non-melanocytic
    # V-VI: one of rows 10 and 11.
    assert extra.tolist() in ([9, 9, 10], [9, 9, 11])
    data = variant_data(splits, "resample", seed=42)
    assert len(data.train_rows) == 12 + 3
    assert data.sample_weights is None
    assert set(data.train_rows.tolist()) == set(range(12))  # no synthetic row itself
    # Seeded: the same seed draws the same rows.
    assert variant_data(splits, "resample", seed=42).train_rows.tolist() == (
        data.train_rows.tolist()
    )


def test_augmented_adds_the_synthetic_rows_and_baseline_stays_real() -> None:
    splits = _splits()
    assert variant_data(splits, "baseline", 0).train_rows.tolist() == list(range(12))
    assert variant_data(splits, "augmented", 0).train_rows.tolist() == list(range(15))
    # Synthetic validation rows (split.paper_mode) reach the augmented variant only.
    assert variant_data(splits, "baseline", 0).val_rows.tolist() == [0, 1]
    assert variant_data(splits, "augmented", 0).val_rows.tolist() == [0, 1, 2]


def test_variants_that_cannot_run_say_why() -> None:
    real_only = [r for r in TRAIN if r[0] == "real"]
    for variant in ("augmented", "resample"):
        why = why_not(_splits(real_only), variant)
        assert why is not None
        assert "no synthetic training image" in why
    assert why_not(_splits(real_only), "reweight") is None
    no_dark_melanocytic = [r for r in TRAIN if r[2:] != ("V", "V") or r[1] != M]
    why = why_not(_splits(no_dark_melanocytic), "resample")
    assert why == "no real V-VI melanocytic training image to oversample"
