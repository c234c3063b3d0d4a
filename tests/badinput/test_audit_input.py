"""Bad input to ``skinbench audit``: each case ends in an error naming the problem, or in a
documented, counted correction; never in a silent wrong answer or a traceback."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from benchmark.fairness.result import AuditResult
from stages.support.cli import main

N = 120


def _frame(seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    groups = np.repeat(["I", "II", "V", "VI"], [40, 40, 20, 20])
    y = np.tile([0, 1], N // 2)
    score = np.clip(0.3 * y + 0.7 * rng.random(N), 0, 1)
    return pd.DataFrame({"image_id": [f"i{k}" for k in range(N)], "y_true": y,
                         "y_score": score, "fst": groups})  # fmt: skip


def _audit(
    tmp_path: Path, frame: pd.DataFrame, *extra: str, name: str = "p.csv"
) -> tuple[int, str, Path]:
    path = tmp_path / name
    frame.to_csv(path, index=False)
    out = tmp_path / f"{path.stem}.json"
    result = CliRunner().invoke(
        main,
        ["audit", str(path), "--bootstrap", "0", "--permutations", "0", "--json", str(out), *extra],
    )
    return result.exit_code, result.output, out


def _groups(path: Path) -> dict[str, tuple[int, float]]:
    result = AuditResult.read(path)
    return {g.group: (g.counts.images, g.metrics["auc"].value) for g in result.groups}


@pytest.mark.parametrize(
    "respell",
    [
        {"VI": "VI "},  # a trailing space
        {"VI": "vi", "V": " v"},  # case and a leading space
        {"I": "1", "II": "2", "V": "5", "VI": "6"},  # digits
        {"VI": "type VI", "V": "FST V"},  # a prefix
    ],
)
def test_respelled_skin_types_give_the_clean_files_groups_and_numbers(
    tmp_path: Path, respell: dict[str, str]
) -> None:
    clean = _frame()
    code, _, clean_json = _audit(tmp_path, clean, name="clean.csv")
    assert code == 0
    messy = clean.copy()
    messy["fst"] = messy["fst"].map(lambda g: respell.get(g, g))
    code, output, messy_json = _audit(tmp_path, messy, name="messy.csv")
    assert code == 0, output
    assert _groups(messy_json) == _groups(clean_json)
    # The correction is stated and counted in the audit's notes.
    notes = " ".join(AuditResult.read(messy_json).provenance.notes)
    assert "respelled as the suite's labels" in notes


def test_a_missing_token_with_a_leading_space_is_missing_not_a_skin_type(tmp_path: Path) -> None:
    frame = _frame()
    frame.loc[frame.index[:10], "fst"] = " missing"
    code, output, out = _audit(tmp_path, frame)
    assert code == 0, output
    assert "missing" in _groups(out)
    assert " missing" not in _groups(out)
    result = AuditResult.read(out)
    assert not result.group("missing").compared  # shown, never compared
    assert result.group("VI").compared


@pytest.mark.parametrize("value", ["VII", "dark", "7"])
def test_a_value_that_is_no_skin_type_is_an_error_naming_it_and_its_line(
    tmp_path: Path, value: str
) -> None:
    frame = _frame()
    frame.loc[5, "fst"] = value
    code, output, _ = _audit(tmp_path, frame)
    assert code != 0
    assert repr(value) in output
    assert "line(s) [7]" in output
    assert "'fst'" in output


def test_every_row_twice_is_an_error_not_twice_the_images(tmp_path: Path) -> None:
    frame = _frame()
    code, output, _ = _audit(tmp_path, pd.concat([frame, frame], ignore_index=True))
    assert code != 0
    assert "image id 'i0' more than once (lines [2, 122]" in output
    assert "240 row(s) in all" in output


def test_an_empty_image_id_is_an_error(tmp_path: Path) -> None:
    frame = _frame()
    frame.loc[3, "image_id"] = None
    code, output, _ = _audit(tmp_path, frame)
    assert code != 0
    assert "an empty image id (lines [5]" in output


def test_an_output_under_a_file_fails_before_any_work(tmp_path: Path) -> None:
    (tmp_path / "good.csv").write_text("x\n")
    code, output, out = _audit(tmp_path, _frame(), "--html", str(tmp_path / "good.csv" / "x.html"))
    assert code == 2
    assert "good.csv is a file" in output
    assert not out.exists()  # the JSON asked for beside it was not written either


def test_a_named_patient_column_that_is_absent_is_an_error(tmp_path: Path) -> None:
    code, output, _ = _audit(tmp_path, _frame(), "--patient-col", "subject")
    assert code == 2
    assert "no column 'subject' (--patient-col); its columns are image_id, y_true" in output
    # Without the option the default column may be absent: images are the units, stated.
    code, _, out = _audit(tmp_path, _frame())
    assert code == 0
    assert AuditResult.read(out).provenance.unit == "images"


def test_a_pipe_in_a_group_name_stays_in_its_cell(tmp_path: Path) -> None:
    frame = _frame()
    frame["site"] = np.repeat(["a|b", "c", "d"], [40, 40, 40])
    code, output, _ = _audit(tmp_path, frame, "--group-col", "site", "--md", str(tmp_path / "a.md"))
    assert code == 0, output
    rows = [line for line in (tmp_path / "a.md").read_text().splitlines() if "a\\|b |" in line]
    header = next(
        line for line in (tmp_path / "a.md").read_text().splitlines() if line.startswith("| group")
    )
    assert rows
    assert rows[0].replace("\\|", "").count("|") == header.count("|")


@pytest.mark.parametrize(
    ("encoding", "sep"), [("utf-16", ","), ("utf-8-sig", ","), ("utf-8", ";"), ("utf-8", "\t")]
)
def test_utf16_bom_and_semicolon_or_tab_files_read_as_the_plain_one(
    tmp_path: Path, encoding: str, sep: str
) -> None:
    clean = _frame()
    _, _, plain = _audit(tmp_path, clean, name="plain.csv")
    path = tmp_path / "other.csv"
    clean.to_csv(path, index=False, encoding=encoding, sep=sep)
    out = tmp_path / "other.json"
    args = ["audit", str(path), "--bootstrap", "0", "--permutations", "0", "--json", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert _groups(out) == _groups(plain)


def test_a_file_in_another_encoding_is_an_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    text = _frame().assign(site="Zürich").to_csv(index=False)
    path.write_bytes(text.encode("latin-1"))
    result = CliRunner().invoke(main, ["audit", str(path), "--bootstrap", "0"])
    assert result.exit_code == 1
    assert f"{path}" in result.output
    assert "is not utf-8 text" in result.output
    assert "save it as UTF-8 CSV" in result.output


def test_a_column_named_twice_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "twice.csv"
    frame = _frame()
    frame.insert(3, "y_score_b", frame["y_score"])
    path.write_text(frame.to_csv(index=False).replace("y_score_b", "y_score", 1))
    result = CliRunner().invoke(main, ["audit", str(path), "--bootstrap", "0"])
    assert result.exit_code == 1
    assert "names column(s) ['y_score'] more than once" in result.output


def test_a_pipe_is_read_once_and_audited(tmp_path: Path) -> None:
    import os
    import threading

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    text = _frame().to_csv(index=False)
    writer = threading.Thread(target=fifo.write_text, args=(text,))
    writer.start()
    result = CliRunner().invoke(
        main, ["audit", str(fifo), "--bootstrap", "0", "--permutations", "0"]
    )
    writer.join(timeout=10)
    assert result.exit_code == 0, result.output
    assert "Fairness audit of fifo.csv" in result.output


def test_markup_in_a_group_name_is_escaped_in_html_and_markdown(tmp_path: Path) -> None:
    frame = _frame()
    frame["site"] = np.repeat(["<script>x</script>", "two\nlines", "d"], [40, 40, 40])
    html, md = tmp_path / "a.html", tmp_path / "a.md"
    code, output, _ = _audit(tmp_path, frame, "--group-col", "site", "--html", str(html),
                             "--md", str(md))  # fmt: skip
    assert code == 0, output
    assert "<script>x" not in html.read_text()
    assert "&lt;script&gt;x" in html.read_text()
    assert "two lines" in md.read_text()  # one table row, not two


def test_a_multiclass_file_with_a_repeated_id_is_an_error(tmp_path: Path) -> None:
    frame = _frame().drop(columns=["y_true", "y_score"])
    rng = np.random.default_rng(0)
    scores = rng.dirichlet([1, 1, 1], N)
    for k, name in enumerate(("MEL", "NV", "BKL")):
        frame[name] = scores[:, k]
    frame["y_true"] = np.tile(["MEL", "NV", "BKL"], N // 3)
    frame.loc[1, "image_id"] = "i0"
    code, output, _ = _audit(tmp_path, frame, "--classes", "MEL,NV,BKL")
    assert code != 0
    assert "image id 'i0' more than once (lines [2, 3]" in output
