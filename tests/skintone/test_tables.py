from __future__ import annotations

from pathlib import Path

import pandas as pd
from PIL import Image

from benchmark.skintone import tables
from benchmark.skintone.outputs import write_outputs


def _manifest() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "image_id": [f"i{k}" for k in range(6)],
            "superclass": [
                "melanocytic",
                "non_melanocytic",
                "non_melanocytic",
                "melanocytic",
                None,
                "non_melanocytic",
            ],
            "fst": ["I", "II", "II", "VI", "uncertain", "V"],
            "fst_robust": ["I", "II", "II", "VI", "uncertain", "V"],
            "fst_paper": ["II", "II", "III", "VI", "uncertain", "VI"],
            "fst_lesion_excluded": ["I", "II", "II", None, "uncertain", "uncertain"],
            "fst_label": ["I", "II", "III", "VI", None, "V"],
            "dataset": ["phantoms"] * 6,
        }
    )


def test_table1_counts_and_paper_columns() -> None:
    table = tables.table1(_manifest())
    assert table.loc["II", "non_melanocytic"] == 2
    assert table.loc["VI", "melanocytic"] == 1
    assert table.loc["uncertain", "unlabelled"] == 1
    assert table.loc["Total", "total"] == 6
    assert table.loc["V", "share"] == 1 / 6
    assert table.loc["VI", "paper_total"] == 1352
    assert table.loc["Total", "paper_total"] == 17728
    head = tables.summary(table)
    assert head["share_V_VI"] == 2 / 6
    assert round(head["paper_share_V_VI"], 4) == 0.0794  # 1,407 / 17,728 as printed


def test_lesion_effect_per_type() -> None:
    effect = tables.lesion_effect(_manifest())
    # Rows with a lesion-excluded estimate: i0 II->I, i1 II->II, i2 III->II, i4, i5 VI->unc.
    assert effect.loc["II", "with_mask"] == 2
    assert effect.loc["II", "to_lighter"] == 1
    assert effect.loc["III", "to_lighter"] == 1
    assert effect.loc["VI", "to_uncertain"] == 1
    assert effect.loc["Total", "changed"] == 3


def test_outputs_written(tmp_path: Path) -> None:
    metrics = write_outputs(_manifest(), tmp_path / "out", "robust")
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == [
        "agreement.json",
        "crosstab.json",
        "figure4.png",
        "lesion_effect.csv",
        "section.json",
        "table1.csv",
        "table1.json",
        "table1.md",
    ]
    assert Image.open(tmp_path / "out" / "figure4.png").size[0] > 400
    markdown = (tmp_path / "out" / "table1.md").read_text()
    assert "| VI | 1 | 0 | 0 | 1 |" in markdown
    assert "phantoms" in markdown
    assert "Only 2 images are ITA type V–VI: numbers about dark skin are not reliable" in markdown
    assert metrics["agreement_robust"]["support"] == 5  # i4 has no label
    assert metrics["agreement_robust"]["exact"] == 0.8  # i2: III estimated II
    assert metrics["agreement_paper"]["exact"] == 0.6  # i0 I as II, i5 V as VI
    assert metrics["crosstab"]["paper_V_VI"] == 2
    assert metrics["crosstab"]["paper_V_VI_robust_I_IV"] == 0
    assert metrics["lesion_changed"] == 3


def test_lesion_effect_without_any_mask_is_empty_not_an_error() -> None:
    # As add_skintone builds the columns when no image has a mask.
    manifest = pd.DataFrame([{"fst_paper": f, "fst_lesion_excluded": None} for f in ("I", "VI")])
    effect = tables.lesion_effect(manifest)
    assert effect.loc["Total"].tolist() == [0, 0, 0, 0, 0]


def test_crosstab_counts_the_paper_rules_dark_images_the_robust_estimate_calls_light(
    tmp_path: Path,
) -> None:
    manifest = pd.DataFrame(
        {
            "fst_paper": ["VI", "VI", "V", "V", "II", "uncertain", None],
            "fst_robust": ["I", "VI", "III", "uncertain", "II", "II", "IV"],
        }
    )
    both = tables.crosstab(manifest)
    assert both is not None
    # Four paper V-VI images; two (VI -> I, V -> III) are I-IV by the robust estimate.
    assert (both.paper_dark, both.paper_dark_light, both.share_relabelled) == (4, 2, 0.5)
    assert both.counts["VI"]["I"] == 1
    assert both.counts["V"]["uncertain"] == 1
    assert both.counts["missing"]["IV"] == 1  # no printed-rule estimate: a row of its own
    assert both.counts["Total"]["Total"] == 7
    assert both.counts["VI"]["Total"] == 2
    assert both.counts["Total"]["II"] == 2
    both.write(tmp_path / "c.json")
    assert tables.CrossTab.read(tmp_path / "c.json") == both
    assert tables.crosstab(manifest.drop(columns="fst_robust")) is None
