"""Bad input to the ITA estimates and ``skinbench ita``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from benchmark.core.config.data import SkintoneConfig
from benchmark.skintone.estimate import estimate
from stages.support.cli import main
from tests.support.config import default


@pytest.mark.parametrize("level", [40, 128, 220])
def test_a_grey_image_is_uncertain_in_every_estimate_with_the_reason(level: int) -> None:
    grey = np.full((64, 64, 3), level, np.uint8)
    grey[20:40, 20:40] = level // 2  # a darker "lesion": still no colour
    lesion = np.zeros((64, 64), bool)
    lesion[20:40, 20:40] = True
    for mask in (None, lesion):
        got = estimate(grey, mask, default(SkintoneConfig, min_skin_pixels=1))
        assert {e.fst for e in got.values()} == {"uncertain"}
        assert all(e.note.startswith("grey image") for e in got.values())


def test_skinbench_ita_says_why_a_grayscale_file_is_uncertain(tmp_path: Path) -> None:
    Image.fromarray(np.full((80, 80), 170, np.uint8)).save(tmp_path / "g.png")
    for flags in ([], ["--robust"], ["--guarded"]):
        out = CliRunner().invoke(main, ["ita", *flags, str(tmp_path / "g.png")])
        assert out.exit_code == 0, out.output
        row = out.output.splitlines()[1]
        assert ",uncertain" in row, (flags, row)


def _ita(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["ita", *args])
    return result.exit_code, result.stdout, result.stderr


def test_two_files_with_one_stem_get_two_ids(tmp_path: Path) -> None:
    skin = np.full((60, 60, 3), (200, 150, 120), np.uint8)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for path in (
        tmp_path / "x.jpg",
        tmp_path / "x.png",
        tmp_path / "a/y.png",
        tmp_path / "b/y.png",
    ):
        Image.fromarray(skin).save(path)
    Image.fromarray(skin).save(tmp_path / "z.png")
    code, out, _ = _ita(str(tmp_path))
    assert code == 0
    ids = [line.split(",")[0] for line in out.splitlines()[1:]]
    assert sorted(ids) == ["a/y.png", "b/y.png", "x.jpg", "x.png", "z"]


def test_an_unreadable_image_is_counted_and_fails_under_strict(tmp_path: Path) -> None:
    Image.fromarray(np.full((60, 60, 3), (200, 150, 120), np.uint8)).save(tmp_path / "ok.png")
    Image.fromarray(np.full((60, 60), 90, np.uint8)).save(tmp_path / "grey.png")
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not a jpeg")
    code, out, err = _ita(str(tmp_path))
    assert code == 0
    assert "3 image(s): 1 uncertain (grey image 1), 1 unreadable" in err
    assert ",unreadable: " in out
    code, _, err = _ita("--strict", str(tmp_path))
    assert code == 1


def test_an_output_under_a_file_fails_before_any_work(tmp_path: Path) -> None:
    Image.fromarray(np.full((60, 60, 3), (200, 150, 120), np.uint8)).save(tmp_path / "ok.png")
    (tmp_path / "good.csv").write_text("x\n")
    code, _, err = _ita("--csv", str(tmp_path / "good.csv" / "x.csv"), str(tmp_path / "ok.png"))
    assert code == 2
    assert "good.csv is a file" in err
    assert "Traceback" not in err


def test_a_file_name_that_starts_a_formula_is_written_inert(tmp_path: Path) -> None:
    Image.fromarray(np.full((60, 60, 3), (200, 150, 120), np.uint8)).save(tmp_path / "=cmd.png")
    code, out, _ = _ita(str(tmp_path / "=cmd.png"))
    assert code == 0
    assert out.splitlines()[1].startswith("'=cmd,")
