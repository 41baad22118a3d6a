"""Console pages and fragments through the real app: banners with reasons, HTML problems, the agents'
one-time stream tickets, and sessions without a JWT secret."""

from __future__ import annotations

import csv
import io
import json
import time

import pytest
from fastapi.testclient import TestClient

from hygeia.web.session import SESSION_COOKIE
from tests.api.web.helpers import HTMX, sign_in, toxicity_unavailable_reason
from tests.conftest import Platform, reset_caches

DOMAIN_PAGES = ("/toxicity", "/signals", "/dermatology", "/evidence", "/agents")


def test_every_page_renders_for_every_role(client: TestClient, make_key, platform: Platform) -> None:
    for key in (platform.admin_key, make_key("acme", "analyst"), make_key("acme", "viewer")):
        client.cookies.clear()
        sign_in(client, key)
        for path in ("/", *DOMAIN_PAGES):
            response = client.get(path)
            assert response.status_code == 200, (path, response.text[:300])
            assert 'id="main"' in response.text and "Traceback" not in response.text


def test_switched_off_domain_shows_the_reason(platform: Platform, monkeypatch: pytest.MonkeyPatch) -> None:
    from hygeia.app import create_app

    monkeypatch.setenv("HYGEIA_DOMAINS", json.dumps(["dermatology"]))
    reset_caches()
    with TestClient(create_app()) as client:
        sign_in(client, platform.admin_key)
        page = client.get("/signals")
        assert page.status_code == 200
        assert "switched off here (HYGEIA_DOMAINS)" in page.text and "banner-unavailable" in page.text
        fragment = client.get("/ui/signals/runs/abc", headers=HTMX)
        assert fragment.status_code == 503 and "switched off" in fragment.text
        dashboard = client.get("/").text
        assert dashboard.count("switched off here") == 4


