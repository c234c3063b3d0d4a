from __future__ import annotations

import pytest

from benchmark.core.config.base import ConfigError, from_mapping
from benchmark.core.config.data import IngestConfig, PhantomConfig


def test_nested_mapping_builds_frozen_config() -> None:
    cfg = from_mapping(
        IngestConfig,
        {"source": "ham10000", "phantoms": {"n": 10, "fst_mix": [0.5, 0.5, 0, 0, 0, 0]}},
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
        ({"phantoms": {"fst_mix": [0.5, 0.5]}}, "expected 6 values"),
        ({"mask_threshold": 300}, "mask_threshold"),
    ],
)
def test_bad_config_names_where(data: dict[str, object], fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment) as info:
        from_mapping(IngestConfig, data, "params.yaml: ingest")
    assert "params.yaml: ingest" in str(info.value)


def test_mix_must_sum_to_one() -> None:
    with pytest.raises(ConfigError, match="summing to 1"):
        PhantomConfig(fst_mix=(0.5, 0.5, 0.5, 0.0, 0.0, 0.0))
