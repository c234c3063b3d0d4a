"""One model's runs (seeds) on the same images: estimates, intervals and permutation draws.

A statistic is a function of one run's per-set metrics (:meth:`~benchmark.metrics.weighted.
Scored.metrics`: ``{metric: (D, S)}`` for D weightings of S sets of images) to (D,) values:
a group's sensitivity, a gap over the compared groups, the V–VI minus I–II AUC contrast.
:class:`RunStats` evaluates any such statistic

- at the sample: each run's value, and their mean (the estimate);
- in every replicate of the hierarchical bootstrap (:mod:`benchmark.metrics.bootstrap`:
  runs drawn, then patients within groups; the same draws for every statistic);
- under patient permutations (:meth:`RunStats.permuted`): the mean over runs of the
  statistic when the pool's patients swap groups, the same permutations for every run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import NDArray

from benchmark.metrics.bootstrap import over_runs, patient_weights, run_draws
from benchmark.metrics.estimates import Estimate, Interval, mean_estimate, percentile_interval
from benchmark.metrics.permutation import permuted_units
from benchmark.metrics.units import Units
from benchmark.metrics.weighted import CHUNK, Scored

F64 = NDArray[np.float64]
Metrics = dict[str, F64]
Statistic = Callable[[Metrics], F64]


class RunStats:
    """Statistics of R runs over S fixed sets of images, with shared resamples.

    Args:
        scored: One :class:`Scored` per run, over the same n images.
        sets: The S sets, each a list of group labels (an image is in a set when its group
            is); ``None`` in place of a list means every image.
        units: The images' units (their groups define the sets).
        level: Interval coverage.
        n_bootstrap: Replicates (0: no intervals).
        rng: Generator of the replicates (patients drawn first, then runs).
    """

    def __init__(
        self,
        scored: Sequence[Scored],
        sets: Sequence[Sequence[str] | None],
        units: Units,
        level: float,
        n_bootstrap: int,
        rng: np.random.Generator,
    ) -> None:
        self.scored, self.sets, self.units, self.level = list(scored), list(sets), units, level
        self.membership = _membership(units.group, self.sets)
        self.point = [s.metrics(self.membership[None]) for s in self.scored]
        self.weights: F64 | None = None
        self.boot: list[Metrics] = []
        self.draws = np.ones((0, len(self.scored)))
        if n_bootstrap:
            order = list(dict.fromkeys(units.unit_group.tolist()))
            self.weights = patient_weights(units, sorted(order), n_bootstrap, rng)
            both = self.weights[:, None, :] * self.membership[None]
            self.boot = [s.metrics(both) for s in self.scored]
            self.draws = run_draws(len(self.scored), n_bootstrap, rng)

    def values(self, fn: Statistic) -> list[float]:
        """Each run's value of ``fn`` at the sample."""
        return [float(fn(p)[0]) for p in self.point]

    def replicates(self, fn: Statistic) -> F64:
        """(B,) mean over each replicate's drawn runs (empty without a bootstrap)."""
        if not self.boot:
            return np.empty(0)
        return over_runs(np.stack([fn(b) for b in self.boot]), self.draws)

    def interval(self, fn: Statistic) -> Interval | None:
        """Percentile interval of ``fn`` over the replicates (None without a bootstrap)."""
        return percentile_interval(self.replicates(fn), self.level) if self.boot else None

    def estimate(self, fn: Statistic, reason: str) -> Estimate:
        """Mean over runs with its interval; undefined with ``reason`` where a run's is."""
        return mean_estimate(self.values(fn), reason).with_interval(self.interval(fn))

    def permuted(
        self,
        fns: dict[str, Statistic],
        sets: Sequence[Sequence[str]],
        pool: Sequence[str],
        n_permutations: int,
        rng: np.random.Generator,
    ) -> dict[str, F64]:
        """(R,) mean over runs of each statistic when the pool's patients are permuted.

        Args:
            fns: Statistics of the metrics over ``sets`` (their own set order).
            sets: The sets the statistics read (group labels, membership after permuting).
            pool: Groups whose patients are permuted (:func:`permuted_units`).
            n_permutations: R.
            rng: Generator of the permutations.
        """
        source = permuted_units(self.units, pool, n_permutations, rng)
        step = max(1, CHUNK // max(1, len(sets) * self.units.index.size))
        out: dict[str, list[F64]] = {k: [] for k in fns}
        for start in range(0, n_permutations, step):
            groups = self.units.unit_group[source[start : start + step]][:, self.units.index]
            member = np.stack([np.isin(groups, list(s)) for s in sets], axis=1).astype(float)
            per_run = [s.metrics(member) for s in self.scored]
            for key, fn in fns.items():
                out[key].append(np.mean([fn(m) for m in per_run], axis=0))
        return {k: np.concatenate(v) for k, v in out.items()}


def _membership(groups: NDArray[np.str_], sets: Sequence[Sequence[str] | None]) -> F64:
    rows = [np.ones(groups.size, bool) if s is None else np.isin(groups, list(s)) for s in sets]
    return np.stack(rows).astype(np.float64)
