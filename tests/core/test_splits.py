from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmark.core.composition import composition, composition_markdown
from benchmark.core.config.data import SplitConfig
from benchmark.core.splits import (
    SplitError,
    check_splits,
    make_splits,
    merge_synthetic,
    split_groups,
    tone_group,
)
from tests.support.config import paper


def test_isic2020_patient_split(realdata: Path) -> None:
    raw = pd.read_csv(realdata / "metadata" / "ISIC_2020_Training_GroundTruth.csv")
    assert (len(raw), raw.patient_id.nunique()) == (33126, 2056)
    manifest = pd.DataFrame(
        {
            "image_id": raw.image_name,
            "patient_id": raw.patient_id,
            "source": "real",
            "diagnosis_code": np.where(raw.target == 1, "mel", raw.diagnosis),
            "superclass": None,
            "fst": None,
        }
    )
    frame = make_splits(manifest, paper(SplitConfig))  # the stage's defaults
    assert frame.groupby("patient_id")["split"].nunique().max() == 1
    share = frame["split"].value_counts(normalize=True)
    for name, target in (("train", 0.70), ("val", 0.15), ("test", 0.15)):
        assert abs(share[name] - target) <= 0.015
    melanoma = frame["diagnosis_code"] == "mel"
    assert round(melanoma.mean(), 4) == 0.0176
    for _, part in frame.groupby("split"):
        assert abs((part["diagnosis_code"] == "mel").mean() - melanoma.mean()) <= 0.005
    again = make_splits(manifest.sample(frac=1.0, random_state=3), paper(SplitConfig))
    pd.testing.assert_series_equal(frame["split"], again["split"].sort_index())
    other = make_splits(manifest, paper(SplitConfig, seed=7))
    assert not other["split"].equals(frame["split"])


def test_missing_strata_values_form_their_own_stratum() -> None:
    frame = _manifest()
    frame.loc[frame.index[:5], ["diagnosis_code", "fst"]] = None
    split = make_splits(frame, paper(SplitConfig))
    assert split["split"].notna().all()


def _manifest(n_patients: int = 60, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for p in range(n_patients):
        fst = rng.choice(["I", "II", "III", "IV", "V", "VI"])
        for _ in range(rng.integers(1, 4)):
            rows.append(
                {
                    "image_id": f"I{len(rows)}",
                    "patient_id": f"P{p}",
                    "fst": fst,
                    "diagnosis_code": rng.choice(["mel", "nv", "bkl", "bcc"]),
                    "source": "real",
                    "patient_id_source": "patient_id",
                }
            )
    frame = pd.DataFrame(rows)
    frame["superclass"] = np.where(
        frame.diagnosis_code.isin(["mel", "nv"]), "melanocytic", "non_melanocytic"
    )
    return frame


def _synthetic(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "image_id": [f"S{i}" for i in range(n)],
            "patient_id": [f"SP{i}" for i in range(n)],
            "fst": "VI",
            "diagnosis_code": "mel",
            "superclass": "melanocytic",
            "source": "synthetic",
            "patient_id_source": "patient_id",
        }
    )


def test_synthetic_rows_go_to_train_only() -> None:
    real = make_splits(_manifest(), paper(SplitConfig))
    frame = merge_synthetic(real, _synthetic(40), paper(SplitConfig))
    assert set(frame.loc[frame.source == "synthetic", "split"]) == {"train"}
    assert (frame.loc[frame.split == "test", "source"] == "real").all()
    assert set(frame["tone_group"]) <= {"I-II", "III-IV", "V-VI"}
    # The real rows keep their split whatever is merged.
    pd.testing.assert_frame_equal(frame.iloc[: len(real)], real)


def test_paper_mode_lets_synthetic_into_val_not_test() -> None:
    real = make_splits(_manifest(), paper(SplitConfig, paper_mode=True))
    frame = merge_synthetic(real, _synthetic(40), paper(SplitConfig, paper_mode=True))
    synthetic = frame.loc[frame.source == "synthetic", "split"].value_counts()
    assert set(synthetic.index) == {"train", "val"}
    assert synthetic["val"] == pytest.approx(40 * 0.15 / 0.85, abs=1.5)


def test_merging_nothing_leaves_the_split() -> None:
    real = make_splits(_manifest(), paper(SplitConfig))
    pd.testing.assert_frame_equal(merge_synthetic(real, _synthetic(0), paper(SplitConfig)), real)


def test_the_split_refuses_synthetic_rows() -> None:
    with pytest.raises(SplitError, match="real rows are split first"):
        make_splits(pd.concat([_manifest(), _synthetic(2)], ignore_index=True), paper(SplitConfig))


