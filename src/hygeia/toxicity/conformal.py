"""Mondrian conformal prediction per endpoint, as in the cptox21 line of work.

Why conformal: a probability says nothing about how often the model is wrong for molecules unlike
its training data; a conformal prediction set does, at a stated error rate, with a guarantee that
holds per Mondrian category. The categories are the class (so the rare actives get the same error
rate as the common inactives) and, from model 2.5.0 on, the side of the applicability domain: a
compound unlike the training set is calibrated against calibration compounds that were unlike their
training folds. With the class alone the guarantee held on average only; out of the domain some
classes erred at 1.8x the stated rate on scaffold CV (see the 2.5.0 card).

Calibration set: the scaffold-CV out-of-fold ensemble scores with their labels (never scores of
compounds a model was trained on) and each compound's nearest-neighbour similarity to its own
training folds. Non-conformity of class 1 is -score, of class 0 is +score; a query's p-value for a
class is the share of that class's calibration compounds in its category at least as non-conforming.
The set at significance ε holds every class whose p-value exceeds ε: {active}, {inactive}, both (the
model cannot tell at that error rate) or empty (unlike either class). Validity is measured, not
assumed: each fold is judged with a calibration set from the other folds.

Smoothed p-values (model 2.12.0 on): the query's own place among the calibration compounds (and any
ties) is counted by a draw τ in [0, 1) instead of in full, so each class errs at exactly ε in
expectation rather than at most ε: with ~30 calibration actives in a category the unsmoothed set
errs up to 1/31 below ε, a conservative bias that showed as the largest deviations from ε on CV.
nonconformist's inductive classifier smooths by default too. τ is a hash of the molecule's domain
fingerprint, not a random draw, so one molecule gets one set on every call and every machine.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np

SIGNIFICANCE_LEVELS = (0.1, 0.2)
DEFAULT_SIGNIFICANCE = 0.2  # the level cptox21 reports; a 20 % error rate per class
SMOOTHED = "smoothed"  # the card's conformal.p_values for models whose sets use smoothing draws


@dataclass(frozen=True)
class EndpointConformal:
    """Sorted calibration scores of the inactive and the active compounds of one endpoint."""

    inactive: np.ndarray
    active: np.ndarray

    @classmethod
    def fit(cls, scores: np.ndarray, labels: np.ndarray) -> EndpointConformal:
        tested = ~np.isnan(labels)
        s, y = scores[tested], labels[tested]
        return cls(np.sort(s[y == 0]), np.sort(s[y == 1]))

    def p_values(self, scores: np.ndarray, draws: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(p inactive, p active): inactives conform by low scores, actives by high ones. Given
        `draws` (τ per query), the query and the calibration scores tied with it count τ each."""
        n0, n1 = len(self.inactive), len(self.active)
        at_least_as_high = n0 - np.searchsorted(self.inactive, scores, side="left")
        at_most_as_low = np.searchsorted(self.active, scores, side="right")
        if draws is None:
            return (at_least_as_high + 1) / (n0 + 1), (at_most_as_low + 1) / (n1 + 1)
        higher = n0 - np.searchsorted(self.inactive, scores, side="right")
        lower = np.searchsorted(self.active, scores, side="left")
        p_inactive = higher + draws * (at_least_as_high - higher + 1)
        p_active = lower + draws * (at_most_as_low - lower + 1)
        return p_inactive / (n0 + 1), p_active / (n1 + 1)

    def prediction_sets(
        self, scores: np.ndarray, significance: float, draws: np.ndarray | None = None
    ) -> np.ndarray:
        """(n, 2) bool: column 0 'inactive is in the set', column 1 'active is in the set'."""
        p0, p1 = self.p_values(scores, draws)
        return np.column_stack([p0 > significance, p1 > significance])


def smoothing_draws(bits: np.ndarray, endpoints: int) -> np.ndarray:
    """(n, endpoints) τ in [0, 1) per molecule and endpoint: four bytes each of a BLAKE2b hash of the
    molecule's packed domain fingerprint, the same bits at training and at serving."""
    packed = np.packbits(np.asarray(bits) != 0, axis=1)
    words = b"".join(hashlib.blake2b(row.tobytes(), digest_size=4 * endpoints).digest() for row in packed)
    return np.frombuffer(words, dtype="<u4").reshape(len(packed), endpoints) / 2.0**32


def set_label(in_set: np.ndarray) -> str:
    """The API's words for a prediction set."""
    inactive, active = bool(in_set[0]), bool(in_set[1])
    if inactive and active:
        return "uncertain"
    if active:
        return "active"
    return "inactive" if inactive else "empty"


def inside_domain(similarity: np.ndarray, threshold: float) -> np.ndarray:
    """The applicability-domain side of each compound: the domain flag of every answer, and the
    Mondrian category of calibration compounds and queries alike."""
    return np.asarray(similarity >= threshold, dtype=bool)


