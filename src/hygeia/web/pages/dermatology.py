"""Dermatology console: upload one dermatoscopic image, see calibrated probabilities, the Grad-CAM
overlay, the uncertainty rule and the not-a-diagnostic-device notice. Images are never stored."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, File, Request, Response, UploadFile

from hygeia.core.audit import record_prediction
from hygeia.core.auth import Principal
from hygeia.core.errors import InputError
from hygeia.core.registry import get_registry
from hygeia.web import session
from hygeia.web.render import ConsoleRoute, domain_state, load_domain, render
from hygeia.web.svg import bar_chart

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)


def _notice() -> str:
    try:
        return str(load_domain("dermatology", "card").NOT_A_DIAGNOSIS)
    except Exception:  # the notice must show even when the domain cannot load
        return (
            "Research and decision-support use only. Not a medical device and not a diagnosis: every "
            "lesion of concern needs examination by a qualified clinician."
        )


def _class_names() -> dict[str, str]:
    try:
        return dict(load_domain("dermatology", "dataset").CLASS_NAMES)
    except Exception:
        return {}


@router.get("/dermatology")
def dermatology_page(request: Request, _: Principal = Depends(session.console_principal)) -> Response:
    _service, reason = domain_state("dermatology")
    context = {"active": "dermatology", "reason": reason, "notice": _notice(), "class_names": _class_names()}
    return render(request, "pages/dermatology.html", context)


def triage_upload(principal: Principal, image: UploadFile, heatmaps: bool) -> tuple[Any, Any]:
    """One uploaded image classified as the API does (serving version, prediction id, drift), and
    audited; an unreadable image is a 422. Shared with the agents page's attached image."""
    service = load_domain("dermatology")
    limit = load_domain("dermatology", "images").MAX_BYTES
    upload = (image.filename or "upload", image.file.read(limit + 1))
    ready, [result] = load_domain("dermatology", "lifecycle").triage([upload], heatmaps=heatmaps)
    if result.error:
        raise InputError(result.error)
    model = ready.registered or get_registry().load(service.MODEL_NAME)
    record_prediction(principal, model, service.audit_fingerprint([upload]))
    return ready, result


@router.post("/ui/dermatology/predict", dependencies=[Depends(session.same_origin)])
def predict(
    request: Request,
    image: UploadFile = File(...),
    principal: Principal = Depends(session.console_role("analyst")),
) -> Response:
    ready, result = triage_upload(principal, image, heatmaps=True)
    names = _class_names()
    ranked = sorted((result.probabilities or {}).items(), key=lambda item: -item[1])
    chart = (
        None
        if result.status == "rejected"
        else bar_chart(
            [(code, p) for code, p in ranked],
            title="Calibrated probability of each lesion class: "
            + ", ".join(f"{names.get(code, code)} {p * 100:.1f}%" for code, p in ranked),
            highlight=result.prediction,
            label_width=70,
        )
    )
    context: dict[str, Any] = {
        "result": result,
        "model": ready.reference(),
        "chart": chart,
        "ranked": ranked,
        "class_names": names,
        "notice": _notice(),
    }
    return render(request, "fragments/dermatology_result.html", context)
