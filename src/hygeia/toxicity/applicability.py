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
from typing import Any

import numpy as np
from rdkit import Chem, DataStructs

from hygeia.toxicity.evaluation import masked_auc
from hygeia.toxicity.featurize import MorganBitFeaturizer

# Similarity bands: [0, 0.2), then 0.05 wide up to 0.6, then [0.6, 1]; their edges are the candidates.
BAND_EDGES = (0.0, *(round(0.20 + 0.05 * i, 2) for i in range(9)), 1.0001)
AUC_DROP = 0.05  # a fall in mean ROC-AUC this large is a practical loss of ranking ability
MIN_BAND_FRACTION = 0.02  # a band needs enough compounds for its AUC to mean something


def packed_fingerprints(mols: Sequence[Chem.Mol], featurizer: MorganBitFeaturizer) -> np.ndarray:
    """(n, size/8) uint8: 8x smaller than a bit matrix, loadable without pickle."""
    bits = np.zeros((len(mols), featurizer.size), dtype=np.uint8)
    for i, mol in enumerate(mols):
        bits[i] = featurizer(mol)
    return np.packbits(bits, axis=1)


def bit_vectors(packed: np.ndarray, size: int) -> list[DataStructs.ExplicitBitVect]:
    vectors = []
    for row in np.unpackbits(packed, axis=1, count=size):
        vector = DataStructs.ExplicitBitVect(size)
        vector.SetBitsFromList(np.flatnonzero(row).tolist())
        vectors.append(vector)
    return vectors


@dataclass
class ApplicabilityDomain:
    featurizer: MorganBitFeaturizer
    training: list[DataStructs.ExplicitBitVect]
    threshold: float

    @classmethod
    def from_packed(
        cls, packed: np.ndarray, featurizer: MorganBitFeaturizer, threshold: float
    ) -> ApplicabilityDomain:
        return cls(featurizer, bit_vectors(packed, featurizer.size), threshold)

    def nearest_similarity(self, mols: Sequence[Chem.Mol]) -> np.ndarray:
        return nearest_similarities([self.featurizer.bit_vector(m) for m in mols], self.training)

    def in_domain(self, similarity: np.ndarray) -> np.ndarray:
        return similarity >= self.threshold


def nearest_similarities(
    queries: Sequence[DataStructs.ExplicitBitVect], reference: Sequence[DataStructs.ExplicitBitVect]
) -> np.ndarray:
    if not reference:
        return np.zeros(len(queries))
    reference = list(reference)
    return np.array([max(DataStructs.BulkTanimotoSimilarity(q, reference)) for q in queries])


def out_of_fold_similarity(vectors: Sequence[DataStructs.ExplicitBitVect], folds: np.ndarray) -> np.ndarray:
    """Each compound's nearest-neighbour similarity to the training part of its own CV split."""
    similarity = np.zeros(len(vectors))
    for fold in np.unique(folds):
        test = np.flatnonzero(folds == fold)
        train = [vectors[i] for i in np.flatnonzero(folds != fold).tolist()]
        similarity[test] = nearest_similarities([vectors[i] for i in test.tolist()], train)
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
