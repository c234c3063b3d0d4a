"""The study: each variant over its seeds, the mitigations with Holm, sentences from intervals."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from benchmark.core.records import to_json
from benchmark.fairness.binary import binary_audit
from benchmark.fairness.inputs import AuditOptions, RunInput
from benchmark.fairness.paired import paired_comparison
from benchmark.fairness.tone_gaps import (
    ToneStudy,
    comparison_metrics,
    holm_across,
    tone_study,
    variant_metrics,
    write_study,
)

OPTIONS = AuditOptions(n_bootstrap=200, n_permutations=50, calibration_draws=0)


def _data() -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(0)
    patients = np.repeat(np.arange(150), 2)
    groups = np.repeat(np.tile(["I", "II", "III", "IV", "V", "VI"], 25), 2)
    y = rng.integers(0, 2, 300)
    return y, groups, patients.astype(str), rng


def _runs(y: np.ndarray, groups: np.ndarray, rng: np.random.Generator, dark: float) -> list[
        RunInput]:  # fmt: skip
    """Three seeds whose signal on V-VI is ``dark`` times that on the rest."""
    gain = np.where(np.isin(groups, ["V", "VI"]), dark, 1.0)
    return [RunInput(f"s{k}", np.clip(0.5 + 0.4 * gain * (y - 0.5) + 0.3 * (rng.random(300)
            - 0.5), 0, 1)) for k in range(3)]  # fmt: skip


def _study(tmp_path: Path | None = None) -> ToneStudy:
    y, groups, patients, rng = _data()
    runs = {"baseline": _runs(y, groups, rng, 0.2), "augmented": _runs(y, groups, rng, 1.0)}
    audits = {
        v: ([42, 43, 44], binary_audit(y, r, groups=groups, clusters=patients, options=OPTIONS))
        for v, r in runs.items()
    }
    paired = paired_comparison(y, runs["baseline"], runs["augmented"], groups=groups,
                               clusters=patients, names=("baseline", "augmented"),
                               options=OPTIONS)  # fmt: skip
    return tone_study(audits, [paired, paired], "fst")


def test_the_planted_dark_skin_deficit_is_found_and_the_mitigation_closes_it(
    tmp_path: Path,
) -> None:
    study = _study()
    baseline, augmented = study.variants
    assert baseline.seeds == (42, 43, 44)
    diff = baseline.contrasts[0].difference
    assert diff.value < -0.2
    assert diff.interval.high < 0
    assert abs(augmented.contrasts[0].difference.value) < 0.1
    row = study.comparisons[0].row("contrast_auc")
    assert row.delta.value > 0.2
    assert row.test is not None
    assert row.test.p_holm == min(1.0, 2 * row.test.p_value)
    flat = variant_metrics(study)
    assert flat["baseline"]["auc_contrast"] == diff.value
    assert flat["baseline"]["auc_contrast_high"] < 0
    assert "contrast_auc_p_holm" in comparison_metrics(study)["augmented_vs_baseline"]


def test_written_files_and_sentences(tmp_path: Path) -> None:
    study = _study()
    json_path, md_path, png_path = write_study(study, tmp_path)
    assert to_json(ToneStudy.read(json_path)) == to_json(study)
    text = md_path.read_text()
    assert "Baseline: AUC V–VI minus I–II: " in text
    assert "excludes 0: AUC is lower on V–VI." in text
    assert "Augmented − Baseline" in text
    assert png_path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_holm_across_leaves_a_single_comparison_unchanged() -> None:
    study = _study()
    one = holm_across(study.comparisons[:1])[0].row("contrast_auc").test
    assert one is not None
    assert one.p_holm == one.p_value
