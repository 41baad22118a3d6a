"""Toxicity console: paste or upload molecules, see per-endpoint probabilities with applicability-domain
badges and highlighted structures, download the table as CSV; upload labelled compounds to measure the
model on them. Work is `hygeia.toxicity.service`'s.

Up to MAX_TABLE_ROWS molecules are answered in the page; more run in the background, whose progress
the page follows: an uploaded file as a screen (chunk jobs; the download is the file's own rows and
columns with the predictions), pasted SMILES as the domain's batch job (the same CSV as the table).
In the page too, the caller's identifiers travel with their molecules: a pasted line's name (the
.smi layout, "SMILES name") and an uploaded file's other columns lead the table and its CSV.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, File, Form, Request, Response, UploadFile
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from hygeia.core import jobs
from hygeia.core.auth import Principal
from hygeia.core.errors import Conflict, InputError, NotFound, ProblemError
from hygeia.core.exports import write_safe_csv
from hygeia.web import session
from hygeia.web.render import ConsoleRoute, domain_state, load_domain, render

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
MAX_TABLE_ROWS = 1_000
MAX_EXPLAINED = 6
SHOWN_LABEL_COLUMNS = 3  # the caller's first columns in the page; the CSV carries them all
UPLOAD_SUFFIXES = {".csv", ".smi", ".smiles", ".txt", ".sdf", ".sd"}
analyst = session.console_role("analyst")


def _endpoints() -> tuple[str, ...]:
    try:
        return tuple(load_domain("toxicity", "").ENDPOINTS)
    except ProblemError:
        return ()


@router.get("/toxicity")
def toxicity_page(request: Request, _: Principal = Depends(session.console_principal)) -> Response:
    _service, reason = domain_state("toxicity")
    context = {"active": "toxicity", "reason": reason, "endpoints": _endpoints()}
    return render(request, "pages/toxicity.html", context)


@dataclass
class Submitted:
    smiles: list[str]
    labels: list[dict[str, str]]  # per molecule: its name or the file's other columns (may be empty)
    label_columns: list[str]  # in first-seen order, as the CLI's output names them
    unread: dict[int, str]  # position -> why that SDF record could not be read
    upload: bytes  # the uploaded file as sent, for a screen


async def _molecules(text: str, upload: UploadFile | None) -> Submitted:
    """Pasted lines ("SMILES" or "SMILES name") and/or an uploaded file, read by the domain's own
    reader, so the page keeps what the CLI keeps of each record."""
    reader = load_domain("toxicity", "io")
    records = []
    for line in text.splitlines():
        if fields := line.split():
            name = {"name": " ".join(fields[1:])} if len(fields) > 1 else {}
            records.append(reader.InputRecord(fields[0], fields[0], name))
    data = b""
    if upload is not None and upload.filename:
        suffix = Path(upload.filename).suffix.lower()
        if suffix not in UPLOAD_SUFFIXES:
            raise InputError(
                f"upload a .csv with a smiles column, a .smi or an .sdf file, not {upload.filename!r}"
            )
        data = await upload.read()
        try:
            records.extend(reader.read_upload(io.BytesIO(data), upload.filename))
        except reader.InputFileError as exc:
            raise InputError(str(exc)) from exc
    if not records:
        raise InputError("paste at least one SMILES or upload a file")
    labels = [reader.passthrough_values(record) for record in records]
    unread = {i: why for i, r in enumerate(records) if (why := reader.read_error(r)) is not None}
    return Submitted([r.smiles for r in records], labels, reader.passthrough_columns(records), unread, data)


def _structures(service: Any, principal: Principal, rows: Sequence[Any], endpoint: str) -> list:
    """Highlighted structures for the first valid molecules: the chosen endpoint or each one's top."""
    wanted = [
        (row.smiles, endpoint or max(row.probabilities, key=row.probabilities.get))
        for row in [r for r in rows if r.probabilities][:MAX_EXPLAINED]
    ]
    drawings = service.explain_structures(principal, wanted)
    return [
        {"smiles": smiles, "endpoint": chosen, "svg": base64.b64encode(svg.encode()).decode()}
        for (smiles, chosen), svg in zip(wanted, drawings, strict=True)
    ]


