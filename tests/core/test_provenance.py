from __future__ import annotations

from pathlib import Path

import pytest

from benchmark.core.provenance import (
    data_digest,
    default_tracking_uri,
    flatten_all,
    flatten_numeric,
    git_commit,
    mapping_digest,
    tracking_uri,
)


def test_data_digest_tracks_content_names_and_sizes(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "meta.csv").write_text("a\n1\n")
    (tmp_path / "d" / "img.jpg").write_bytes(b"x" * (2**20 + 1))
    base = data_digest([tmp_path / "d"])
    assert base == data_digest([tmp_path / "d"])
    (tmp_path / "d" / "meta.csv").write_text("a\n2\n")
    edited = data_digest([tmp_path / "d"])
    assert edited != base
    # A large image is identified by path and size only (DVC holds its md5).
    (tmp_path / "d" / "img.jpg").write_bytes(b"y" * (2**20 + 1))
    assert data_digest([tmp_path / "d"]) == edited
    (tmp_path / "d" / "img.jpg").rename(tmp_path / "d" / "img2.jpg")
    assert data_digest([tmp_path / "d"]) != edited
    assert data_digest([tmp_path / "missing"]) != data_digest([])


def test_mapping_digest_ignores_key_order() -> None:
    assert mapping_digest({"a": 1, "b": {"c": 2}}) == mapping_digest({"b": {"c": 2}, "a": 1})
    assert mapping_digest({"a": 1}) != mapping_digest({"a": 2})


def test_flatten() -> None:
    nested = {"a": 1, "b": {"c": 2.5, "d": "text", "e": True}}
    assert flatten_numeric(nested) == {"a": 1.0, "b.c": 2.5, "b.e": 1.0}
    assert flatten_all(nested) == {"a": 1, "b.c": 2.5, "b.d": "text", "b.e": True}


def test_git_commit_outside_a_repo(tmp_path: Path) -> None:
    assert git_commit(tmp_path) == "unknown"


def test_content_digest_sees_large_file_edits(tmp_path: Path) -> None:
    from benchmark.core.provenance import content_digest

    big = tmp_path / "w.bin"
    big.write_bytes(b"x" * (2**20 + 1))
    before = content_digest([tmp_path])
    big.write_bytes(b"y" * (2**20 + 1))
    assert content_digest([tmp_path]) != before


def test_tracking_uri_env_wins_else_mlflow_db_in_the_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert default_tracking_uri(tmp_path) == f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.chdir(tmp_path)
    assert default_tracking_uri(Path("sub")) == f"sqlite:///{Path.cwd() / 'sub' / 'mlflow.db'}"
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert tracking_uri() == default_tracking_uri() == f"sqlite:///{Path.cwd() / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "")  # empty counts as unset
    assert tracking_uri() == default_tracking_uri()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9/")
    assert tracking_uri() == "http://127.0.0.1:9/"
