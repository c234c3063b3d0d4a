from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from scipy import ndimage

from benchmark.core.color import srgb_to_lab
from benchmark.core.config.data import PhantomConfig
from benchmark.core.fitzpatrick import FST_LOWER_BOUNDS
from benchmark.core.manifest import read_manifest
from benchmark.phantoms.generate import generate_phantoms, plan_phantoms
from benchmark.phantoms.render import lesion_contrast
from tests.support.config import default, paper


def _hashes(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    cfg = paper(PhantomConfig, n=12, seed=3, size=64)
    generate_phantoms(cfg, tmp_path / "a", progress=False)
    generate_phantoms(cfg, tmp_path / "b", progress=False)
    generate_phantoms(paper(PhantomConfig, n=12, seed=4, size=64), tmp_path / "c", progress=False)
    a, b, c = (_hashes(tmp_path / x) for x in "abc")
    assert len(a) == 12 * 2 + 1
    assert a == b
    assert a["images/PH_000001.png"] != c["images/PH_000001.png"]


def test_manifest_is_valid_with_ground_truth(tmp_path: Path) -> None:
    generate_phantoms(paper(PhantomConfig, n=10, size=64), tmp_path, progress=False)
    manifest = read_manifest(tmp_path / "manifest.parquet", check_files=True)
    assert manifest[["true_l_star", "true_b_star", "true_ita", "fst_label"]].notna().all().all()
    expected = np.degrees(np.arctan((manifest.true_l_star - 50) / manifest.true_b_star))
    np.testing.assert_allclose(manifest.true_ita, expected)
    assert set(manifest.image_manipulation) == {"phantom"}


def test_true_colour_is_the_measured_background(tmp_path: Path) -> None:
    cfg = paper(PhantomConfig, n=8, size=128, hair_probability=0.0, vignette_probability=0.0)
    manifest = generate_phantoms(cfg, tmp_path, progress=False)
    for row in manifest.itertuples():
        image = np.asarray(Image.open(tmp_path / row.image_path))
        lesion = np.asarray(Image.open(tmp_path / row.mask_path)) > 0
        skin = ~ndimage.binary_dilation(lesion, iterations=6)
        lab = srgb_to_lab(image[skin]).mean(axis=0)
        assert abs(lab[0] - row.true_l_star) < 0.5
        assert abs(lab[2] - row.true_b_star) < 0.5


def test_mix_is_as_skewed_as_paper_table_1() -> None:
    plan = plan_phantoms(paper(PhantomConfig, n=500, seed=11))
    manifest_like = generate_truth(plan)
    share = manifest_like.value_counts(normalize=True)
    light = share.reindex(["I", "II", "III"]).sum()
    dark = share.reindex(["V", "VI"]).fillna(0).sum()
    assert 0.67 <= light <= 0.77
    assert 0.06 <= dark <= 0.10


def generate_truth(plan: pd.DataFrame) -> pd.Series:
    from benchmark.core.fitzpatrick import fst_from_ita, ita_degrees
    from benchmark.phantoms.render import quantised_skin_lab

    labels = []
    for row in plan.itertuples():
        lab = quantised_skin_lab((row.skin_l, row.skin_a, row.skin_b))
        labels.append(fst_from_ita(float(ita_degrees(lab[0], lab[2]))))
    return pd.Series(labels)


def test_patients_classes_and_boundaries() -> None:
    plan = plan_phantoms(paper(PhantomConfig, n=500, seed=5))
    per_patient = plan.groupby("patient_id").size()
    assert per_patient.between(1, 4).all()
    assert (per_patient > 1).any()
    melanocytic = plan.diagnosis_code.isin(["mel", "nv"]).mean()
    assert 0.13 <= melanocytic <= 0.23
    ita = np.degrees(np.arctan((plan.skin_l - 50) / plan.skin_b))
    near = np.min(np.abs(ita.to_numpy()[:, None] - np.array(FST_LOWER_BOUNDS)), axis=1) < 1.5
    assert 0.08 <= near.mean() <= 0.30
    assert plan.hair.gt(0).any()
    assert plan.vignette.gt(0).any()


@pytest.mark.parametrize(("dark", "light"), [(35.0, 90.0), (45.0, 70.0)])
def test_lesion_contrast_is_lower_on_darker_skin(dark: float, light: float) -> None:
    assert lesion_contrast(dark) < lesion_contrast(light)


def test_rendered_contrast_depends_on_skin(tmp_path: Path) -> None:
    cfg = default(
        PhantomConfig,
        n=60,
        size=96,
        seed=2,
        hair_probability=0.0,
        vignette_probability=0.0,
        fst_mix=(0.5, 0.0, 0.0, 0.0, 0.0, 0.5),
    )
    manifest = generate_phantoms(cfg, tmp_path, progress=False)
    contrast = []
    for row in manifest.itertuples():
        lab = srgb_to_lab(np.asarray(Image.open(tmp_path / row.image_path)))
        lesion = np.asarray(Image.open(tmp_path / row.mask_path)) > 0
        contrast.append(lab[~lesion, 0].mean() - lab[lesion, 0].mean())
    manifest["contrast"] = contrast
    by_type = manifest.groupby("fst_label")["contrast"].median()
    assert by_type["VI"] < 0.5 * by_type["I"]


def test_texture_has_the_same_amplitude_on_every_skin_and_keeps_its_colour() -> None:
    from benchmark.phantoms.render import PhantomSpec, render

    def skin_l(skin: tuple[float, float, float], texture: float) -> np.ndarray:
        spec = PhantomSpec(160, skin, "nv", hair=0, vignette=0.0, texture=texture)
        image, mask = render(spec, np.random.default_rng(5))
        far = ndimage.binary_dilation(mask > 0, iterations=12)
        return srgb_to_lab(image)[~far, 0]

    for skin in ((85.0, 8.0, 14.0), (35.0, 10.0, 16.0)):
        plain, textured = skin_l(skin, 0.0), skin_l(skin, 4.0)
        # about 1 L* unit of fine grain without texture; ~4 more in quadrature with it
        extra = np.sqrt(textured.std() ** 2 - plain.std() ** 2)
        assert 3.0 < extra < 5.0, (skin, extra)
        assert abs(textured.mean() - skin[0]) < 1.0  # zero-mean: the skin keeps its colour


def test_texture_outside_its_range_is_refused() -> None:
    from benchmark.core.config.base import ConfigError

    with pytest.raises(ConfigError, match=r"phantoms\.texture"):
        paper(PhantomConfig, texture=-1.0)
