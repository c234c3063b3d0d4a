from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmark.core.config.downstream import PreprocessConfig
from benchmark.core.manifest import read_manifest
from benchmark.core.splits import SplitError
from benchmark.preprocess.cache import CacheError, load_split
from benchmark.preprocess.run import build_cache
from tests.conftest import make_split_data
from tests.support.config import paper

CFG = paper(PreprocessConfig, size=32, workers=1)


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    root = tmp_path_factory.mktemp("cache")
    manifest = read_manifest(make_split_data(root, n=30, size=48))
    build_cache(manifest, root / "data", root / "cache", CFG)
    return root / "cache", manifest


def test_every_split_is_cached_in_manifest_order(cache: tuple[Path, pd.DataFrame]) -> None:
    folder, manifest = cache
    total = 0
    for split in ("train", "val", "test"):
        part = load_split(folder, split, size=32)
        expected = sorted(manifest.loc[manifest.split == split, "image_id"])
        assert part.index["image_id"].tolist() == expected
        assert part.images.shape == (len(expected), 32, 32, 3)
        assert part.masks.shape == (len(expected), 32, 32)
        assert set(np.unique(part.masks).tolist()) <= {0, 255}
        total += len(expected)
    assert total == len(manifest)
    info = json.loads((folder / "cache.json").read_text())
    assert info["images_cached"] == 30 + 4
    assert info["excluded"] == {}


def test_mask_sources(cache: tuple[Path, pd.DataFrame]) -> None:
    folder, _ = cache
    train = load_split(folder, "train")
    by_source = {s: set(g) for s, g in train.index.groupby("source")["mask_source"]}
    assert by_source == {"real": {"ground_truth"}, "synthetic": {"maxflow"}}
    synthetic_rows = train.with_masks(("maxflow",))
    assert len(synthetic_rows) == 4
    assert all(train.masks[r].any() for r in synthetic_rows)  # the pseudo-masks found lesions
    assert set(load_split(folder, "test").index["source"]) == {"real"}


def test_cached_mask_matches_the_ground_truth(cache: tuple[Path, pd.DataFrame]) -> None:
    from PIL import Image

    folder, _manifest = cache
    test = load_split(folder, "test")
    row = test.index.iloc[0]
    truth = np.asarray(Image.open(folder.parent / "data" / row["mask_path"]).resize((32, 32), 0))
    assert (test.masks[0] == truth).mean() > 0.97


def test_size_mismatch_and_missing_cache_are_clear(
    cache: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    folder, _ = cache
    with pytest.raises(CacheError, match="cached at 32 px, 224 px needed"):
        load_split(folder, "train", size=224)
    with pytest.raises(CacheError, match="run the preprocess stage first"):
        load_split(tmp_path, "train")


def test_persistent_artefacts_are_excluded_with_reason(tmp_path: Path) -> None:
    manifest = read_manifest(make_split_data(tmp_path, n=12, size=48, synthetic=0))
    strict = paper(PreprocessConfig, size=32, workers=1, max_artefact_fraction=1e-6)
    summary = build_cache(manifest, tmp_path / "data", tmp_path / "cache", strict)
    gone = pd.read_csv(tmp_path / "cache" / "exclusions.csv")
    assert summary["excluded"].get("persistent_artefact", 0) == len(gone) > 0
    assert gone["detail"].str.contains("still hair/ruler-like").all()
    want = manifest.set_index("image_id").loc[gone["image_id"], "fst"].astype(str)
    assert gone["fst"].astype(str).tolist() == want.tolist()
    assert sum(summary["excluded_by_fst"].values()) == len(gone)
    kept = sum(len(load_split(tmp_path / "cache", s).index) for s in ("train", "val", "test"))
    assert kept == 12 - len(gone)


def test_synthetic_in_test_is_refused(tmp_path: Path) -> None:
    manifest = read_manifest(make_split_data(tmp_path, n=12, size=48))
    manifest.loc[manifest.source == "synthetic", "split"] = "test"
    with pytest.raises(SplitError, match="synthetic image"):
        build_cache(manifest, tmp_path / "data", tmp_path / "cache", CFG)
    assert not (tmp_path / "cache").exists()


def test_unreadable_image_is_excluded_not_fatal(tmp_path: Path) -> None:
    manifest = read_manifest(make_split_data(tmp_path, n=12, size=48, synthetic=0))
    (tmp_path / "data" / manifest.image_path.iloc[0]).write_bytes(b"broken")
    build_cache(manifest, tmp_path / "data", tmp_path / "cache", CFG)
    gone = pd.read_csv(tmp_path / "cache" / "exclusions.csv")
    assert gone["image_id"].tolist() == [manifest.image_id.iloc[0]]


@pytest.mark.parametrize("seen", ["raw", "preprocessed"])
def test_pseudo_masks_segment_the_named_input(
    seen: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``PSEUDO_MASK_INPUT`` (default ``raw``), not ``segment.maxflow_input``, picks it."""
    from benchmark.core.imaging import open_image, to_rgb8
    from benchmark.core.maxflow import MaxflowParams, segment
    from benchmark.preprocess import run
    from benchmark.preprocess.steps import resize

    assert run.PSEUDO_MASK_INPUT == "raw"
    monkeypatch.setattr(run, "PSEUDO_MASK_INPUT", seen)
    manifest = read_manifest(make_split_data(tmp_path, n=12, size=48, synthetic=2))
    build_cache(manifest, tmp_path / "data", tmp_path / "cache", CFG)
    train = load_split(tmp_path / "cache", "train")
    rows = train.with_masks(("maxflow",))
    assert len(rows) == 2
    for row in rows:
        rgb, _ = to_rgb8(open_image(tmp_path / "data" / train.index["image_path"].iloc[row]))
        image = resize(rgb, 32) if seen == "raw" else train.images[row]
        assert np.array_equal(train.masks[row], segment(image, MaxflowParams()))