def conformal_planes(scores: np.ndarray, labels: np.ndarray, similarity: np.ndarray) -> np.ndarray:
    """The stored calibration set, (3, n, endpoints) float32: out-of-fold scores, labels (NaN where
    untested) and each compound's out-of-fold nearest-neighbour similarity, repeated per endpoint."""
    repeated = np.repeat(similarity[:, None], labels.shape[1], axis=1)
    return np.stack([scores, labels, repeated]).astype(np.float32)


# similarity edges of the Mondrian categories inside the domain (benchmarks README §33)
CATEGORY_BAND_EDGES: tuple[float, ...] = (0.4, 0.5, 0.6)  # the third rule's winner on fold seed 2


def training_category_edges(
    threshold: float, band_edges: tuple[float, ...] = CATEGORY_BAND_EDGES
) -> tuple[float, ...]:
    """A training run's category edges: the domain threshold it chose, then the band edges above it
    (an edge at or below the threshold would split the out-of-domain side, which no rule tested)."""
    return (float(threshold), *sorted(e for e in band_edges if e > threshold))


def card_category_edges(card: dict[str, Any]) -> tuple[float, ...]:
    """The similarity edges of a model's Mondrian categories: the card's own (2.13.0 on), else the
    domain threshold alone (the two sides of 2.5.0-2.12.0; unused by models without similarities)."""
    conformal = card.get("conformal", {})
    if "category_edges" in conformal:
        return tuple(float(e) for e in conformal["category_edges"])
    return (float(card.get("applicability_domain", {}).get("threshold", 0.0)),)


def similarity_categories(similarity: np.ndarray, edges: tuple[float, ...]) -> np.ndarray:
    """Each compound's Mondrian category: how many of the ascending `edges` its nearest-neighbour
    similarity reaches. With the domain threshold as the only edge, 0 is outside and 1 inside."""
    return np.sum([np.asarray(similarity >= edge) for edge in edges], axis=0, dtype=int).reshape(-1)


@dataclass(frozen=True)
class MondrianConformal:
    """One endpoint's calibration per similarity category: (outside, inside) the applicability domain
    (2.5.0-2.12.0), more bands (2.13.0 on), or a single category for models stored without similarities
    (class-conditional only, before 2.5.0)."""

    categories: tuple[EndpointConformal, ...]

    @classmethod
    def fit(
        cls, scores: np.ndarray, labels: np.ndarray, category: np.ndarray | None = None, count: int = 2
    ) -> MondrianConformal:
        """`category` (ints below `count`, as `similarity_categories` gives) or one category for all."""
        if category is None:
            return cls((EndpointConformal.fit(scores, labels),))
        return cls(
            tuple(EndpointConformal.fit(scores[category == k], labels[category == k]) for k in range(count))
        )

    def prediction_sets(
        self, scores: np.ndarray, category: np.ndarray, significance: float, draws: np.ndarray | None = None
    ) -> np.ndarray:
        """(n, 2) bool like `EndpointConformal.prediction_sets`, each query in its own category."""
        own = np.asarray(category, dtype=int) if len(self.categories) > 1 else np.zeros(len(scores), int)
        sets = np.zeros((len(scores), 2), dtype=bool)
        for k, calibration in enumerate(self.categories):
            rows = own == k
            if rows.any():
                tau = None if draws is None else draws[rows]
                sets[rows] = calibration.prediction_sets(scores[rows], significance, tau)
        return sets


def cross_conformal_sets(
    scores: np.ndarray,
    labels: np.ndarray,
    folds: np.ndarray,
    j: int,
    significance: float,
    category: np.ndarray | None = None,
    draws: np.ndarray | None = None,
) -> np.ndarray:
    """Prediction sets for every compound, each fold calibrated on the other folds only (and, given
    `category` (ints, or the domain side as bools), each category on the other folds' compounds of
    it; given `draws`, (n, endpoints) τ, with smoothed p-values)."""
    own = np.zeros(len(scores), dtype=int) if category is None else np.asarray(category, dtype=int)
    count = int(own.max(initial=0)) + 1
    sets = np.zeros((len(scores), 2), dtype=bool)
    for fold in np.unique(folds):
        test = folds == fold
        model = MondrianConformal.fit(
            scores[~test, j], labels[~test, j], None if category is None else own[~test], count
        )
        tau = None if draws is None else draws[test, j]
        sets[test] = model.prediction_sets(scores[test, j], own[test], significance, tau)
    return sets


