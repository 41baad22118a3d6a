"""Toxicity in the model lifecycle: every scored molecule gets a prediction id, recorded under the
InChIKey of its standardised parent; outcomes are measured assay results per endpoint (an outcome
given as SMILES keeps the standardised parent SMILES, so it can train a retrained candidate); a
canary answers its sticky share of requests and a shadow candidate scores the same SMILES off the
request path.

Salts and charges are stripped before the key is taken, so an outcome given for a salt form (as
SMILES) finds the parent's predictions; an InChIKey given directly must be the parent's.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from functools import lru_cache

from rdkit import Chem
from sqlalchemy.exc import SQLAlchemyError

from hygeia.core.outcomes import OutcomeKind, OutcomeRejected, Served, register_outcome_kind
from hygeia.core.releases import canary_version, register_shadow_runner, remembered_release, track
from hygeia.toxicity import ENDPOINTS, MODEL_NAME
from hygeia.toxicity.loading import get_model, get_version
from hygeia.toxicity.model import ToxicityModel
from hygeia.toxicity.molecules import MoleculeRejection, prepare
from hygeia.toxicity.predictor import predict_smiles
from hygeia.toxicity.schemas import Prediction

INCHIKEY = re.compile(r"^[A-Z]{14}-[A-Z]{10}-[A-Z]$")


@lru_cache(maxsize=65_536)
def inchikey(standardised_smiles: str) -> str:
    """Remembered: an InChIKey costs ~1-5 ms, as much as a cached prediction's whole answer."""
    return str(Chem.MolToInchiKey(Chem.MolFromSmiles(standardised_smiles)))


def kept_structure(given: str) -> str | None:
    """What an outcome keeps of its input for retraining: the standardised parent SMILES (None for an
    InChIKey, which names a molecule without giving its structure)."""
    if INCHIKEY.match(given.upper()):
        return None
    prepared = prepare(given)
    return None if isinstance(prepared, MoleculeRejection) else prepared.smiles


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
    keep_input=kept_structure,
)


def request_key(smiles: Sequence[str]) -> str:
    """What a canary sticky per input hashes: the request's SMILES as given (one decision a request)."""
    return hashlib.sha256("\x1f".join(smiles).encode()).hexdigest()


def serving_model(smiles: Sequence[str]) -> ToxicityModel:
    """Production, or the canary candidate when this request falls in the canary's share. Without a
    database (an agents' tool run from the CLI before bootstrap) there is no release: production."""
    try:
        candidate = canary_version(MODEL_NAME, request_key(smiles))
    except SQLAlchemyError:
        candidate = None
    return get_model() if candidate is None else get_version(candidate)


def canary_may_answer() -> bool:
    """A canary may answer this request, or that cannot be told without a database read (the release
    was last read over a second ago): either way the event loop's cached shortcut steps aside, and
    the worker-thread path reads the release and picks the arm."""
    remembered, release = remembered_release(MODEL_NAME)
    return not remembered or (release is not None and release.mode == "canary")


def _answer(probabilities: dict[str, float] | None, standardised: str | None) -> Served | None:
    return Served(inchikey(standardised), probabilities) if probabilities and standardised else None


def served(result: Prediction) -> Served | None:
    """What a prediction records for outcomes (None for a row with an error)."""
    return _answer(result.probabilities, result.standardised_smiles)


def follow(model: ToxicityModel, results: list[Prediction]) -> list[Prediction]:
    """Give each scored row its prediction id (rows with errors get none); a shadow may sample them."""
    ids = follow_served(model, [served(r) for r in results], [r.smiles for r in results])
    for result, prediction_id in zip(results, ids, strict=True):
        result.prediction_id = prediction_id
    return results


def follow_served(model: ToxicityModel, answers: list[Served | None], smiles: list[str]) -> list[str | None]:
    """`follow` for answers already reduced to what is recorded (a cached answer keeps its `Served`)."""
    return track(MODEL_NAME, MODEL_NAME, model.version, answers, smiles)


def shadow_scores(version: str, smiles: Sequence[str]) -> list[Served | None]:
    """The candidate's probabilities for the SMILES production answered (run by the shadow thread)."""
    rows = predict_smiles(get_version(version), list(smiles))
    return [_answer(row.probabilities, row.standardised_smiles) for row in rows]


def register() -> None:
    register_outcome_kind(OUTCOMES)
    register_shadow_runner(MODEL_NAME, MODEL_NAME, shadow_scores)