def test_without_a_jwt_secret_the_cookie_still_never_holds_the_key(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hygeia.app import create_app

    monkeypatch.delenv("HYGEIA_JWT_SECRET")
    reset_caches()
    with TestClient(create_app()) as client:
        sign_in(client, platform.admin_key)
        assert client.cookies[SESSION_COOKIE] != platform.admin_key
        assert client.get("/").status_code == 200


def test_unknown_run_is_an_html_problem(client: TestClient, platform: Platform) -> None:
    sign_in(client, platform.admin_key)
    response = client.get("/ui/signals/runs/does-not-exist/signals", headers=HTMX)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert 'role="alert"' in response.text and "does-not-exist" in response.text


def test_invalid_form_values_are_explained(client: TestClient, platform: Platform) -> None:
    sign_in(client, platform.admin_key)
    response = client.get("/ui/signals/runs/x/signals?min_eb05=abc", headers=HTMX)
    assert response.status_code == 422 and "minimum EB05 must be a number" in response.text
    bad_level = client.get("/ui/signals/runs/x/signals?alert_level=severe", headers=HTMX)
    assert bad_level.status_code == 422 and "alert_level" in bad_level.text


def _ask(client: TestClient, question: str = "What is the PRR of a drug-event pair?") -> str:
    response = client.post("/ui/agents/ask", data={"question": question}, headers=HTMX)
    assert response.status_code == 200, response.text
    marker = 'data-stream="'
    start = response.text.index(marker) + len(marker)
    return response.text[start : response.text.index('"', start)]


def _events(body: str) -> list[tuple[str, dict]]:
    events = []
    for block in body.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((fields["event"], json.loads(fields["data"])))
    return events


def test_agent_stream_tickets_are_one_time_and_personal(client: TestClient, make_key) -> None:
    pytest.importorskip("hygeia.agents.service", reason="the agents domain is not in this build")
    sign_in(client, make_key("acme", "analyst"))
    stream_url = _ask(client)
    events = _events(client.get(stream_url).text)
    kinds = [kind for kind, _ in events]
    assert kinds[0] == "meta" and kinds[-2:] == ["answer", "done"]
    answer = dict(events)["answer"]
    assert answer["message_id"] and "answer-text" in answer["html"]

    replay = _events(client.get(stream_url).text)
    assert [kind for kind, _ in replay] == ["error", "done"]
    assert "already used" in replay[0][1]["html"]

    other_url = _ask(client)
    client.cookies.clear()
    sign_in(client, make_key("acme", "admin"))  # same tenant, another person
    stolen = _events(client.get(other_url).text)
    assert [kind for kind, _ in stolen] == ["error", "done"]


def test_agent_answer_escapes_html_and_links_only_real_citations() -> None:
    from hygeia.web.pages.agents import cited_text

    html = str(cited_text("<script>x</script> see [1] and [9]", {1}))
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert '<a href="#src-1" class="cite">[1]</a>' in html and "[9]" in html and "#src-9" not in html


def _followed_to_the_end(client: TestClient, fragment: str) -> tuple[str, str]:
    """The job the page shows, polled as the page does until it finishes; its id and last fragment."""
    job_id = fragment.split('hx-get="/ui/toxicity/jobs/')[1].split('"')[0]
    for _ in range(600):
        status = client.get(f"/ui/toxicity/jobs/{job_id}", headers=HTMX).text
        if 'data-job-status="succeeded"' in status or 'data-job-status="failed"' in status:
            break
        time.sleep(0.1)
    assert 'data-job-status="succeeded"' in status, status
    return job_id, status


def test_large_toxicity_batch_runs_as_a_followed_job(client: TestClient, make_key) -> None:
    reason = toxicity_unavailable_reason()
    if reason is not None:
        pytest.skip(f"no toxicity model: {reason}")
    sign_in(client, make_key("acme", "analyst"))
    smiles = ["CCO", "c1ccccc1O", "not-a-smiles"] * 334  # 1,002: over the page's 1,000
    submitted = client.post("/ui/toxicity/predict", data={"smiles": "\n".join(smiles)}, headers=HTMX)
    assert submitted.status_code == 200 and "run as a background job" in submitted.text
    job_id, _ = _followed_to_the_end(client, submitted.text)
    download = client.get(f"/ui/toxicity/jobs/{job_id}.csv")
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert len(rows) == len(smiles) and rows[2]["error"] and not rows[0]["error"]
    client.cookies.clear()
    sign_in(client, make_key("other", "admin"))
    assert client.get(f"/ui/toxicity/jobs/{job_id}.csv").status_code == 404  # another tenant's job


def test_large_uploaded_file_runs_as_a_screen_and_keeps_its_columns(client: TestClient, make_key) -> None:
    reason = toxicity_unavailable_reason()
    if reason is not None:
        pytest.skip(f"no toxicity model: {reason}")
    sign_in(client, make_key("acme", "analyst"))
    smiles = ["CCO", "c1ccccc1O", "not-a-smiles"] * 334  # 1,002: over the page's 1,000
    upload = "compound_id,smiles\n" + "".join(f"c{i},{s}\n" for i, s in enumerate(smiles))
    files = {"file": ("library.csv", upload.encode(), "text/csv")}
    submitted = client.post("/ui/toxicity/predict", data={"smiles": ""}, files=files, headers=HTMX)
    assert submitted.status_code == 200 and "1002 molecules" in submitted.text
    job_id, status = _followed_to_the_end(client, submitted.text)
    assert "334 row(s) could not be scored" in status
    rows = list(csv.DictReader(io.StringIO(client.get(f"/ui/toxicity/jobs/{job_id}.csv").text)))
    assert [r["compound_id"] for r in rows] == [f"c{i}" for i in range(len(smiles))]  # the file's own ids
    assert rows[2]["error"].startswith("unparseable") and not rows[0]["error"]
    client.cookies.clear()
    sign_in(client, make_key("other", "admin"))
    assert client.get(f"/ui/toxicity/jobs/{job_id}.csv").status_code == 404  # another tenant's screen


def test_only_web_links_from_data_become_hrefs() -> None:
    from hygeia.web.render import web_url

    assert web_url("https://pubmed.ncbi.nlm.nih.gov/1/") == "https://pubmed.ncbi.nlm.nih.gov/1/"
    assert web_url("javascript:alert(1)") == "" and web_url("data:text/html,x") == "" and web_url(None) == ""


def test_the_console_imports_no_domain_until_a_page_asks() -> None:
    import subprocess
    import sys

    code = (
        "import sys, hygeia.web.routes; "
        "print(sorted(m for m in sys.modules if m.split('.')[:2][-1] in "
        "('toxicity', 'signals', 'dermatology', 'evidence', 'agents') and m.startswith('hygeia.')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
