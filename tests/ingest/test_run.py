"""Whole-source ingest: the acceptance cases on ../shared/realdata and synthetic layouts."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from benchmark.core.config.data import IngestConfig, PhantomConfig
from benchmark.core.manifest import read_manifest
from benchmark.ingest.run import IngestInputs, ingest, ingest_from_config
from benchmark.ingest.tables import IngestError
from benchmark.phantoms.generate import generate_phantoms
from tests.conftest import write_mask, write_rgb
from tests.support.config import default, paper


def _run(inputs: IngestInputs, out: Path, **kw: object):
    return ingest(inputs, out, link="copy", workers=1, progress=False, **kw)  # type: ignore[arg-type]


def test_ham10000_keeps_present_images_and_lists_missing(realdata: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = _run(
        IngestInputs(
            "ham10000",
            realdata / "ham10000_seg" / "images",
            realdata / "metadata" / "HAM10000_metadata.csv",
        ),
        out,
    )
    manifest = read_manifest(out / "manifest.parquet", check_files=True)
    assert len(manifest) == 5
    assert manifest.superclass.value_counts().to_dict() == {"melanocytic": 3, "non_melanocytic": 2}
    assert (manifest.patient_id_source == "lesion_id").all()
    exclusions = pd.read_csv(out / "exclusions.csv")
    assert len(exclusions) == 10010
    assert set(exclusions.reason) == {"missing_file"}
    summary = json.loads((out / "summary.json").read_text())
    assert summary["excluded_by_reason"] == {"missing_file": 10010}
    assert result.summary["ingested"] == 5


@pytest.mark.parametrize(("folder", "count"), [("isic2016_seg", 21), ("ham10000_seg", 5)])
def test_real_segmentation_folders_match_every_mask(
    realdata: Path, tmp_path: Path, folder: str, count: int
) -> None:
    out = tmp_path / "out"
    result = _run(IngestInputs("segmentation-folder", realdata / folder), out)
    manifest = read_manifest(out / "manifest.parquet", check_files=True)
    assert len(manifest) == count
    assert manifest.mask_path.notna().all()
    assert result.summary["excluded"] == 0
    assert result.summary["orphan_masks"] == []
    assert not manifest.mask_binarized.any()


def test_segmentation_folder_with_labels(realdata: Path, tmp_path: Path) -> None:
    result = _run(
        IngestInputs(
            "segmentation-folder",
            realdata / "isic2016_seg",
            realdata / "metadata" / "ISIC_2019_Training_GroundTruth.csv",
        ),
        tmp_path / "out",
    )
    assert result.summary["label_layout"] == "isic2019"
    assert result.summary["unlabelled"] == ["ISIC_0010436", "ISIC_0011332"]
    codes = result.manifest.set_index("image_id").diagnosis_code
    assert codes["ISIC_0000031"] == "mel"
    assert codes["ISIC_0000039"] == "nv"


def test_isic2016_suffix_sibling_folder_and_ph2_layouts(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    write_rgb(raw / "ISIC_0000001.jpg")
    write_mask(raw / "ISIC_0000001_Segmentation.png")
    write_rgb(raw / "ISIC_0000002.png")
    write_mask(raw / "ISIC_0000002_segmentation.png")
    write_rgb(raw / "ham" / "images" / "ISIC_0000003.jpg")
    write_mask(raw / "ham" / "masks" / "ISIC_0000003.png")
    ph2 = raw / "PH2" / "IMD002"
    ph2_image = write_rgb(ph2 / "IMD002_Dermoscopic_Image" / "IMD002.bmp")
    write_mask(ph2 / "IMD002_lesion" / "IMD002_lesion.bmp")
    write_rgb(ph2 / "IMD002_roi" / "IMD002_R1_Label4.bmp")
    write_rgb(raw / "no_mask.jpg")
    write_mask(raw / "orphan_segmentation.png")
    result = _run(IngestInputs("segmentation-folder", raw), tmp_path / "out")
    ids = set(result.manifest.image_id)
    assert ids == {"ISIC_0000001", "ISIC_0000002", "ISIC_0000003", "IMD002"}
    assert ph2_image.suffix == ".bmp"
    assert result.exclusions.set_index("image_id").reason.to_dict() == {"no_mask": "missing_mask"}
    assert result.summary["orphan_masks"] == [str(raw / "orphan_segmentation.png")]


def test_duplicate_ids_and_unsafe_ids_are_refused(tmp_path: Path) -> None:
    images = tmp_path / "images"
    write_rgb(images / "ISIC_1.jpg")
    write_rgb(images / "ISIC_2.jpg")
    csv = tmp_path / "HAM10000_metadata.csv"
    csv.write_text(
        "lesion_id,image_id,dx\nL1,ISIC_1,nv\nL2,ISIC_1,xyz\nL3,ISIC_2,bkl\n"
        "L4,../../etc/passwd,nv\nL5,ISIC_3,xyz\n"
    )
    result = _run(IngestInputs("ham10000", images, csv), tmp_path / "out")
    assert list(result.manifest.image_id) == ["ISIC_2"]
    reasons = result.exclusions.groupby("reason").image_id.apply(list).to_dict()
    assert reasons == {
        "duplicate_id": ["ISIC_1", "ISIC_1"],
        "unknown_diagnosis": ["ISIC_3"],
        "unsafe_path": ["../../etc/passwd"],
    }
    assert result.exclusions.set_index("image_id").loc["ISIC_3", "line"] == 6
    assert not (tmp_path / "etc").exists()


def test_bad_files_are_excluded_not_fatal(tmp_path: Path) -> None:
    images = tmp_path / "images"
    write_rgb(images / "ISIC_1.jpg")
    (images / "ISIC_2.jpg").write_bytes(b"")
    (images / "ISIC_3.jpg").write_bytes(b"garbage")
    csv = tmp_path / "m.csv"
    csv.write_text(
        "image_name,patient_id,diagnosis\nISIC_1,P1,nevus\nISIC_2,P1,melanoma\nISIC_3,P2,nevus\n"
    )
    result = _run(IngestInputs("isic2020", images, csv), tmp_path / "out")
    assert list(result.manifest.image_id) == ["ISIC_1"]
    assert sorted(result.exclusions.reason) == ["empty_file", "unreadable_image"]
    assert result.manifest.loc[0, "patient_id"] == "P1"


def test_missing_column_writes_nothing(tmp_path: Path) -> None:
    images = tmp_path / "images"
    write_rgb(images / "ISIC_1.jpg")
    csv = tmp_path / "m.csv"
    csv.write_text("image_name,diagnosis\nISIC_1,nevus\n")
    with pytest.raises(
        IngestError,
        match=r"m.csv: ISIC 2020 metadata lacks required column "
        r"'patient_id'",
    ):
        _run(IngestInputs("isic2020", images, csv), tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["images", "m.csv"]


def test_phantom_manifest_with_parent_path_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "ph"
    generate_phantoms(paper(PhantomConfig, n=3, size=48), folder, progress=False)
    frame = pd.read_parquet(folder / "manifest.parquet")
    frame.loc[1, "image_path"] = "../../secret.png"
    frame.to_parquet(folder / "manifest.parquet")
    with pytest.raises(IngestError, match=r"row 1, column 'image_path'.*'\.\.'"):
        _run(IngestInputs("phantoms", folder), tmp_path / "out")


def test_phantoms_from_config_keep_truth_and_parallel_matches_serial(tmp_path: Path) -> None:
    cfg = default(
        IngestConfig, phantoms=paper(PhantomConfig, n=70, size=48), workers=2, link="copy"
    )
    parallel = ingest_from_config(cfg, tmp_path, tmp_path / "a", progress=False)
    serial = ingest_from_config(
        default(IngestConfig, phantoms=cfg.phantoms, workers=1),
        tmp_path,
        tmp_path / "b",
        progress=False,
    )
    pd.testing.assert_frame_equal(parallel.manifest, serial.manifest)
    manifest = read_manifest(tmp_path / "a" / "manifest.parquet", check_files=True)
    assert manifest.true_ita.notna().all()
    assert (manifest.dataset == "phantoms").all()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_failure_midway_leaves_no_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import benchmark.ingest.run as run_module

    folder = tmp_path / "ph"
    generate_phantoms(paper(PhantomConfig, n=5, size=40), folder, progress=False)
    calls = {"n": 0}
    real_place = run_module.place

    def flaky(*args: object, **kwargs: object) -> object:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk full")
        return real_place(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(run_module, "place", flaky)
    with pytest.raises(RuntimeError, match="disk full"):
        _run(IngestInputs("phantoms", folder), tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ph"]


def test_sibling_mask_folders_and_mask_named_root(tmp_path: Path) -> None:
    root = tmp_path / "images_and_masks"
    write_rgb(root / "X.jpg")
    write_mask(root / "X_segmentation.png")
    assert list(
        _run(IngestInputs("segmentation-folder", root), tmp_path / "o1").manifest.image_id
    ) == ["X"]
    data = tmp_path / "isic"
    write_rgb(data / "images" / "A.jpg")
    write_mask(data / "GroundTruth" / "A.png")
    write_rgb(data / "images" / "A_superpixels.png")
    result = _run(IngestInputs("segmentation-folder", data / "images"), tmp_path / "o2")
    assert list(result.manifest.image_id) == ["A"]
    assert result.summary["excluded"] == 0


def test_masks_folder_for_a_metadata_source(realdata: Path, tmp_path: Path) -> None:
    result = _run(
        IngestInputs(
            "ham10000",
            realdata / "ham10000_seg" / "images",
            realdata / "metadata" / "HAM10000_metadata.csv",
            masks=realdata / "ham10000_seg" / "masks",
        ),
        tmp_path / "out",
    )
    assert result.summary["with_mask"] == 5
    assert result.summary["unlabelled"] == []


def test_isic2017_classification_images(realdata: Path, tmp_path: Path) -> None:
    result = _run(
        IngestInputs(
            "isic2017",
            realdata / "isic2017_cls",
            realdata / "metadata" / "ISIC-2017_Training_Part3_GroundTruth.csv",
        ),
        tmp_path / "out",
    )
    codes = result.manifest.set_index("image_id").diagnosis_code.to_dict()
    assert codes == {
        "ISIC_0000000": "nv",
        "ISIC_0000001": "nv",
        "ISIC_0000002": "mel",
        "ISIC_0000003": "nv",
    }
    assert result.summary["excluded_by_reason"] == {"missing_file": 1996}
