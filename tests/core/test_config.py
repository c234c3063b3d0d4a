from __future__ import annotations

import pytest

from benchmark.core.config.base import ConfigError, from_mapping
from benchmark.core.config.data import IngestConfig, PhantomConfig
from stages.support.params import PARAMS, read_params
from tests.support.config import paper


def _ingest(**changes: object) -> dict[str, object]:
    """params.yaml's ingest section with ``changes`` (``phantoms`` merged key by key)."""
    section = dict(read_params(PARAMS)["ingest"])
    phantoms = dict(section["phantoms"], **changes.pop("phantoms", {}))  # type: ignore[arg-type]
    return {**section, "phantoms": phantoms, **changes}


def test_nested_mapping_builds_frozen_config() -> None:
    cfg = from_mapping(
        IngestConfig,
        _ingest(source="ham10000", phantoms={"n": 10, "fst_mix": [0.5, 0.5, 0, 0, 0, 0]}),
        "params.yaml: ingest",
    )
    assert cfg.source == "ham10000"
    assert cfg.phantoms.n == 10
    assert cfg.phantoms.fst_mix == (0.5, 0.5, 0.0, 0.0, 0.0, 0.0)
    with pytest.raises(AttributeError):
        cfg.source = "isic2019"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"sourc": "ham10000"}, "unknown key"),
        ({"source": "isic2021"}, "is not one of"),
        ({"workers": "two"}, "expected int"),
        ({"workers": True}, "expected int"),
        ({"phantoms": {"n": 0}}, "phantoms.n must be >= 1"),
        ({"phantoms": {"sed": 1}}, "unknown key"),
        ({"phantoms": {"fst_mix": [0.5, 0.5]}}, "expected 6 values"),
        ({"mask_threshold": 300}, "mask_threshold"),
    ],
)
def test_bad_config_names_where(data: dict[str, object], fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment) as info:
        from_mapping(IngestConfig, _ingest(**data), "params.yaml: ingest")
    assert "params.yaml: ingest" in str(info.value)


def test_mix_must_sum_to_one() -> None:
    with pytest.raises(ConfigError, match="summing to 1"):
        paper(PhantomConfig, fst_mix=(0.5, 0.5, 0.5, 0.0, 0.0, 0.0))


def test_a_key_left_out_is_an_error_never_a_default() -> None:
    data = _ingest()
    del data["link"]
    with pytest.raises(ConfigError, match=r"params.yaml: ingest: missing key\(s\) \['link'\]"):
        from_mapping(IngestConfig, data, "params.yaml: ingest")
    nested = _ingest()
    del nested["phantoms"]["texture"]  # type: ignore[attr-defined]
    with pytest.raises(ConfigError, match=r"ingest.phantoms: missing key\(s\) \['texture'\]"):
        from_mapping(IngestConfig, nested, "params.yaml: ingest")
