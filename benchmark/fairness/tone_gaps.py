"""The study's question per variant: sensitivity by tone group and the V–VI vs I–II gap.

Every run keeps its own validation-chosen threshold (from its audit); the runs of a variant
(its seeds) are averaged (:func:`benchmark.metrics.seeds.seed_mean_sensitivity`), with a
patient-bootstrap interval and an interval over seeds. Written as ``tone_gaps.json``,
``tone_gaps.md`` and ``tone_gaps.png``, and summarised in words that claim no more than the
intervals allow (:func:`verdict`).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from benchmark.core.document import with_interval
from benchmark.core.io import write_json_atomic
from benchmark.core.naming import CLASSIFIER_VARIANTS, VARIANT_LABELS, parse_run_name
from benchmark.core.splits import tone_group
from benchmark.fairness.audit import read_predictions
from benchmark.metrics.seeds import seed_mean_sensitivity, t_interval

TONES = ("I-II", "III-IV", "V-VI")
GAP = ("V-VI", "I-II")  # sensitivity on dark minus light skin: negative = dark served worse
COLUMNS = ("y_true", "y_score", "fst", "patient_id")


def tone_gaps(
    predictions_dir: Path, audits: dict[str, dict[str, Any]], n_bootstrap: int, seed: int
) -> dict[str, dict[str, Any]]:
    """Per variant: seed-mean sensitivity per tone group, the gap, and the mean AUC.

    Args:
        predictions_dir: The classify stage's ``<run>_test.csv`` files.
        audits: Run name -> its audit (``threshold``, ``overall.auc``).
        n_bootstrap: Patient resamples (the fairness stage's ``bootstrap``).
        seed: Seed of the resampling.

    Returns:
        ``{variant: {"seeds", "images", "groups", "gap", "auc", "n_bootstrap"}}`` in
        :data:`CLASSIFIER_VARIANTS` order.
    """
    by_variant: dict[str, list[str]] = {}
    for run in sorted(audits):
        by_variant.setdefault(parse_run_name(run)[0], []).append(run)
    out = {}
    for variant in sorted(by_variant, key=_order):
        runs = by_variant[variant]
        frames = [read_predictions(predictions_dir / f"{r}_test.csv", list(COLUMNS)) for r in runs]
        first = frames[0]
        for run, frame in zip(runs, frames, strict=True):
            if not frame["patient_id"].equals(first["patient_id"]):
                raise ValueError(f"{run}_test.csv holds other test images than {runs[0]}_test.csv")
        preds = [
            frame["y_score"].astype(float).to_numpy() >= audits[run]["threshold"]
            for run, frame in zip(runs, frames, strict=True)
        ]
        result = seed_mean_sensitivity(
            first["y_true"].astype(int).to_numpy(),
            np.stack(preds),
            groups=tone_group(first["fst"]).to_numpy(),
            gap=GAP,
            clusters=first["patient_id"].fillna("").to_numpy(),
            n_bootstrap=n_bootstrap,
            seed=seed,
        )
        aucs = [float(audits[r]["overall"]["auc"]) for r in runs]
        counts = tone_group(first["fst"]).value_counts()
        out[variant] = {
            "seeds": [parse_run_name(r)[1] for r in runs],
            "images": {t: int(counts.get(t, 0)) for t in TONES},
            "groups": {t: result["groups"][t] for t in TONES if t in result["groups"]},
            "gap": result["gap"],
            "auc": {"value": float(np.mean(aucs)), "per_run": aucs, "seeds": t_interval(aucs)},
            "n_bootstrap": n_bootstrap,
        }
    return out


def _order(variant: str) -> int:
    return CLASSIFIER_VARIANTS.index(variant) if variant in CLASSIFIER_VARIANTS else 99


def _cell(stat: dict[str, Any]) -> str:
    if stat.get("reason"):
        return f"undefined ({stat['reason']})"
    return with_interval(stat["value"], *stat["boot"])


def _seeds_cell(stat: dict[str, Any]) -> str:
    low, high = stat["seeds"]
    return "one seed: none" if math.isnan(low) else f"[{low:.3f}, {high:.3f}]"


def table_rows(results: dict[str, dict[str, Any]]) -> list[tuple[str, ...]]:
    """One row per variant: seeds, sensitivity per tone group, gap, AUC."""
    rows = []
    for variant, r in results.items():
        groups = [_cell(r["groups"][t]) if t in r["groups"] else "—" for t in TONES]
        auc = r["auc"]
        rows.append(
            (
                VARIANT_LABELS.get(variant, variant),
                str(len(r["seeds"])),
                *groups,
                _cell(r["gap"]),
                _seeds_cell(r["gap"]),
                with_interval(auc["value"], *auc["seeds"]),
            )
        )
    return rows


HEADER = (
    "model",
    "seeds",
    *(f"sensitivity {t} [patient bootstrap]" for t in TONES),
    "gap V-VI − I-II [patient bootstrap]",
    "gap: interval over seeds",
    "AUC (all) [over seeds]",
)


def verdict(variant: str, gap: dict[str, Any]) -> str:
    """One sentence on the gap that says no more than its intervals allow."""
    name = VARIANT_LABELS.get(variant, variant)
    if gap.get("reason"):
        return f"{name}: the gap is undefined ({gap['reason']})."
    low, high = gap["boot"]
    seeds_low, seeds_high = gap["seeds"]
    text = f"{name}: V–VI minus I–II sensitivity {with_interval(gap['value'], low, high)}"
    if low > 0 or high < 0:
        side = "lower" if high < 0 else "higher"
        claim = f"; the patient-bootstrap interval excludes 0: V–VI sensitivity is {side}"
    else:
        claim = "; the interval includes 0: no gap can be claimed at this test size"
    if not math.isnan(seeds_low) and seeds_low <= 0 <= seeds_high:
        claim += " (and the seeds disagree on its sign or size: the interval over seeds holds 0)"
    return text + claim + "."


def write_tone_gaps(results: dict[str, dict[str, Any]], out_dir: Path) -> list[Path]:
    """``tone_gaps.json``, ``tone_gaps.md`` and ``tone_gaps.png`` in ``out_dir``."""
    write_json_atomic(out_dir / "tone_gaps.json", results)
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(row) + " |" for row in table_rows(results)]
    verdicts = [f"- {verdict(v, r['gap'])}" for v, r in results.items()]
    (out_dir / "tone_gaps.md").write_text(
        "# Sensitivity by tone group, every variant (mean over seeds)\n\n"
        + "\n".join(lines)
        + "\n\n"
        + "\n".join(verdicts)
        + "\n"
    )
    _figure(results, out_dir / "tone_gaps.png")
    return [out_dir / n for n in ("tone_gaps.json", "tone_gaps.md", "tone_gaps.png")]


def _figure(results: dict[str, dict[str, Any]], path: Path) -> None:
    """Grouped bars: sensitivity per tone group per variant, patient-bootstrap intervals."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 3.4))
    width = 0.8 / max(len(results), 1)
    for k, (variant, r) in enumerate(results.items()):
        for t, tone in enumerate(TONES):
            stat = r["groups"].get(tone)
            if stat is None or stat["reason"]:
                continue
            x = t + (k - (len(results) - 1) / 2) * width
            low, high = stat["boot"]
            error = [[stat["value"] - low], [high - stat["value"]]] if np.isfinite(low) else None
            label = VARIANT_LABELS.get(variant, variant) if t == 0 else None
            ax.bar(x, stat["value"], width, color=f"C{k}", yerr=error, capsize=2, label=label)
    ax.set_xticks(range(len(TONES)), TONES)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("sensitivity (mean over seeds)")
    ax.set_title(
        "Melanocytic sensitivity by tone group (95% patient-bootstrap intervals)", fontsize=9
    )
    ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
