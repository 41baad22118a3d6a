"""Toxicity canaries over HTTP: the candidate answers its share (sticky per tenant or per input), the
response names the version that answered, a cached production answer never stands in for the
candidate, and outcomes score the version that answered (mirrors the dermatology canary tests)."""

from __future__ import annotations

from hygeia.core.releases import sticky_bucket
from hygeia.toxicity.lifecycle import request_key
from tests.api.lifecycle.simulated import outcome_rows, tox21_measured
from tests.conftest import auth_header

ENDPOINT = "SR-MMP"
CANDIDATE = "1.0.0"


def _predict(client, headers, smiles: str) -> dict:  # type: ignore[no-untyped-def, type-arg]
    response = client.post("/api/v1/toxicity/predict", json={"smiles": smiles}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def _canary(client, admin_headers, percent: float, sticky_by: str = "tenant") -> None:  # type: ignore[no-untyped-def]
    body = {
        "candidate_version": CANDIDATE,
        "mode": "canary",
        "canary_percent": percent,
        "sticky_by": sticky_by,
    }
    response = client.put("/api/v1/admin/releases/toxicity", json=body, headers=admin_headers)
    assert response.status_code == 200, response.text


def test_a_canary_answers_even_where_production_is_cached_and_outcomes_score_it(  # type: ignore[no-untyped-def]
    client, admin_headers, make_key, monkeypatch
) -> None:
    analyst = auth_header(make_key("acme", "analyst"))
    measured = tox21_measured(ENDPOINT, positives=2, negatives=2)
    smiles = [s for s, _ in measured]
    production = _predict(client, analyst, smiles[0])["model"]["version"]
    assert _predict(client, analyst, smiles[0])["model"]["version"] == production  # now cached
    assert production != CANDIDATE

    _canary(client, admin_headers, 100)
    answers = [_predict(client, analyst, s) for s in smiles]
    assert {a["model"]["version"] for a in answers} == {CANDIDATE}
    batch = client.post("/api/v1/toxicity/predict/batch", json={"smiles": smiles}, headers=analyst).json()
    assert batch["model"]["version"] == CANDIDATE

    ids = [a["result"]["prediction_id"] for a in answers]
    posted = client.post(
        "/api/v1/toxicity/outcomes", json=outcome_rows(ids, measured, ENDPOINT), headers=analyst
    )
    assert posted.json()["accepted"] == len(measured)
    monkeypatch.setenv("HYGEIA_LIFECYCLE_MIN_OUTCOMES", "4")
    report = client.get("/api/v1/toxicity/outcomes/performance", headers=analyst).json()
    by_version = {v["version"]: v for v in report["versions"]}
    [scored] = [label for label in by_version[CANDIDATE]["labels"] if label["label"] == ENDPOINT]
    assert scored["n"] == 4 and scored["counts"] == {"positive": 2, "negative": 2}
    assert by_version[production]["n_outcomes"] == 1  # production answered the first molecule only

    assert client.delete("/api/v1/admin/releases/toxicity", headers=admin_headers).status_code == 200
    assert _predict(client, analyst, smiles[0])["model"]["version"] == production


def test_a_canary_sticky_per_input_answers_its_share(client, admin_headers, make_key) -> None:  # type: ignore[no-untyped-def]
    # 220 requests, many answered from the cache in a few ms: a tier whose burst limit they stay under
    analyst = auth_header(make_key("bulk", "analyst", tier="enterprise"))
    _canary(client, admin_headers, 30, sticky_by="input")
    answered: dict[str, str] = {}
    for smiles, _ in tox21_measured(ENDPOINT, positives=60, negatives=200):
        response = client.post("/api/v1/toxicity/predict", json={"smiles": smiles}, headers=analyst)
        if response.status_code == 200:  # a few Tox21 molecules are outside the model's chemistry
            answered[smiles] = response.json()["model"]["version"]
        if len(answered) == 200:
            break
    versions = list(answered.values())
    share = versions.count(CANDIDATE) / len(versions)
    # 200 inputs: a binomial share's standard deviation is 3.2 points; 3 of them either way
    assert len(versions) == 200 and abs(share - 0.30) <= 0.097, share
    # the arm is the documented hash of (model, candidate, tenant, input): sticky, not random
    expected = [sticky_bucket("toxicity", CANDIDATE, f"bulk\x1f{request_key([s])}") < 30 for s in answered]
    assert [v == CANDIDATE for v in versions] == expected
    again = [_predict(client, analyst, s)["model"]["version"] for s in list(answered)[:20]]
    assert again == versions[:20]


def test_a_canary_sticky_per_tenant_keeps_each_tenant_on_one_version(client, admin_headers, make_key) -> None:  # type: ignore[no-untyped-def]
    _canary(client, admin_headers, 50)
    smiles = [s for s, _ in tox21_measured(ENDPOINT, positives=3, negatives=3)]
    arms = {}
    for tenant in ("acme", "globex", "initech", "umbrella"):
        analyst = auth_header(make_key(tenant, "analyst"))
        versions = {_predict(client, analyst, s)["model"]["version"] for s in smiles}
        assert len(versions) == 1, (tenant, versions)
        arms[tenant] = versions.pop()
        chosen = sticky_bucket("toxicity", CANDIDATE, tenant) < 50
        assert (arms[tenant] == CANDIDATE) == chosen
