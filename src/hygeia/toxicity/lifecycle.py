"""Toxicity in the model lifecycle: every scored molecule gets a prediction id, recorded under the
InChIKey of its standardised parent; outcomes are measured assay results per endpoint; a shadow
candidate scores the same SMILES off the request path.

Salts and charges are stripped before the key is taken, so an outcome given for a salt form (as
SMILES) finds the parent's predictions; an InChIKey given directly must be the parent's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from rdkit import Chem

from hygeia.core.outcomes import OutcomeKind, OutcomeRejected, Served, register_outcome_kind
from hygeia.core.registry import get_registry
from hygeia.core.releases import register_shadow_runner, track
from hygeia.toxicity import ENDPOINTS, MODEL_NAME
from hygeia.toxicity.loading import load_folder
from hygeia.toxicity.model import ToxicityModel
from hygeia.toxicity.molecules import MoleculeRejection, prepare
from hygeia.toxicity.predictor import predict_smiles
from hygeia.toxicity.schemas import Prediction

INCHIKEY = re.compile(r"^[A-Z]{14}-[A-Z]{10}-[A-Z]$")


@lru_cache(maxsize=65_536)
def inchikey(standardised_smiles: str) -> str:
    """Remembered: an InChIKey costs ~1-5 ms, as much as a cached prediction's whole answer."""
    return str(Chem.MolToInchiKey(Chem.MolFromSmiles(standardised_smiles)))


def input_key(given: str) -> str:
    """An outcome's molecule as the key its predictions carry: a parent InChIKey, or SMILES to standardise."""
    if INCHIKEY.match(given.upper()):
        return given.upper()
    prepared = prepare(given)
    if isinstance(prepared, MoleculeRejection):
        raise OutcomeRejected(f"input is neither an InChIKey nor a readable SMILES: {prepared.message}")
    return inchikey(prepared.smiles)


OUTCOMES = OutcomeKind(
    capability=MODEL_NAME,
    model_name=MODEL_NAME,
    family="binary",
    labels=ENDPOINTS,
    input_key=input_key,
    input_help="SMILES or the parent's InChIKey",
)


def _answer(probabilities: dict[str, float] | None, standardised: str | None) -> Served | None:
    return Served(inchikey(standardised), probabilities) if probabilities and standardised else None


def follow(model: ToxicityModel, results: list[Prediction]) -> list[Prediction]:
    """Give each scored row its prediction id (rows with errors get none); a shadow may sample them."""
    answers = [_answer(r.probabilities, r.standardised_smiles) for r in results]
    ids = track(MODEL_NAME, MODEL_NAME, model.version, answers, [r.smiles for r in results])
    for result, prediction_id in zip(results, ids, strict=True):
        result.prediction_id = prediction_id
    return results


@lru_cache(maxsize=2)
def _candidate(version: str, sha256: str) -> ToxicityModel:
    return load_folder(get_registry().load(MODEL_NAME, version).path)


def shadow_scores(version: str, smiles: Sequence[str]) -> list[Served | None]:
    """The candidate's probabilities for the SMILES production answered (run by the shadow thread)."""
    loaded = get_registry().load(MODEL_NAME, version)
    rows = predict_smiles(_candidate(version, loaded.sha256), list(smiles))
    return [_answer(row.probabilities, row.standardised_smiles) for row in rows]


def register() -> None:
    register_outcome_kind(OUTCOMES)
    register_shadow_runner(MODEL_NAME, MODEL_NAME, shadow_scores)
