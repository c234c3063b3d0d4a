"""The skintone stage's outputs: Table 1, Figure 4, lesion effect and ITA agreement."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from benchmark.core.caveats import is_phantom
from benchmark.core.document import write_sections
from benchmark.core.groupings import PAPER, PROTOCOL, ROBUST, SKIN_TYPE, SKIN_TYPE_SHORT
from benchmark.core.io import atomic_path, write_json_atomic
from benchmark.metrics.agreement import fst_agreement
from benchmark.skintone import tables
from benchmark.skintone.section import table1_section


def _notes(
    manifest: pd.DataFrame, table: pd.DataFrame, effect: pd.DataFrame, primary: str
) -> list[str]:
    head = tables.summary(table)
    why = {
        "paper": "fewer than the minimum of skin pixels",
        "paper_guarded": "fewer than the minimum of skin pixels, or b* <= 0",
        "robust": "too little skin outside the lesion",
    }[primary]
    notes = [
        f"{SKIN_TYPE} from the {primary} ITA estimate (column {PROTOCOL}); {SKIN_TYPE_SHORT} "
        f"I-III {head['share_I_III']:.1%} (paper {head['paper_share_I_III']:.1%}), "
        f"V-VI {head['share_V_VI']:.1%} (paper {head['paper_share_V_VI']:.1%}); "
        f"{head['uncertain']} uncertain ({why}).",
    ]
    if sources := tables.mask_sources(manifest):
        fell_back = int(manifest["ita_note"].notna().sum()) if "ita_note" in manifest else 0
        notes.append(
            "Lesion left out of the robust estimate: "
            + ", ".join(f"{k.replace('_', ' ')} mask {v}" for k, v in sources.items())
            + f"; {fell_back} image(s) fell back or were left uncertain by a rule "
            "(reason per image in ita_note)."
        )
    moves = tables.literal_moves(manifest)
    if "fst_paper_guarded" in manifest:
        listed = ", ".join(f"{k} -> uncertain {v}" for k, v in moves.items()) or "none"
        notes.append(
            f"Paper formula as printed against the guarded rule: {sum(moves.values())} "
            f"image(s) with b* <= 0 that the literal formula types and the guard leaves "
            f"uncertain ({listed})."
        )
    total = effect.loc["Total"].to_dict() if len(effect) else {"with_mask": 0}
    if total["with_mask"]:
        notes.append(
            f"Lesion in or out: of {total['with_mask']} images with a lesion mask, "
            f"{total['changed']} change type when the lesion is excluded from the paper rule "
            f"({total['to_lighter']} lighter, {total['to_darker']} darker, "
            f"{total['to_uncertain']} to uncertain). Per type (changed/with mask): "
            + "; ".join(
                f"{label} {row['changed']}/{row['with_mask']}"
                for label, row in effect.drop(index="Total").iterrows()
            )
            + "."
        )
    if "dataset" in manifest and bool((manifest["dataset"] == "phantoms").all()):
        notes.append(
            "Images are phantoms (synthetic skin of known colour), not patients: "
            f"no openly licensed {SKIN_TYPE_SHORT} V–VI dermoscopic image was available."
        )
    if (note := tables.dark_note(table)) is not None:
        notes.append(note)
    return notes


def write_outputs(manifest: pd.DataFrame, out_dir: Path, primary: str) -> dict[str, Any]:
    """Write Table 1, Figure 4, lesion effect, agreement and the groupings' cross-tabulation.

    Table 1 as CSV, JSON and Markdown; Figure 4 as PNG; the cross-tabulation of ``fst_paper``
    against ``fst_robust`` as ``crosstab.json``.

    Args:
        manifest: Manifest with the skintone columns.
        out_dir: Folder to write (replaced atomically).
        primary: Name of the estimate that fills ``fst`` (for the notes).

    Returns:
        The stage metrics: headline shares, counts, lesion effect, agreement.
    """
    table = tables.table1(manifest)
    effect = tables.lesion_effect(manifest)
    notes = _notes(manifest, table, effect, primary)
    agreement = {
        name: fst_agreement(manifest["fst_label"], manifest[column])
        for name, column in (("paper", PAPER), ("robust", ROBUST))
        if column in manifest and "fst_label" in manifest and manifest["fst_label"].notna().any()
    }
    both = tables.crosstab(manifest)
    with atomic_path(Path(out_dir)) as tmp:
        tmp.mkdir(parents=True)
        table.to_csv(tmp / "table1.csv", index_label="fst")
        rows = table.reset_index(names="fst").to_dict("records")
        write_json_atomic(tmp / "table1.json", {"rows": rows, "notes": notes})
        phantom = is_phantom(manifest["dataset"]) if "dataset" in manifest else False
        write_sections(tmp, table1_section(rows, notes, agreement, phantom, both))
        if both is not None:
            both.write(tmp / "crosstab.json")
        (tmp / "table1.md").write_text(tables.table1_markdown(table, notes), encoding="utf-8")
        tables.figure4(
            table, tmp / "figure4.png", f"{SKIN_TYPE} distribution ({len(manifest)} images)"
        )
        effect.to_csv(tmp / "lesion_effect.csv", index_label="fst_paper")
        write_json_atomic(tmp / "agreement.json", agreement)
    metrics: dict[str, Any] = tables.summary(table)
    total = effect.loc["Total"].to_dict() if len(effect) else {"changed": 0, "with_mask": 0}
    metrics["lesion_changed"] = int(total["changed"])
    metrics["with_mask"] = int(total["with_mask"])
    metrics["ita_mask_source"] = tables.mask_sources(manifest)
    metrics["literal_to_uncertain"] = sum(tables.literal_moves(manifest).values())
    if both is not None:
        metrics["crosstab"] = both.metrics()
    for name, result in agreement.items():
        metrics[f"agreement_{name}"] = {
            k: result[k] for k in ("support", "exact", "within_one", "kappa_quadratic")
        }
    return metrics
