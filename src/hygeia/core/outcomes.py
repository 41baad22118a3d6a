"""Outcomes against predictions: what a model said, what later turned out to be true, and how well
each model version does on the tenant's own cases.

A domain registers an `OutcomeKind` from its `register()`: its labels, the metric family and how to
turn what a user gives (a SMILES, an image hash) into the same input key its predictions were
recorded under. The core never imports a domain. A served prediction gets its stable id at once
(one per tenant, model version and input) and is written in the background, so a prediction never
waits for an INSERT; reading flushes first, so a process always sees its own predictions. Records
and outcomes age out with the tenant's `job_results` retention.
"""

from __future__ import annotations

import atexit
import hashlib
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import structlog
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from hygeia.core import retention
from hygeia.core.auth import CURRENT_TENANT, Principal
from hygeia.core.db import engine_for, tenant_session, utcnow
from hygeia.core.errors import NotFound
from hygeia.core.tables import Outcome, PredictionRecord
from hygeia.settings import get_settings

Family = Literal["binary", "multiclass"]
MAX_OUTCOME_ROWS = 10_000
MAX_INPUT_CHARS = 5_000
WRITE_SECONDS = 0.2
INSERT_CHUNK = 500
POSITIVE = {"1", "true", "active", "positive", "yes"}
NEGATIVE = {"0", "false", "inactive", "negative", "no"}
log = structlog.get_logger("hygeia.outcomes")


class LifecycleSettings(BaseSettings):
    """HYGEIA_LIFECYCLE_*: how many outcomes a metric needs, and how hard the CIs and shadows work."""

    model_config = SettingsConfigDict(env_prefix="HYGEIA_LIFECYCLE_", env_file=".env", extra="ignore")

    min_outcomes: int = Field(30, ge=1)  # below this a label reports "not enough outcomes yet"
    bootstrap_resamples: int = Field(500, ge=20, le=20_000)
    shadow_queue: int = Field(200, ge=1)  # sampled shadow requests waiting; beyond it they are dropped


class OutcomeRejected(ValueError):
    """One outcome row that cannot be stored, with the reason the caller sees beside its row."""


@dataclass(frozen=True)
class OutcomeKind:
    """What a domain's outcomes look like; `input_key` raises OutcomeRejected for input it cannot read."""

    capability: str
    model_name: str
    family: Family
    labels: tuple[str, ...]  # binary: the endpoints; multiclass: one label, e.g. "diagnosis"
    input_key: Callable[[str], str]
    classes: tuple[str, ...] = ()  # multiclass: the values an outcome may take
    input_help: str = "the input the prediction was made for"
    # binary kinds whose scores are not probabilities (EB05, IC025): the scores each label is ranked
    # by, each reported as ROC-AUC/PR-AUC on its own, with no Brier score or ECE
    rank_by: tuple[str, ...] = ()
    # what of a given input is stored with the outcome so it can become a training row (toxicity: the
    # standardised parent SMILES); None for inputs that are only a key (an InChIKey, an image hash)
    keep_input: Callable[[str], str | None] | None = None

    def observed(self, value: Any) -> str:
        text = str(value).strip()
        if self.family == "binary":
            lowered = text.lower()
            if lowered in POSITIVE:
                return "1"
            if lowered in NEGATIVE:
                return "0"
            raise OutcomeRejected(f"observed must be active/inactive (or 1/0, true/false), not {text[:40]!r}")
        if text not in self.classes:
            raise OutcomeRejected(f"observed must be one of {', '.join(self.classes)}, not {text[:40]!r}")
        return text


_kinds: dict[str, OutcomeKind] = {}


def register_outcome_kind(kind: OutcomeKind) -> None:
    _kinds[kind.capability] = kind


def outcome_kind(capability: str) -> OutcomeKind:
    if capability not in _kinds:
        raise NotFound(f"{capability!r} takes no outcomes; these do: {', '.join(sorted(_kinds)) or 'none'}")
    return _kinds[capability]


@dataclass(frozen=True)
class Served:
    """One answered input as a domain hands it over: its key, its scores and the class answered."""

    input_key: str
    scores: dict[str, float]
    predicted: str | None = None


