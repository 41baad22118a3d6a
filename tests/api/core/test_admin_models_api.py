"""Model registry through the admin API: list, card, promote, rollback, and who may do it."""

from __future__ import annotations

from hygeia.core.registry import get_registry
from tests.conftest import auth_header
from tests.unit.core.test_registry import make_model


def test_promote_and_rollback_through_api(client, admin_headers, make_key, tmp_path):
    for version in ("1.0.0", "1.1.0"):
        get_registry().register(make_model(tmp_path, version, weights=f'{{"v": "{version}"}}'))
    base = "/api/v1/admin/models/logit"
    assert client.post(f"{base}/1.0.0/promote", headers=admin_headers).json()["stage"] == "production"
    assert client.post(f"{base}/1.1.0/promote", headers=admin_headers).json()["stage"] == "production"
    card = client.get(f"{base}/1.1.0", headers=admin_headers).json()["card"]
    assert card["artifacts"] and card["task"] == "test fixture"
    assert client.post(f"{base}/rollback", headers=admin_headers).json()["version"] == "1.0.0"
    stages = {
        m["version"]: m["stage"]
        for m in client.get("/api/v1/admin/models", headers=admin_headers).json()
        if m["name"] == "logit"
    }
    assert stages == {"1.0.0": "production", "1.1.0": "archived"}
    actions = [e["action"] for e in client.get("/api/v1/admin/audit", headers=admin_headers).json()]
    assert actions[:3] == ["model.rollback", "model.promote", "model.promote"]


def test_only_platform_admins_change_the_registry(client, make_key, tmp_path):
    get_registry().register(make_model(tmp_path, "1.0.0"))
    for role in ("viewer", "analyst", "admin"):
        response = client.post(
            "/api/v1/admin/models/logit/1.0.0/promote", headers=auth_header(make_key("acme", role))
        )
        assert response.status_code == 403, role


def test_unknown_model_version_is_404(client, admin_headers):
    response = client.post("/api/v1/admin/models/nope/9.9.9/promote", headers=admin_headers)
    assert response.status_code == 404 and response.headers["content-type"] == "application/problem+json"