def validity_report(
    scores: np.ndarray,
    labels: np.ndarray,
    folds: np.ndarray,
    endpoints: tuple[str, ...],
    inside: np.ndarray | None = None,
    draws: np.ndarray | None = None,
    category: np.ndarray | None = None,
) -> dict[str, Any]:
    """Per endpoint and level: observed error rate per class (should be ≤ ε, within ±0.02), and
    efficiency: share of single-label sets (informative) and of 'uncertain' / empty sets. Given
    `inside` (each compound's domain side), the sets are Mondrian over class and side, and each endpoint
    also reports its per-class errors in and out of the domain. Given `category` (similarity bands,
    2.13.0 on), the sets are Mondrian over class and category instead, reported per category too;
    given `draws`, p-values are smoothed."""
    mondrian = inside if category is None else category
    count = 0 if category is None else int(np.max(category, initial=0)) + 1
    report: dict[str, Any] = {}
    for level in SIGNIFICANCE_LEVELS:
        rows: dict[str, dict[str, Any]] = {}
        for j, endpoint in enumerate(endpoints):
            tested = ~np.isnan(labels[:, j])
            sets = cross_conformal_sets(scores, labels, folds, j, level, mondrian, draws)[tested]
            y = labels[tested, j].astype(int)
            size = sets.sum(axis=1)
            rows[endpoint] = {
                **class_errors(sets, y),
                "uncertain": round(float((size == 2).mean()), 4),
                "empty": round(float((size == 0).mean()), 4),
            }
            if inside is not None:
                side = inside[tested]
                rows[endpoint]["in_domain"] = class_errors(sets[side], y[side])
                rows[endpoint]["out_of_domain"] = class_errors(sets[~side], y[~side])
            if category is not None:
                own = category[tested]
                rows[endpoint]["by_category"] = [
                    class_errors(sets[own == k], y[own == k]) for k in range(count)
                ]
        report[str(level)] = {
            "endpoints": rows,
            "max_abs_deviation": _max_deviation([rows], level),
            "mean_single_label": round(float(np.mean([r["single_label"] for r in rows.values()])), 4),
        }
        if inside is not None:
            sides: list[dict[str, dict[str, Any]]] = [
                {e: r[side] for e, r in rows.items()} for side in ("in_domain", "out_of_domain")
            ]
            report[str(level)]["max_abs_deviation_by_domain"] = _max_deviation(sides, level)
        if category is not None:
            bands = [{e: r["by_category"][k] for e, r in rows.items()} for k in range(count)]
            report[str(level)]["max_abs_deviation_by_category"] = _max_deviation(bands, level)
    return report


def class_errors(sets: np.ndarray, y: np.ndarray) -> dict[str, float | None]:
    """Error rate of each class (None where the class is absent) and share of single-label sets."""
    covered = sets[np.arange(len(y)), y]

    def error(cls: int) -> float | None:
        return round(float(1 - covered[y == cls].mean()), 4) if (y == cls).any() else None

    single = round(float((sets.sum(axis=1) == 1).mean()), 4) if len(y) else None
    return {"error_inactive": error(0), "error_active": error(1), "single_label": single}


def _max_deviation(groups: list[dict[str, dict[str, Any]]], level: float) -> float:
    errors = [v for rows in groups for r in rows.values() for v in (r["error_inactive"], r["error_active"])]
    return round(float(np.max(np.abs(np.array([e for e in errors if e is not None]) - level))), 4)


def error_by_similarity(
    similarity: np.ndarray,
    probabilities: np.ndarray,
    labels: np.ndarray,
    folds: np.ndarray,
    scores: np.ndarray,
    edges: tuple[float, ...],
    category: np.ndarray | None = None,
    draws: np.ndarray | None = None,
) -> list[dict[str, Any]]:
    """Does distance to the training set predict error? Per similarity band: Brier score of the
    calibrated probabilities, and the conformal error rate and share of informative sets at the
    default level (Mondrian over the `category` too, given: the domain side or a similarity band;
    smoothed, given `draws`). Computed on out-of-fold predictions with each compound's own training folds."""
    sets = [
        cross_conformal_sets(scores, labels, folds, j, DEFAULT_SIGNIFICANCE, category, draws)
        for j in range(labels.shape[1])
    ]
    rows = []
    for low, high in pairwise(edges):
        in_band = (similarity >= low) & (similarity < high)
        squared, wrong, single, n = 0.0, 0, 0, 0
        for j in range(labels.shape[1]):
            rows_j = in_band & ~np.isnan(labels[:, j])
            y = labels[rows_j, j].astype(int)
            squared += float(((probabilities[rows_j, j] - y) ** 2).sum())
            covered = sets[j][rows_j][np.arange(len(y)), y]
            wrong += int((~covered).sum())
            single += int((sets[j][rows_j].sum(axis=1) == 1).sum())
            n += len(y)
        rows.append(
            {
                "band": [low, min(high, 1.0)],
                "compounds": int(in_band.sum()),
                "labels": n,
                "brier": round(squared / n, 4) if n else None,
                "conformal_error": round(wrong / n, 4) if n else None,
                "single_label": round(single / n, 4) if n else None,
            }
        )
    return rows
