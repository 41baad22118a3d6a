"""Toxicity use cases, shared by the API, the CLI and agents (no FastAPI here).

Single predictions are cached by (model hash, SMILES, explained endpoint); batches of more than
MAX_SYNC_BATCH molecules run as background jobs with progress. Every use case that takes a principal
audits itself (the sha256 of its input only), so no route or console page can forget to; live
probabilities / similarities feed the platform's drift monitor.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from cachetools import TTLCache

from hygeia.core.audit import record_prediction
from hygeia.core.auth import Principal
from hygeia.core.cache import cache_key, get_cache
from hygeia.core.drift import drift_monitor
from hygeia.core.errors import InputError
from hygeia.core.jobs import JobContext, JobInfo, register_job_handler, submit_job
from hygeia.core.observability import observe_scores
from hygeia.core.outcomes import Served
from hygeia.core.retention import register_job_cleanup
from hygeia.core.schemas import ModelReference
from hygeia.core.tools import register_capability, register_startup, register_tool
from hygeia.settings import get_settings
from hygeia.toxicity import ENDPOINTS, MODEL_NAME, lifecycle, read_across, retraining, screen, tested_records
from hygeia.toxicity.batching import scoring
from hygeia.toxicity.explain import explain
from hygeia.toxicity.external_validation import LabelError, validate
from hygeia.toxicity.io import SDF_SUFFIXES, InputFileError, InputRecord, read_upload
from hygeia.toxicity.loading import get_model, loaded_model, unavailable_reason
from hygeia.toxicity.model import ToxicityModel
from hygeia.toxicity.molecules import UNPARSEABLE, MoleculeRejection, prepare
from hygeia.toxicity.predictor import RowPrediction, predict_items
from hygeia.toxicity.schemas import (
    ApplicabilityDomain,
    AtomExplanation,
    OverallCall,
    Prediction,
    PredictResponse,
    ReadAcross,
    TestedNeighbour,
)

MAX_SYNC_BATCH = 10_000
TOOL_READ_ACROSS = 3  # agents get the tested neighbours of up to this many molecules
TOOL_WAIT = 5.0  # seconds an agent's call waits for a table still being built
BATCH_JOB = "toxicity.batch"
LABELLED_SUFFIXES = (".csv", *sorted(SDF_SUFFIXES - {".mol"}))  # a .smi line has no room for labels


def reference(model: ToxicityModel) -> ModelReference:
    return ModelReference(**model.reference())


def _to_schema(row: RowPrediction, model: ToxicityModel) -> Prediction:
    domain = None
    if row.nearest_similarity is not None and row.in_domain is not None:
        domain = ApplicabilityDomain(
            nearest_similarity=row.nearest_similarity,
            threshold=model.domain.threshold,
            in_domain=row.in_domain,
            cv_roc_auc=row.domain_cv_roc_auc,
            cv_roc_auc_overall=model.domain.pooled_roc_auc,
        )
    return Prediction(
        smiles=row.smiles,
        standardised_smiles=row.standardised_smiles,
        probabilities=row.probabilities,
        applicability_domain=domain,
        prediction_sets=row.prediction_sets,
        conformal_significance=model.significance if row.prediction_sets is not None else None,
        overall=OverallCall(**vars(row.overall)) if row.overall is not None else None,
        error_code=row.error_code,
        error=row.error,
        tox21_record=row.tox21_record,
    )


def _observe_drift(model: ToxicityModel, rows: Sequence[RowPrediction]) -> None:
    if model.registered is None:
        return
    probabilities = [r.probabilities for r in rows if r.probabilities is not None]
    by_endpoint = {endpoint: [p[endpoint] for p in probabilities] for endpoint in ENDPOINTS}
    observe_scores(model.registered.name, model.registered.version, by_endpoint)  # the dashboard
    signals = {f"probability:{endpoint}": scores for endpoint, scores in by_endpoint.items()}
    signals["nearest_similarity"] = [r.nearest_similarity for r in rows if r.nearest_similarity is not None]
    drift_monitor.observe(model.registered, signals)


def _check_endpoint(endpoint: str | None) -> None:
    if endpoint is not None and endpoint not in ENDPOINTS:
        raise InputError(f"unknown endpoint {endpoint!r}; choose from {', '.join(ENDPOINTS)}")


def predict_one(
    principal: Principal, smiles: str, explain_endpoint: str | None = None
) -> tuple[ToxicityModel, Prediction]:
    """One molecule; an invalid one is a 422 with its error code, since there is no batch to keep."""
    _check_endpoint(explain_endpoint)
    model = lifecycle.serving_model([smiles])
    result = _predict_one(model, smiles, explain_endpoint)
    _audit(principal, model, [smiles])
    return model, result


@dataclass(frozen=True)
class _RenderedAnswer:
    """A cached prediction as response bytes, serialised once per process around the one field that
    differs per tenant (the prediction id)."""

    head: bytes  # the PredictResponse JSON up to the prediction id's value
    tail: bytes  # and after it
    served: Served | None  # what the prediction records for outcomes

    def body(self, prediction_id: str | None) -> bytes:
        return self.head + json.dumps(prediction_id).encode() + self.tail


PREDICTION_ID_SLOT = json.dumps("\x00prediction_id\x00")  # control characters never appear raw in JSON
# Content-addressed (model hash, SMILES, endpoint) like the shared cache, so an entry never goes stale;
# it saves the shared cache's round trip and the parse, validation and serialisation of every hit.
_rendered: TTLCache[str, _RenderedAnswer] = TTLCache(maxsize=4096, ttl=600)
_rendered_lock = threading.Lock()


def cached_answer(principal: Principal, smiles: str, explain_endpoint: str | None = None) -> bytes | None:
    """`predict_one`'s response body (a PredictResponse as JSON) when the model is loaded and the
    molecule is cached, else None. Audited and given its prediction id like any answer.

    No RDKit work, no model load, no validation of a body validated when it was cached, so the route
    can answer from the event loop without the thread-pool hand-off. While a canary runs, every
    request takes the worker-thread path, which picks its arm."""
    _check_endpoint(explain_endpoint)
    model = None if lifecycle.canary_may_answer() else loaded_model()
    if model is None:
        return None
    rendered = _rendered_answer(model, _prediction_key(model, smiles, explain_endpoint))
    if rendered is None:
        return None
    (prediction_id,) = lifecycle.follow_served(model, [rendered.served], [smiles])
    _audit(principal, model, [smiles])
    return rendered.body(prediction_id)


def _rendered_answer(model: ToxicityModel, key: str) -> _RenderedAnswer | None:
    with _rendered_lock:
        rendered = _rendered.get(key)  # the key names the version, as the body does
    if rendered is not None:
        return rendered
    hit = get_cache().get_json(key)
    if hit is None:
        return None
    prediction = Prediction.model_validate(hit)
    response = PredictResponse(model=reference(model), result=prediction, narrative=None).model_dump(
        mode="json"
    )
    response["result"]["prediction_id"] = json.loads(PREDICTION_ID_SLOT)
    text = json.dumps(response, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    if text.count(PREDICTION_ID_SLOT) != 1:  # a SMILES holding the slot itself: answer the long way
        return None
    head, tail = text.split(PREDICTION_ID_SLOT)
    rendered = _RenderedAnswer(head.encode(), tail.encode(), lifecycle.served(prediction))
    with _rendered_lock:
        _rendered[key] = rendered
    return rendered


def _prediction_key(model: ToxicityModel, smiles: str, explain_endpoint: str | None) -> str:
    """The version as well as the artifacts' hash: 2.12.0 serves 2.11.0's files byte for byte, so both
    share one sha256, but its card smooths the conformal p-values, and so answers differently."""
    return cache_key(MODEL_NAME, model.version, model.sha256, smiles, explain_endpoint or "")


def _cached(model: ToxicityModel, key: str) -> Prediction | None:
    hit = get_cache().get_json(key)
    return None if hit is None else lifecycle.follow(model, [Prediction.model_validate(hit)])[0]


def _predict_one(model: ToxicityModel, smiles: str, explain_endpoint: str | None) -> Prediction:
    key = _prediction_key(model, smiles, explain_endpoint)
    cached = _cached(model, key)
    if cached is not None:
        return cached
    prepared = prepare(smiles)
    if isinstance(prepared, MoleculeRejection):
        raise _refused(smiles, prepared)
    row = scoring.score(model, smiles, prepared)  # with any other molecule waiting to be scored
    result = _to_schema(row, model)
    result.read_across = tested_neighbours(model, prepared.smiles)
    if explain_endpoint is not None:
        result.explanation = AtomExplanation(**vars(explain(model, prepared.mol, explain_endpoint)))
    _observe_drift(model, [row])
    if result.read_across.status != "loading":  # a later request gets the neighbours
        get_cache().set_json(key, result.model_dump())
    return lifecycle.follow(model, [result])[0]


def _refused(smiles: str, rejection: MoleculeRejection) -> InputError:
    """The 422 for one molecule; a compound outside the model's chemistry that Tox21 tested as such
    also gets what Tox21 measured for it (`tox21_record`), said in the detail too."""
    detail, record = tested_records.refusal(smiles, rejection)
    tested = {"tox21_record": record} if record is not None else {}
    return InputError(detail, error_code=rejection.code, smiles=smiles[:200], **tested)


def tested_neighbours(model: ToxicityModel, standardised_smiles: str, wait: float | None = 0.0) -> ReadAcross:
    """The measured Tox21 outcomes of the training compounds nearest to one standardised molecule."""
    found = read_across.lookup(model, standardised_smiles, wait=wait)
    neighbours = [TestedNeighbour(**neighbour) for neighbour in found.neighbours]
    summary = (
        read_across.measured_summary(found.neighbours[0], found.tested_as) if found.in_training_set else None
    )
    return ReadAcross(
        status=found.status,
        reason=found.reason,
        in_training_set=found.in_training_set,
        tested_as=found.tested_as,
        neighbours=neighbours,
        measured=summary,
    )


def warm_read_across() -> None:
    """Build the table of tested compounds once the server is up, so the first question finds it."""
    if get_settings().toxicity_read_across and unavailable_reason() is None:
        read_across.lookup(get_model(), "C", wait=None)


def predict_batch(
    principal: Principal,
    smiles: Sequence[str],
    ids: Sequence[str] | None = None,
    unread: Mapping[int, str] | None = None,
    **detail: Any,
) -> tuple[ToxicityModel, list[Prediction]]:
    """One result per input, in order, with the caller's IDs; rows that cannot be scored carry their
    error instead. `unread`: position -> why that input could not be read from its file (an SDF record
    RDKit cannot parse; `io.read_error`), kept as its row's error. `detail` (e.g. kind="csv download")
    goes into the audit record."""
    model, results = _score(smiles, unread=unread)
    _audit(principal, model, smiles, **detail)
    return model, attach_ids(results, ids)


def _score(
    smiles: Sequence[str],
    ctx: JobContext | None = None,
    unread: Mapping[int, str] | None = None,
) -> tuple[ToxicityModel, list[Prediction]]:
    model = lifecycle.serving_model(smiles)

    def progress(done: int, total: int) -> None:
        if ctx is not None:
            ctx.progress(done / max(total, 1), f"standardised and scored {done:,} of {total:,} molecules")

    unreadable = {i: MoleculeRejection(UNPARSEABLE, why) for i, why in (unread or {}).items()}
    items: list[str | MoleculeRejection] = [unreadable.get(i, text) for i, text in enumerate(smiles)]
    rows = predict_items(model, list(smiles), items, progress)
    _observe_drift(model, rows)
    return model, lifecycle.follow(model, [_to_schema(row, model) for row in rows])


def explain_svg(principal: Principal, smiles: str, endpoint: str) -> tuple[ToxicityModel, str]:
    """Atoms tinted by their contribution to one endpoint, as an SVG drawing."""
    model, svg = _explain(smiles, endpoint)
    _audit(principal, model, [smiles], endpoint=endpoint, kind="explain")
    return model, svg


def explain_structures(principal: Principal, wanted: Sequence[tuple[str, str]]) -> list[str]:
    """SVG drawings for several (SMILES, endpoint) pairs, audited as one explanation request."""
    drawn = [_explain(smiles, endpoint) for smiles, endpoint in wanted]
    if drawn:
        _audit(principal, drawn[0][0], [smiles for smiles, _ in wanted], kind="explain")
    return [svg for _, svg in drawn]


def _explain(smiles: str, endpoint: str) -> tuple[ToxicityModel, str]:
    _check_endpoint(endpoint)
    prepared = prepare(smiles)
    if isinstance(prepared, MoleculeRejection):
        raise InputError(prepared.message, error_code=prepared.code)
    model = get_model()
    return model, explain(model, prepared.mol, endpoint).svg


def read_labelled(source: BinaryIO, filename: str) -> list[InputRecord]:
    """An uploaded labelled file (CSV or SDF) as records; at most MAX_SYNC_BATCH, answered at once."""
    suffix = Path(filename).suffix.lower()
    if suffix not in LABELLED_SUFFIXES:
        raise InputError(
            f"unsupported file {filename!r}: use {', '.join(LABELLED_SUFFIXES)} with label columns"
        )
    try:
        records = read_upload(source, filename)
    except InputFileError as exc:
        raise InputError(str(exc)) from exc
    if not 0 < len(records) <= MAX_SYNC_BATCH:
        raise InputError(f"{len(records):,} records: evaluate 1 to {MAX_SYNC_BATCH:,} at a time")
    return records


def evaluate_labelled(
    principal: Principal, records: Sequence[InputRecord]
) -> tuple[ToxicityModel, dict[str, Any]]:
    """The production model on the caller's labels (`external_validation.validate`); audited."""
    model = get_model()
    try:
        report = validate(model, records)
    except LabelError as exc:
        raise InputError(str(exc)) from exc
    _audit(principal, model, [r.smiles for r in records], kind="evaluation")
    return model, report


