from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from benchmark.classification.report import PAPER_TABLE5, mean_interval, table5


def test_mean_interval_is_a_t_interval() -> None:
    mean, low, high = mean_interval([0.8, 0.9, 1.0])
    # sd 0.1, t(0.975, 2) = 4.3027: half-width 4.3027 * 0.1 / sqrt(3)
    assert mean == pytest.approx(0.9)
    assert high - mean == pytest.approx(4.302652729 * 0.1 / math.sqrt(3))
    assert low == pytest.approx(2 * mean - high)
    single = mean_interval([0.7])
    assert single[0] == 0.7
    assert math.isnan(single[1])
    assert math.isnan(single[2])


def test_table5_puts_paper_beside_ours_and_averages_seeds() -> None:
    rows = []
    for seed, acc in ((1, 80.0), (2, 90.0)):
        for split in ("train", "val", "test"):
            rows.append(
                {
                    "variant": "baseline",
                    "seed": seed,
                    "split": split,
                    "loss": 0.5,
                    "accuracy": acc,
                    "auc": 0.9,
                    "precision": 0.8,
                    "recall": 0.7,
                    "f1": 0.75,
                    "n": 10,
                    "positives": 3,
                }
            )
    table, intervals = table5(pd.DataFrame(rows))
    assert (
        table.loc["Accuracy (%)", "Baseline val (paper)"] == PAPER_TABLE5["baseline"]["accuracy"][1]
    )
    assert table.loc["Accuracy (%)", "Baseline test, real only (ours)"] == 85.0
    assert "Baseline test (paper)" not in table.columns  # the paper has no test column
    mean, low, high = intervals["baseline"]["test"]["accuracy"]
    assert mean == 85.0
    assert low < 85.0 < high
    assert np.isfinite([low, high]).all()


def test_a_proportions_seed_interval_stays_inside_zero_one() -> None:
    # Precision 0.75 over two seeds (0.5, 1.0): the plain t-interval is [-2.43, 3.93].
    mean, low, high = mean_interval([0.5, 1.0], (0.0, 1.0))
    assert (mean, low, high) == (0.75, 0.0, 1.0)
    assert mean_interval([0.5, 1.0])[1] < -2.4  # unbounded, as before
