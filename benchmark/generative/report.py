"""The validate_synthetic stage's outputs: tables, Figure 3, rejections, metrics."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from benchmark.core.caveats import is_phantom
from benchmark.core.document import write_sections
from benchmark.core.groupings import SKIN_TYPE_SHORT
from benchmark.core.io import atomic_path, write_json_atomic
from benchmark.generative.section import table2_section
from benchmark.generative.validate import ValidationResult, load_resized, table2

REFERENCE_COLUMNS = ("image_id", "patient_id", "split")


def figure3(rows: dict[str, list[Path]], path: Path, size: int = 96) -> None:
    """A grid like paper Figure 3: one labelled row of images per group."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = max((len(v) for v in rows.values()), default=1)
    fig, axes = plt.subplots(
        len(rows), columns, figsize=(1.6 * columns, 1.8 * len(rows)), squeeze=False, dpi=100
    )
    for r, (label, paths) in enumerate(rows.items()):
        for c in range(columns):
            ax = axes[r][c]
            ax.axis("off")
            if c < len(paths):
                ax.imshow(load_resized([paths[c]], size)[0])
        axes[r][0].set_title(label, fontsize=8, loc="left")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _figure_rows(
    synthetic: pd.DataFrame,
    rejected: pd.DataFrame,
    dark: pd.DataFrame,
    synthetic_root: Path,
    real_root: Path,
) -> dict[str, list[Path]]:
    kept = synthetic[~synthetic["image_id"].isin(rejected["image_id"])]
    rows: dict[str, list[Path]] = {}
    for superclass in ("melanocytic", "non_melanocytic"):
        part = kept[kept["superclass"] == superclass].head(6)
        rows[f"synthetic {superclass} (kept)"] = [synthetic_root / p for p in part["image_path"]]
    gone = synthetic[synthetic["image_id"].isin(rejected["image_id"])].head(6)
    rows["synthetic, rejected"] = [synthetic_root / p for p in gone["image_path"]]
    rows[f"real {SKIN_TYPE_SHORT} V–VI (LoRA training)"] = [
        real_root / p for p in dark["image_path"].head(6)
    ]
    return rows


def write_outputs(
    result: ValidationResult,
    synthetic: pd.DataFrame,
    real: pd.DataFrame,
    dark: pd.DataFrame,
    roots: tuple[Path, Path],
    dark_types: tuple[str, ...],
    out_dir: Path,
) -> dict[str, Any]:
    """Write validation.csv, rejected.csv, distribution.json, Table 2 and Figure 3.

    Args:
        result: The validation result.
        synthetic: All synthetic rows.
        real: The real manifest (for Table 2's original counts).
        dark: The real dark-skin rows the LoRA was trained on (train split): the references,
            listed in ``reference.csv``.
        roots: ``(synthetic_root, real_root)``.
        dark_types: The skin types (ITA-estimated) of the dark subset.
        out_dir: Folder to write (replaced atomically).

    Returns:
        The stage metrics.
    """
    table = table2(real, result.validated, dark_types)
    kept = result.metrics[~result.metrics["image_id"].isin(result.rejected["image_id"])]
    metrics = {
        "synthetic": len(synthetic),
        "validated": len(result.validated),
        "rejected": len(result.rejected),
        "reference_images": len(dark),
        "tone_within_one": float((result.metrics["tone_distance"] <= 1).mean()),
        # Rates over the kept images (NaN when none is kept): what augmentation adds.
        "kept_lesion_rate": float(kept["lesion_found"].mean()) if len(kept) else float("nan"),
        "kept_tone_rate": float(kept["tone_group_hit"].mean()) if len(kept) else float("nan"),
        "lesion_rate": float(result.metrics["lesion_found"].mean()),
        "reference_delta_e": float(result.metrics["reference_delta_e"].iloc[0]),
        "fid": result.distribution["fid"],
        "kid": result.distribution["kid"],
    }
    rows = table.reset_index(names="class").to_dict("records")
    phantom = is_phantom(real["dataset"]) if "dataset" in real else False
    with atomic_path(out_dir) as tmp:
        tmp.mkdir(parents=True)
        result.metrics.to_csv(tmp / "validation.csv", index=False)
        result.rejected.to_csv(tmp / "rejected.csv", index=False)
        dark[list(REFERENCE_COLUMNS)].sort_values("image_id").to_csv(
            tmp / "reference.csv", index=False
        )
        write_json_atomic(tmp / "distribution.json", result.distribution)
        table.to_csv(tmp / "table2.csv", index_label="class")
        (tmp / "table2.md").write_text(table.to_markdown() + "\n")
        figure3(_figure_rows(synthetic, result.rejected, dark, *roots), tmp / "figure3.png")
        write_sections(tmp, table2_section(rows, metrics, phantom))
    return metrics
