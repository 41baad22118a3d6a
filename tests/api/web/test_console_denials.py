"""Console refusals are audited as the API's are: a signed-in user refused by a role check leaves one
`denied:403` row with caller and route; a signed-out visitor is sent to sign in, not audited as a 403."""

from __future__ import annotations

from fastapi.testclient import TestClient

from hygeia.core import audit
from tests.api.web.helpers import HTMX, SAME_ORIGIN, sign_in


def _denied(tenant_id: str) -> list[audit.AuditEvent]:
    return audit.list_events(tenant_id, action="denied:403")


def test_a_viewer_refused_the_admin_page_is_audited_with_role_and_route(client: TestClient, make_key) -> None:
    sign_in(client, make_key("acme", "viewer"))

    page = client.get("/admin")

    assert page.status_code == 403 and "this needs the admin role" in page.text
    [event] = _denied("acme")
    assert event.role == "viewer" and event.actor.startswith("key:")
    assert event.detail == {
        "method": "GET",
        "route": "/admin",
        "status": 403,
        "reason": "this needs the admin role; you are signed in as viewer",
    }


def test_a_refused_htmx_action_is_audited_once_under_its_route_template(client: TestClient, make_key) -> None:
    sign_in(client, make_key("globex", "analyst"))

    refused = client.post("/ui/admin/keys/somekey/revoke", headers={**HTMX, **SAME_ORIGIN})

    assert refused.status_code == 403 and "Traceback" not in refused.text
    [event] = _denied("globex")
    assert event.detail["route"] == "/ui/admin/keys/{key_id}/revoke" and event.detail["method"] == "POST"
    assert _denied("acme") == []


def test_a_tenant_admin_refused_a_platform_admin_page_is_audited(client: TestClient, make_key) -> None:
    sign_in(client, make_key("acme", "admin"))

    refused = client.post("/ui/admin/models/toxicity/rollback", headers={**HTMX, **SAME_ORIGIN})

    assert refused.status_code == 403
    [event] = _denied("acme")
    assert event.role == "admin" and "platform tenant" in event.detail["reason"]


def test_a_signed_out_visitor_is_sent_to_sign_in_and_no_403_is_recorded(client: TestClient) -> None:
    response = client.get("/admin", follow_redirects=False)

    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    assert _denied("platform") == []
