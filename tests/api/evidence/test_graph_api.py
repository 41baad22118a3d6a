"""The graph model (2.1.0) through HTTP: candidates carry Hetionet paths; feedback stats per tenant and job.

The fixture corpus ships a four-gene Hetionet (each drug binds its real target, each disease is
associated with it), and the registered model is the bundled one, so the paths are checked by hand.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.api.evidence.test_evidence_api import _wait, built, production_prior  # noqa: F401
from tests.conftest import auth_header


def _repurpose(client: TestClient, headers: dict[str, str], query: str) -> dict:
    submitted = client.post("/api/v1/evidence/repurpose", json={"query": query, "k": 4}, headers=headers)
    assert submitted.status_code == 202, submitted.text
    job = _wait(client, headers, submitted.json()["id"])
    assert job["status"] == "succeeded", job
    return job


def test_candidates_show_their_paths_in_words(client: TestClient, make_key, built: Path) -> None:  # noqa: F811
    headers = auth_header(make_key("acme", "analyst"))
    job = _repurpose(client, headers, "metformin")
    by_disease = {c["disease_id"]: c for c in job["result"]["candidates"]}
    diabetes = by_disease["DOID:9352"]
    texts = [p["text"] for p in diabetes["paths"]]
    assert "Metformin — binds — PRKAB1 — associated with — type 2 diabetes mellitus" in texts
    path = diabetes["paths"][0]
    assert path["contribution"] > 0 and path["nodes"][0]["kind"] == "Compound"
    assert diabetes["features"]["graph_score"] > by_disease["DOID:9256"]["features"].get("graph_score", -99)
    assert by_disease["DOID:9256"]["paths"] == []  # no path from metformin to colorectal cancer here
    assert job["result"]["model"]["version"] == "2.1.0"


def test_feedback_stats_and_job_votes(client: TestClient, make_key, built: Path) -> None:  # noqa: F811
    acme = auth_header(make_key("acme", "analyst"))
    job = _repurpose(client, acme, "metformin")
    empty = client.get("/api/v1/evidence/feedback/stats", headers=acme).json()
    assert empty["feedback_count"] == 0 and all(v == 0 for v in empty["shift"].values())
    for _ in range(3):
        vote = {"vote": "down", "drug_id": "DB00331", "disease_id": "DOID:9256"}
        assert client.post("/api/v1/evidence/feedback", json=vote, headers=acme).status_code == 201
    stats = client.get("/api/v1/evidence/feedback/stats", headers=acme).json()
    assert stats["feedback_count"] == 3 and stats["by_target"]["candidate"]["down"] == 3
    assert stats["prior"]["graph_score"] == production_prior()["graph_score"]
    assert stats["shift"]["trial_max_phase"] < 0
    on_job = client.get(f"/api/v1/evidence/feedback/job/{job['id']}", headers=acme).json()
    assert len(on_job["votes"]) == 3 and {v["disease_id"] for v in on_job["votes"]} == {"DOID:9256"}
    globex = auth_header(make_key("globex", "viewer"))
    assert client.get("/api/v1/evidence/feedback/stats", headers=globex).json()["feedback_count"] == 0
    assert client.get(f"/api/v1/evidence/feedback/job/{job['id']}", headers=globex).status_code == 404


def test_refit_command_replays_a_tenants_votes(
    client: TestClient,
    make_key,
    built: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    from typer.testing import CliRunner

    from hygeia.evidence.cli import app

    acme = auth_header(make_key("acme", "analyst"))
    vote = {"vote": "down", "drug_id": "DB00331", "disease_id": "DOID:9256"}
    for _ in range(4):
        assert client.post("/api/v1/evidence/feedback", json=vote, headers=acme).status_code == 201
    out = tmp_path / "weights.json"
    result = CliRunner().invoke(app, ["refit", "acme", "--export", str(out)])
    assert result.exit_code == 0, result.output
    payload = json.loads(out.read_text())
    assert payload["feedback_count"] == 4 and payload["model_version"] == "2.1.0"
    assert payload["shift"]["trial_max_phase"] < 0 and payload["prior"] == {
        k: round(v, 4) for k, v in sorted(production_prior().items())
    }
    assert json.loads(CliRunner().invoke(app, ["refit", "globex"]).stdout)["feedback_count"] == 0


def test_path_graph_svg_escapes_and_draws_shared_nodes_once() -> None:
    from hygeia.web.pages.evidence_paths import path_graph

    drug = {"kind": "Compound", "id": "DB1", "name": "<drug>"}
    disease = {"kind": "Disease", "id": "D1", "name": "disease"}
    gene = {"kind": "Gene", "id": "G1", "name": "GENE1"}
    paths = [
        {"nodes": [drug, gene, disease], "verbs": ["binds", "associated with"]},
        {
            "nodes": [drug, gene, {"kind": "Gene", "id": "G2", "name": "GENE2"}, disease],
            "verbs": ["a", "b", "c"],
        },
    ]
    svg = str(path_graph(paths, "paths"))
    assert svg.count("<circle") == 4 and svg.count("<line") == 5
    assert "&lt;drug&gt;" in svg and "<drug>" not in svg
    assert str(path_graph([], "none")) == ""


def test_missing_edge_tables_are_a_503_before_any_job(client: TestClient, make_key, tmp_path: Path) -> None:
    from hygeia.core.db import get_engine
    from hygeia.evidence.runtime import index_dir
    from hygeia.evidence.store import build_index
    from hygeia.evidence.tables import EvidenceFeedback
    from tests.unit.evidence.corpus_fixture import write_corpus

    EvidenceFeedback.__table__.create(get_engine(), checkfirst=True)  # type: ignore[attr-defined]
    data = write_corpus(tmp_path / "data")
    (data / "hetionet" / "edges-CbG.tsv.gz").unlink()
    build_index(data, index_dir(), encoder_dir=None)
    headers = auth_header(make_key("acme", "analyst"))
    response = client.post("/api/v1/evidence/repurpose", json={"query": "metformin"}, headers=headers)
    assert response.status_code == 503
    assert (
        response.json()["capability"] == "evidence.graph" and "edges-CbG.tsv.gz" in response.json()["detail"]
    )


def test_agents_reach_repurposing_through_the_candidates_tool(
    client: TestClient,
    built: Path,  # noqa: F811
) -> None:
    """A plain question names a drug, a disease or both; the tool ranks like the job does, leaves out
    known indications, and shows each candidate's strongest path."""
    from hygeia.core.errors import InputError
    from hygeia.core.tools import Caller, get_tool
    from hygeia.evidence.schemas import RepurposeRequest
    from hygeia.evidence.service import TOOL_CANDIDATES, repurpose

    tool, acme = get_tool("evidence.candidates"), Caller("acme", "analyst")
    assert tool.tenant_scoped
    for_drug = tool.call(acme, {"query": "What new uses could metformin have?"})
    job = repurpose(RepurposeRequest(query="metformin", exclude_known=True), "acme")
    assert for_drug["entity"]["id"] == "DB00331"
    expected = [c.disease_id for c in job.candidates][:TOOL_CANDIDATES]
    assert [c["disease_id"] for c in for_drug["candidates"]] == expected
    assert "DOID:9352" not in expected  # type 2 diabetes is metformin's known indication
    assert for_drug["fact"].startswith(f"Top {len(expected)} repurposing hypotheses for Metformin")

    pair = tool.call(acme, {"query": "Could metformin be repurposed for type 2 diabetes mellitus?"})["pair"]
    assert (pair["drug_id"], pair["disease_id"], pair["rank"]) == ("DB00331", "DOID:9352", 1)
    assert pair["known_indication"] and pair["of"] > 1
    assert pair["strongest_path"] == "Metformin — binds — PRKAB1 — associated with — type 2 diabetes mellitus"

    with pytest.raises(InputError, match="names no drug or ranked disease"):
        tool.call(acme, {"query": "What could be repurposed for zorblax syndrome?"})


def test_a_repurposing_question_to_the_agents_reaches_the_ranking(
    client: TestClient,
    make_key,
    built: Path,  # noqa: F811
) -> None:
    headers = auth_header(make_key("acme", "analyst"))
    question = "What new uses could metformin have?"
    body = {"question": question, "mode": "manual", "expert": "clinical_research"}
    response = client.post("/api/v1/agents/ask", json=body, headers=headers)
    assert response.status_code == 200, response.text
    answer = response.json()
    calls = {c["tool"]: c for c in answer["tool_calls"]}
    assert calls["evidence.search"]["status"] == "ok"
    lookup = calls["evidence.candidates"]
    assert lookup["status"] == "ok", lookup["error"]
    assert "- Top 3 repurposing hypotheses for Metformin" in answer["answer"]
    assert answer["confidence"]["tool_answered"] is True