def model_card() -> tuple[ToxicityModel, dict[str, Any], str | None]:
    model = get_model()
    markdown_path = model.registered.path / "MODEL_CARD.md" if model.registered else None
    markdown = markdown_path.read_text() if markdown_path and markdown_path.is_file() else None
    return model, model.card, markdown


def _audit(principal: Principal, model: ToxicityModel, smiles: Sequence[str], **detail: Any) -> None:
    if model.registered is not None:
        payload = json.dumps(list(smiles), separators=(",", ":"))
        record_prediction(principal, model.registered, payload, n_items=len(smiles), **detail)


def submit_batch(
    principal: Principal,
    smiles: Sequence[str],
    ids: Sequence[str] | None = None,
    unread: Mapping[int, str] | None = None,
) -> JobInfo:
    """Large batches run in the background (in-process pool or Celery); clients poll /api/v1/jobs/{id}.
    `unread` as in `predict_batch`."""
    model = get_model()  # fail now with 503, not later inside the job, if there is no model
    _audit(principal, model, smiles, mode="background job")
    payload: dict[str, Any] = {"smiles": list(smiles)}
    if ids is not None:
        payload["ids"] = list(ids)
    if unread:
        payload["unread"] = {str(i): why for i, why in unread.items()}  # JSON keys are text
    return submit_job(principal, BATCH_JOB, payload)


