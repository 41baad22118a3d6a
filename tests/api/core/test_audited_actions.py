"""Issue 17 §2: job submissions, console sign-ins (and failed ones) are in the audit trail, each with
who, which tenant and what; inputs only as their sha256."""

from __future__ import annotations

import hashlib
import json

from fastapi.testclient import TestClient

from hygeia.core import audit
from tests.api.core.conftest import ECHO, submit_echo
from tests.api.web.helpers import SAME_ORIGIN, sign_in
from tests.conftest import auth_header


def test_every_job_submission_is_audited_with_its_kind_and_payload_hash(client: TestClient, make_key):
    from hygeia.core import auth, jobs

    key = make_key("acme", "analyst")
    echo_id = submit_echo(auth_header(key))
    payload = {"x": "secret compound list"}
    second = jobs.submit_job(auth.authenticate(key), ECHO, payload).id

    events = {event.detail["job_id"]: event for event in audit.list_events("acme", action="job.submit")}

    assert set(events) == {echo_id, second}
    assert events[second].detail == {"job_id": second, "kind": ECHO}
    assert (
        events[second].input_sha256
        == hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
    )
    assert "secret" not in json.dumps(events[second].detail)
    assert events[second].actor == auth.authenticate(key).subject
    assert audit.list_events("globex", action="job.submit") == []


def test_console_sign_ins_are_audited_and_failed_ones_are_denials(client: TestClient, make_key):
    key = make_key("acme", "analyst")
    sign_in(client, key)
    [event] = audit.list_events("acme", action="console.sign_in")
    assert event.detail["key_id"] and event.role == "analyst"

    refused = client.post("/login", data={"api_key": "hyg_not-a-real-key"}, headers=SAME_ORIGIN)
    assert refused.status_code == 401
    [denied] = audit.list_events("platform", action="denied:401")
    assert denied.detail["route"] == "/login" and denied.actor.startswith("anonymous@")
