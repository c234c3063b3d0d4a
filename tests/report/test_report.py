from __future__ import annotations

import html
import json
import re
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from benchmark.classification.section import table5_section
from benchmark.core.composition import composition_section
from benchmark.core.document import write_sections
from benchmark.core.groupings import ROBUST, describe
from benchmark.core.io import FileContentError
from benchmark.core.runtime import Runtimes
from benchmark.fairness.binary import binary_audit
from benchmark.fairness.inputs import AuditOptions, GroupContext, RunInput
from benchmark.fairness.paired import paired_comparison
from benchmark.fairness.result import AuditResult
from benchmark.fairness.section import fairness_section
from benchmark.fairness.tone_gaps import ToneStudy, tone_study
from benchmark.generative.section import table2_section
from benchmark.report import (
    collect,
    render_html,
    render_markdown,
    run_header,
    runtimes_markdown,
    write_report,
)
from benchmark.segmentation.section import table3_section
from benchmark.skintone.section import table1_section

REPO = Path(__file__).resolve().parents[2]
RUN = "baseline_seed42"
DARK_TEXT = "numbers about dark skin are not reliable"
FIGURES = ("skintone/figure4.png", "synthetic/figure3.png", "segment/by_fst.png")
FIGURES += ("segment/overlays.png", "classify/figure5.png", f"fairness/{RUN}.png")
FIGURES += (f"fairness/{RUN}.reliability.png", "fairness/tone_gaps.png")

# A small fake reports/ + metrics/ tree, written through the stages' own section writers.


def _json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")


