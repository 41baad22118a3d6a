"""The console's models page through HTTP: live performance of the signed-in tenant only, outcomes
uploaded as CSV through the API's own path, and releases with their report and promotion reserved to
platform admins (audited as through the API). Kept here for this folder's release reset (conftest)."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient

from hygeia.core import releases
from tests.api.lifecycle.simulated import SOURCE, tox21_measured
from tests.api.web.helpers import HTMX, sign_in, toxicity_unavailable_reason
from tests.conftest import Platform, auth_header

ENDPOINT = "SR-MMP"


@pytest.fixture
def toxicity_ready(client: TestClient) -> None:
    reason = toxicity_unavailable_reason()
    if reason:
        pytest.skip(reason)


def _predict(
    client: TestClient, key: str, positives: int = 15, negatives: int = 25
) -> tuple[list[str], list]:
    measured = tox21_measured(ENDPOINT, positives, negatives)
    response = client.post(
        "/api/v1/toxicity/predict/batch", json={"smiles": [s for s, _ in measured]}, headers=auth_header(key)
    )
    assert response.status_code == 200, response.text
    return [r["prediction_id"] for r in response.json()["results"]], measured


def _outcomes_csv(ids: list[str], measured: list, extra: list[dict[str, str]] = ()) -> bytes:  # type: ignore[assignment]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["prediction_id", "input", "label", "observed", "source"])
    writer.writeheader()
    for pid, (_, y) in zip(ids, measured, strict=True):
        writer.writerow({"prediction_id": pid, "label": ENDPOINT, "observed": y, "source": SOURCE})
    writer.writerows(extra)
    return out.getvalue().encode()


def _upload(client: TestClient, data: bytes) -> object:
    files = {"file": ("outcomes.csv", data, "text/csv")}
    return client.post("/ui/models/outcomes", data={"domain": "toxicity"}, files=files, headers=HTMX)


def _row(html: str, label: str) -> str:
    start = html.index(f'data-label="{label}"')
    return html[start : html.index("</tr>", start)]


def test_tenant_sees_its_own_live_performance_only(client: TestClient, make_key, toxicity_ready) -> None:
    analyst = make_key("acme", "analyst")
    ids, measured = _predict(client, analyst)
    sign_in(client, analyst)
    page = client.get("/models")
    assert page.status_code == 200 and 'hx-get="/ui/models/toxicity/performance"' in page.text
    assert "Shadow and canary releases" not in page.text  # releases span tenants: platform admins only

    bad = {"prediction_id": "no-such-id", "input": "", "label": ENDPOINT, "observed": "1", "source": "lab"}
    uploaded = _upload(client, _outcomes_csv(ids, measured, [bad]))
    assert uploaded.status_code == 200, uploaded.text
    assert "40 outcomes accepted, 1 rejected" in uploaded.text and "<td>41</td>" in uploaded.text

    mine = client.get("/ui/models/toxicity/performance", headers=HTMX)
    assert mine.status_code == 200, mine.text
    mmp = _row(mine.text, ENDPOINT)
    assert "<td>40</td><td>ok</td>" in mmp and 'data-metric="roc_auc"' in mmp
    api = client.get("/api/v1/toxicity/outcomes/performance", headers=auth_header(analyst)).json()
    [api_mmp] = [row for row in api["versions"][0]["labels"] if row["label"] == ENDPOINT]
    assert f"roc auc {api_mmp['metrics']['roc_auc']['value']:.4f}" in mmp  # the API's own numbers
    assert "not enough outcomes yet (0 of 30)" in _row(mine.text, "NR-AR")

    client.cookies.clear()
    sign_in(client, make_key("beta", "viewer"))
    theirs = client.get("/ui/models/toxicity/performance", headers=HTMX)
    assert theirs.status_code == 200
    assert "No outcome of tenant beta" in theirs.text and "roc auc" not in theirs.text


def test_outcome_upload_needs_an_analyst_and_a_csv(client: TestClient, make_key) -> None:
    sign_in(client, make_key("acme", "viewer"))
    refused = _upload(client, b"prediction_id,label,observed,source\n")
    assert refused.status_code == 403 and "needs the analyst role" in refused.text
    client.cookies.clear()
    sign_in(client, make_key("acme", "analyst"))
    wrong = _upload(client, b"smiles,assay\nCCO,NR-AR\n")
    assert wrong.status_code == 422 and "unknown or missing columns" in wrong.text
    assert "Traceback" not in wrong.text


def test_only_platform_admins_see_reports_and_promote(
    client: TestClient, make_key, platform: Platform, admin_headers, toxicity_ready
) -> None:
    models = client.get("/api/v1/admin/models", headers=admin_headers).json()
    production = next(m["version"] for m in models if m["name"] == "toxicity" and m["stage"] == "production")
    candidate = next(m["version"] for m in models if m["name"] == "toxicity" and m["stage"] != "production")
    body = {"candidate_version": candidate, "mode": "shadow", "shadow_rate": 1.0}
    assert client.put("/api/v1/admin/releases/toxicity", json=body, headers=admin_headers).status_code == 200
    _predict(client, make_key("acme", "analyst"), positives=5, negatives=5)
    releases.flush()

    for key in (make_key("acme", "admin"), make_key("acme", "analyst")):
        client.cookies.clear()
        sign_in(client, key)
        assert "Shadow and canary releases" not in client.get("/models").text
        assert client.get("/ui/models/releases/toxicity/report", headers=HTMX).status_code == 403
        refused = client.post("/ui/models/releases/toxicity/promote", headers=HTMX)
        assert refused.status_code == 403
    assert (
        client.get("/api/v1/admin/releases", headers=admin_headers).json()[0]["candidate_version"]
        == candidate
    )

    client.cookies.clear()
    sign_in(client, platform.admin_key)
    page = client.get("/models").text
    assert "Shadow and canary releases" in page and f"<td>{candidate}</td><td>shadow</td>" in page
    report = client.get("/ui/models/releases/toxicity/report", headers=HTMX)
    assert report.status_code == 200, report.text
    assert f"production {production} beside candidate {candidate}" in report.text
    assert "10 inputs answered by both versions" in report.text and "Promote " + candidate in report.text

    promoted = client.post("/ui/models/releases/toxicity/promote", headers=HTMX)
    assert promoted.status_code == 200, promoted.text
    assert f"toxicity {candidate} is now in production" in promoted.text
    models = client.get("/api/v1/admin/models", headers=admin_headers).json()
    assert (
        next(m["version"] for m in models if m["name"] == "toxicity" and m["stage"] == "production")
        == candidate
    )
    assert client.get("/api/v1/admin/releases", headers=admin_headers).json() == []
    events = client.get("/api/v1/admin/audit?action=model.promote", headers=admin_headers).json()
    assert events[0]["detail"]["from_release"] == "shadow" and events[0]["detail"]["version"] == candidate
    again = client.post("/ui/models/releases/toxicity/promote", headers=HTMX)
    assert again.status_code == 409 and "no release running" in again.text
