"""The scheduled retraining check on toxicity traffic: a crossed threshold submits the model's
retraining job in that tenant and audits why; where nothing is crossed nothing happens; a request is
not repeated within the cooldown; callers cannot submit the job themselves.

The job kind here is a test double that records what it was asked (the real `toxicity.retrain` would
train for minutes); what is checked is core's decision. Predictions come from the served model; the
outcome stream is simulated from real Tox21 results (tests/api/lifecycle/simulated.py).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pytest

from hygeia.core import audit, jobs, retraining
from hygeia.core.auth import CURRENT_TENANT, Principal
from hygeia.core.drift import drift_monitor, population_stability_index
from hygeia.core.errors import ProblemError
from hygeia.core.registry import get_registry
from hygeia.core.retraining import Retrainer
from hygeia.toxicity import MODEL_NAME
from hygeia.toxicity.retraining import RETRAIN_JOB
from tests.api.lifecycle.simulated import outcome_rows, tox21_measured
from tests.conftest import auth_header

ENDPOINT = "SR-MMP"
TEST_JOB = "test.retrain"


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """The toxicity retrainer, with its job replaced by one that records its tenant and payload."""
    calls: list[tuple[str, dict[str, Any]]] = []

    def record(payload: dict[str, Any], ctx: jobs.JobContext) -> dict[str, Any]:
        calls.append((ctx.tenant_id, payload))
        return {"recorded": True}

    jobs.register_job_handler(TEST_JOB, record, scheduled_only=True)
    monkeypatch.setattr(retraining, "_retrainers", {MODEL_NAME: Retrainer(MODEL_NAME, MODEL_NAME, TEST_JOB)})
    return calls


def _stream(client, headers, invert: bool) -> None:  # type: ignore[no-untyped-def]
    measured = tox21_measured(ENDPOINT, positives=20, negatives=40)
    response = client.post(
        "/api/v1/toxicity/predict/batch", json={"smiles": [s for s, _ in measured]}, headers=headers
    )
    ids = [row["prediction_id"] for row in response.json()["results"]]
    posted = client.post(
        "/api/v1/toxicity/outcomes", json=outcome_rows(ids, measured, ENDPOINT, invert), headers=headers
    )
    assert posted.json()["accepted"] == 60


def _wait(tenant: str, job_id: str) -> None:
    for _ in range(100):
        if jobs.get_job(tenant, job_id).status in (jobs.SUCCEEDED, jobs.FAILED):
            return
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish")


def test_a_live_metric_below_the_floor_requests_retraining_once_and_says_why(  # type: ignore[no-untyped-def]
    client, make_key, asked, monkeypatch
) -> None:
    monkeypatch.setenv("HYGEIA_RETRAIN_DRIFT_PSI", "1000")  # this test is about live performance only
    _stream(client, auth_header(make_key("acme", "analyst")), invert=True)  # the lab says the opposite
    _stream(client, auth_header(make_key("calm", "analyst")), invert=False)
    make_key("idle", "viewer")

    decisions = {d.tenant_id: d for d in retraining.check()}
    production = get_registry().current(MODEL_NAME)[0]  # type: ignore[index]
    acme = decisions["acme"]
    assert acme.version == production and acme.job_id is not None
    [reason] = acme.reasons
    assert reason.startswith("live roc_auc 0.0") and f"< 0.65 on {ENDPOINT} (60 outcomes)" in reason
    assert decisions["calm"].reasons == [] and decisions["calm"].job_id is None
    assert decisions["idle"].reasons == [] and decisions["idle"].job_id is None

    _wait("acme", acme.job_id)
    assert asked == [("acme", {"production_version": production, "reasons": [reason]})]
    [event] = audit.list_events("acme", action="retrain.requested")
    assert event.actor == retraining.SCHEDULER and event.detail["reasons"] == [reason]
    assert event.detail["job_id"] == acme.job_id and event.detail["model"] == MODEL_NAME
    assert not audit.list_events("calm", action="retrain.requested")
    assert not jobs.list_job_summaries("calm", kind=TEST_JOB)

    again = {d.tenant_id: d for d in retraining.check()}["acme"]
    assert again.job_id is None and again.held_back and "ran within the last 168 h" in again.held_back
    assert len(jobs.list_job_summaries("acme", kind=TEST_JOB)) == 1
    assert len(audit.list_events("acme", action="retrain.requested")) == 1
    metrics = client.get("/metrics").text
    assert 'hygeia_retrain_requests_total{fate="held_back",model="toxicity"}' in metrics


def test_drift_past_the_threshold_requests_retraining(client, make_key, asked) -> None:  # type: ignore[no-untyped-def]
    make_key("acme", "viewer")
    make_key("calm", "viewer")
    model = get_registry().load(MODEL_NAME)
    reference = model.card["drift_reference"]["nearest_similarity"]
    live = [0.02] * 80  # every query far from the training chemistry
    token = CURRENT_TENANT.set("acme")
    try:
        drift_monitor.observe(model, {"nearest_similarity": live})
    finally:
        CURRENT_TENANT.reset(token)
    drift_monitor.flush()
    counts = np.histogram(np.clip(live, 0, 1), bins=np.asarray(reference["edges"]))[0]
    psi = population_stability_index(np.asarray(reference["counts"], dtype=float), counts.astype(float))
    assert psi >= 0.25

    decisions = {d.tenant_id: d for d in retraining.check()}
    assert decisions["acme"].reasons == [
        f"drift PSI {psi:.3f} >= 0.25 on nearest_similarity (80 observations)"
    ]
    assert decisions["acme"].job_id is not None
    assert decisions["calm"].reasons == [] and decisions["calm"].job_id is None
    [event] = audit.list_events("acme", action="retrain.requested")
    assert event.detail["reasons"] == decisions["acme"].reasons


def test_callers_cannot_submit_retraining_and_it_is_toxicitys_registered_retrainer(  # type: ignore[no-untyped-def]
    client, make_key
) -> None:
    assert Retrainer(MODEL_NAME, MODEL_NAME, RETRAIN_JOB) in retraining.retrainers()
    admin = auth_header(make_key("acme", "admin"))
    response = client.post("/api/v1/jobs", json={"kind": RETRAIN_JOB, "payload": {}}, headers=admin)
    assert response.status_code == 422  # the API offers platform job kinds only
    principal = Principal("acme", "admin", "someone", "standard")
    with pytest.raises(ProblemError, match="submitted by the platform only") as refused:
        jobs.submit_job(principal, RETRAIN_JOB, {"smoke": True})  # any other path into the job queue
    assert refused.value.status == 403
    assert not jobs.list_job_summaries("acme", kind=RETRAIN_JOB)


def test_beat_and_the_embedded_command_run_the_same_check(client, make_key, asked) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from hygeia.cli import app
    from hygeia.core.celery_app import RETRAIN_CHECK_TASK, celery, retrain_check

    assert celery.conf.beat_schedule["retrain-check"]["task"] == RETRAIN_CHECK_TASK
    make_key("acme", "viewer")
    production = get_registry().current(MODEL_NAME)[0]  # type: ignore[index]
    [decision] = [d for d in retrain_check() if d["tenant_id"] == "acme"]  # run in this process
    assert decision == {
        "tenant_id": "acme",
        "model_name": MODEL_NAME,
        "version": production,
        "reasons": [],
        "job_id": None,
        "held_back": None,
    }
    output = CliRunner().invoke(app, ["maintenance", "retrain-check"]).output
    assert f"acme {MODEL_NAME} {production}: ok" in output.splitlines()
    assert not asked and not audit.list_events("acme", action="retrain.requested")
