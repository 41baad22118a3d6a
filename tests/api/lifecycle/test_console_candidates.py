"""The console's models page shows a retrained candidate's comparison with production, read from its
hashed card, and lets a platform admin promote it from there (audited as through the API); other roles
see neither. The candidate is real: the quick evidence recipe retrained with the simulated repoDB
outcome stream of tests/unit/evidence/test_retraining.py."""

from __future__ import annotations

import html
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hygeia.core.registry import get_registry
from hygeia.evidence.lifecycle import LABEL
from hygeia.evidence.runtime import MODEL_NAME
from tests.api.web.helpers import HTMX, sign_in
from tests.conftest import Platform
from tests.unit.evidence.test_retraining import quick_candidate, quick_production  # noqa: F401


@pytest.mark.slow  # one quick retraining on the real graph: ~40 s on 2 cores
def test_a_platform_admin_sees_the_candidates_comparison_and_promotes_it(  # type: ignore[no-untyped-def]
    client: TestClient,
    platform: Platform,
    make_key,
    admin_headers,
    quick_production: Path,  # noqa: F811
) -> None:
    registry = get_registry()
    result = quick_candidate(quick_production, make_key, ["a console test asked"])
    version, info = result["model"]["version"], result["retraining"]

    for key in (make_key("lab", "admin"), make_key("lab", "analyst")):
        client.cookies.clear()
        sign_in(client, key)
        assert "Retrained candidates" not in client.get("/models").text  # cards name every tenant
        path = f"/ui/models/candidates/{MODEL_NAME}/{version}/promote"
        assert client.post(path, headers=HTMX).status_code == 403

    client.cookies.clear()
    sign_in(client, platform.admin_key)
    page = client.get("/models")
    assert page.status_code == 200, page.text
    text = html.unescape(page.text)
    assert f"{MODEL_NAME}: candidate {version} beside production 0.0.1" in text
    assert "requested a console test asked" in text
    auroc = info["held_out_split"]["auroc"]["pharmacotherapydb_dm"]
    row = text[text.index('data-metric="auroc · pharmacotherapydb_dm"') :]
    row = row[: row.index("</tr>")]
    assert f"<td>{auroc['production']:.4f}</td><td>{auroc['candidate']:.4f}</td>" in row
    assert f"<td>{auroc['difference']:+.4f}</td>" in row
    scored = info["outcome_set"]
    assert f"scored pairs {scored['scored_pairs']}" in text
    for name in ("production", "candidate"):
        roc = scored[name][LABEL]["metrics"]["roc_auc"]["value"]
        assert f"roc auc {roc:.4f}" in text  # both versions' metrics on the held-out outcomes
    assert f"Promote {version}" in text

    promoted = client.post(f"/ui/models/candidates/{MODEL_NAME}/{version}/promote", headers=HTMX)
    assert promoted.status_code == 200, promoted.text
    assert f"{MODEL_NAME} {version} is now in production." in html.unescape(promoted.text)
    assert registry.current(MODEL_NAME)[0] == version  # type: ignore[index]
    events = client.get("/api/v1/admin/audit?action=model.promote", headers=admin_headers).json()
    detail = events[0]["detail"]
    assert detail["version"] == version and detail["from_retraining_card"]["production_version"] == "0.0.1"
    again = client.post(f"/ui/models/candidates/{MODEL_NAME}/{version}/promote", headers=HTMX)
    assert again.status_code == 409 and "not a retrained candidate in staging" in again.text
