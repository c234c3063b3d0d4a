"""Rejection rates of the audit's tests under the clustered null, patients against images.

Prints one Markdown table: for 1.5, 5 and 16 images per patient, the share of draws in
which the primary contrast's test and the max − min sensitivity gap's test reject at
α = 0.05, once with patients as the unit (the audit with a patient column) and once with
images as units (the audit without one: what the suite did before it moved patients).

Usage (out of the test run; about a minute per 100 draws on 2 cores)::

    python -m tests.perf.clustered_null --draws 200 --permutations 199
"""

from __future__ import annotations

import click
import numpy as np

from benchmark.fairness.binary import binary_audit
from benchmark.fairness.inputs import AuditOptions, RunInput
from tests.support.clustered import clustered_null


def rates(per_patient: float, draws: int, permutations: int, patients: bool) -> tuple[float, ...]:
    """(contrast, gap) rejection rates at 0.05 over ``draws`` seeded draws."""
    hits = np.zeros(2)
    for seed in range(draws):
        y, s, g, ids = clustered_null(seed, per_patient)
        options = AuditOptions(n_permutations=permutations, seed=seed, calibration_draws=0)
        got = binary_audit(y, [RunInput("r", s)], groups=g, clusters=ids if patients else None,
                           options=options)  # fmt: skip
        tests = (got.primary.test, got.gap("sensitivity").test)
        hits += [t is not None and t.p_value < 0.05 for t in tests]
    return tuple(float(h) / draws for h in hits)


@click.command()
@click.option("--draws", default=200, show_default=True)
@click.option("--permutations", default=199, show_default=True)
def main(draws: int, permutations: int) -> None:
    """Print the table."""
    click.echo("| images per patient | unit | contrast (AUC V–VI − I–II) | max − min sensitivity |")
    click.echo("|---:|---|---:|---:|")
    for per in (1.5, 5, 16):
        for patients in (False, True):
            contrast, gap = rates(per, draws, permutations, patients)
            unit = "patients" if patients else "images (before)"
            click.echo(f"| {per} | {unit} | {contrast:.3f} | {gap:.3f} |")


if __name__ == "__main__":
    main()
