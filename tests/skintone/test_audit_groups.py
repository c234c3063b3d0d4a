"""``audit --images``: groups estimated from the images, as ``skinbench ita --robust``."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
from click.testing import CliRunner
from PIL import Image

from benchmark.phantoms.render import PhantomSpec, render
from stages.support.cli import main

SKINS = {"light": (80.0, 8.0, 16.0), "mid": (58.0, 12.0, 20.0), "dark": (30.0, 9.0, 14.0)}


def _folder(tmp_path: Path) -> tuple[Path, Path]:
    images = tmp_path / "images"
    images.mkdir()
    rows = []
    for i in range(9):
        name = list(SKINS)[i % 3]
        spec = PhantomSpec(size=96, skin_lab=SKINS[name], diagnosis_code="nv", hair=0, vignette=0.0)
        image, _ = render(spec, np.random.default_rng(i))
        Image.fromarray(image).save(images / f"img{i}.png")
        rows.append({"image_id": f"img{i}", "y_true": i % 2, "y_score": 0.3 + 0.05 * i})
    rows.append({"image_id": "no_such_image", "y_true": 1, "y_score": 0.9})
    pred = tmp_path / "pred.csv"
    pd.DataFrame(rows).to_csv(pred, index=False)
    return images, pred


def test_images_give_the_groups_of_ita_robust(tmp_path: Path) -> None:
    images, pred = _folder(tmp_path)
    ita = CliRunner().invoke(main, ["ita", "--robust", str(images)])
    assert ita.exit_code == 0, ita.output
    expected = pd.read_csv(io.StringIO(ita.stdout), dtype=str)["fst"].value_counts().to_dict()
    out_json = tmp_path / "audit.json"
    args = ["audit", str(pred), "--images", str(images), "--json", str(out_json)]
    audit = CliRunner().invoke(main, [*args, "--permutations", "0", "--bootstrap", "0"])
    assert audit.exit_code == 0, audit.output
    result = json.loads(out_json.read_text())
    support = {g["group"]: g["counts"]["images"] for g in result["groups"]}
    assert support.pop("missing") == 1  # the row without an image
    assert support == expected
    assert len(expected) >= 2  # light and dark phantoms land in different types
    assert "robust ITA estimates" in audit.output
    assert "1 row(s) without an image" in audit.output


def test_images_with_a_group_column_already_is_refused(tmp_path: Path) -> None:
    images, pred = _folder(tmp_path)
    frame = pd.read_csv(pred).assign(fst="II")
    frame.to_csv(pred, index=False)
    out = CliRunner().invoke(main, ["audit", str(pred), "--images", str(images)])
    assert out.exit_code != 0
    assert "has the group column already" in out.output
