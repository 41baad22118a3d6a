"""Shadow and canary releases through the API: configured and audited by a platform admin, a shadow
never reaches the caller, the comparison report pairs both versions, and promotion goes through it."""

from __future__ import annotations

import pytest

from hygeia.core import releases
from tests.api.lifecycle.simulated import outcome_rows, tox21_measured
from tests.conftest import auth_header

ENDPOINT = "SR-MMP"


def _production(client, admin_headers, name: str) -> str:  # type: ignore[no-untyped-def]
    rows = client.get("/api/v1/admin/models", headers=admin_headers).json()
    return next(r["version"] for r in rows if r["name"] == name and r["stage"] == "production")


def _other_version(client, admin_headers, name: str) -> str:  # type: ignore[no-untyped-def]
    rows = client.get("/api/v1/admin/models", headers=admin_headers).json()
    return next(r["version"] for r in rows if r["name"] == name and r["stage"] != "production")


@pytest.fixture
def shadow(client, admin_headers) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    production = _production(client, admin_headers, "toxicity")
    candidate = _other_version(client, admin_headers, "toxicity")
    body = {"candidate_version": candidate, "mode": "shadow", "shadow_rate": 1.0}
    response = client.put("/api/v1/admin/releases/toxicity", json=body, headers=admin_headers)
    assert response.status_code == 200, response.text
    return production, candidate


def test_shadow_answers_are_stored_never_returned_and_reported(
    client, admin_headers, make_key, shadow
) -> None:  # type: ignore[no-untyped-def]
    production, candidate = shadow
    analyst = auth_header(make_key("acme", "analyst"))
    measured = tox21_measured(ENDPOINT, positives=15, negatives=25)
    smiles = [s for s, _ in measured]
    response = client.post("/api/v1/toxicity/predict/batch", json={"smiles": smiles}, headers=analyst)
    body = response.json()
    assert body["model"]["version"] == production
    assert candidate not in response.text  # nothing of the candidate reaches the caller
    releases.flush()

    ids = [r["prediction_id"] for r in body["results"]]
    client.post("/api/v1/toxicity/outcomes", json=outcome_rows(ids, measured, ENDPOINT), headers=analyst)
    performance = client.get("/api/v1/toxicity/outcomes/performance", headers=analyst).json()
    assert [v["version"] for v in performance["versions"]] == [production]  # the tenant sees what served it

    report = client.get("/api/v1/admin/releases/toxicity/report", headers=admin_headers).json()
    assert report["paired_cases"] == len(smiles) and report["answered"] == {production: 40, candidate: 40}
    assert 0.5 < report["agreement"]["call_agreement"] <= 1.0
    assert sum(report["score_distributions"][ENDPOINT][candidate]) == 40
    on_outcomes = report["on_outcomes"]
    assert on_outcomes["n_outcomes"] == 40
    for version in (production, candidate):
        [mmp] = [row for row in on_outcomes[version] if row["label"] == ENDPOINT]
        assert mmp["n"] == 40 and mmp["status"] == "ok" and 0 <= mmp["metrics"]["roc_auc"]["value"] <= 1


def test_only_platform_admins_run_releases_and_every_change_is_audited(
    client, admin_headers, make_key
) -> None:  # type: ignore[no-untyped-def]
    production = _production(client, admin_headers, "toxicity")
    candidate = _other_version(client, admin_headers, "toxicity")
    tenant_admin = auth_header(make_key("acme", "admin"))
    body = {"candidate_version": candidate, "mode": "canary", "canary_percent": 10}
    assert client.put("/api/v1/admin/releases/toxicity", json=body, headers=tenant_admin).status_code == 403
    live = {**body, "candidate_version": production}
    assert client.put("/api/v1/admin/releases/toxicity", json=live, headers=admin_headers).status_code == 409
    no_share = {**body, "canary_percent": 0}
    assert (
        client.put("/api/v1/admin/releases/toxicity", json=no_share, headers=admin_headers).status_code == 422
    )
    assert client.put("/api/v1/admin/releases/toxicity", json=body, headers=admin_headers).status_code == 200
    assert client.delete("/api/v1/admin/releases/toxicity", headers=admin_headers).status_code == 200
    assert client.delete("/api/v1/admin/releases/toxicity", headers=admin_headers).status_code == 404
    actions = [e["action"] for e in client.get("/api/v1/admin/audit?limit=20", headers=admin_headers).json()]
    assert {"release.set", "release.ended"} <= set(actions)


def test_promote_from_the_report(client, admin_headers, shadow) -> None:  # type: ignore[no-untyped-def]
    _, candidate = shadow
    promoted = client.post("/api/v1/admin/releases/toxicity/promote", headers=admin_headers)
    assert promoted.status_code == 200, promoted.text
    assert promoted.json()["promoted_version"] == candidate
    assert _production(client, admin_headers, "toxicity") == candidate
    assert client.get("/api/v1/admin/releases", headers=admin_headers).json() == []
    events = client.get("/api/v1/admin/audit?action=model.promote", headers=admin_headers).json()
    assert events[0]["detail"]["from_release"] == "shadow" and events[0]["detail"]["version"] == candidate
