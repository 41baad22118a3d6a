"""Evidence API through the real app: 503 until built, search, repurpose job + report, feedback."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from tests.conftest import Platform, auth_header
from tests.unit.evidence.corpus_fixture import write_corpus

SEARCH = "/api/v1/evidence/search"


@pytest.fixture
def built(platform: Platform, tmp_path: Path) -> Path:
    """A BM25-only index of the fixture corpus in this test's var dir, and the feedback table.

    The feedback table is created here only if the Alembic migration has not created it already.
    """
    from hygeia.core.db import get_engine
    from hygeia.evidence.runtime import index_dir
    from hygeia.evidence.store import build_index
    from hygeia.evidence.tables import EvidenceFeedback

    EvidenceFeedback.__table__.create(get_engine(), checkfirst=True)  # type: ignore[attr-defined]
    build_index(write_corpus(tmp_path / "data"), index_dir(), encoder_dir=None)
    return index_dir()


def production_prior() -> dict[str, float]:
    """The prior weights of the evidence model the platform registered (the newest bundled one)."""
    from hygeia.evidence.runtime import load_prior, newest_model_folder

    folder = newest_model_folder()
    assert folder is not None
    return load_prior(folder)


def _wait(client: TestClient, headers: dict[str, str], job_id: str) -> dict:
    for _ in range(200):
        job = client.get(f"/api/v1/jobs/{job_id}", headers=headers).json()
        if job["status"] in ("succeeded", "failed"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish")


def test_unbuilt_index_is_a_503_with_the_fix(client: TestClient, make_key) -> None:
    headers = auth_header(make_key("acme", "analyst"))
    response = client.post(SEARCH, json={"query": "metformin"}, headers=headers)
    assert response.status_code == 503
    body = response.json()
    assert body["type"] == "urn:hygeia:capability-unavailable"
    assert "hygeia evidence build" in body["detail"]
    assert client.post("/api/v1/evidence/repurpose", json={"query": "x"}, headers=headers).status_code == 503


def test_search_links_entities_and_cites(client: TestClient, make_key, built: Path) -> None:
    headers = auth_header(make_key("acme", "viewer"))
    response = client.post(SEARCH, json={"query": "Revatio heart failure", "mode": "bm25"}, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert {e["id"] for e in body["entities"]} >= {"DB00203"}
    assert body["hits"][0]["id"] in {"repodb:3", "pmid:1003"} or body["hits"][0]["drug_ids"] == ["DB00203"]
    assert all(hit["url"].startswith("https://") for hit in body["hits"])
    assert body["model"]["name"] == "evidence" and body["index"]["dense"] is False
    hybrid = client.post(SEARCH, json={"query": "sildenafil"}, headers=headers)  # no vectors yet
    assert hybrid.status_code == 200 and hybrid.json()["mode"] == "bm25"
    dense = client.post(SEARCH, json={"query": "sildenafil", "mode": "dense"}, headers=headers)
    assert dense.status_code == 503 and dense.json()["capability"] == "evidence.dense"


def test_repurpose_job_report_and_html(client: TestClient, make_key, built: Path) -> None:
    headers = auth_header(make_key("acme", "analyst"))
    submitted = client.post(
        "/api/v1/evidence/repurpose", json={"query": "Glucophage", "k": 4}, headers=headers
    )
    assert submitted.status_code == 202, submitted.text
    job = _wait(client, headers, submitted.json()["id"])
    assert job["status"] == "succeeded", job
    report = client.get(f"/api/v1/evidence/reports/{job['id']}", headers=headers)
    assert report.status_code == 200
    model = report.json()["model"]
    scored = {"model": model["name"], "version": model["version"], "label": "candidate"}
    assert (REGISTRY.get_sample_value("hygeia_prediction_score_count", scored) or 0) >= 4
    top = report.json()["candidates"][0]
    assert (top["drug_id"], top["disease_id"], top["mesh_ids"]) == ("DB00331", "DOID:9352", ["D003924"])
    assert top["known_indication"] and top["citations"]
    html = client.get(f"/api/v1/evidence/reports/{job['id']}?format=html", headers=headers)
    assert html.status_code == 200 and "text/html" in html.headers["content-type"]
    assert "type 2 diabetes mellitus" in html.text and "Alzheimer&#39;s disease" in html.text
    other = auth_header(make_key("globex", "viewer"))
    assert client.get(f"/api/v1/evidence/reports/{job['id']}", headers=other).status_code == 404


def test_feedback_moves_only_this_tenants_weights(client: TestClient, make_key, built: Path) -> None:
    acme = auth_header(make_key("acme", "analyst"))
    vote = {"vote": "down", "drug_id": "DB00331", "disease_id": "DOID:9256"}
    for _ in range(5):
        response = client.post("/api/v1/evidence/feedback", json=vote, headers=acme)
        assert response.status_code == 201, response.text
    body = response.json()
    assert body["feedback_count"] == 5 and body["features"]["trial_max_phase"] == 0.5
    prior = production_prior()
    assert body["weights"]["trial_max_phase"] < prior["trial_max_phase"]
    globex = auth_header(make_key("globex", "analyst"))
    job = client.post("/api/v1/evidence/repurpose", json={"query": "metformin"}, headers=globex).json()
    result = _wait(client, globex, job["id"])["result"]
    assert result["feedback_count"] == 0
    assert result["weights"]["trial_max_phase"] == pytest.approx(prior["trial_max_phase"], abs=1e-4)


def test_feedback_validation_and_roles(client: TestClient, make_key, built: Path) -> None:
    analyst = auth_header(make_key("acme", "analyst"))
    both = {"vote": "up", "doc_id": "pmid:1001", "drug_id": "DB00331", "disease_id": "DOID:9352"}
    assert client.post("/api/v1/evidence/feedback", json=both, headers=analyst).status_code == 422
    missing = {"vote": "flag", "doc_id": "pmid:999999"}
    assert client.post("/api/v1/evidence/feedback", json=missing, headers=analyst).status_code == 404
    doc_vote = client.post(
        "/api/v1/evidence/feedback", json={"vote": "up", "doc_id": "pmid:1001"}, headers=analyst
    )
    assert doc_vote.status_code == 201 and doc_vote.json()["features"] == {
        "literature": pytest.approx(0.6931)
    }
    viewer = auth_header(make_key("acme", "viewer"))
    assert (
        client.post(
            "/api/v1/evidence/feedback", json={"vote": "up", "doc_id": "pmid:1001"}, headers=viewer
        ).status_code
        == 403
    )


def test_search_tool_is_registered(built: Path) -> None:
    import hygeia.evidence.service  # noqa: F401  (registers the tool at import, as the app does)
    from hygeia.core.tools import get_tool

    tool = get_tool("evidence.search")
    assert tool.input_schema["required"] == ["query"]
    assert tool.function(query="donepezil", mode="bm25")["hits"][0]["drug_ids"] == ["DB00843"]


INDEX = "/api/v1/evidence/index"


@pytest.fixture
def evidence_data(platform: Platform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """DATA_DIR pointing at the fixture corpus (DATA_DIR/evidence), nothing built yet."""
    from tests.conftest import reset_caches

    write_corpus(tmp_path / "data" / "evidence")
    monkeypatch.setenv("HYGEIA_DATA_DIR", str(tmp_path / "data"))
    reset_caches()
    return tmp_path / "data"


def test_platform_admin_builds_the_index_as_a_job(
    client: TestClient, platform: Platform, make_key, evidence_data: Path
) -> None:
    admin = auth_header(platform.admin_key)
    viewer = auth_header(make_key("acme", "viewer"))
    assert client.post(SEARCH, json={"query": "metformin"}, headers=viewer).status_code == 503
    assert client.post(INDEX, json={}, headers=auth_header(make_key("acme", "admin"))).status_code == 403
    submitted = client.post(INDEX, json={"dense_types": ["literature"]}, headers=admin)
    assert submitted.status_code == 202, submitted.text
    job = _wait(client, admin, submitted.json()["id"])
    assert job["status"] == "succeeded", job
    assert job["result"]["dense"] is True and job["result"]["documents"] > 0
    assert job["progress"] == 1.0
    found = client.post(SEARCH, json={"query": "Glucophage diabetes"}, headers=viewer)
    assert found.status_code == 200, found.text
    assert found.json()["index"]["dense"] is True and found.json()["hits"]


def test_index_build_is_refused_without_data_or_while_one_runs(
    client: TestClient, platform: Platform, evidence_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hygeia.core.db import tenant_session
    from hygeia.core.tables import Job
    from hygeia.evidence.service import BUILD_KIND
    from tests.conftest import reset_caches

    admin = auth_header(platform.admin_key)
    with tenant_session("platform") as session:
        session.add(Job(kind=BUILD_KIND, payload={}, created_by="test", status="running", progress=0.3))
    busy = client.post(INDEX, json={"lexical_only": True}, headers=admin)
    assert busy.status_code == 409 and "building the index" in busy.json()["detail"]
    # meanwhile (the first start's build, minutes after `make run`) the capability says so, and how far
    searched = client.post(SEARCH, json={"query": "metformin"}, headers=admin)
    assert searched.status_code == 503, searched.text
    assert "the evidence index is being built (job " in searched.json()["detail"]
    assert ", running, 30%: starting)" in searched.json()["detail"]
    monkeypatch.setenv("HYGEIA_DATA_DIR", str(evidence_data / "missing"))
    reset_caches()
    missing = client.post(INDEX, json={"lexical_only": True}, headers=admin)
    assert missing.status_code == 503 and "no evidence data" in missing.json()["detail"]
