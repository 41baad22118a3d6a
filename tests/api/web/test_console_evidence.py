"""Evidence repurposing in the console, through the real app and a real (BM25-only) index of the
fixture corpus: the job and its followed fragment, roles, CSRF, exports and their tenant check."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.api.web.helpers import HTMX, SAME_ORIGIN, sign_in
from tests.conftest import Platform
from tests.unit.evidence.corpus_fixture import write_corpus

REPURPOSE = "/ui/evidence/repurpose"


@pytest.fixture
def built(platform: Platform, tmp_path: Path) -> Path:
    """A BM25-only index of the fixture corpus (repurposing needs no dense vectors), and the feedback
    table if the migrations have not created it already."""
    from hygeia.core.db import get_engine
    from hygeia.evidence.runtime import index_dir
    from hygeia.evidence.store import build_index
    from hygeia.evidence.tables import EvidenceFeedback

    EvidenceFeedback.__table__.create(get_engine(), checkfirst=True)  # type: ignore[attr-defined]
    build_index(write_corpus(tmp_path / "data"), index_dir(), encoder_dir=None)
    return index_dir()


def _job_id(fragment: str) -> str:
    """The job the fragment shows, whether it is still running or already finished (a query that
    links to nothing can fail before the first fragment is rendered)."""
    match = re.search(r'data-job-id="([0-9a-f-]+)"', fragment)
    assert match, fragment[:500]
    return match.group(1)


def _follow(client: TestClient, job_id: str) -> str:
    """Poll the fragment the way htmx does until the job is no longer queued or running."""
    for _ in range(200):
        fragment = client.get(f"/ui/evidence/reports/{job_id}", headers=HTMX)
        assert fragment.status_code == 200, fragment.text
        status = re.search(r'data-job-status="(\w+)"', fragment.text)
        assert status, fragment.text[:500]
        if status.group(1) not in ("queued", "running"):
            assert 'hx-trigger="every 1s"' not in fragment.text  # a finished job stops polling
            return fragment.text
        assert 'hx-trigger="every 1s"' in fragment.text and "<progress" in fragment.text
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish")


def _run(client: TestClient, query: str, k: int = 4) -> tuple[str, str]:
    started = client.post(REPURPOSE, data={"query": query, "k": str(k)}, headers=HTMX)
    assert started.status_code == 200, started.text
    assert 'id="ev-repurpose-job"' in started.text
    job_id = _job_id(started.text)
    return job_id, _follow(client, job_id)


def test_analyst_ranks_candidates_for_a_brand_name(client: TestClient, make_key, built: Path) -> None:
    sign_in(client, make_key("acme", "analyst"))
    page = client.get("/evidence")
    assert 'id="evidence-repurpose-form"' in page.text and 'for="rp-query"' in page.text
    assert "You are signed in as a viewer" not in page.text

    job_id, fragment = _run(client, "Glucophage")
    assert 'data-job-status="succeeded"' in fragment
    assert "for Metformin <small>(DB00331)</small>" in fragment  # the brand name linked to the drug
    rows = re.findall(r'<tr data-drug="([^"]+)" data-disease="([^"]+)">', fragment)
    assert rows[0] == ("DB00331", "DOID:9352") and len(rows) == 4
    start = fragment.index('<tr data-drug="DB00331"')
    first_row = fragment[start : fragment.index("</tr>", start)]
    assert "type 2 diabetes mellitus" in first_row and "<code>D003924</code>" in first_row
    assert "known indication" in first_row and "approval" in first_row
    assert "graph path(s)" in first_row and '<svg class="path-graph"' in first_row  # evidence 2.0.0
    assert "Metformin — binds — PRKAB1 — associated with — type 2 diabetes mellitus" in first_row
    links = re.findall(r'<a href="([^"]+)" target="_blank" rel="noopener noreferrer">', first_row)
    assert links and all(link.startswith("https://") for link in links)
    assert f'href="/ui/evidence/reports/{job_id}.json" download' in fragment
    assert 'aria-label="Ranked candidates"' in fragment and "disclaimer" in fragment


def test_disease_query_ranks_drugs(client: TestClient, make_key, built: Path) -> None:
    sign_in(client, make_key("acme", "analyst"))
    _, fragment = _run(client, "Alzheimer's disease", k=2)
    assert "candidate drug(s) for Alzheimer&#39;s disease" in fragment
    rows = re.findall(r'<tr data-drug="([^"]+)" data-disease="([^"]+)">', fragment)
    assert rows[0] == ("DB00843", "DOID:10652")


def test_a_query_that_links_to_nothing_fails_with_the_reason(
    client: TestClient, make_key, built: Path
) -> None:
    sign_in(client, make_key("acme", "analyst"))
    job_id, fragment = _run(client, "zzqx unobtainium")
    assert 'data-job-status="failed"' in fragment
    alert = fragment[fragment.index('role="alert"') :]
    assert "could not link" in alert and "zzqx unobtainium" in alert
    assert client.get(f"/ui/evidence/reports/{job_id}.json").status_code == 409


def test_viewer_sees_the_form_disabled_and_cannot_start_a_job(
    client: TestClient, make_key, built: Path
) -> None:
    sign_in(client, make_key("acme", "viewer"))
    page = client.get("/evidence").text
    form = page[page.index('id="evidence-repurpose-form"') : page.index("</form>", page.index("rp-query"))]
    assert "You are signed in as a viewer" in page
    assert form.count(" disabled") == 4  # query, k, the checkbox and the button
    refused = client.post(REPURPOSE, data={"query": "metformin"}, headers=HTMX)
    assert refused.status_code == 403 and "needs the analyst role" in refused.text
    assert 'role="alert"' in refused.text


def test_repurposing_refuses_cross_site_posts(client: TestClient, make_key, built: Path) -> None:
    sign_in(client, make_key("acme", "analyst"))
    for headers in ({}, {"Origin": "https://evil.example"}, {"HX-Request": "false"}):
        response = client.post(REPURPOSE, data={"query": "metformin"}, headers=headers)
        assert response.status_code == 403 and "Cross-site request refused" in response.text, headers
    assert client.post(REPURPOSE, data={"query": "metformin"}, headers=SAME_ORIGIN).status_code == 200


def test_missing_index_and_bad_input_are_explained_before_any_job(client: TestClient, make_key) -> None:
    sign_in(client, make_key("acme", "analyst"))
    unbuilt = client.post(REPURPOSE, data={"query": "metformin"}, headers=HTMX)
    assert unbuilt.status_code == 503 and "hygeia evidence build" in unbuilt.text
    blank = client.post(REPURPOSE, data={"query": "   ", "k": "5"}, headers=HTMX)
    assert blank.status_code == 422 and 'role="alert"' in blank.text
    too_many = client.post(REPURPOSE, data={"query": "metformin", "k": "500"}, headers=HTMX)
    assert too_many.status_code == 422
    assert client.get("/api/v1/jobs", headers={"X-API-Key": make_key("acme", "admin")}).json() == []


def test_reports_export_for_the_owner_and_are_404_for_another_tenant(
    client: TestClient, make_key, built: Path
) -> None:
    sign_in(client, make_key("acme", "analyst"))
    job_id, _ = _run(client, "Glucophage")
    exported = client.get(f"/ui/evidence/reports/{job_id}.json")
    assert exported.status_code == 200 and exported.headers["content-type"] == "application/json"
    assert f'filename="repurposing-{job_id}.json"' in exported.headers["content-disposition"]
    top = json.loads(exported.text)["candidates"][0]
    assert (top["drug_id"], top["disease_id"], top["mesh_ids"]) == ("DB00331", "DOID:9352", ["D003924"])
    readable = client.get(f"/ui/evidence/reports/{job_id}.html")
    assert readable.status_code == 200 and readable.headers["content-type"].startswith("text/html")
    assert "Repurposing report: Metformin" in readable.text and "type 2 diabetes mellitus" in readable.text
    assert "script-src" not in readable.headers["content-security-policy"]  # no script runs there
    assert readable.headers["content-security-policy"].startswith("default-src 'none'")

    client.cookies.clear()
    sign_in(client, make_key("globex", "admin"))
    for path in (f"{job_id}.json", f"{job_id}.html", job_id):
        other = client.get(f"/ui/evidence/reports/{path}", headers=HTMX)
        assert other.status_code == 404, path
        assert "DB00331" not in other.text and "diabetes" not in other.text


def test_unfinished_or_foreign_kind_jobs_are_not_reports(
    client: TestClient, platform: Platform, built: Path
) -> None:
    sign_in(client, platform.admin_key)
    client.post("/ui/admin/jobs/verify", headers=HTMX)
    other_kind = client.get("/api/v1/jobs", headers={"X-API-Key": platform.admin_key}).json()[0]["id"]
    for path in (other_kind, f"{other_kind}.json", f"{other_kind}.html"):
        response = client.get(f"/ui/evidence/reports/{path}", headers=HTMX)
        assert response.status_code == 404 and "not a repurposing job" in response.text, path


def test_candidate_votes_refit_the_tenants_weights(client: TestClient, make_key, built: Path) -> None:
    sign_in(client, make_key("acme", "analyst"))
    _, fragment = _run(client, "Glucophage")
    assert fragment.count('hx-post="/ui/evidence/feedback"') == 8  # up and down on 4 candidates
    vote = {"drug_id": "DB00331", "disease_id": "DOID:9256", "vote": "down"}
    recorded = client.post("/ui/evidence/feedback", data=vote, headers=HTMX)
    assert recorded.status_code == 200, recorded.text
    assert "Recorded as not plausible. 1 vote(s)" in recorded.text
    _, again = _run(client, "Glucophage")
    assert "weights from 1 feedback vote(s)" in again
    half = client.post("/ui/evidence/feedback", data={"drug_id": "DB00331", "vote": "up"}, headers=HTMX)
    assert half.status_code == 422 and "drug_id + disease_id" in half.text

    client.cookies.clear()
    sign_in(client, make_key("acme", "viewer"))
    assert client.post("/ui/evidence/feedback", data=vote, headers=HTMX).status_code == 403
    _, seen = _run_as_viewer(client, again)
    assert "hx-post" not in seen and "Your vote" not in seen


def _run_as_viewer(client: TestClient, analyst_fragment: str) -> tuple[str, str]:
    """A viewer of the same tenant follows a job an analyst started: read-only, no vote buttons."""
    job_id = _job_id(analyst_fragment)
    return job_id, _follow(client, job_id)
