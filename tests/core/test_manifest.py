from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from benchmark.core.manifest import ManifestError, conform, read_manifest, validate, write_manifest


def _row(**over: object) -> dict[str, object]:
    row: dict[str, object] = {
        "image_id": "ISIC_0000001",
        "image_path": "images/ISIC_0000001.jpg",
        "mask_path": None,
        "patient_id": "P1",
        "patient_id_source": "patient_id",
        "dataset": "ham10000",
        "diagnosis": "nv",
        "diagnosis_code": "nv",
        "superclass": "melanocytic",
        "source": "real",
        "width": 40,
        "height": 30,
    }
    row.update(over)
    return row


def _frame(*rows: dict[str, object]) -> pd.DataFrame:
    return conform(pd.DataFrame(list(rows) or [_row()]))


def test_valid_manifest_passes() -> None:
    validate(_frame(_row(), _row(image_id="ISIC_0000002", image_path="images/b.jpg")), "m.parquet")


@pytest.mark.parametrize(
    ("override", "column", "fragment"),
    [
        ({"superclass": "benign"}, "superclass", "not one of"),
        ({"source": "fake"}, "source", "not one of"),
        ({"fst_label": "VII"}, "fst_label", "not one of"),
        ({"image_path": "/abs/x.jpg"}, "image_path", "absolute"),
        ({"image_path": "../outside.jpg"}, "image_path", "'..'"),
        ({"mask_path": "masks/../../x.png"}, "mask_path", "'..'"),
        ({"image_path": "images\\x.jpg"}, "image_path", "backslashes"),
        ({"patient_id": None}, "patient_id", "missing value"),
        ({"image_id": " "}, "image_id", "empty string"),
    ],
)
def test_bad_values_name_file_row_and_column(
    override: dict[str, object], column: str, fragment: str
) -> None:
    frame = _frame(_row(), _row(**{"image_id": "ISIC_0000002", **override}))
    with pytest.raises(ManifestError, match=fragment) as info:
        validate(frame, "data/manifest.parquet")
    assert info.value.file == "data/manifest.parquet"
    assert info.value.row == 1
    assert info.value.column == column
    assert f"row 1, column '{column}'" in str(info.value)


def test_wrong_type_is_rejected() -> None:
    frame = pd.DataFrame([_row(width="wide")])
    with pytest.raises(ManifestError, match="expected int") as info:
        validate(frame, "m")
    assert info.value.column == "width"


def test_duplicate_image_id() -> None:
    with pytest.raises(ManifestError, match="duplicate image_id 'ISIC_0000001'") as info:
        validate(_frame(_row(), _row(image_path="images/other.jpg")), "m")
    assert info.value.row == 1


def test_missing_required_column() -> None:
    frame = _frame().drop(columns=["superclass"])
    with pytest.raises(ManifestError, match=r"missing required column\(s\) \['superclass'\]"):
        validate(frame, "m")


def test_parquet_round_trip_keeps_types(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "ISIC_0000001.jpg").write_bytes(b"x")
    frame = _frame(_row(fst_label="V", mask_binarized=True, true_ita=-12.5, extra="kept"))
    write_manifest(frame, tmp_path / "manifest.parquet", data_root=tmp_path)
    back = read_manifest(tmp_path / "manifest.parquet", check_files=True)
    assert back.loc[0, "fst_label"] == "V"
    assert back.loc[0, "width"] == 40
    assert bool(back.loc[0, "mask_binarized"]) is True
    assert back.loc[0, "true_ita"] == -12.5
    assert back.loc[0, "extra"] == "kept"
    assert list(back.columns[:3]) == ["image_id", "image_path", "mask_path"]


def test_write_refuses_missing_file_and_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="does not exist"):
        write_manifest(_frame(), tmp_path / "manifest.parquet", data_root=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_symlink_escaping_root_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside.jpg"
    outside.write_bytes(b"x")
    root = tmp_path / "root"
    (root / "images").mkdir(parents=True)
    (root / "images" / "ISIC_0000001.jpg").symlink_to(outside)
    with pytest.raises(ManifestError, match="resolves outside"):
        validate(_frame(), "m", data_root=root, check_files=True)


def test_csv_manifest_type_errors_name_row(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    pd.DataFrame([_row(), _row(image_id="ISIC_2", width="12x")]).to_csv(path, index=False)
    with pytest.raises(ManifestError, match="expected int, got '12x'") as info:
        read_manifest(path)
    assert (info.value.row, info.value.column) == (1, "width")


def test_missing_and_directory_manifest(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="not found"):
        read_manifest(tmp_path / "nope.parquet")
    (tmp_path / "dir.parquet").mkdir()
    with pytest.raises(ManifestError, match="directory"):
        read_manifest(tmp_path / "dir.parquet")


@pytest.mark.parametrize(
    ("column", "values", "fragment", "row"),
    [
        ("width", [40, 64.5], "expected int, got 64.5", 1),
        ("mask_binarized", ["no", "yes"], "expected bool, got 'no'", 0),
        ("image_id", [12345, 12346], "expected str, got 12345", 0),
    ],
)
def test_parquet_with_bad_types_names_row_and_column(
    tmp_path: Path, column: str, values: list[object], fragment: str, row: int
) -> None:
    raw = pd.DataFrame([_row(), _row(image_id="ISIC_2", image_path="images/2.jpg")])
    raw[column] = values
    path = tmp_path / "m.parquet"
    raw.to_parquet(path)
    with pytest.raises(ManifestError, match=fragment) as info:
        read_manifest(path)
    assert (info.value.row, info.value.column) == (row, column)


def test_whole_floats_count_as_ints() -> None:
    frame = pd.DataFrame([_row(seed=3.0), _row(image_id="ISIC_2", seed=None)])
    validate(frame, "m")
    assert conform(frame)["seed"].tolist()[0] == 3
