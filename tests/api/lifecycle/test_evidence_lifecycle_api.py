"""Evidence in the lifecycle over HTTP: each repurposing candidate carries a prediction id; clinical
results are outcomes, linked by id or by 'drug_id|disease_id'; live performance scores the
confidence; searches and candidates feed the persistent drift monitor (query mix, confidences)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.api.evidence.test_evidence_api import _wait, built  # noqa: F401  (fixture)
from tests.conftest import auth_header

OUTCOMES = "/api/v1/evidence/outcomes"
SOURCE = "simulated: the fixture corpus's curated indication replayed as a trial result by a test"


def _candidates(client: TestClient, headers: dict[str, str], query: str = "Glucophage") -> list[dict]:  # type: ignore[type-arg]
    submitted = client.post("/api/v1/evidence/repurpose", json={"query": query, "k": 200}, headers=headers)
    assert submitted.status_code == 202, submitted.text
    job = _wait(client, headers, submitted.json()["id"])
    assert job["status"] == "succeeded", job
    return list(job["result"]["candidates"])


def _outcomes(candidates: list[dict], invert: bool = False) -> list[dict]:  # type: ignore[type-arg]
    return [
        {
            "prediction_id": c["prediction_id"],
            "observed": "positive" if c["known_indication"] != invert else "negative",
            "source": SOURCE,
        }
        for c in candidates
    ]


def _label(client: TestClient, headers: dict[str, str]) -> dict:  # type: ignore[type-arg]
    report = client.get(f"{OUTCOMES}/performance", headers=headers).json()
    assert report["capability"] == "evidence" and report["family"] == "binary"
    (version,) = report["versions"]
    (label,) = version["labels"]
    assert label["label"] == "clinical_result"
    return dict(label)


def test_candidates_get_ids_and_outcomes_score_the_confidence(
    client: TestClient,
    make_key,
    built: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    analyst = auth_header(make_key("acme", "analyst"))
    candidates = _candidates(client, analyst)
    assert len(candidates) >= 4 and all(c["prediction_id"] for c in candidates)
    assert {c["known_indication"] for c in candidates} == {True, False}
    again = _candidates(client, analyst)
    assert [c["prediction_id"] for c in again] == [c["prediction_id"] for c in candidates]
    top = candidates[0]
    record = client.get(f"/api/v1/evidence/predictions/{top['prediction_id']}", headers=analyst).json()
    assert record["input_key"] == f"{top['drug_id']}|{top['disease_id']}"
    assert record["scores"] == {"clinical_result": top["confidence"]}

    rows = _outcomes(candidates)
    assert client.post(OUTCOMES, json=rows, headers=analyst).json()["accepted"] == len(rows)
    assert _label(client, analyst)["status"] == f"not enough outcomes yet ({len(rows)} of 30)"
    monkeypatch.setenv("HYGEIA_LIFECYCLE_MIN_OUTCOMES", str(len(rows)))
    scored = _label(client, analyst)
    assert scored["status"] == "ok" and {"roc_auc", "pr_auc", "brier", "ece"} <= set(scored["metrics"])
    auc = scored["metrics"]["roc_auc"]["value"]
    client.post(OUTCOMES, json=_outcomes(candidates, invert=True), headers=analyst)  # a simulated reversal
    assert _label(client, analyst)["metrics"]["roc_auc"]["value"] == pytest.approx(1 - auc, abs=1e-3)


def test_outcome_rows_by_pair_errors_and_tenant_isolation(
    client: TestClient,
    make_key,
    built: Path,  # noqa: F811
) -> None:
    analyst = auth_header(make_key("acme", "analyst"))
    top = _candidates(client, analyst)[0]
    rows = [
        {
            "input": f"{top['drug_id'].lower()} | {top['disease_id'].lower()}",
            "observed": "negative",
            "source": "phase 2 trial (test)",
        },
        {"input": "metformin|diabetes", "observed": "positive", "source": "test"},
        {"prediction_id": top["prediction_id"], "observed": "promising", "source": "test"},
    ]
    body = client.post(OUTCOMES, json=rows, headers=analyst).json()
    assert [r["status"] for r in body["rows"]] == ["accepted", "error", "error"]
    assert body["rows"][0]["input_key"] == f"{top['drug_id']}|{top['disease_id']}"
    assert "'drug_id|disease_id'" in body["rows"][1]["error"]
    record = client.get(f"/api/v1/evidence/predictions/{top['prediction_id']}", headers=analyst).json()
    assert [o["observed"] for o in record["outcomes"]] == ["0"]

    globex = auth_header(make_key("globex", "analyst"))
    stolen = [{"prediction_id": top["prediction_id"], "observed": "positive", "source": "test"}]
    answer = client.post(OUTCOMES, json=stolen, headers=globex).json()
    assert answer["rows"][0]["status"] == "error" and "in your tenant" in answer["rows"][0]["error"]
    assert client.get(f"{OUTCOMES}/performance", headers=globex).json()["versions"] == []


def test_searches_and_candidates_feed_the_evidence_drift_monitor(
    client: TestClient,
    make_key,
    built: Path,  # noqa: F811
) -> None:
    analyst = auth_header(make_key("acme", "analyst"))
    for query in ("metformin", "type 2 diabetes", "metformin for type 2 diabetes", "unlinked words"):
        response = client.post(
            "/api/v1/evidence/search", json={"query": query, "mode": "bm25"}, headers=analyst
        )
        assert response.status_code == 200, response.text
    candidates = _candidates(client, analyst)
    rows = client.get("/api/v1/admin/drift", headers=analyst).json()
    mine = {row["signal"]: row for row in rows if row["model"] == "evidence"}
    assert mine["query_entities"]["observations"] == 4
    assert mine["candidate_confidence"]["observations"] == len(candidates)
    assert mine["query_entities"]["status"].startswith("collecting")  # PSI from 50 observations on
    other = auth_header(make_key("globex", "viewer"))
    theirs = client.get("/api/v1/admin/drift", headers=other).json()
    assert not [row for row in theirs if row["model"] == "evidence"]
