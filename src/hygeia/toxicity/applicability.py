"""Applicability domain: how close a query is to anything the model was trained on.

The measure is the Tanimoto similarity (ECFP4 bits) to the nearest training compound. The in/out
threshold is not a convention but read off scaffold CV: out-of-fold compounds are binned by their
similarity to their own training folds, and the threshold is where ranking quality falls away
(see `choose_threshold`). The training fingerprints ship as packed bits in a .npy file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, NamedTuple

import numpy as np
from rdkit import Chem
from scipy import sparse

from hygeia.toxicity.conformal import inside_domain
from hygeia.toxicity.evaluation import masked_auc
from hygeia.toxicity.featurize import MorganBitFeaturizer

# Similarity bands: [0, 0.2), then 0.05 wide up to 0.6, then [0.6, 1]; their edges are the candidates.
BAND_EDGES = (0.0, *(round(0.20 + 0.05 * i, 2) for i in range(9)), 1.0001)
AUC_DROP = 0.05  # a fall in mean ROC-AUC this large is a practical loss of ranking ability
MIN_BAND_FRACTION = 0.02  # a band needs enough compounds for its AUC to mean something
QUERY_BLOCK = 256  # queries per sparse product: bounds the dense (block, references) result to ~16 MB
FEW_QUERIES = 4  # up to this many queries, one at a time without the sparse product


def packed_fingerprints(mols: Sequence[Chem.Mol], featurizer: MorganBitFeaturizer) -> np.ndarray:
    """(n, size/8) uint8: 8x smaller than a bit matrix, loadable without pickle."""
    bits = np.zeros((len(mols), featurizer.size), dtype=np.uint8)
    for i, mol in enumerate(mols):
        bits[i] = featurizer(mol)
    return np.packbits(bits, axis=1)


@dataclass(frozen=True)
class FingerprintIndex:
    """Reference fingerprints as a sparse bit matrix, for nearest-neighbour Tanimoto search.

    An ECFP4 sets ~40 of 2,048 bits, so the common on-bits of a block of queries with every reference
    compound are one sparse matrix product; Tanimoto is then common / (|q| + |r| - common) in exact
    integers. Same values as RDKit's per-query BulkTanimotoSimilarity (tested), ~4x faster on the
    7,800 Tox21 references.
    """

    bits_by_column: sparse.csr_matrix  # (fingerprint size, n_reference) int32: transposed references
    counts: np.ndarray  # (n_reference,) on-bits per reference compound

    @classmethod
    def from_bits(cls, bits: np.ndarray) -> FingerprintIndex:
        matrix = sparse.csr_matrix(bits, dtype=np.int32)
        return cls(matrix.T.tocsr(), np.asarray(matrix.sum(axis=1)).ravel())

    @classmethod
    def from_packed(cls, packed: np.ndarray, size: int) -> FingerprintIndex:
        return cls.from_bits(np.unpackbits(packed, axis=1, count=size))

    def nearest(self, queries: np.ndarray) -> np.ndarray:
        """Highest Tanimoto similarity of each query row (0/1 bits) to any reference compound."""
        if self.counts.size == 0:
            return np.zeros(len(queries))
        if len(queries) <= FEW_QUERIES:
            return np.array([self._nearest_one(np.flatnonzero(row)) for row in queries])
        matrix = sparse.csr_matrix(queries, dtype=np.int32)
        query_counts = np.asarray(matrix.sum(axis=1)).ravel()
        out = np.zeros(len(queries))
        for start in range(0, len(queries), QUERY_BLOCK):
            block = slice(start, start + QUERY_BLOCK)
            common = (matrix[block] @ self.bits_by_column).toarray()
            union = query_counts[block, None] + self.counts[None, :] - common
            out[block] = (common / np.maximum(union, 1)).max(axis=1)
        return out

    def _nearest_one(self, on_bits: np.ndarray) -> float:
        return float(self.similarities(on_bits).max())

    def similarities(self, on_bits: np.ndarray) -> np.ndarray:
        """One query's Tanimoto to every reference, by counting, per reference, the query's on-bits it
        shares (the same integers and division as the product): the sparse product's set-up cost a
        lone molecule ~1 ms."""
        columns = self.bits_by_column
        shared = [columns.indices[columns.indptr[b] : columns.indptr[b + 1]] for b in on_bits]
        common = np.bincount(np.concatenate([np.zeros(0, np.int32), *shared]), minlength=self.counts.size)
        union = len(on_bits) + self.counts - common
        return common / np.maximum(union, 1)


@dataclass(frozen=True)
class SimilarityBand:
    low: float
    high: float
    roc_auc: float | None  # None where the band held under MIN_BAND_FRACTION of the CV compounds


@dataclass
class ApplicabilityDomain:
    featurizer: MorganBitFeaturizer
    index: FingerprintIndex
    threshold: float
    bands: tuple[SimilarityBand, ...] = ()
    pooled_roc_auc: float | None = None

    @classmethod
    def from_packed(
        cls, packed: np.ndarray, featurizer: MorganBitFeaturizer, card: dict[str, Any]
    ) -> ApplicabilityDomain:
        """From the card's `applicability_domain` section: threshold, band table, pooled CV ROC-AUC."""
        bands = tuple(
            SimilarityBand(
                low=row["band"][0],
                high=row["band"][1],
                roc_auc=row["roc_auc"] if row["fraction"] >= MIN_BAND_FRACTION else None,
            )
            for row in card.get("bands", [])
        )
        index = FingerprintIndex.from_packed(packed, featurizer.size)
        return cls(featurizer, index, float(card["threshold"]), bands, card.get("pooled_oof_roc_auc"))

    def band_roc_auc(self, similarity: float) -> float | None:
        """Scaffold-CV ROC-AUC of the out-of-fold compounds as far from their training folds as this query
        is from the training set: a graded signal beside the in/out flag, whose threshold moves between
        0.3 and 0.4 when the scaffolds are resampled (benchmarks README §26)."""
        for band in self.bands:
            if band.low <= similarity < band.high or (band.high >= 1.0 and similarity >= band.low):
                return band.roc_auc
        return None

    def nearest_similarity(self, mols: Sequence[Chem.Mol]) -> np.ndarray:
        bits = np.zeros((len(mols), self.featurizer.size), dtype=np.uint8)
        for i, mol in enumerate(mols):
            bits[i] = self.featurizer(mol)
        return self.index.nearest(bits)

    def in_domain(self, similarity: np.ndarray) -> np.ndarray:
        return inside_domain(similarity, self.threshold)


