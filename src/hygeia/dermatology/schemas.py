"""Request/response models for the dermatology API (the CLI writes the same fields to CSV)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from hygeia.core.schemas import ModelReference
from hygeia.dermatology.card import NOT_A_DIAGNOSIS

EXAMPLE_PROBABILITIES = {
    "akiec": 0.01,
    "bcc": 0.02,
    "bkl": 0.05,
    "df": 0.01,
    "mel": 0.11,
    "nv": 0.79,
    "vasc": 0.01,
}


class Uncertainty(BaseModel):
    entropy: float = Field(description="normalised entropy of the calibrated probabilities, 0..1")
    tta_spread: float = Field(description="std of the top class's probability over 8 flips/rotations")
    entropy_threshold: float
    spread_threshold: float


class Rejection(BaseModel):
    """Why the input gate refused to classify an image (no class is given for a refused image)."""

    check: str = Field(
        description="too_small, uniform, overexposed, underexposed, blurred or out_of_distribution",
        examples=["out_of_distribution"],
    )
    reason: str = Field(examples=["image does not look like a dermatoscopic lesion photograph"])
    ood_distance: float | None = Field(None, description="feature-space distance, for the OOD check")


class Risk(BaseModel):
    """Decision support derived from the triage class, never a diagnosis."""

    group: Literal["malignant", "pre-malignant", "benign"]
    action: Literal["refer urgently", "refer", "routine check"]
    advice: str


class LesionResult(BaseModel):
    """One image's answer, its refusal or its error: a batch never fails as a whole for one bad file."""

    image: str = Field(description="the uploaded file name", examples=["ISIC_0024306.jpg"])
    image_sha256: str | None = Field(
        None, description="sha256 of the file's bytes: an outcome may name the image by it (never stored)"
    )
    prediction_id: str | None = Field(
        None, description="stable id of this answer: send it with the histopathology result to .../outcomes"
    )
    status: Literal["ok", "rejected", "error"] = Field(
        "ok",
        description="ok: classified; rejected: the input gate refused it (see `rejection`, no class); "
        "error: the file could not be read as an image (see `error`)",
    )
    prediction: str | None = Field(
        None,
        description="the class answered: argmax of probability / training prior^exponent (the model "
        "card's decision_rule), which favours rare classes, so not always the most probable one",
        examples=["nv"],
    )
    probabilities: dict[str, float] | None = Field(
        None, description="temperature-calibrated, sum to 1", examples=[EXAMPLE_PROBABILITIES]
    )
    uncertain: bool | None = Field(None, description="true: uncertain — refer to a clinician")
    uncertainty: Uncertainty | None = None
    risk: Risk | None = Field(None, description="risk group and recommended action for the class")
    ood_distance: float | None = Field(None, description="feature-space distance checked by the gate")
    rejection: Rejection | None = None
    heatmap_png_base64: str | None = Field(
        None, description="Grad-CAM overlay for the predicted class (CAM = Grad-CAM for this head), PNG"
    )
    error: str | None = Field(None, examples=[None])


class PredictResponse(BaseModel):
    model: ModelReference
    result: LesionResult
    notice: str = NOT_A_DIAGNOSIS


class BatchPredictResponse(BaseModel):
    model: ModelReference
    results: list[LesionResult]
    notice: str = NOT_A_DIAGNOSIS


class ModelCardResponse(BaseModel):
    model: ModelReference
    card: dict[str, Any]
    markdown: str | None = Field(None, description="MODEL_CARD.md, with every measured metric")
    notice: str = NOT_A_DIAGNOSIS
