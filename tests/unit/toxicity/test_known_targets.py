"""The known-pharmacology ceiling reads Hetionet's binding edges per drug and the card's per-fold metric."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
from benchmarks.toxicity.known_targets import drug_targets, hardest_fold, percentile
from rdkit import Chem


def test_binding_edges_reach_a_drug_through_its_inchikey_block(tmp_path: Path) -> None:
    (tmp_path / "hetionet").mkdir()
    (tmp_path / "drugbank-structures").mkdir()
    with gzip.open(tmp_path / "hetionet" / "edges-CbG.tsv.gz", "wt") as handle:
        handle.write("source\tmetaedge\ttarget\n")
        handle.write("Compound::DB00624\tCbG\tGene::367\nCompound::DB00624\tCbG\tGene::2099\n")
        handle.write("Compound::DB09999\tCbG\tGene::196\n")  # a drug without a structure
    (tmp_path / "drugbank-structures" / "drugbank-slim.tsv").write_text(
        "drugbank_id\tname\tinchikey\n"
        "DB00624\tTestosterone\tInChIKey=MUMGGOZAMZWBJJ-DYKIIFRCSA-N\n"
        "DB00316\tAcetaminophen\tInChIKey=RZVAJINKPMORJF-UHFFFAOYSA-N\n"  # no binding edge recorded
    )
    assert drug_targets(tmp_path) == {"MUMGGOZAMZWBJJ": {367, 2099}}


def test_percentile_is_the_median_share_scoring_below() -> None:
    scores = np.array([0.9, 0.1, 0.99, 0.8, 0.2, 0.3])
    assert percentile(scores, np.array([0])) == round(4 / 6, 4)
    assert percentile(scores, np.array([0, 3, 5])) == round(3 / 6, 4)  # 4/6, 3/6, 2/6
    assert percentile(scores, np.array([], dtype=int)) is None


def test_the_hardest_fold_names_the_scaffold_that_fills_it() -> None:
    mols = [Chem.MolFromSmiles(s) for s in ("Oc1ccccc1", "Nc1ccccc1", "c1ccncc1", "C1CCCCC1", "CC1CCCCC1")]
    labels = np.zeros((5, 12))
    labels[[0, 2, 3], 0] = 1  # NR-AR: phenol, pyridine, cyclohexane
    folds = np.array([0, 0, 0, 1, 1])
    served = np.tile([0.9, 0.6], (12, 1))
    served[0] = [0.5, 0.95]  # fold 1 ranks better in NR-AR, but worse on average
    report = hardest_fold(mols, labels, folds, served)
    assert report["fold"] == 1 and report["largest_scaffold"] == "C1CCCCC1"
    assert report["largest_scaffold_compounds"] == 2 and report["compounds"] == 2
    assert report["actives_in_fold_and_in_that_scaffold"]["NR-AR"] == [1, 1]
    assert report["roc_auc_in_fold"]["NR-AR"] == 0.95