def _csv(path: Path, header: str, rows: list[tuple[Any, ...]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [header, *(",".join(str(c) for c in row) for row in rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _row(keys: tuple[str, ...], values: tuple[Any, ...]) -> dict[str, Any]:
    return dict(zip(keys, values, strict=True))


T1_KEYS = ("fst", "melanocytic", "non_melanocytic", "total", "share")
T1_KEYS += ("paper_melanoma", "paper_non_melanoma", "paper_total")
T1_PAPER = {"I": 0, "II": 4888, "III": 9761, "IV": 1639, "V": 55, "VI": 1352, "uncertain": 33}
SEG_MEAN = dict(iou=0.8, dice=0.88, precision=0.9, recall=0.85, hausdorff=12.5, specificity=0.97)
SEG_PAPER = dict(iou=0.85, dice=0.9, precision=0.89, recall=0.87, hausdorff=10, specificity=0.92)
T5_PAPER = {"loss": [0.33, 0.47], "accuracy": [87.65, 85.45], "auc": [0.988, 0.9765]}
T5_PAPER |= {"precision": [0.85, 0.82], "recall": [0.82, 0.78], "f1": [0.83, 0.8]}
T5_OURS = {"precision": [None] * 3, "recall": [0.5, None, None], "f1": [0.6, None, None]}
GROUP = dict(accuracy=0.8, auc=0.9, sensitivity=0.75, specificity=0.8, precision=0.5, f1=0.6)


def _skintone(root: Path, dark: int, phantom: bool) -> None:
    counts = {"I": 30, "II": 40, "III": 30, "IV": 20, "V": dark, "VI": 0, "uncertain": 0}
    total = sum(counts.values())
    rows = [
        _row(T1_KEYS, (f, n // 2, n - n // 2, n, n / total, 0, T1_PAPER[f], T1_PAPER[f]))
        for f, n in counts.items()
    ]
    rows.append(_row(T1_KEYS, ("Total", 0, total, total, 1.0, 0, 17728, 17728)))
    notes = ["ITA-estimated skin type from the robust ITA estimate (column fst)."]
    confusion = {g: {h: counts[g] * (g == h) for h in counts} for g in list(counts)[:6]}
    reason = "kappa is undefined when a single type occurs"
    result = dict(confusion=confusion, exact=1.0, within_one=1.0, kappa_quadratic=None)
    result |= {"reason": reason, "support": total, "uncertain": 0}
    write_sections(root / "skintone", table1_section(rows, notes, {"robust": result}, phantom))


def _segment(root: Path, dark: int, phantom: bool) -> None:
    groups = (("I", 10), ("IV", 5), ("V", dark))
    by_fst = [{"model": "augmented", "fst": f, "support": n, **SEG_MEAN} for f, n in groups]
    model = {"mean": {**SEG_MEAN, "hd95": 8.0}, "test_images": 15 + dark}
    notes = ["Evaluated on real test images."]
    paper = {"augmented": {**SEG_PAPER, "ms_per_image": 130}}
    table3 = {"models": {"augmented": model}, "paper": paper, "notes": notes, "by_fst": by_fst}
    write_sections(root / "segment", table3_section(table3, phantom, dark))


def _classify(root: Path, dark: int, phantom: bool, **changes: Any) -> None:
    def ours(auc: float, low: float, high: float) -> dict[str, Any]:
        head = {"loss": [0.4, 0.35, 0.45], "accuracy": [85.0, None, None], "auc": [auc, low, high]}
        return head | T5_OURS

    splits = {"train": ours(0.95, 0.94, 0.96), "val": ours(0.9, 0.85, 0.95)}
    splits["test"] = ours(0.8, 0.7, 0.9)
    table5 = {"paper": {"baseline": T5_PAPER}, "ours": {"baseline": splits}}
    table5 |= {"notes": ["Threshold 0.5, as the paper."], **changes}
    part = table5_section(table5, {"baseline": [42, 43]}, phantom, dark)
    write_sections(root / "classify", part)


def _audit(dark: int) -> AuditResult:
    """A real audit: 40 type-I images (8 positives) and ``dark`` of type V, none positive."""
    rng = np.random.default_rng(0)
    y = np.r_[[1] * 8, [0] * 32, [0] * dark]
    s = np.r_[rng.uniform(0.3, 1, 8), rng.uniform(0, 0.6, 32), rng.uniform(0, 0.5, dark)]
    groups = np.r_[["I"] * 40, ["V"] * dark]
    run = RunInput(f"{RUN}_test.csv", s, threshold=0.25,
                   threshold_source=f"validation:{RUN}_val.csv")  # fmt: skip
    options = AuditOptions(n_bootstrap=200, n_permutations=50, calibration_draws=50)
    context = GroupContext(("fst",), phantom=True)
    return binary_audit(y, [run], groups=groups, options=options, context=context)


PAIRED = "augmented-vs-baseline"


def _study(audit: AuditResult) -> ToneStudy:
    """The study of one variant and one real paired comparison, 2 groups of 40 images."""
    rng = np.random.default_rng(0)
    y = np.tile([1] * 10 + [0] * 30, 2)
    a = np.clip(0.4 * y + 0.6 * rng.random(80), 0, 1)
    b = np.clip(0.6 * y + 0.4 * rng.random(80), 0, 1)
    groups = np.repeat(["I", "III"], 40)
    options = AuditOptions(n_bootstrap=300, n_permutations=50)
    paired = paired_comparison(y, [RunInput("a", a)], [RunInput("b", b)], groups=groups,
                               names=("baseline", "augmented"), options=options)  # fmt: skip
    return tone_study({"baseline": ([42], audit)}, [paired], "fst")


def make_tree(tmp_path: Path, dark: int = 1, phantom: bool = True) -> tuple[Path, Path]:
    """A fake ``reports/`` and ``metrics/``, written by the stages' section writers."""
    reports, metrics = tmp_path / "reports", tmp_path / "metrics"
    _skintone(reports, dark, phantom)
    keys = ("class", "original", "original_dark", "synthetic", "augmented")
    keys += ("paper_original", "paper_synthetic", "paper_augmented")
    table2 = [_row(keys, ("Total", 120 + dark, dark, 13, 133 + dark, 17728, 808, 18536))]
    validation = {"synthetic": 24, "rejected": 11, "validated": 13}
    write_sections(reports / "synthetic", table2_section(table2, validation, phantom))
    columns = ("split", "superclass", "fst", "source", "images")
    rows = [
        _row(columns, ("test", "melanocytic", "I", "real", 40)),
        _row(columns, ("test", "non_melanocytic", "V", "real", dark)),
    ]
    write_sections(reports / "split", composition_section(rows, "split", phantom))
    rows += [_row(columns, ("train", "melanocytic", "V", "synthetic", 9))]
    write_sections(reports / "merge", composition_section(rows, "merge", phantom))
    _segment(reports, dark, phantom)
    _classify(reports, dark, phantom)
    audit = _audit(dark)
    if not phantom:
        audit = replace(audit, provenance=replace(audit.provenance, phantom=False))
    study = _study(audit)
    part = fairness_section({RUN: audit}, replace(study, phantom=phantom))
    write_sections(reports / "fairness", part)
    for figure in FIGURES:
        (reports / figure).parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (4, 3), (200, 120, 90)).save(reports / figure)
    _json(metrics / "generate.json", {"images": 24})
    Runtimes("ms/image", {"augmented": 2.5, "maxflow": 40.0}).write(
        metrics / "runtime/segment.json"
    )
    return reports, metrics


def block(page: str, table_id: str) -> str:
    """The ``<div class="block">`` holding a table: its warnings, the table and its notes."""
    return dict(re.findall(r'<div class="block" data-table="([^"]+)">(.*?)</div>', page, re.S))[
        table_id
    ]


def table_rows(page: str, table_id: str) -> list[list[str]]:
    """Every row of a table (the header row first), as unescaped cell texts."""
    table = re.search(rf'<table id="{re.escape(table_id)}">(.*?)</table>', page, re.S)
    assert table, f"no table {table_id}"
    return [
        [html.unescape(c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", table.group(1), re.S)
    ]


def rows(page: str, table_id: str) -> dict[str, list[str]]:
    """Table rows keyed by their first cell (unique in the tables this is used on)."""
    out = {r[0]: r[1:] for r in table_rows(page, table_id)}
    assert len(out) == len(table_rows(page, table_id)), f"first cells of {table_id} repeat"
    return out


def render(tmp_path: Path, **kwargs: Any) -> str:
    reports, metrics = make_tree(tmp_path, **kwargs)
    return render_html(collect(reports, metrics), {"profile": "embedded"}, reports)


def test_every_table_id_is_in_the_html_and_the_page_is_self_contained(tmp_path: Path) -> None:
    page = render(tmp_path)
    ids = set(re.findall(r'<table id="([^"]+)"', page))
    expected = {"run-info", "table1", "table2", "table3", "table3-fst", "table4", "table5"}
    expected |= {"agreement", "agreement-robust", "seeds", "split-composition"}
    expected |= {"fairness-summary", f"fairness-{RUN}", f"fairness-{RUN}-gaps"}
    expected |= {f"fairness-{RUN}-contrast", f"fairness-{RUN}-calibration"}
    expected |= {f"paired-{PAIRED}", "tone-gaps", "tone-paired"}
    assert expected <= ids
    assert len(re.findall(r"<table ", page)) == len(ids)  # ids are unique
    assert not re.search(r"<script|<link|https?:|src=\"/", page)
    assert "<style>" in page


def test_paired_table_shows_delta_interval_p_and_the_rule(tmp_path: Path) -> None:
    page = render(tmp_path)
    table = rows(page, f"paired-{PAIRED}")
    sens = table["sensitivity (all images)"]  # A, B, Δ [interval], p, p (Holm)
    a, b = float(sens[0]), float(sens[1])
    assert float(sens[2].split(" [")[0]) == pytest.approx(b - a, abs=0.0015)
    assert "[" in sens[2]
    assert 0 < float(sens[3]) <= 1
    assert "AUC V–VI − I–II (primary)" in table
    assert "sensitivity gap (max − min)" in table
    assert "at least 5 images with a positive image and 5 with a negative one" in page


def test_the_audit_leads_with_the_contrast_and_its_study(tmp_path: Path) -> None:
    page = render(tmp_path, dark=40)
    contrast = rows(page, f"fairness-{RUN}-contrast")
    assert contrast["AUC (primary)"][0] == "undefined (one class only)"  # V has no positive
    assert "Headline (pre-specified): AUC V–VI minus I–II: undefined" in page
    study = rows(page, "tone-gaps")
    assert study["Baseline"][0] == "1"  # seeds


def test_differences_are_ours_minus_paper(tmp_path: Path) -> None:
    page = render(tmp_path)
    # Table 3: IoU 0.80 (ours) - 0.85 (paper); Hausdorff 12.5 - 10.
    table3 = rows(page, "table3")
    assert table3["metric"][2] == "Augmented CNN Δ (ours − paper)"
    assert table3["Mean IoU"] == ["0.850", "0.800", "-0.050"]
    # Hausdorff: pixels at our size against the paper's unknown resolution, so no Δ.
    hausdorff = table3["Hausdorff dist. (px)"]
    assert hausdorff[:2] == ["10", "12.500"]
    assert hausdorff[2].startswith("— (not comparable: pixels at our cache size")
    # Table 5: val AUC 0.9 - 0.9765; accuracy in percent, 85.0 - 87.65.
    table5 = table_rows(page, "table5")
    auc = next(r for r in table5 if r[:2] == ["Baseline", "AUC"])
    assert auc[5:8] == ["0.9765", "0.9000", "-0.0765"]
    accuracy = next(r for r in table5 if r[:2] == ["Baseline", "Accuracy (%)"])
    # Train: our eval-mode score against the paper's running value: no Δ, the reason instead.
    assert accuracy[2:4] == ["87.65", "85.00"]
    assert accuracy[4] == "— (a)"  # the reason once, as the table's footnote
    assert "(a) Δ left out: not comparable: ours scores the kept weights" in page
    assert page.count("ours scores the kept weights") == 1
    assert accuracy[8] == "85.00"  # the real test column, no paper value
    # Table 1: ITA type II share 40/121 against the paper's 4888/17728, in points.
    share = 100 * (40 / 121 - 4888 / 17728)
    assert rows(page, "table1")["ITA type"][-1] == "Δ share (ours − paper)"
    assert rows(page, "table1")["II"][-1] == f"{share:+.2f} pp"
    # Table 4: 2.5 ms (ours, from table3.csv) - 130 ms.
    assert rows(page, "table4")["Segmentation (Augmented CNN), inference"][2] == "-127.50 ms/image"


def test_images_are_relative_existing_and_survive_a_copy(tmp_path: Path) -> None:
    reports, metrics = make_tree(tmp_path)
    write_report(reports, metrics, {}, reports / "index.html", reports / "tables.md")
    copy = shutil.copytree(reports, tmp_path / "elsewhere" / "copied")
    page = (copy / "index.html").read_text(encoding="utf-8")
    images = re.findall(r'<img src="([^"]+)" alt="([^"]+)"', page)
    assert sorted(src for src, _ in images) == sorted(FIGURES)
    for src, alt in images:
        assert (copy / src).is_file()  # relative (sorted list above), resolving in the copy
        assert alt.strip()
    markdown = (copy / "tables.md").read_text(encoding="utf-8")
    assert sorted(re.findall(r"!\[[^\]]+\]\(([^)]+)\)", markdown)) == sorted(FIGURES)


def test_a_missing_figure_is_marked_not_linked(tmp_path: Path) -> None:
    reports, metrics = make_tree(tmp_path)
    (reports / "classify/figure5.png").unlink()
    summary = write_report(reports, metrics, {}, reports / "index.html", reports / "tables.md")
    page = (reports / "index.html").read_text(encoding="utf-8")
    assert "Missing figure: classify/figure5.png was not found." in page
    assert 'src="classify/figure5.png"' not in page
    assert summary["figures_missing"] == ["classify/figure5.png"]
    assert "classify/figure5.png" not in summary["figures"]


AFFECTED = {
    "table1": "image is",
    "table2": "original image is",
    "table3-fst": "test image is",
    "table5": "test image is",
    f"fairness-{RUN}-contrast": "test image in this audit is",
    "agreement": "labelled image is",
}


@pytest.mark.parametrize("dark", [1, 49, 50, 60])
def test_dark_skin_warning_sits_next_to_every_affected_table_below_fifty(
    tmp_path: Path, dark: int
) -> None:
    reports, metrics = make_tree(tmp_path, dark=dark)
    data = collect(reports, metrics)
    page = render_html(data, {}, reports)
    for table_id, noun in AFFECTED.items():
        before_table = block(page, table_id).split("<table", 1)[0]
        assert (DARK_TEXT in before_table) == (dark < 50), table_id
        if dark == 1:
            assert f"Only 1 {noun} ITA type V–VI: {DARK_TEXT} (fewer than 50)." in before_table
    for table_id in ("table3", "table4", "seeds", "run-info"):  # not resting on dark skin
        assert DARK_TEXT not in block(page, table_id)
    assert (DARK_TEXT in render_markdown(data, {})) == (dark < 50)


def test_phantom_data_are_said_to_test_the_pipeline(tmp_path: Path) -> None:
    phrase = "these numbers test the pipeline, not the methods"
    page = render(tmp_path / "a", phantom=True)
    for table_id in ("table1", "table3", "table5", f"fairness-{RUN}-contrast"):
        assert phrase in block(page, table_id)
    reports, metrics = make_tree(tmp_path / "b", phantom=False)
    assert phrase not in render_html(collect(reports, metrics), {}, reports)


def test_a_missing_stage_is_a_not_run_section(tmp_path: Path) -> None:
    reports, metrics = make_tree(tmp_path)
    shutil.rmtree(reports / "segment")
    (reports / "classify/section.json").unlink()
    summary = write_report(reports, metrics, {}, reports / "index.html", reports / "tables.md")
    page = (reports / "index.html").read_text(encoding="utf-8")
    sections = dict(re.findall(r'<section id="(sec-table[35])">(.*?)</section>', page, re.S))
    gone = "reports/segment/ does not exist"
    assert f"Not run: {gone}." in sections["sec-table3"]
    assert "Not run: reports/classify/section.json does not exist." in sections["sec-table5"]
    assert summary["not_run"] == ["classify", "segment"]
    assert not re.search(r'id="table[35]"', page)
    assert {"table1", "table2", "table4", f"fairness-{RUN}"} <= set(summary["tables"])
    segmentation = rows(page, "table4")["Segmentation (Augmented CNN), inference"]
    assert segmentation[1:] == ["not recorded", "—", "segment stage not run (" + gone + ")"]
    markdown = (reports / "tables.md").read_text(encoding="utf-8")
    assert "Not run: reports/segment/ does not exist." in markdown


def test_nan_is_shown_as_undefined_with_its_reason(tmp_path: Path) -> None:
    page = render(tmp_path)
    group_v = rows(page, f"fairness-{RUN}")["V"]
    assert group_v[3] == "no (flagged)"  # below the compared-groups rule
    assert group_v[4] == "undefined (no positives)"  # sensitivity
    assert group_v[6] == "undefined (one class only)"  # AUC
    gaps = rows(page, f"fairness-{RUN}-gaps")
    assert gaps["sensitivity"][1] == "undefined (fewer than two compared groups (see the rule))"
    eo = "equalized-odds difference (max of TPR and FPR gaps)"
    assert gaps[eo][1].startswith("undefined (fewer than two compared groups")
    assert rows(page, "agreement")[describe(ROBUST)][3] == (
        "undefined (kappa is undefined when a single type occurs)"
    )
    assert not re.search(r">\s*nan\s*<", page, re.I)


def test_intervals_from_the_bootstrap_and_seeds(tmp_path: Path) -> None:
    reports, metrics = make_tree(tmp_path)
    page = render_html(collect(reports, metrics), {"profile": "embedded"}, reports)
    audit = _audit(1)
    auc = audit.overall["auc"]
    low, high = auc.interval.low, auc.interval.high  # type: ignore[union-attr]
    assert rows(page, f"fairness-{RUN}")["all"][6] == f"{auc.value:.3f} [{low:.3f}, {high:.3f}]"
    val = next(r for r in table_rows(page, "seeds") if r[:2] == ["Baseline", "val"])
    assert val[4] == "0.9000 [0.8500, 0.9500]"  # AUC mean [low, high]
    assert val[3] == "85.00"  # accuracy: no interval recorded
    assert val[5] == "undefined (not defined in any seed)"  # precision
    assert "Baseline: 2 seed(s) (42, 43)" in page


@pytest.mark.parametrize(
    ("relative", "old", "new", "message"),
    [
        ("reports/fairness/section.json", None, "{not json", "not a readable JSON file"),
        ("reports/segment/section.json", '"Mean IoU"', "7", "expected a list of strings"),
        ("reports/skintone/section.json", '"phantom"', '"ghost"', "not a section file"),
        ("reports/classify/section.json", '"kind": "text"', '"kind": "loud"', "paragraph kind"),
        ("metrics/generate.json", None, "[1, 2]", "top level: expected an object"),
        ("metrics/runtime/segment.json", "ms/image", "hours", "expected {'unit'"),
    ],
)
def test_malformed_input_raises_naming_the_file(
    tmp_path: Path, relative: str, old: str | None, new: str, message: str
) -> None:
    reports, metrics = make_tree(tmp_path)
    path = tmp_path / relative
    path.write_text(new if old is None else path.read_text().replace(old, new, 1))
    (reports / "index.html").write_text("previous")
    with pytest.raises(FileContentError, match=re.escape(str(path))) as info:
        write_report(reports, metrics, {}, reports / "index.html", reports / "tables.md")
    assert message in str(info.value)
    assert (reports / "index.html").read_text() == "previous"  # nothing half-written
    assert not (reports / "tables.md").exists()


def test_table4_says_what_is_not_recorded_and_reads_what_is(tmp_path: Path) -> None:
    page = render(tmp_path / "a")
    table4 = rows(page, "table4")
    generation = table4["Synthetic generation (Diffusers)"]
    assert generation[1:4] == ["not recorded", "—", "metrics/runtime/generate.json absent"]
    assert table4["Classification (EfficientNet-B0)"][1] == "not recorded"
    source = "metrics/runtime/segment.json, augmented"
    assert table4["Segmentation (Augmented CNN), inference"][1:4] == [
        "2.50 ms/image",
        "-127.50 ms/image",
        source,
    ]
    reports, metrics = make_tree(tmp_path / "b")
    Runtimes("s/image", {"generation": 5.0}).write(metrics / "runtime/generate.json")
    Runtimes("ms/image", {"augmented": 45.5}).write(metrics / "runtime/classify.json")
    # Augmented did not run: the baseline stands in, and the source says so.
    Runtimes("ms/image", {"baseline": 140.0}).write(metrics / "runtime/segment.json")
    table4 = rows(render_html(collect(reports, metrics), {}, reports), "table4")
    generation, classification = (table4[k][1:4] for k in list(table4)[2:4])
    assert generation[:2] == ["5.00 s/image", "within the paper's range (4–6)"]
    assert classification[:2] == ["45.50 ms/image", "-14.50 ms/image"]
    assert classification[2] == "metrics/runtime/classify.json, augmented"
    segmentation = table4["Segmentation (Augmented CNN), inference"][1:4]
    assert segmentation == [
        "140.00 ms/image",
        "+10.00 ms/image",
        "metrics/runtime/segment.json, baseline",
    ]
    Runtimes("s/image", {}).write(metrics / "runtime/generate.json")  # all kept from before
    generation = rows(render_html(collect(reports, metrics), {}, reports), "table4")
    assert "holds no generation time" in generation["Synthetic generation (Diffusers)"][3]


def test_the_hashed_report_points_to_runtimes_and_the_run_gets_them(tmp_path: Path) -> None:
    reports, metrics = make_tree(tmp_path)
    out = tmp_path / "out"
    header = run_header("phantom", "data/raw", "embedded")
    assert "git commit" not in header
    write_report(reports, metrics, header, out / "a.html", out / "a.md", runtimes=False)
    page = (out / "a.html").read_text()
    table4 = rows(page, "table4")
    segmentation = table4["Segmentation (Augmented CNN), inference"]
    assert segmentation[1] == "not on this page"
    assert "skinbench runtimes" in segmentation[3]
    assert "2.50 ms/image" not in page
    # Other times give the same page byte for byte: it never changes between reproductions.
    Runtimes("ms/image", {"augmented": 99.0}).write(metrics / "runtime/segment.json")
    write_report(reports, metrics, header, out / "b.html", out / "b.md", runtimes=False)
    assert (out / "b.html").read_bytes() == (out / "a.html").read_bytes()
    assert (out / "b.md").read_bytes() == (out / "a.md").read_bytes()
    text = runtimes_markdown(reports, metrics)
    assert "| Segmentation (Augmented CNN), inference | 130 ms/image | 99.00 ms/image |" in text


def test_write_report_writes_both_files_atomically_and_summarises(tmp_path: Path) -> None:
    reports, metrics = make_tree(tmp_path)
    out = tmp_path / "out"
    header = {"git commit": "0123abc", "MLflow run ids": "classify=<a1>"}
    summary = write_report(reports, metrics, header, out / "index.html", out / "t.md")
    assert sorted(p.name for p in out.iterdir()) == ["index.html", "t.md"]  # no temp files left
    assert {"table1", "table2", "table3", "table4", "table5"} <= set(summary["tables"])
    assert sorted(summary["figures"]) == sorted(FIGURES)
    page = (out / "index.html").read_text(encoding="utf-8")
    assert summary["warnings"] == page.count('class="warning"')
    assert 'src="../reports/skintone/figure4.png"' in page  # relative to the page's folder
    assert rows(page, "run-info") == {"item": ["value"]} | {k: [v] for k, v in header.items()}
    assert "classify=&lt;a1&gt;" in page
    markdown = (out / "t.md").read_text(encoding="utf-8")
    assert "*table3: " in markdown
    assert "> **Warning:** Only 1 test image is ITA type V–VI" in markdown
    assert "| MLflow run ids | classify=<a1> |" in markdown


def test_real_pipeline_reports(tmp_path: Path) -> None:
    real_reports, real_metrics = REPO / "reports", REPO / "metrics"
    mains = ("skintone/section.json", "synthetic/section.json", "segment/section.json")
    mains += ("classify/section.json",)
    if not real_metrics.is_dir() or not all((real_reports / m).is_file() for m in mains):
        pytest.skip("no complete pipeline outputs under reports/ and metrics/ (dvc repro)")
    try:
        reports = shutil.copytree(real_reports, tmp_path / "reports")
        metrics = shutil.copytree(real_metrics, tmp_path / "metrics")
    except (shutil.Error, OSError):
        pytest.skip("the pipeline outputs changed while being copied (dvc repro running?)")
    summary = write_report(reports, metrics, {}, reports / "index.html", reports / "tables.md")
    page = (reports / "index.html").read_text(encoding="utf-8")
    for table_id in ("table1", "table2", "table3", "table4", "table5"):
        assert f'<table id="{table_id}">' in page
    for src in re.findall(r'<img src="([^"]+)"', page):
        assert (reports / src).is_file()
    assert summary["tables"][:2] == ["run-info", "table1"]


def test_what_did_not_run_shows_its_recorded_reason_and_no_number(tmp_path: Path) -> None:
    reports, metrics = make_tree(tmp_path)
    no_dark = "0 ITA type V–VI training images (min 20)"
    _json(metrics / "finetune_lora.json", {"status": "not run", "reason": no_dark})
    _json(metrics / "generate.json", {"status": "not run", "reason": f"finetune_lora: {no_dark}"})
    shutil.rmtree(reports / "segment")
    no_masks = "no real test image with a ground-truth lesion mask"
    _json(reports / "segment/not_run.json", {"status": "not run", "reason": no_masks})
    paper = {"baseline": T5_PAPER, "augmented": T5_PAPER}
    _classify(reports, 1, True, paper=paper, not_run={"augmented": "no synthetic training image"})
    data = collect(reports, metrics)
    assert data.not_run["finetune_lora"] == no_dark
    assert data.not_run["segment"] == no_masks
    page = render_html(data, {}, reports)
    assert f"Not run: {no_masks}." in page
    assert "Augmented: not run (no synthetic training image)." in page
    auc = [r for r in table_rows(page, "table5") if r[:2] == ["Augmented", "AUC"]]
    assert auc == [
        ["Augmented", "AUC", "0.9880", "not run", "—", "0.9765", "not run", "—", "not run"]
    ]
    assert "finetune_lora (" + no_dark + ")" in page
    seeds = {r[0] for r in table_rows(page, "seeds")[1:]}
    assert seeds == {"Baseline"}
