"""Evidence in the model lifecycle: each repurposing candidate a job returns gets a prediction id,
recorded under `drug_id|disease_id`; outcomes are clinical results (a trial positive or negative).

The score is the candidate's confidence, a logistic probability, so live performance reports ROC-AUC
and PR-AUC with CIs and its calibration. The record keeps the first answer of a model version for a
pair in a tenant: feedback votes that later re-weight the tenant's ranking change what a new job
shows, not the recorded score.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from hygeia.core.outcomes import OutcomeKind, OutcomeRejected, Served, record_served, register_outcome_kind
from hygeia.evidence.runtime import MODEL_NAME
from hygeia.evidence.schemas import CandidateOut

CAPABILITY = "evidence"
LABEL = "clinical_result"
DRUG_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9:._-]{0,48}$")
DISEASE_ID = re.compile(r"^DOID:\d{1,9}$")


def pair_key(drug_id: str, disease_id: str) -> str:
    return f"{drug_id.strip().upper()}|{disease_id.strip().upper()}"


def input_key(given: str) -> str:
    """A candidate given as `drug_id|disease_id` (DrugBank id and Disease Ontology id, as answered)."""
    parts = [part.strip() for part in given.split("|")]
    if len(parts) != 2 or not DRUG_ID.match(parts[0]) or not DISEASE_ID.match(parts[1].upper()):
        raise OutcomeRejected("input must be the candidate as 'drug_id|disease_id', e.g. 'DB00331|DOID:9352'")
    return pair_key(parts[0], parts[1])


OUTCOMES = OutcomeKind(
    capability=CAPABILITY,
    model_name=MODEL_NAME,
    family="binary",
    labels=(LABEL,),
    input_key=input_key,
    input_help="the candidate as 'drug_id|disease_id'",
)


def follow(version: str, candidates: Sequence[CandidateOut]) -> None:
    """Give each returned candidate its prediction id (none outside a tenant, e.g. a CLI ranking)."""
    answers = [Served(pair_key(c.drug_id, c.disease_id), {LABEL: float(c.confidence)}) for c in candidates]
    ids = record_served(CAPABILITY, MODEL_NAME, version, answers)
    for candidate, prediction_id in zip(candidates, ids, strict=True):
        candidate.prediction_id = prediction_id


def register() -> None:
    register_outcome_kind(OUTCOMES)
