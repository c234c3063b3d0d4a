"""Metadata layouts: the real CSVs in ../shared parse with the documented counts."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from benchmark.ingest.sources import (
    detect_layout,
    read_ham10000,
    read_isic2019,
    read_isic2020,
    read_isic_archive,
)
from benchmark.ingest.tables import IngestError, fst_label


def test_ham10000_counts(realdata: Path) -> None:
    cands, excluded = read_ham10000(realdata / "metadata" / "HAM10000_metadata.csv")
    assert excluded == []
    dx = Counter(str(c.labels["diagnosis"]) for c in cands)
    assert dx == {
        "nv": 6705,
        "mel": 1113,
        "bkl": 1099,
        "bcc": 514,
        "akiec": 327,
        "vasc": 142,
        "df": 115,
    }
    assert all(c.labels["lesion_id"] for c in cands)


def test_isic2020_counts(realdata: Path) -> None:
    path = realdata / "metadata" / "ISIC_2020_Training_GroundTruth.csv"
    cands, excluded = read_isic2020(path)
    assert len(cands) + len(excluded) == 33126
    patients = {c.labels["patient_id"] for c in cands} | set()
    assert len(patients) <= 2056
    unknown = [e for e in excluded if "'unknown'" in e.detail]
    assert len(unknown) == 27124  # ISIC 2020 diagnosis "unknown" is never guessed
    assert Counter(str(c.labels["diagnosis_code"]) for c in cands)["mel"] == 584


def test_isic2020_patient_count_over_all_rows(realdata: Path) -> None:
    import pandas as pd

    frame = pd.read_csv(realdata / "metadata" / "ISIC_2020_Training_GroundTruth.csv")
    assert (len(frame), frame.patient_id.nunique()) == (33126, 2056)


def test_isic2019_crlf_onehot_and_lesions(realdata: Path) -> None:
    meta = realdata / "metadata"
    cands, excluded = read_isic2019(
        meta / "ISIC_2019_Training_GroundTruth.csv", meta / "ISIC_2019_Training_Metadata.csv"
    )
    assert len(cands) + len(excluded) == 25331
    codes = Counter(str(c.labels["diagnosis_code"]) for c in cands)
    assert codes == {
        "nv": 12875,
        "mel": 4522,
        "bcc": 3323,
        "bkl": 2624,
        "ak": 867,
        "scc": 628,
        "vasc": 253,
        "df": 239,
    }
    assert not any(c.image_id.endswith("_downsampled") for c in cands)
    assert sum(1 for c in cands if c.labels["lesion_id"]) > 10000


def test_isic2019_float_cells_and_bad_rows(tmp_path: Path) -> None:
    csv = tmp_path / "gt.csv"
    csv.write_bytes(
        b"image,MEL,NV,BCC,AK,BKL,DF,VASC,SCC,UNK\r\n"
        b"ISIC_0000001_downsampled,1.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0\r\n"
        b"ISIC_0000002,0.0,1.0,1.0,0.0,0.0,0.0,0.0,0.0,0.0\r\n"
        b"ISIC_0000003,0,0,0,0,0,0,0,0,1\r\n"
        b"ISIC_0000004,0,0,0,0,0,0,x,0,0\r\n"
    )
    cands, excluded = read_isic2019(csv)
    assert [(c.image_id, c.labels["diagnosis_code"]) for c in cands] == [("ISIC_0000001", "mel")]
    assert cands[0].labels["source_stems"] == ("ISIC_0000001", "ISIC_0000001_downsampled")
    assert [(e.image_id, e.line) for e in excluded] == [
        ("ISIC_0000002", 3),
        ("ISIC_0000003", 4),
        ("ISIC_0000004", 5),
    ]
    assert "UNK" in excluded[1].detail


def test_isic_archive_hierarchical_and_fitzpatrick(tmp_path: Path) -> None:
    csv = tmp_path / "metadata.csv"
    csv.write_text(
        "isic_id,diagnosis_1,diagnosis_2,diagnosis_3,fitzpatrick_skin_type,patient_id,"
        "lesion_id,image_manipulation\n"
        "ISIC_1,Malignant,Malignant melanocytic proliferations (Melanoma),Melanoma in situ,"
        "VI,IP_1,IL_1,instrument only\n"
        "ISIC_2,Benign,Benign epidermal proliferations,Seborrheic keratosis,II,,,\n"
        "ISIC_3,Indeterminate,Indeterminate melanocytic proliferations,,,,,\n"
    )
    cands, excluded = read_isic_archive(csv)
    assert [c.labels["diagnosis_code"] for c in cands] == ["mel", "bkl"]
    assert cands[0].labels["fst_label"] == "VI"
    assert cands[0].labels["patient_id"] == "IP_1"
    assert cands[0].labels["image_manipulation"] == "instrument only"
    assert cands[1].labels["patient_id"] is None
    assert excluded[0].image_id == "ISIC_3"
    assert excluded[0].reason == "unknown_diagnosis"


def test_isic_archive_flat_diagnosis(tmp_path: Path) -> None:
    csv = tmp_path / "metadata.csv"
    csv.write_text("isic_id,diagnosis,melanocytic\nISIC_1,nevus,True\nISIC_2,unknown,\n")
    cands, excluded = read_isic_archive(csv)
    assert [c.image_id for c in cands] == ["ISIC_1"]
    assert excluded[0].detail.startswith("diagnosis 'unknown'")


@pytest.mark.parametrize(
    ("header", "missing"),
    [("lesion_id,image_id,age\n", "dx"), ("image_id,dx\n", "lesion_id")],
)
def test_missing_column_names_column_and_file(tmp_path: Path, header: str, missing: str) -> None:
    csv = tmp_path / "HAM10000_metadata.csv"
    csv.write_text(header)
    with pytest.raises(IngestError, match=rf"{csv}.*lacks required column '{missing}'"):
        read_ham10000(csv)


def test_archive_without_diagnosis_column(tmp_path: Path) -> None:
    csv = tmp_path / "metadata.csv"
    csv.write_text("isic_id,melanocytic\nISIC_1,True\n")
    with pytest.raises(IngestError, match="lacks required column 'diagnosis'"):
        read_isic_archive(csv)


def test_directory_instead_of_metadata_file(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="found a directory"):
        read_isic2020(tmp_path)


def test_detect_layout(tmp_path: Path) -> None:
    for header, layout in [
        ("lesion_id,image_id,dx", "ham10000"),
        ("image,MEL,NV,BCC", "isic2019"),
        ("image_name,patient_id,diagnosis", "isic2020"),
        ("isic_id,diagnosis_1", "isic-archive"),
    ]:
        (tmp_path / "m.csv").write_text(header + "\n")
        assert detect_layout(tmp_path / "m.csv") == layout
    (tmp_path / "m.csv").write_text("a,b\n")
    with pytest.raises(IngestError, match="matches no known"):
        detect_layout(tmp_path / "m.csv")


@pytest.mark.parametrize(
    ("raw", "label"),
    [("VI", "VI"), ("iv", "IV"), ("3", "III"), ("5.0", "V"), ("-1", None), (None, None)],
)
def test_fitzpatrick_labels(raw: str | None, label: str | None) -> None:
    assert fst_label(raw) == label


def test_isic2017_three_classes(realdata: Path) -> None:
    from benchmark.ingest.sources import read_isic2017

    path = realdata / "metadata" / "ISIC-2017_Training_Part3_GroundTruth.csv"
    cands, excluded = read_isic2017(path)
    assert excluded == []
    assert Counter(str(c.labels["diagnosis_code"]) for c in cands) == {
        "nv": 1372,
        "mel": 374,
        "bkl": 254,
    }
    assert detect_layout(path) == "isic2017"