def out_of_fold_similarity(bits: np.ndarray, folds: np.ndarray) -> np.ndarray:
    """Each compound's nearest-neighbour similarity to the training part of its own CV split."""
    similarity = np.zeros(len(bits))
    for fold in np.unique(folds):
        test = folds == fold
        similarity[test] = FingerprintIndex.from_bits(bits[~test]).nearest(bits[test])
    return similarity


def similarity_table(
    similarity: np.ndarray, predictions: np.ndarray, labels: np.ndarray
) -> list[dict[str, Any]]:
    """Mean out-of-fold ROC-AUC within each band of nearest-neighbour similarity."""
    rows = []
    for low, high in pairwise(BAND_EDGES):
        inside = (similarity >= low) & (similarity < high)
        rows.append(
            {
                "band": [low, min(high, 1.0)],
                "compounds": int(inside.sum()),
                "fraction": round(float(inside.mean()), 4),
                "roc_auc": _round(masked_auc(predictions, labels, inside)),
            }
        )
    return rows


class CVDomain(NamedTuple):
    threshold: float
    rule: str
    pooled_roc_auc: float
    bands: list[dict[str, Any]]


def cv_domain(similarity: np.ndarray, predictions: np.ndarray, labels: np.ndarray) -> CVDomain:
    """The card's band table and threshold from out-of-fold scores and nearest-neighbour similarities
    (training, and the benchmark that re-runs the rule on resampled compounds)."""
    overall = masked_auc(predictions, labels, np.ones(len(labels), dtype=bool)) or 0.0
    table = similarity_table(similarity, predictions, labels)
    return CVDomain(*choose_threshold(table, overall), overall, table)


def choose_threshold(table: list[dict[str, Any]], overall_auc: float) -> tuple[float, str]:
    """Upper edge of the highest similarity band whose ROC-AUC is at least AUC_DROP below overall.

    Every band at or above the threshold ranks compounds about as well as the model does overall;
    below it, ranking is measurably worse, so those queries are flagged out of domain. Bands holding
    under MIN_BAND_FRACTION of the compounds are too small to judge and are ignored. If no band shows
    the drop, the lowest edge is used (flag only the most remote compounds) and the reason says so.
    """
    worse = [
        row["band"][1]
        for row in table
        if row["fraction"] >= MIN_BAND_FRACTION
        and row["roc_auc"] is not None
        and row["roc_auc"] <= overall_auc - AUC_DROP
    ]
    if worse:
        return float(max(worse)), (
            f"upper edge of the highest nearest-neighbour similarity band whose scaffold-CV mean ROC-AUC "
            f"is at least {AUC_DROP} below the overall {overall_auc:.3f}"
        )
    return BAND_EDGES[
        1
    ], f"no similarity band ranked {AUC_DROP} worse than overall; flagging only the most remote"


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