def attach_ids(results: list[Prediction], ids: Sequence[str] | None) -> list[Prediction]:
    """The caller's compound IDs back on their rows (same order, one per SMILES)."""
    for result, compound_id in zip(results, ids or (), strict=False):
        result.id = compound_id
    return results


def run_batch_job(payload: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    unread = {int(i): why for i, why in (payload.get("unread") or {}).items()}
    model, results = _score(list(payload.get("smiles") or []), ctx, unread)
    attach_ids(results, payload.get("ids"))
    return {
        "model": reference(model).model_dump(),
        "results": [r.model_dump() for r in results],
        "n_errors": sum(r.error is not None for r in results),
    }


def predict_tool(smiles: str | list[str]) -> dict[str, Any]:
    """Agents' entry point: calibrated Tox21 probabilities + applicability domain per SMILES."""
    items = [smiles] if isinstance(smiles, str) else list(smiles)
    if not items or len(items) > MAX_SYNC_BATCH:
        raise InputError(f"give 1 to {MAX_SYNC_BATCH} SMILES")
    model, results = _score(items)
    if len(results) <= TOOL_READ_ACROSS and all(r.standardised_smiles for r in results):
        for result in results:
            result.read_across = tested_neighbours(model, str(result.standardised_smiles), TOOL_WAIT)
    return {"model": reference(model).model_dump(), "results": [r.model_dump() for r in results]}


def register() -> None:
    """Everything toxicity offers the platform, registered once by the composition root (hygeia.app):
    the batch job, the capability check and the agents' tool."""
    register_job_handler(BATCH_JOB, run_batch_job)
    register_job_handler(screen.SCREEN_JOB, screen.run_screen)
    register_job_handler(screen.CHUNK_JOB, screen.run_chunk, child_only=True)
    register_job_cleanup(screen.SCREEN_JOB, screen.remove_screen_files)
    register_capability(MODEL_NAME, unavailable_reason)
    register_startup("toxicity.read_across", warm_read_across)
    register_startup("toxicity.tox21_records", tested_records.warm)
    lifecycle.register()  # outcomes per assay and the shadow candidate's scorer
    retraining.register()  # the scheduled retraining job, as the model's retrainer
    from hygeia.toxicity import agent_tools  # imports this module, so not at the top

    agent_tools.register()  # toxicity.batch_prediction: the caller's own batch results by id
    register_tool(
        "toxicity.predict",
        "Predict calibrated probabilities of activity in the 12 Tox21 assays (nuclear-receptor and stress-"
        "response pathways) for SMILES, with an applicability-domain flag per molecule.",
        predict_tool,
        input_schema={
            "type": "object",
            "properties": {
                "smiles": {
                    "oneOf": [
                        {"type": "string", "maxLength": 1000},
                        {
                            "type": "array",
                            "items": {"type": "string"},
                            "minItems": 1,
                            "maxItems": MAX_SYNC_BATCH,
                        },
                    ],
                    "description": "one SMILES or a list",
                }
            },
            "required": ["smiles"],
        },
    )