@router.post("/ui/toxicity/predict", dependencies=[Depends(session.same_origin)])
async def predict(
    request: Request,
    smiles: str = Form("", max_length=2_000_000),
    file: UploadFile | None = File(None),
    explain_endpoint: str = Form("", max_length=40),
    principal: Principal = Depends(analyst),
) -> Response:
    service = load_domain("toxicity")
    if explain_endpoint and explain_endpoint not in _endpoints():
        raise InputError(f"unknown endpoint {explain_endpoint!r}")
    submitted = await _molecules(smiles, file)
    molecules = submitted.smiles
    if len(molecules) > MAX_TABLE_ROWS:
        if submitted.upload and not smiles.strip() and file is not None:  # the file as given: its columns
            screen = load_domain("toxicity", "screen")
            job = screen.submit_screen(
                principal, io.BytesIO(submitted.upload), file.filename or "", "csv", screen.DEFAULT_CHUNK
            )
        else:
            job = service.submit_batch(principal, molecules, unread=submitted.unread)
        context = {"job": jobs.get_job(principal.tenant_id, job.id), "n": len(molecules)}
        return render(request, "fragments/toxicity_job.html", context)
    model, rows = service.predict_batch(principal, molecules, unread=submitted.unread)
    for row in [r for r in rows if r.standardised_smiles][:MAX_EXPLAINED]:
        row.read_across = service.tested_neighbours(model, row.standardised_smiles)
    table = {
        "smiles": molecules,
        "columns": submitted.label_columns,
        "labels": submitted.labels,
        "unread": submitted.unread,
    }
    context = {
        "model": service.reference(model),
        "rows": rows,
        "endpoints": _endpoints(),
        "structures": _structures(service, principal, rows, explain_endpoint),
        "label_columns": submitted.label_columns[:SHOWN_LABEL_COLUMNS],
        "labels": submitted.labels,
        "download": json.dumps(table),
        "n_errors": sum(r.error is not None for r in rows),
        "notice": load_domain("toxicity", "schemas").NOT_SAFETY_EVIDENCE,
    }
    return render(request, "fragments/toxicity_results.html", context)


@router.post("/ui/toxicity/evaluate", dependencies=[Depends(session.same_origin)])
async def evaluate(
    request: Request, file: UploadFile = File(...), principal: Principal = Depends(analyst)
) -> Response:
    """The production model measured on an uploaded labelled file, as `hygeia toxicity evaluate` does."""
    service = load_domain("toxicity")
    upload = io.BytesIO(await file.read())
    records = await run_in_threadpool(service.read_labelled, upload, file.filename or "")
    model, report = await run_in_threadpool(service.evaluate_labelled, principal, records)
    context = {"model": service.reference(model), "report": report, "filename": file.filename}
    return render(request, "fragments/toxicity_evaluation.html", context)


def _csv(
    rows: Sequence[dict[str, Any]],
    endpoints: Sequence[str],
    filename: str,
    label_columns: Sequence[str] = (),
    labels: Sequence[dict[str, str]] = (),
) -> Response:
    """Through the platform's spreadsheet-safe writer: a SMILES or name starting with = + - @ is
    written so that a spreadsheet shows it as text instead of running it. The caller's own columns,
    when given, come first (as in the CLI's output)."""
    out = io.StringIO()
    columns = [
        "smiles",
        "standardised_smiles",
        *endpoints,
        "nearest_similarity",
        "in_domain",
        "domain_cv_roc_auc",
        "n_active_assays",
        "active_assays",
        "highest_risk_assay",
        "error",
    ]
    own = {c: f"input_{c}" if c in columns else c for c in label_columns}
    lines = (
        {**{own[k]: v for k, v in (labels[i] if labels else {}).items()}, **_csv_line(row, endpoints)}
        for i, row in enumerate(rows)
    )
    write_safe_csv(out, [*own.values(), *columns], lines)
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)


@dataclass
class DownloadRequest:
    smiles: list[str]
    label_columns: list[str]
    labels: list[dict[str, str]]
    unread: dict[int, str]