def test_patients_joined_through_a_shared_lesion_form_one_group() -> None:
    frame = pd.DataFrame(
        {
            "image_id": ["a", "b", "c", "d", "e"],
            # b has no patient id: its lesion id stands in (as ingest writes it)
            "patient_id": ["P1", "L1", "P2", "P3", None],
            "lesion_id": ["L1", "L1", None, "L3", "L3"],
        }
    )
    groups = split_groups(frame)
    assert groups.tolist() == ["l:L1", "l:L1", "p:P2", "l:L3", "l:L3"]
    assert split_groups(frame.iloc[::-1]).sort_index().tolist() == groups.tolist()


def test_images_sharing_a_lesion_land_in_the_same_split() -> None:
    frame = _manifest()
    # Image 0 has a patient and a lesion id; image "X" only the same lesion id.
    frame["lesion_id"] = None
    frame.loc[0, "lesion_id"] = "L-shared"
    lone = frame.iloc[[0]].assign(
        image_id="X", patient_id="L-shared", patient_id_source="lesion_id"
    )
    for seed in range(10):
        split = make_splits(
            pd.concat([frame, lone], ignore_index=True), paper(SplitConfig, seed=seed)
        )
        assert split.loc[split.image_id == "X", "split"].item() == split.loc[0, "split"]


def test_a_lesion_in_two_splits_is_refused() -> None:
    frame = _manifest()
    frame["split"] = "train"
    frame["lesion_id"] = None
    frame.loc[frame.index[:2], "lesion_id"] = "L9"
    frame.loc[frame.index[:2], "patient_id"] = ["A", "B"]
    frame.loc[frame.index[0], "split"] = "test"
    with pytest.raises(SplitError, match=r"1 lesion\(s\) in more than one split: \['L9'\]"):
        check_splits(frame)


def test_leakage_is_refused() -> None:
    frame = _manifest()
    frame["split"] = "train"
    frame.loc[frame.index[:2], "patient_id"] = "SAME"
    frame.loc[frame.index[0], "split"] = "test"
    with pytest.raises(SplitError, match=r"1 patient\(s\) in more than one split: \['SAME'\]"):
        check_splits(frame)
    frame = _manifest()
    frame["split"] = "train"
    frame.loc[frame.index[0], ["split", "source"]] = ["test", "synthetic"]
    frame.loc[frame.index[0], "patient_id"] = "ALONE"
    with pytest.raises(SplitError, match="synthetic image"):
        check_splits(frame)


def test_tone_groups_and_composition() -> None:
    assert tone_group(pd.Series(["I", "IV", "VI", "uncertain", None])).tolist() == [
        "I-II",
        "III-IV",
        "V-VI",
        "uncertain",
        "unknown",
    ]
    frame = make_splits(_manifest(), paper(SplitConfig))
    table = composition(frame)
    assert table["images"].sum() == len(frame)
    assert list(table.columns) == ["split", "superclass", "fst", "source", "images"]


def test_images_without_patient_ids_are_noted() -> None:
    frame = make_splits(_manifest(), paper(SplitConfig))
    frame.loc[frame.index[:3], "patient_id_source"] = "image_id"
    assert "3 image(s) have no patient id; the image id stands in" in composition_markdown(frame)


def test_a_balanced_test_split_holds_each_tone_cell_and_keeps_patients_whole() -> None:
    frame = _manifest(n_patients=300, seed=3)
    cfg = paper(SplitConfig, test_per_tone=20, test_melanocytic_share=0.4)
    split = make_splits(frame, cfg)
    test = split[split["split"] == "test"]
    cells = test.groupby(["tone_group", "superclass"]).size()
    for tone in ("I-II", "III-IV", "V-VI"):
        # 8 melanocytic and 12 others wanted; whole patients (up to 3 images) may overshoot.
        assert 8 <= cells[(tone, "melanocytic")] <= 8 + 2
        assert 12 <= cells[(tone, "non_melanocytic")] <= 12 + 2
    check_splits(split)
    # The rest keeps the data's own tone mix in train and val (70:15).
    rest = split[split["split"] != "test"]
    assert abs((rest["split"] == "train").mean() - 0.7 / 0.85) < 0.05
    # The same seed gives the same split; another seed another test split.
    assert make_splits(frame, cfg)["split"].equals(split["split"])
    other = make_splits(
        frame, paper(SplitConfig, test_per_tone=20, test_melanocytic_share=0.4, seed=1)
    )
    assert not other["split"].equals(split["split"])


def test_a_balanced_test_split_that_cannot_be_filled_says_what_it_holds() -> None:
    frame = _manifest(n_patients=40, seed=3)
    with pytest.raises(SplitError, match=r"V-VI melanocytic: \d+ of 50 images"):
        make_splits(frame, paper(SplitConfig, test_per_tone=100, test_melanocytic_share=0.5))
    with pytest.raises(SplitError, match="unknown tone group"):
        make_splits(frame, paper(SplitConfig, test_per_tone=5, test_tones=("dark",)))
