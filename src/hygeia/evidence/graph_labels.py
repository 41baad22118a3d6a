"""The three answer keys the graph model is judged on, as compound x disease 0/1 masks.

(a) PharmacotherapyDB disease-modifying indications (= Hetionet's 755 CtD edges; the training label);
(b) DrugCentral indications that PharmacotherapyDB does not list (any category);
(c) repoDB drug-indication pairs whose trials were terminated, withdrawn or suspended, UMLS CUIs
    mapped to DO-slim diseases through the propagated DO cross-references.
For (b) and (c) every PharmacotherapyDB pair (DM, SYM and NOT) is left out of the evaluated
universe, as Rephetio did for its DrugCentral and trial sets.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hygeia.evidence.sources import load_diseases, load_indications, load_repodb

FAILED_TRIAL = ("Terminated", "Withdrawn", "Suspended")


@dataclass(frozen=True)
class AnswerKey:
    name: str
    positives: np.ndarray  # bool (compounds x diseases)
    universe: np.ndarray  # bool: pairs that are scored at all


@dataclass(frozen=True)
class Labels:
    treats: np.ndarray  # PharmacotherapyDB DM, the training label
    keys: list[AnswerKey]


def _mask(pairs: set[tuple[str, str]], compounds: list[str], diseases: list[str]) -> np.ndarray:
    rows = {c: i for i, c in enumerate(compounds)}
    cols = {d: j for j, d in enumerate(diseases)}
    out = np.zeros((len(compounds), len(diseases)), dtype=bool)
    for c, d in pairs:
        if c in rows and d in cols:
            out[rows[c], cols[d]] = True
    return out


def failed_trial_pairs(root: Path) -> set[tuple[str, str]]:
    """repoDB failed-trial (drug, DOID) pairs, a CUI mapped to every DO-slim term that claims it."""
    doids: dict[str, set[str]] = defaultdict(set)
    for disease in load_diseases(root / "disease-ontology"):
        for cui in disease.umls_ids:
            doids[cui].add(disease.doid)
    return {
        (row.drugbank_id, doid)
        for row in load_repodb(root / "repodb")
        if row.status in FAILED_TRIAL
        for doid in doids.get(row.umls_id, ())
    }


def load_labels(root: Path, compounds: list[str], diseases: list[str]) -> Labels:
    """root = DATA_DIR/evidence."""
    pharmacotherapy = load_indications(root / "pharmacotherapydb/indications.tsv", "PharmacotherapyDB")
    dm = {(r.drugbank_id, r.doid) for r in pharmacotherapy if r.category == "DM"}
    listed = {(r.drugbank_id, r.doid) for r in pharmacotherapy}
    drugcentral = {
        (r.drugbank_id, r.doid) for r in load_indications(root / "drugcentral/indications.tsv", "DrugCentral")
    }
    everything = np.ones((len(compounds), len(diseases)), dtype=bool)
    outside = ~_mask(listed, compounds, diseases)
    treats = _mask(dm, compounds, diseases)
    keys = [
        AnswerKey("pharmacotherapydb_dm", treats, everything),
        AnswerKey(
            "drugcentral_not_in_pharmacotherapydb", _mask(drugcentral, compounds, diseases) & outside, outside
        ),
        AnswerKey(
            "repodb_failed_trials", _mask(failed_trial_pairs(root), compounds, diseases) & outside, outside
        ),
    ]
    return Labels(treats, keys)
