"""HTTP layer for toxicity: single and batch prediction, screens, evaluation on labels, explanation SVG,
model card.
The work is in service.py."""

from __future__ import annotations

from fastapi import APIRouter, File, Query, Request, Response, UploadFile
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from hygeia.core.auth import Analyst, Principal, Viewer, charge
from hygeia.core.errors import PROBLEM_RESPONSES
from hygeia.toxicity import ENDPOINTS, narrative, screen, service
from hygeia.toxicity.schemas import (
    BatchJobAccepted,
    BatchPredictRequest,
    BatchPredictResponse,
    EvaluationResponse,
    ModelCardResponse,
    PredictRequest,
    PredictResponse,
    ScreenAccepted,
)

router = APIRouter(prefix="/api/v1/toxicity", tags=["toxicity"], responses=PROBLEM_RESPONSES)


@router.post("/predict", response_model=PredictResponse)
async def predict(body: PredictRequest, principal: Analyst) -> PredictResponse | Response:
    """Calibrated probability per Tox21 endpoint, applicability domain, optional atom explanation."""
    answered = (
        None if body.narrative else service.cached_answer(principal, body.smiles, body.explain_endpoint)
    )
    if answered is None:  # RDKit, the model, a narrative: off the event loop
        return await run_in_threadpool(_predict, body, principal)
    return Response(answered, media_type="application/json")  # a PredictResponse, validated when cached


def _predict(body: PredictRequest, principal: Principal) -> PredictResponse:
    model, result = service.predict_one(principal, body.smiles, body.explain_endpoint)
    summary = narrative.narrate(result) if body.narrative else None
    return PredictResponse(model=service.reference(model), result=result, narrative=summary)


@router.post(
    "/predict/batch",
    response_model=BatchPredictResponse,
    responses={202: {"model": BatchJobAccepted, "description": "more than 10,000 rows: queued as a job"}},
)
def predict_batch(
    body: BatchPredictRequest, request: Request, principal: Analyst
) -> BatchPredictResponse | JSONResponse:
    """One result per SMILES in order, with per-row errors; over 10,000 rows returns 202 and a job id.
    Rate limits count molecules answered here: a batch of N costs N units (the request itself already
    paid one). A queued batch costs that one request, like any job: charged N, it could never pass,
    since no tier's per-second window holds 10,000 units (enterprise: 1,000)."""
    if len(body.smiles) > service.MAX_SYNC_BATCH:
        job = service.submit_batch(principal, body.smiles, body.ids)
        accepted = BatchJobAccepted(
            job_id=job.id, status=job.status, n_items=len(body.smiles), poll=f"/api/v1/jobs/{job.id}"
        )
        return JSONResponse(accepted.model_dump(), status_code=202)
    charge(request, principal, cost=len(body.smiles) - 1)
    model, results = service.predict_batch(principal, body.smiles, body.ids)
    n_errors = sum(r.error is not None for r in results)
    return BatchPredictResponse(model=service.reference(model), results=results, n_errors=n_errors)


@router.post("/screens", response_model=ScreenAccepted, status_code=202)
async def submit_screen(
    principal: Analyst,
    file: UploadFile = File(..., description="CSV with a smiles column, a .smi file or an SDF, any length"),
    output_format: str = Query("csv", alias="format", pattern="^(csv|parquet)$"),
    chunk_size: int = Query(screen.DEFAULT_CHUNK, ge=1, le=screen.MAX_CHUNK, description="molecules a task"),
) -> ScreenAccepted:
    """A large screen as one background job, scored in chunks by every job worker; the output keeps
    the input's order and columns (as `hygeia toxicity predict` writes them), with per-row errors."""
    job = await run_in_threadpool(
        screen.submit_screen, principal, file.file, file.filename or "", output_format, chunk_size
    )
    return ScreenAccepted(
        job_id=job.id,
        status=job.status,
        poll=f"/api/v1/jobs/{job.id}",
        download=f"/api/v1/toxicity/screens/{job.id}/download",
    )


@router.get(
    "/screens/{job_id}/download",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}, "application/vnd.apache.parquet": {}}}},
)
def download_screen(job_id: str, principal: Viewer) -> StreamingResponse:
    """The finished screen's predictions file (409 while it runs)."""
    body, media_type, name = screen.screen_download(principal.tenant_id, job_id)
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return StreamingResponse(body, media_type=media_type, headers=headers)


@router.post("/evaluate", response_model=EvaluationResponse)
async def evaluate(
    request: Request,
    principal: Analyst,
    file: UploadFile = File(
        ...,
        description="CSV or SDF: structures, and 0 / 1 / blank columns named like the endpoints (tox21.csv)",
    ),
) -> EvaluationResponse:
    """The production model measured on your labelled compounds, up to 10,000: per endpoint ROC-AUC,
    PR-AUC, Brier score, ROC-AUC in and out of the applicability domain, conformal error per class, and
    the mean over endpoints; once for novel compounds, once with training look-alikes. A label cell that
    is not 1, 0 or untested (blank, x, NA) is a 422 naming it. One rate-limit unit per record, as a batch."""
    records = await run_in_threadpool(service.read_labelled, file.file, file.filename or "")
    charge(request, principal, cost=len(records) - 1)
    model, report = await run_in_threadpool(service.evaluate_labelled, principal, records)
    return EvaluationResponse(
        model=service.reference(model), **{k: v for k, v in report.items() if k != "model"}
    )


@router.get("/model", response_model=ModelCardResponse)
def model_card(principal: Viewer) -> ModelCardResponse:
    """The production model's card: scaffold-CV metrics vs baseline, calibration, domain, limits."""
    model, card, markdown = service.model_card()
    return ModelCardResponse(model=service.reference(model), card=card, markdown=markdown)


@router.get("/explain", response_class=Response, responses={200: {"content": {"image/svg+xml": {}}}})
def explain(
    principal: Analyst,
    smiles: str = Query(..., max_length=1000, examples=["Oc1ccc(cc1)C(C)(C)c1ccc(O)cc1"]),
    endpoint: str = Query(..., description=", ".join(ENDPOINTS), examples=["NR-ER"]),
) -> Response:
    """Atoms tinted by their TreeSHAP contribution to one endpoint (red raises, blue lowers)."""
    model, svg = service.explain_svg(principal, smiles, endpoint)
    headers = {"X-Model": f"{model.name} {model.version} {model.sha256[:12]}"}
    return Response(svg, media_type="image/svg+xml", headers=headers)
