"""Both profiles load into every stage's config: a typo in a rarely run profile fails here."""

from __future__ import annotations

import re
import typing
from pathlib import Path
from typing import Literal

import pytest

from benchmark.core.config.data import IngestConfig, SkintoneConfig, SplitConfig
from benchmark.core.config.downstream import (
    ClassifyConfig,
    FairnessConfig,
    PreprocessConfig,
    SegmentConfig,
)
from benchmark.core.config.generative import FinetuneConfig, GenerateConfig, ValidateSyntheticConfig
from stages.support.params import apply_overlay, load_section, profile, read_params
from tests.conftest import REPO

SECTIONS = {
    "ingest": IngestConfig,
    "skintone": SkintoneConfig,
    "finetune_lora": FinetuneConfig,
    "generate": GenerateConfig,
    "validate_synthetic": ValidateSyntheticConfig,
    "split": SplitConfig,
    "preprocess": PreprocessConfig,
    "segment": SegmentConfig,
    "classify": ClassifyConfig,
    "fairness": FairnessConfig,
}


@pytest.fixture(scope="module")
def paper(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """params.yaml with the paper overlay over it (what ``skinbench profile paper`` writes)."""
    path = tmp_path_factory.mktemp("paper") / "params.yaml"
    path.write_text(apply_overlay(REPO / "params.yaml", REPO / "params-paper.yaml"))
    return path


@pytest.fixture(params=["embedded", "paper"])
def profile_file(request: pytest.FixtureRequest, paper: Path) -> Path:
    return REPO / "params.yaml" if request.param == "embedded" else paper


def test_profile_loads_into_every_stage_config(profile_file: Path) -> None:
    path = profile_file
    for section, cls in SECTIONS.items():
        assert isinstance(load_section(path, section, cls), cls)


def test_paper_profile_holds_the_papers_protocol(paper: Path) -> None:
    path = paper
    assert profile(path) == "paper"
    classify = load_section(path, "classify", ClassifyConfig)
    assert (classify.weights, classify.max_epochs, classify.freeze_epochs) == ("imagenet", 25, 3)
    assert (classify.batch_size, classify.learning_rate, classify.early_stopping) == (32, 1e-4, 7)
    segment = load_section(path, "segment", SegmentConfig)
    assert (segment.epochs, segment.batch_size, segment.learning_rate) == (30, 16, 1e-4)
    assert load_section(path, "preprocess", PreprocessConfig).size == 224
    generate = load_section(path, "generate", GenerateConfig)
    assert (generate.melanocytic, generate.non_melanocytic) == (144, 664)
    skintone = load_section(path, "skintone", SkintoneConfig)
    # The paper's ITA formula exactly as printed, at full resolution.
    assert (skintone.primary, skintone.rule, skintone.max_side) == ("paper", "paper", 0)
    # The paper's split: test is 15% of every stratum, no tone-balanced test set.
    assert load_section(path, "split", SplitConfig).test_per_tone == 0


def test_both_profiles_group_the_study_by_the_robust_estimate_and_repeat_it_by_the_papers(
    profile_file: Path,
) -> None:
    from benchmark.core.groupings import PAPER, ROBUST

    fairness = load_section(profile_file, "fairness", FairnessConfig)
    assert (fairness.group_col, fairness.also_group_by) == (ROBUST, (PAPER,))


def test_paper_profile_literal_rule_types_a_bluish_background_vi(paper: Path) -> None:
    import numpy as np

    from benchmark.core.color import srgb_to_lab
    from benchmark.skintone.estimate import estimate

    cfg = load_section(paper, "skintone", SkintoneConfig)
    purple = np.full((40, 40, 3), (200, 150, 210), np.uint8)  # L* 67, b* < 0, inside the rule
    assert srgb_to_lab(purple[0, 0])[2] < 0
    assert estimate(purple, None, cfg)[cfg.primary].fst == "VI"


def test_params_rewritten_by_dvc_exp_run_still_load(tmp_path: Path) -> None:
    """`dvc exp run -S` drops quotes: `no` must stay the string "no" (YAML 1.2), not False."""
    from benchmark.core.config.generative import FinetuneConfig

    text = (REPO / "params.yaml").read_text()
    head, _, tail = text.partition("finetune_lora:")
    assert 'mixed_precision: "no"' in tail
    assert "learning_rate: 0.003" in tail
    tail = tail.replace('mixed_precision: "no"', "mixed_precision: no", 1)
    path = tmp_path / "params.yaml"
    path.write_text(
        head + "finetune_lora:" + tail.replace("learning_rate: 0.003", "learning_rate: 3e-3", 1)
    )
    cfg = load_section(path, "finetune_lora", FinetuneConfig)
    assert cfg.mixed_precision == "no"
    assert cfg.learning_rate == 3e-3


def _offered(comment: str) -> set[str]:
    """Options an ``a (note) | b | c on a GPU`` comment offers: each part's first word.

    Parenthesised notes go first, then any lead-in up to the last colon ("which estimate: a").
    """
    text = re.sub(r"\([^()]*\)", "", comment).rsplit(":", 1)[-1]
    return {part.split()[0] for part in text.split("|") if part.split()}


def _option_comments(path: Path) -> dict[tuple[str, str], str]:
    """``(section, key) -> comment`` for every ``key: value  # ... | ...`` line of a section."""
    found, section = {}, ""
    for line in path.read_text().splitlines():
        if top := re.match(r"(\w+):", line):
            section = top.group(1)
        elif (key := re.match(r"  (\w+):[^#]*#(.*)$", line)) and "|" in key.group(2):
            found[(section, key.group(1))] = key.group(2)
    return found


def test_the_option_comments_of_params_yaml_list_exactly_what_the_config_accepts() -> None:
    """Every ``Literal`` setting's comment offers its accepted values: no more, no fewer."""
    path = REPO / "params.yaml"
    params, comments = read_params(path), _option_comments(path)
    checked = set()
    for section, cls in SECTIONS.items():
        for key, hint in typing.get_type_hints(cls).items():
            if typing.get_origin(hint) is not Literal:
                continue
            where = f"params.yaml: {section}.{key}"
            assert (section, key) in comments, f"{where} has no 'a | b' comment of its options"
            offered = _offered(comments[section, key]) | {params[section][key]}
            assert offered == set(typing.get_args(hint)), where
            checked.add((section, key))
    assert set(comments) == checked, "an 'a | b' comment on a setting that is not a choice"
    assert _offered(" which: a (x | y) | b on a GPU") == {"a", "b"}
