from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from benchmark import __version__
from stages.support.cli import main


def test_help_lists_every_subcommand() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("phantoms", "ingest", "ita", "maxflow", "seg-eval", "audit", "ui"):
        assert command in result.output


def test_version() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"skinbench, version {__version__}"


def test_phantoms_command(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["phantoms", "--out", str(tmp_path / "p"), "--n", "5", "--seed", "2", "--size", "40"]
    )
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "p" / "images").iterdir())) == 5
    assert (tmp_path / "p" / "manifest.parquet").is_file()


def test_ingest_command_reports_missing_column(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    csv = tmp_path / "meta.csv"
    csv.write_text("image_id,dx\n")
    result = CliRunner().invoke(
        main,
        [
            "ingest",
            "--source",
            "ham10000",
            "--images",
            str(tmp_path / "images"),
            "--metadata",
            str(csv),
            "--out",
            str(tmp_path / "out"),
        ],
    )
    assert result.exit_code == 1
    assert f"{csv}: HAM10000 metadata lacks required column 'lesion_id'" in result.output


def test_ingest_command_on_phantoms(tmp_path: Path) -> None:
    runner = CliRunner()
    runner.invoke(main, ["phantoms", "--out", str(tmp_path / "p"), "--n", "4", "--size", "40"])
    result = runner.invoke(
        main,
        [
            "ingest",
            "--source",
            "phantoms",
            "--images",
            str(tmp_path / "p"),
            "--out",
            str(tmp_path / "o"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert '"ingested": 4' in result.output


def test_ita_on_a_folder_prints_the_documented_csv(tmp_path: Path) -> None:
    runner = CliRunner()
    runner.invoke(main, ["phantoms", "--out", str(tmp_path / "p"), "--n", "3", "--size", "64"])
    result = runner.invoke(main, ["ita", str(tmp_path / "p")])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert lines[0] == "image_id,ita,l_star,b_star,skin_pixels,fst,note"
    assert [line.split(",")[0] for line in lines[1:]] == ["PH_000001", "PH_000002", "PH_000003"]
    assert result.stderr.strip() == "3 image(s): 0 uncertain, 0 unreadable"


def test_ita_with_masks_and_csv_file(tmp_path: Path) -> None:
    runner = CliRunner()
    runner.invoke(main, ["phantoms", "--out", str(tmp_path / "p"), "--n", "2", "--size", "64"])
    out = tmp_path / "ita.csv"
    result = runner.invoke(
        main,
        [
            "ita",
            "--masks",
            str(tmp_path / "p" / "masks"),
            "--exclude-lesion",
            "--csv",
            str(out),
            str(tmp_path / "p" / "images"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert out.read_text().splitlines()[0] == "image_id,ita,l_star,b_star,skin_pixels,fst,note"
    assert len(out.read_text().splitlines()) == 3


def test_ita_exclude_lesion_needs_masks(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["ita", "--exclude-lesion", str(tmp_path)])
    assert result.exit_code == 2
    assert "--exclude-lesion needs --masks" in result.output


def test_ui_binds_localhost_over_the_project_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    result = CliRunner().invoke(main, ["ui", "--print-only"])
    assert result.exit_code == 0, result.output
    assert f"--backend-store-uri sqlite:///{tmp_path}/mlflow.db" in result.output
    assert "--host 127.0.0.1 --port 5000" in result.output
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9/")
    result = CliRunner().invoke(main, ["ui", "--print-only", "--port", "5055"])
    assert "--backend-store-uri http://127.0.0.1:9/ --host 127.0.0.1 --port 5055" in result.output