def _download_request(smiles: str, table: str) -> DownloadRequest:
    """The page's table as posted back: its JSON (molecules with the caller's columns and the SDF
    records that could not be read), or plain SMILES lines."""
    if not table:
        return DownloadRequest([line for line in smiles.splitlines() if line.strip()], [], [], {})
    try:
        posted = json.loads(table)
        molecules, columns, labels = posted["smiles"], posted["columns"], posted["labels"]
        unread = {int(i): str(why) for i, why in posted["unread"].items()}
        valid = (
            isinstance(molecules, list)
            and all(isinstance(m, str) for m in molecules)
            and all(isinstance(c, str) for c in columns)
            and len(labels) == len(molecules)
            and all(isinstance(k, str) and isinstance(v, str) for row in labels for k, v in row.items())
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        valid = False
    if not valid:
        raise InputError("the table to download is not the page's own (molecules and their columns)")
    return DownloadRequest(molecules, columns, labels, unread)


def _csv_line(row: dict[str, Any], endpoints: Sequence[str]) -> dict[str, Any]:
    probabilities = row.get("probabilities") or {}
    domain = row.get("applicability_domain") or {}
    overall = row.get("overall") or {}
    line: dict[str, Any] = {e: f"{probabilities[e]:.4f}" for e in endpoints if e in probabilities}
    line.update(smiles=row["smiles"], standardised_smiles=row.get("standardised_smiles") or "")
    if domain:
        inside = "true" if domain["in_domain"] else "false"  # as the CLI writes it
        line.update(nearest_similarity=f"{domain['nearest_similarity']:.3f}", in_domain=inside)
        if domain.get("cv_roc_auc") is not None:
            line["domain_cv_roc_auc"] = f"{domain['cv_roc_auc']:.3f}"
    if overall:
        line.update(
            n_active_assays=overall["n_active"],
            active_assays=";".join(overall["active_assays"]),
            highest_risk_assay=overall["highest_risk_assay"],
        )
    line["error"] = f"{row['error_code']}: {row['error']}" if row.get("error") else ""
    return line


@router.post("/ui/toxicity/predict.csv", dependencies=[Depends(session.same_origin)])
def predict_csv(
    smiles: str = Form("", max_length=2_000_000),
    table: str = Form("", max_length=4_000_000),
    principal: Principal = Depends(analyst),
) -> Response:
    """The table on screen as CSV: the same molecules, with the caller's columns, through the same
    (cached) service call."""
    service = load_domain("toxicity")
    posted = _download_request(smiles, table)
    if not posted.smiles or len(posted.smiles) > MAX_TABLE_ROWS:
        raise InputError(f"give 1 to {MAX_TABLE_ROWS} SMILES")
    _, rows = service.predict_batch(principal, posted.smiles, unread=posted.unread, kind="csv download")
    dumped = [r.model_dump() for r in rows]
    return _csv(dumped, _endpoints(), "toxicity-predictions.csv", posted.label_columns, posted.labels)


@router.get("/ui/toxicity/jobs/{job_id}.csv")
def job_csv(job_id: str, principal: Principal = Depends(session.console_principal)) -> Response:
    service, screen = load_domain("toxicity"), load_domain("toxicity", "screen")
    job = jobs.get_job(principal.tenant_id, job_id)  # tenant-checked
    if job.kind == screen.SCREEN_JOB:  # an uploaded file's screen: its merged CSV, streamed
        body, media_type, name = screen.screen_download(principal.tenant_id, job_id)
        headers = {"Content-Disposition": f'attachment; filename="{name}"'}
        return StreamingResponse(body, media_type=media_type, headers=headers)
    if job.kind != service.BATCH_JOB:
        raise NotFound(f"job {job_id!r} is not a toxicity batch")
    if job.status != jobs.SUCCEEDED or not job.result:
        raise Conflict(f"job {job_id} is {job.status}", title="Not finished")
    return _csv(job.result["results"], _endpoints(), f"toxicity-{job_id[:8]}.csv")


@router.get("/ui/toxicity/jobs/{job_id}")
def job_status(
    job_id: str, request: Request, principal: Principal = Depends(session.console_principal)
) -> Response:
    """A large batch's progress; the fragment asks for itself again until the job has finished.
    Declared after the .csv route, which would otherwise be taken for a job id."""
    context = {"job": jobs.get_job(principal.tenant_id, job_id), "n": None}
    return render(request, "fragments/toxicity_job.html", context)