class _RecordWriter:
    """Prediction records queued by request threads, committed in batches by one daemon thread.

    Rows wait under the database URL that was configured when they were made, so they land there.
    """

    def __init__(self) -> None:
        self._rows: dict[str, list[dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self._writing = threading.Lock()  # held from taking rows to committing them
        self._thread: threading.Thread | None = None

    def add(self, rows: list[dict[str, Any]]) -> None:
        with self._lock:
            self._rows.setdefault(get_settings().sqlalchemy_url, []).extend(rows)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="prediction-records", daemon=True)
                self._thread.start()

    def flush(self) -> None:
        """Commit what is queued. A reader calls this before it reads; holding `_writing` until the
        commit makes it also wait for rows the daemon thread has already taken but not committed."""
        with self._writing:
            with self._lock:
                pending, self._rows = self._rows, {}
            self._commit(pending)

    def _commit(self, pending: dict[str, list[dict[str, Any]]]) -> None:
        for url, rows in pending.items():
            try:
                with Session(engine_for(url), info={"system": True}) as session, session.begin():
                    insert_new(session, rows)
            except Exception as exc:  # database busy or down: keep the rows for the next round
                log.warning("prediction_records_retry", rows=len(rows), error=type(exc).__name__)
                with self._lock:
                    self._rows.setdefault(url, [])[:0] = rows

    def _run(self) -> None:
        while True:
            time.sleep(WRITE_SECONDS)
            self.flush()


def insert_new(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert records whose id is not stored yet: the same answer asked again is the same record."""
    unique = list({row["id"]: row for row in rows}.values())
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    for start in range(0, len(unique), INSERT_CHUNK):  # SQLite caps the variables of one statement
        chunk = unique[start : start + INSERT_CHUNK]
        session.execute(insert(PredictionRecord).values(chunk).on_conflict_do_nothing(index_elements=["id"]))


def prediction_id(tenant: str, model_name: str, version: str, input_key: str, served: bool) -> str:
    """Stable: one model version's answer about one input, in one tenant, has one id however often
    it is asked (the models are deterministic), so a cached answer and the fresh one agree."""
    parts = (tenant, model_name, version, input_key, "served" if served else "shadow")
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


records = _RecordWriter()
atexit.register(lambda: records.flush())


def record_served(
    capability: str, model_name: str, version: str, answers: Sequence[Served | None], served: bool = True
) -> list[str | None]:
    """Stable ids for the answers of one request (None where nothing was answered, or no tenant acts)."""
    tenant = CURRENT_TENANT.get()
    if tenant is None:  # a CLI run outside any tenant: nothing to follow up
        return [None] * len(answers)
    ids: list[str | None] = []
    rows = []
    for answer in answers:
        if answer is None:
            ids.append(None)
            continue
        row_id = prediction_id(tenant, model_name, version, answer.input_key, served)
        ids.append(row_id)
        rows.append(
            {
                "id": row_id,
                "tenant_id": tenant,
                "capability": capability,
                "model_name": model_name,
                "model_version": version,
                "input_key": answer.input_key,
                "scores": answer.scores,
                "predicted": answer.predicted,
                "served": served,
                "created_at": utcnow(),
            }
        )
    if rows:
        records.add(rows)
    return ids


@dataclass
class RowResult:
    row: int
    status: Literal["accepted", "error"]
    outcome_id: int | None = None
    input_key: str | None = None
    error: str | None = None


def add_outcomes(
    principal: Principal,
    capability: str,
    rows: Sequence[dict[str, Any]],
    kept: Sequence[str | None] | None = None,
    on_accepted: Callable[[list[int]], None] | None = None,
) -> list[RowResult]:
    """Validate each row on its own and store the valid ones; every row gets a result, in order.

    A domain's own use case may pass `kept` (one per row; never taken from a user's row), which replaces
    what the kind keeps of each input (dermatology: where a consented image is stored), and
    `on_accepted`, called with the 0-based accepted rows before the commit: if it fails (a blob store
    down), no row is stored."""
    kind = outcome_kind(capability)
    records.flush()
    results: list[RowResult] = []
    with tenant_session(principal.tenant_id) as session:
        known = _known_predictions(session, [str(r.get("prediction_id") or "") for r in rows])
        stored: list[tuple[int, Outcome]] = []
        for number, row in enumerate(rows, start=1):
            try:
                outcome = _outcome(kind, row, known, principal.subject)
            except OutcomeRejected as exc:
                results.append(RowResult(number, "error", error=str(exc)))
                continue
            if kept is not None:
                outcome.input_text = kept[number - 1]
            session.add(outcome)
            stored.append((len(results), outcome))
            results.append(RowResult(number, "accepted", input_key=outcome.input_key))
        session.flush()
        for position, outcome in stored:
            results[position].outcome_id = outcome.id
        if on_accepted is not None and stored:
            on_accepted([position for position, _ in stored])
    return results


def _known_predictions(session: Any, ids: list[str]) -> dict[str, PredictionRecord]:
    wanted = sorted({i for i in ids if i})
    if not wanted:
        return {}
    rows = session.scalars(select(PredictionRecord).where(PredictionRecord.id.in_(wanted)))
    return {row.id: row for row in rows}


def _outcome(
    kind: OutcomeKind, row: dict[str, Any], known: dict[str, PredictionRecord], actor: str
) -> Outcome:
    prediction_id = str(row.get("prediction_id") or "").strip() or None
    given = str(row.get("input") or "").strip()
    if prediction_id is None and not given:
        raise OutcomeRejected(f"give prediction_id or input ({kind.input_help})")
    if len(given) > MAX_INPUT_CHARS:  # never hand a megabyte of text to a parser
        raise OutcomeRejected(f"input is longer than {MAX_INPUT_CHARS} characters")
    if prediction_id is not None:
        record = known.get(prediction_id)
        if record is None or record.capability != kind.capability:
            raise OutcomeRejected(f"no {kind.capability} prediction {prediction_id!r} in your tenant")
        key = record.input_key
        if given and kind.input_key(given) != key:
            raise OutcomeRejected("input does not match the input of prediction_id")
    else:
        key = kind.input_key(given)
    kept = kind.keep_input(given) if kind.keep_input is not None and given else None
    label = str(row.get("label") or (kind.labels[0] if len(kind.labels) == 1 else "")).strip()
    if label not in kind.labels:
        raise OutcomeRejected(f"label must be one of {', '.join(kind.labels)}, not {label[:40]!r}")
    if row.get("observed") is None or str(row.get("observed")).strip() == "":
        raise OutcomeRejected("observed is missing")
    source = str(row.get("source") or "").strip()
    if not source or len(source) > 200:
        raise OutcomeRejected("source is required (where the result comes from), at most 200 characters")
    return Outcome(
        capability=kind.capability,
        prediction_id=prediction_id,
        input_key=key,
        input_text=kept,
        label=label,
        observed=kind.observed(row["observed"]),
        source=source,
        created_by=actor,
    )


def purge_records(tenant_id: str, cutoff: datetime) -> int:
    """Prediction records and outcomes older than the tenant keeps job results."""
    records.flush()
    removed = 0
    with tenant_session(tenant_id) as session:
        for table in (PredictionRecord, Outcome):
            result = session.execute(
                delete(table).where(table.tenant_id == tenant_id, table.created_at < cutoff)
            )
            removed += int(getattr(result, "rowcount", 0) or 0)
    return removed


retention.register_purger("job_results", purge_records)


def kind_for_model(model_name: str) -> OutcomeKind:
    """The outcome kind whose predictions a model makes (a release report needs its metric family)."""
    for kind in _kinds.values():
        if kind.model_name == model_name:
            return kind
    raise NotFound(f"model {model_name!r} has no outcome kind registered")


@dataclass
class FollowedPrediction:
    """One recorded answer with every outcome reported for its input so far."""

    id: str
    capability: str
    model_name: str
    model_version: str
    input_key: str
    scores: dict[str, float]
    predicted: str | None
    created_at: datetime
    outcomes: list[dict[str, Any]]


def followed_prediction(tenant_id: str, capability: str, prediction_id: str) -> FollowedPrediction:
    """A served prediction of this tenant by id, with its outcomes; shadow answers are not shown."""
    records.flush()
    with tenant_session(tenant_id) as session:
        record = session.get(PredictionRecord, prediction_id)
        if record is None or record.capability != capability or not record.served:
            raise NotFound(f"no {capability} prediction {prediction_id!r} in your tenant")
        query = (
            select(Outcome)
            .where(Outcome.capability == capability, Outcome.input_key == record.input_key)
            .order_by(Outcome.created_at, Outcome.id)
        )
        reported = [
            {"label": o.label, "observed": o.observed, "source": o.source, "created_at": o.created_at}
            for o in session.scalars(query)
        ]
        return FollowedPrediction(
            record.id,
            record.capability,
            record.model_name,
            record.model_version,
            record.input_key,
            record.scores,
            record.predicted,
            record.created_at,
            reported,
        )
