"""HTTP layer for dermatology: single and batch upload, model card. The work is in service.py; a
running canary may answer a request (the response names the version), and each classified image
gets a prediction id for outcomes (lifecycle.py)."""

from __future__ import annotations

from fastapi import APIRouter, File, Query, UploadFile

from hygeia.core.audit import record_prediction
from hygeia.core.auth import Analyst, Principal, Viewer
from hygeia.core.errors import PROBLEM_RESPONSES, InputError
from hygeia.core.registry import get_registry
from hygeia.dermatology import lifecycle, service
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
