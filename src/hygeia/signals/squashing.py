"""Data squashing (DuMouchel & Pregibon 2001) with openEBGM's squashData / autoSquash semantics.

For one count N, the points are sorted by E; all but the `keep_pts` largest-E points are cut into
consecutive bins of `bin_size` (the last bin may be partial) and each bin becomes one super point
(N, mean E, weight = bin size). The largest Es vary most, so they stay unsquashed. The likelihood is
then a weighted sum over far fewer points, which is what makes a 10^7-pair fit take seconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

AUTO_KEEP_PTS = (100, 75, 50, 25)
AUTO_CUT_OFFS = (500, 1_000, 10_000, 100_000, 500_000, 1_000_000, 5_000_000)
AUTO_SUPER_PTS = (50, 75, 150, 500, 750, 1_000, 2_000, 5_000)


@dataclass(frozen=True)
class WeightedPoints:
    """(N, E, weight) points for the likelihood; unsquashed data have weight 1 everywhere."""

    n: np.ndarray
    e: np.ndarray
    weight: np.ndarray

    @classmethod
    def unsquashed(cls, n: np.ndarray, e: np.ndarray) -> WeightedPoints:
        return cls(np.asarray(n, np.int64), np.asarray(e, np.float64), np.ones(np.size(n), np.int64))

    @property
    def size(self) -> int:
        return int(self.n.size)


class SquashError(ValueError):
    """Raised where openEBGM's squashData would stop (too few points or bins)."""


def squash_count(
    points: WeightedPoints,
    count: int = 1,
    bin_size: int = 50,
    keep_pts: int = 100,
    min_bin: int = 50,
    min_pts: int = 500,
) -> WeightedPoints:
    """squashData(): squash the points with N == count; refuses what openEBGM refuses."""
    if bin_size < 2 or keep_pts < 0 or count < 0:
        raise SquashError("need bin_size >= 2, keep_pts >= 0 and count >= 0")
    selected = points.n == count
    if points.weight[selected].size and points.weight[selected].max() > 1:
        raise SquashError(f"the points with N = {count} have already been squashed")
    num_pts = int(selected.sum())
    if num_pts < min_pts:
        raise SquashError(f"not enough points for squashing ({num_pts} < min_pts {min_pts})")
    if num_pts / bin_size < min_bin:
        raise SquashError(f"not enough bins -- reduce bin_size ({num_pts}/{bin_size} < {min_bin})")
    num_squash = num_pts - keep_pts
    if num_squash < bin_size:
        raise SquashError("reduce bin_size or keep_pts")
    e_sorted = np.sort(points.e[selected], kind="stable")
    super_e, super_w = _bin_means(e_sorted[:num_squash], bin_size)
    kept_e = e_sorted[num_squash:]
    hold = ~selected
    n = np.concatenate([points.n[hold], np.full(super_e.size + kept_e.size, count, np.int64)])
    e = np.concatenate([points.e[hold], super_e, kept_e])
    w = np.concatenate([points.weight[hold], super_w, np.ones(kept_e.size, np.int64)])
    order = np.argsort(n, kind="stable")
    return WeightedPoints(n[order], e[order], w[order])


def _bin_means(e_sorted: np.ndarray, bin_size: int) -> tuple[np.ndarray, np.ndarray]:
    full = e_sorted.size // bin_size
    means = e_sorted[: full * bin_size].reshape(full, bin_size).mean(axis=1)
    weights = np.full(full, bin_size, np.int64)
    remain = e_sorted[full * bin_size :]
    if remain.size:
        means = np.append(means, remain.mean())
        weights = np.append(weights, remain.size)
    return means, weights


def auto_squash(
    points: WeightedPoints,
    keep_pts: Sequence[int] = AUTO_KEEP_PTS,
    cut_offs: Sequence[int] = AUTO_CUT_OFFS,
    num_super_pts: Sequence[int] = AUTO_SUPER_PTS,
) -> WeightedPoints:
    """autoSquash(): squash every count with more than max(keep_pts) + 1 points.

    The k-th squashed count (in increasing N among those squashed) keeps keep_pts[k] points
    (the last value repeats) and is reduced to num_super_pts[j] super points, j chosen by which
    cut-off the number of points to squash falls under.
    """
    if len(num_super_pts) != len(cut_offs) + 1:
        raise SquashError("num_super_pts must have one more element than cut_offs")
    values, sizes = np.unique(points.n, return_counts=True)
    eligible = values[sizes > max(keep_pts) + 1]
    for position, count in enumerate(eligible):
        keep = keep_pts[min(position, len(keep_pts) - 1)]
        num_pts = int(sizes[values == count][0])
        supers = num_super_pts[int(np.searchsorted(np.asarray(cut_offs), num_pts - keep, side="right"))]
        bin_size = max(int((num_pts - keep) // supers), 2)
        points = squash_count(points, int(count), bin_size, keep, min_bin=1, min_pts=1)
    return points
