"""The one renderer: values with their intervals, sentences no stronger than the intervals."""

from __future__ import annotations

import math
import re
from pathlib import Path

from benchmark.fairness.render import contrast_sentence, value_text
from benchmark.fairness.result import ContrastResult, Counts
from benchmark.metrics.estimates import Estimate, Interval, Significance

REPO = Path(__file__).resolve().parents[2]
COUNTS = Counts(60, 30, 30, 40, 20, 20)


def _contrast(value: float, low: float, high: float, reason: str | None = None) -> ContrastResult:
    diff = Estimate(value, reason, (value,), Interval(low, high, 100, 100))
    test = Significance(value, 0.03, 999, 999, "two-sided", "patients")
    side = Estimate(0.7)
    return ContrastResult("primary", "auc", ("V", "VI"), ("I", "II"), side, side, diff, COUNTS,
                          COUNTS, test)  # fmt: skip


def test_value_text() -> None:
    assert value_text(Estimate(0.8512, None, (), Interval(0.8, 0.9, 2000, 2000))) == (
        "0.851 [0.800, 0.900]"
    )
    assert value_text(Estimate(0.5, None, (), Interval(0.4, 0.6, 1990, 2000))) == (
        "0.500 [0.400, 0.600; valid in 1990/2000]"
    )
    assert value_text(Estimate(math.nan, "no positives")) == "undefined (no positives)"
    assert value_text(Estimate(0.25)) == "0.250"


def test_contrast_sentences_follow_the_interval() -> None:
    lower = contrast_sentence(_contrast(-0.2, -0.35, -0.05), 3)
    assert lower == (
        "AUC V–VI minus I–II: -0.200 [-0.350, -0.050], permutation p = 0.0300; the interval "
        "over seeds and patients excludes 0: AUC is lower on V–VI."
    )
    assert contrast_sentence(_contrast(0.1, 0.02, 0.2), 1).endswith("AUC is higher on V–VI.")
    unsure = contrast_sentence(_contrast(-0.1, -0.3, 0.05), 1, "images", "Baseline: ")
    assert unsure.startswith("Baseline: AUC V–VI minus I–II")
    assert "interval over images includes 0: no difference can be claimed" in unsure
    gone = contrast_sentence(_contrast(math.nan, math.nan, math.nan, "no images in V–VI"), 1)
    assert gone == "AUC V–VI minus I–II: undefined (no images in V–VI)."


def test_no_module_outside_the_renderer_writes_markdown_table_rows() -> None:
    rows = re.compile(r"""["']\|[ -]|\|---|" \| "\.join""")
    allowed = {"benchmark/core/markup.py"}
    offenders = [
        str(p.relative_to(REPO))
        for p in sorted((REPO / "benchmark").rglob("*.py"))
        if str(p.relative_to(REPO)) not in allowed
        and ("fairness" in p.parts or "metrics" in p.parts)
        and rows.search(p.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_html_audit_opens_in_headless_chromium(tmp_path: Path) -> None:
    import numpy as np
    import pandas as pd
    from click.testing import CliRunner

    from stages.support.cli import main
    from tests.support.browser import loaded_dom

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 240)
    frame = pd.DataFrame({
        "image_id": [f"i{k}" for k in range(240)], "y_true": y,
        "y_score": np.clip(0.3 * y + 0.7 * rng.random(240), 0, 1),
        "fst": np.repeat(["I", "II", "V", "VI"], 60),
        "patient_id": [f"p{k // 2}" for k in range(240)],
    })  # fmt: skip
    frame.to_csv(tmp_path / "pred.csv", index=False)
    page = tmp_path / "audit.html"
    args = ["audit", str(tmp_path / "pred.csv"), "--html", str(page)]
    out = CliRunner().invoke(main, [*args, "--permutations", "100", "--bootstrap", "50"])
    assert out.exit_code == 0, out.output
    assert page.read_text().count('src="data:image/png;base64,') == 2  # self-contained
    dom, broken = loaded_dom(page)
    assert broken == "", f"broken images: {broken}"
    tables = set(re.findall(r'<table id="([^"]+)"', dom))
    assert {"fairness-audit", "fairness-audit-contrast", "fairness-audit-gaps"} <= tables
    assert "fairness-audit-calibration" in tables
    assert "Headline (pre-specified): AUC V–VI minus I–II" in dom
