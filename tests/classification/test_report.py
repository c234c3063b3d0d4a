from __future__ import annotations

import numpy as np
import pandas as pd

from benchmark.classification.report import PAPER_TABLE5, table5


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
