"""Histopathology outcomes that bring their image, kept for retraining only by explicit consent.

An outcome normally names its image by sha256 and the image is never stored. A clinic may instead
send the image itself with `consent_for_training`: it is checked like a prediction upload (size,
magic bytes, dimensions, decodable), must hash to the recorded input when it names a prediction id,
and is stored in the tenant's blob store, never in the database, at
`tenants/<tenant>/dermatology/outcome-images/<sha256>.<jpg|png>`. The outcome row keeps that path
(below the tenant) as its kept input, so a retraining finds the image and an outcome given later by
hash alone borrows it. Under the tenant's prefix, the images are in the tenant's export and go with
its deletion; retention purges them with the tenant's `uploads` or `job_results` period, whichever
ends first (every accepted outcome writes its image again, so the newest consent counts).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from hygeia.core import retention
from hygeia.core.auth import Principal
from hygeia.core.blobs import (
    BlobNotFound,
    BlobStoreError,
    check_prefix,
    get_blob_store,
    tenant_key,
    tenant_prefix,
)
from hygeia.core.errors import InputError, NotFound, ProblemError
from hygeia.core.outcomes import RowResult, add_outcomes, followed_prediction
from hygeia.core.retraining import TrainingOutcome
from hygeia.dermatology.images import ImageRejected, decode_image
from hygeia.dermatology.service import MODEL_NAME

FOLDER = "dermatology/outcome-images"
SUFFIX = {"JPEG": "jpg", "PNG": "png"}
NO_CONSENT = (
    "images are stored for training only with consent_for_training=true; without consent, send the "
    "diagnosis with the image's sha256 (image_sha256 of the prediction) to /api/v1/dermatology/outcomes"
)


@dataclass(frozen=True)
class ImageOutcome:
    """One biopsied lesion's image as uploaded, with its diagnosis and, optionally, the prediction id."""

    name: str
    data: bytes
    observed: str
    source: str
    prediction_id: str | None = None


def image_path(sha256: str, image_format: str) -> str:
    """Where a consented image lives below its tenant's prefix (what the outcome row keeps)."""
    return f"{FOLDER}/{sha256}.{SUFFIX[image_format]}"


def _checked(principal: Principal, row: ImageOutcome) -> str:
    """The image's path below the tenant, or ImageRejected with the reason the caller sees."""
    image = decode_image(row.data)  # the prediction upload's checks: size, format, dimensions, bombs
    digest = hashlib.sha256(row.data).hexdigest()
    if row.prediction_id:
        try:
            recorded = followed_prediction(principal.tenant_id, MODEL_NAME, row.prediction_id).input_key
        except NotFound:
            recorded = None  # the outcome itself says "no such prediction in your tenant"
        if recorded is not None and recorded != digest:
            raise ImageRejected(
                f"this image (sha256 {digest[:12]}...) is not the image prediction {row.prediction_id} "
                f"was made for (sha256 {recorded[:12]}...); send the same file that was classified"
            )
    return image_path(digest, image.format)


def add_image_outcomes(principal: Principal, rows: Sequence[ImageOutcome], consent: bool) -> list[RowResult]:
    """Check every image, store the outcomes that pass (each row its own result, in order) and their
    images in the blob store, in one step: if the store fails, no outcome is stored either."""
    if not consent:
        raise InputError(NO_CONSENT)
    results: dict[int, RowResult] = {}
    valid: list[tuple[int, str]] = []
    for number, row in enumerate(rows, start=1):
        try:
            valid.append((number, _checked(principal, row)))
        except ImageRejected as exc:
            results[number] = RowResult(number, "error", error=f"{row.name}: {exc}")
    try:
        stored = _store(principal, [(path, rows[number - 1]) for number, path in valid]) if valid else []
    except BlobStoreError as exc:  # raised before the commit: the rows were rolled back
        raise ProblemError(503, "File store unavailable", f"{exc}; no outcome was stored") from exc
    for (number, _), result in zip(valid, stored, strict=True):
        result.row = number
        results[number] = result
    return [results[number] for number in sorted(results)]


def _store(principal: Principal, chosen: list[tuple[str, ImageOutcome]]) -> list[RowResult]:
    """The rows through core's outcomes, each accepted row's image written before they commit."""
    store = get_blob_store()

    def keep(accepted: list[int]) -> None:
        for position in accepted:
            path, row = chosen[position]
            store.put(tenant_key(principal.tenant_id, *path.split("/")), row.data)

    given = [
        {
            "prediction_id": row.prediction_id,
            "input": hashlib.sha256(row.data).hexdigest(),
            "observed": row.observed,
            "source": row.source,
        }
        for _, row in chosen
    ]
    return add_outcomes(principal, MODEL_NAME, given, kept=[path for path, _ in chosen], on_accepted=keep)


def read_image(outcome: TrainingOutcome) -> bytes | None:
    """A training outcome's consented image, or None when it has none or retention purged it."""
    if not outcome.input_text:
        return None
    try:
        return get_blob_store().read_bytes(tenant_key(outcome.tenant_id, *outcome.input_text.split("/")))
    except BlobNotFound:
        return None


def image_prefix(tenant_id: str) -> str:
    return check_prefix(f"{tenant_prefix(tenant_id)}{FOLDER}/")


def stored_images(tenant_id: str) -> Iterator[str]:
    """Keys of the tenant's stored outcome images (for tests and the retraining precheck)."""
    return (info.key for info in get_blob_store().list(image_prefix(tenant_id)))


def purge_images(tenant_id: str, cutoff: datetime) -> int:
    """Retention: images whose newest consent is older than the cutoff."""
    return get_blob_store().delete_older_than(image_prefix(tenant_id), cutoff)


def register() -> None:
    """Purged with uploads (files users sent) and with job results (outcomes): the shorter wins."""
    retention.register_purger("uploads", purge_images)
    retention.register_purger("job_results", purge_images)
