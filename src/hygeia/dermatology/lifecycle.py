"""Dermatology in the model lifecycle: each classified image gets a prediction id, recorded under
the sha256 of its bytes (the image itself is never stored); outcomes are histopathology diagnoses;
a canary answers its sticky share of requests and a shadow candidate classifies sampled uploads
off the request path (holding at most one of the process's analysis slots at a time).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

from hygeia.core.outcomes import OutcomeKind, OutcomeRejected, Served, register_outcome_kind
from hygeia.core.releases import canary_version, register_shadow_runner, track
from hygeia.dermatology import drift
from hygeia.dermatology.dataset import CLASSES
from hygeia.dermatology.schemas import LesionResult
from hygeia.dermatology.service import MODEL_NAME, ReadyClassifier, analyse, classifier_from_registry

SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
Upload = tuple[str, bytes]


def image_key(given: str) -> str:
    key = given.strip().lower()
    if not SHA256_HEX.match(key):
        raise OutcomeRejected("input must be the image's sha256 (64 hex digits), as image_sha256 gave it")
    return key


OUTCOMES = OutcomeKind(
    capability=MODEL_NAME,
    model_name=MODEL_NAME,
    family="multiclass",
    labels=("diagnosis",),
    classes=CLASSES,
    input_key=image_key,
    input_help="the image's sha256",
)


def serving_classifier(uploads: Sequence[Upload]) -> ReadyClassifier:
    """Production, or the canary candidate when this request falls in the canary's share."""
    fingerprint = hashlib.sha256(b"".join(hashlib.sha256(data).digest() for _, data in uploads))
    candidate = canary_version(MODEL_NAME, fingerprint.hexdigest())
    return classifier_from_registry(candidate)


def _answer(data: bytes, result: LesionResult) -> Served | None:
    if result.status != "ok" or not result.probabilities:
        return None  # refused or unreadable images make no prediction to follow up
    return Served(hashlib.sha256(data).hexdigest(), result.probabilities, result.prediction)


def follow(
    ready: ReadyClassifier, uploads: Sequence[Upload], results: list[LesionResult]
) -> list[LesionResult]:
    """Each result with its image's sha256 and, when classified, its prediction id."""
    answers = [_answer(data, result) for (_, data), result in zip(uploads, results, strict=True)]
    ids = track(MODEL_NAME, MODEL_NAME, ready.version, answers, list(uploads))
    for (_, data), result, prediction_id in zip(uploads, results, ids, strict=True):
        result.image_sha256 = hashlib.sha256(data).hexdigest()
        result.prediction_id = prediction_id
    return results


def triage(uploads: Sequence[Upload], heatmaps: bool) -> tuple[ReadyClassifier, list[LesionResult]]:
    """Classify uploads as every front door does (API, console, a question's attached image): the
    serving version answers, each result gets its id, and the answers feed the drift monitor."""
    ready = serving_classifier(uploads)
    results = follow(ready, uploads, analyse(ready, list(uploads), heatmaps=heatmaps))
    drift.observe(ready, results)
    return ready, results


def shadow_scores(version: str, uploads: Sequence[Upload]) -> list[Served | None]:
    """The candidate's answers for the images production answered (run by the shadow thread)."""
    results = analyse(classifier_from_registry(version), list(uploads), heatmaps=False)
    return [_answer(data, result) for (_, data), result in zip(uploads, results, strict=True)]


def register() -> None:
    """Outcomes, shadows, consented outcome images (kept and purged) and retraining with them."""
    from hygeia.dermatology import outcome_images, retraining

    register_outcome_kind(OUTCOMES)
    register_shadow_runner(MODEL_NAME, MODEL_NAME, shadow_scores)
    outcome_images.register()
    retraining.register()
