"""The sparse nearest-neighbour search gives RDKit's Tanimoto values exactly."""

from __future__ import annotations

import numpy as np
from rdkit import Chem, DataStructs

from hygeia.toxicity.applicability import ApplicabilityDomain, FingerprintIndex, out_of_fold_similarity
from hygeia.toxicity.featurize import MorganBitFeaturizer

REFERENCE = [
    "CCO",
    "CCCO",
    "c1ccccc1O",
    "Oc1ccc(cc1)C(C)(C)c1ccc(O)cc1",
    "CC(=O)Oc1ccccc1C(=O)O",
    "CN1CCC[C@H]1c1cccnc1",
    "Clc1ccc(cc1)C(c1ccc(Cl)cc1)C(Cl)(Cl)Cl",
]
QUERIES = ["CCCCO", "c1ccccc1", "CC(=O)Oc1ccccc1C(=O)OC", "Oc1ccc(cc1)C(C)(C)c1ccc(O)cc1", "C1CCNCC1"]


def _bits(smiles: list[str]) -> np.ndarray:
    featurizer = MorganBitFeaturizer()
    return np.stack([featurizer(Chem.MolFromSmiles(s)) for s in smiles]).astype(np.uint8)


def _rdkit_nearest(queries: list[str], reference: list[str]) -> np.ndarray:
    featurizer = MorganBitFeaturizer()
    vectors = [featurizer.bit_vector(Chem.MolFromSmiles(s)) for s in reference]
    return np.array(
        [
            max(DataStructs.BulkTanimotoSimilarity(featurizer.bit_vector(Chem.MolFromSmiles(q)), vectors))
            for q in queries
        ]
    )


def test_nearest_similarity_equals_rdkit_tanimoto() -> None:
    index = FingerprintIndex.from_packed(np.packbits(_bits(REFERENCE), axis=1), 2048)
    ours = index.nearest(_bits(QUERIES))
    assert np.array_equal(ours, _rdkit_nearest(QUERIES, REFERENCE))
    assert ours[3] == 1.0 and 0.0 < ours[4] < 0.5  # a training compound; an unrelated amine


def test_blocks_do_not_change_the_answer(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import hygeia.toxicity.applicability as applicability

    index = FingerprintIndex.from_bits(_bits(REFERENCE))
    whole = index.nearest(_bits(QUERIES))
    monkeypatch.setattr(applicability, "QUERY_BLOCK", 2)
    assert np.array_equal(index.nearest(_bits(QUERIES)), whole)


def test_out_of_fold_similarity_never_sees_its_own_fold() -> None:
    smiles = [*REFERENCE, *QUERIES]
    folds = np.array([0] * len(REFERENCE) + [1] * len(QUERIES))
    similarity = out_of_fold_similarity(_bits(smiles), folds)
    assert np.array_equal(similarity[len(REFERENCE) :], _rdkit_nearest(QUERIES, REFERENCE))
    assert np.array_equal(similarity[: len(REFERENCE)], _rdkit_nearest(REFERENCE, QUERIES))
    assert similarity[3] == 1.0  # bisphenol A is in both folds, so its twin is found across the split


def test_a_few_queries_counted_one_at_a_time_equal_the_sparse_product(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import hygeia.toxicity.applicability as applicability

    index = FingerprintIndex.from_bits(_bits(REFERENCE))
    queries = np.vstack([_bits(QUERIES), np.zeros((1, 2048), np.uint8)])  # the last sets no bit
    monkeypatch.setattr(applicability, "FEW_QUERIES", 0)
    product = index.nearest(queries)
    monkeypatch.setattr(applicability, "FEW_QUERIES", 4)
    counted = np.concatenate([index.nearest(queries[i : i + 1]) for i in range(len(queries))])
    assert np.array_equal(counted, product)
    assert np.array_equal(index.nearest(queries[:3]), product[:3])
    assert product[3] == 1.0 and product[-1] == 0.0


def test_each_similarity_reads_the_cv_roc_auc_of_its_band_from_the_card() -> None:
    card = {
        "threshold": 0.35,
        "pooled_oof_roc_auc": 0.857,
        "bands": [
            {"band": [0.0, 0.2], "fraction": 0.003, "roc_auc": 0.78},  # too few compounds to judge
            {"band": [0.2, 0.6], "fraction": 0.7, "roc_auc": 0.81},
            {"band": [0.6, 1.0], "fraction": 0.297, "roc_auc": 0.88},
        ],
    }
    domain = ApplicabilityDomain.from_packed(
        np.packbits(_bits(REFERENCE), axis=1), MorganBitFeaturizer(), card
    )
    assert domain.threshold == 0.35 and domain.pooled_roc_auc == 0.857
    readings = [domain.band_roc_auc(s) for s in (0.1, 0.2, 0.5999, 0.6, 1.0)]
    assert readings == [None, 0.81, 0.81, 0.88, 0.88]  # a training compound (1.0) is in the last band
    bare = ApplicabilityDomain.from_packed(
        np.packbits(_bits(REFERENCE), axis=1), MorganBitFeaturizer(), {"threshold": 0.4}
    )
    assert bare.band_roc_auc(0.5) is None and bare.pooled_roc_auc is None
