"""HTTP layer for dermatology: single and batch upload, model card. The work is in service.py; a
running canary may answer a request (the response names the version), and each classified image
gets a prediction id for outcomes (lifecycle.py)."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, File, Form, Query, UploadFile

from hygeia.core.audit import record_prediction
from hygeia.core.auth import Analyst, Principal, Viewer
from hygeia.core.errors import PROBLEM_RESPONSES, InputError
from hygeia.core.lifecycle_routes import OutcomesAccepted, outcomes_answer
from hygeia.core.registry import get_registry
from hygeia.dermatology import lifecycle, outcome_images, service
from hygeia.dermatology.images import MAX_BYTES
from hygeia.dermatology.schemas import BatchPredictResponse, ModelCardResponse, PredictResponse

router = APIRouter(prefix="/api/v1/dermatology", tags=["dermatology"], responses=PROBLEM_RESPONSES)


def _read(upload: UploadFile) -> tuple[str, bytes]:
    """Read at most one byte past the limit, so an oversized file is refused without buffering it."""
    data = upload.file.read(MAX_BYTES + 1)
    return upload.filename or "upload", data


def _audit(principal: Principal, ready: service.ReadyClassifier, uploads: list[tuple[str, bytes]]) -> None:
    model = ready.registered or get_registry().load(service.MODEL_NAME)
    record_prediction(principal, model, service.audit_fingerprint(uploads), n_items=len(uploads))


@router.post("/predict", response_model=PredictResponse)
def predict(
    principal: Analyst,
    image: UploadFile = File(..., description="dermatoscopic JPEG or PNG"),
    heatmap: bool = Query(True, description="include the Grad-CAM overlay PNG (base64)"),
) -> PredictResponse:
    """Calibrated 7-class probabilities, an 'uncertain — refer' flag, risk group and action, and a
    Grad-CAM overlay; or `status: rejected` with the reason when the input gate refuses the image
    (too small, uniform, blurred, badly exposed or not a dermatoscopic lesion): never a class then."""
    upload = _read(image)
    ready, [result] = lifecycle.triage([upload], heatmaps=heatmap)
    if result.error:
        raise InputError(result.error, image=result.image)
    _audit(principal, ready, [upload])
    return PredictResponse(model=ready.reference(), result=result)


@router.post("/predict/batch", response_model=BatchPredictResponse)
def predict_batch(
    principal: Analyst,
    images: list[UploadFile] = File(..., description=f"up to {service.MAX_BATCH} JPEG/PNG files"),
    heatmap: bool = Query(False, description="include Grad-CAM overlays (larger responses)"),
) -> BatchPredictResponse:
    """One result per file, in upload order; unreadable files get an error instead of failing the batch."""
    if len(images) > service.MAX_BATCH:
        raise InputError(f"{len(images)} files; a batch takes at most {service.MAX_BATCH}")
    uploads = [_read(upload) for upload in images]
    ready, results = lifecycle.triage(uploads, heatmaps=heatmap)
    _audit(principal, ready, uploads)
    return BatchPredictResponse(model=ready.reference(), results=results)


@router.get("/model", response_model=ModelCardResponse)
def model_card(principal: Viewer) -> ModelCardResponse:
    """The production model's card: metrics by class and subgroup, calibration, intended use, limits."""
    ready = service.classifier_from_registry()
    card, markdown = service.model_card(ready)
    return ModelCardResponse(model=ready.reference(), card=card, markdown=markdown)


@router.post("/outcomes/images", response_model=OutcomesAccepted)
def add_outcome_images(
    principal: Analyst,
    after: BackgroundTasks,
    images: list[UploadFile] = File(
        ..., description=f"1 to {service.MAX_BATCH} JPEG/PNG files, as classified"
    ),
    observed: list[str] = Form(..., description="the histopathology class of each image, in upload order"),
    source: str = Form(..., description="where the diagnoses come from", examples=["histopathology 2026-11"]),
    consent_for_training: bool = Form(
        False, description="true: the patients consented to these images training a retrained model"
    ),
    prediction_id: list[str] | None = Form(
        None, description="optional, one per image ('' for none): the image must be the one classified"
    ),
) -> OutcomesAccepted:
    """Histopathology outcomes with their images, stored in your tenant's file store for retraining
    (only with consent_for_training; never in the database). Each image is checked as a prediction
    upload is and gets its own result or error; one naming a prediction id must be that image."""
    if len(images) > service.MAX_BATCH:
        raise InputError(f"{len(images)} files; send at most {service.MAX_BATCH} at once")
    ids = prediction_id or [""] * len(images)
    if len(observed) != len(images) or len(ids) != len(images):
        raise InputError(
            f"{len(images)} images need as many observed values ({len(observed)} given) and, when "
            f"given, prediction ids ({len(ids)} given), in the same order"
        )
    rows = [
        outcome_images.ImageOutcome(name, data, diagnosis, source, pid.strip() or None)
        for (name, data), diagnosis, pid in zip(map(_read, images), observed, ids, strict=True)
    ]
    results = outcome_images.add_image_outcomes(principal, rows, consent_for_training)
    kept = sum(r.status == "accepted" for r in results)
    return outcomes_answer(principal, service.MODEL_NAME, results, after, images_kept_for_training=kept)
