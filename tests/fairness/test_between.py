"""The contrast and the gaps: hand answers, and tests that keep their level on clustered data.

The clustered null of the statistics issue: 60 patients with 16 images each, the skin type a
patient attribute (10 patients per type), a random patient effect (SD 1.5 on the logit) and
no group effect. Permuting images as if independent rejects far too often there; permuting
patients keeps the level.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from benchmark.fairness.binary import binary_audit
from benchmark.fairness.inputs import AuditOptions, RunInput
from benchmark.fairness.result import AuditResult
from tests.support.clustered import clustered_null


def _audit(y: Any, s: Any, g: Any, clusters: Any = None, **kw: Any) -> AuditResult:
    options = AuditOptions(calibration_draws=0, **kw)
    return binary_audit(y, [RunInput("r", s)], groups=g, clusters=clusters, options=options)


def test_contrast_hand_case() -> None:
    # I-II pooled: positives .9, .8 above negatives .1, .2: AUC 1. V-VI pooled: positives .3,
    # .7 against negatives .6, .4: 2 of 4 pairs won, AUC .5. Sensitivity at .5: 1 and 1/2.
    y = [1, 0] * 4
    s = [0.9, 0.1, 0.8, 0.2, 0.3, 0.6, 0.7, 0.4]
    g = ["I", "I", "II", "II", "V", "V", "VI", "VI"]
    got = _audit(y, s, g, min_positives=1, min_negatives=1)
    primary, secondary = got.contrasts
    assert (primary.role, primary.metric, primary.high, primary.low) == (
        "primary", "auc", ("V", "VI"), ("I", "II"),
    )  # fmt: skip
    assert (primary.high_value.value, primary.low_value.value) == (0.5, 1.0)
    assert primary.difference.value == pytest.approx(-0.5)
    assert secondary.difference.value == pytest.approx(-0.5)
    assert (primary.high_counts.images, primary.high_counts.patients) == (4, 4)
    assert got.primary is primary


def test_a_contrast_side_without_images_or_patients_is_undefined_with_the_reason() -> None:
    y, s = [1, 0, 1, 0], [0.9, 0.1, 0.8, 0.2]
    got = _audit(y, s, ["I", "I", "II", "II"], min_positives=1, min_negatives=1)
    assert got.primary.difference.reason == "no images in V–VI"
    patients = [f"p{i}" for i in range(8)]
    few = _audit([1, 0] * 4, [0.9, 0.1] * 4, ["I", "I", "II", "II", "V", "V", "VI", "VI"],
                 patients, n_permutations=50)  # fmt: skip
    assert few.primary.difference.reason == (
        "V–VI has 2 patients with a positive image (the rule asks 5)"
    )
    assert few.primary.test is None


def _rejections(draws: int, clusters: bool) -> tuple[float, float]:
    contrast, gap = 0, 0
    for seed in range(draws):
        y, s, g, patients = clustered_null(seed)
        got = _audit(y, s, g, patients if clusters else None, n_permutations=199, seed=seed)
        assert got.primary.test is not None
        assert got.gap("sensitivity").test is not None
        contrast += got.primary.test.p_value < 0.05
        gap += got.gap("sensitivity").test.p_value < 0.05
    return contrast / draws, gap / draws


def test_permuting_patients_keeps_the_level_on_clustered_data() -> None:
    contrast, gap = _rejections(200, clusters=True)
    assert contrast <= 0.07
    assert gap <= 0.07


def test_permuting_images_would_not() -> None:
    contrast, gap = _rejections(40, clusters=False)
    assert max(contrast, gap) > 0.2  # what the suite did before: images as independent


def test_power_sensitivity_09_against_06_with_200_positive_patients_per_group() -> None:
    rng = np.random.default_rng(0)
    # Two types, 200 positive and 200 negative patients each, one image per patient.
    y = np.tile(np.repeat([1, 0], 200), 2)
    g = np.repeat(["I", "V"], 400)
    hit = np.concatenate([rng.random(200) < 0.9, rng.random(200) < 0.2,
                          rng.random(200) < 0.6, rng.random(200) < 0.2])  # fmt: skip
    s = np.where(hit, 0.9, 0.1)
    patients = np.arange(800).astype(str)
    got = _audit(y, s, g, patients, n_permutations=300, seed=1,
                 contrast=_spec(("V",), ("I",)))  # fmt: skip
    sens = got.gap("sensitivity")
    assert sens.value.value == pytest.approx(0.3, abs=0.08)
    assert sens.test is not None
    assert sens.test.p_value < 0.01
    assert got.contrasts[1].test is not None
    assert got.contrasts[1].test.p_value < 0.01
    assert got.gap("specificity").test.p_value > 0.01  # type: ignore[union-attr]


def _spec(high: tuple[str, ...], low: tuple[str, ...]) -> Any:
    from benchmark.core.fitzpatrick import ContrastSpec

    return ContrastSpec(high, low)


def test_several_runs_average_and_seed_disagreement_widens_the_interval() -> None:
    y, s, g, patients = clustered_null(5, per_patient=4)
    runs = [RunInput(f"seed{k}.csv", s) for k in range(3)]
    same = binary_audit(y, runs, groups=g, clusters=patients,
                        options=AuditOptions(n_bootstrap=600, calibration_draws=0))  # fmt: skip
    # Planted seed variance: one run's scores carry no signal on V-VI, another's none on I-II.
    flat = np.where(np.isin(g, ["V", "VI"]), 0.5, s)
    other = np.where(np.isin(g, ["I", "II"]), 0.5, s)
    varied = [RunInput("a.csv", s), RunInput("b.csv", flat), RunInput("c.csv", other)]
    spread = binary_audit(y, varied, groups=g, clusters=patients,
                          options=AuditOptions(n_bootstrap=600, calibration_draws=0))  # fmt: skip
    one = _audit(y, s, g, patients, n_bootstrap=600)
    width = {
        name: r.primary.difference.interval.high - r.primary.difference.interval.low  # type: ignore[union-attr]
        for name, r in (("same", same), ("spread", spread), ("one", one))
    }
    assert width["same"] == pytest.approx(width["one"])  # identical seeds add nothing
    assert width["spread"] > 1.5 * width["same"]
    per_run = [_audit(y, r.y_score, g, patients).primary.difference.value for r in varied]
    assert spread.primary.difference.value == pytest.approx(np.mean(per_run))
    assert spread.primary.difference.per_run == pytest.approx(tuple(per_run))
    assert spread.group("V").exact == {}  # exact intervals are per file
