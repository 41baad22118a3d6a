"""Console sign-in, sign-out, CSRF and role gating through the real app (no browser needed)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from hygeia.web.session import SESSION_COOKIE
from tests.api.web.helpers import HTMX, SAME_ORIGIN, sign_in
from tests.conftest import Platform


def test_pages_redirect_to_login_until_signed_in(client: TestClient) -> None:
    response = client.get("/signals?run=abc", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/signals%3Frun%3Dabc"
    page = client.get("/login")
    assert page.status_code == 200 and 'for="api_key"' in page.text


def test_fragment_without_session_asks_htmx_to_redirect(client: TestClient) -> None:
    response = client.get("/ui/admin/audit", headers=HTMX)
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login?next=/ui/admin/audit")
    assert response.headers["content-type"].startswith("text/html")


def test_login_sets_a_strict_httponly_cookie_holding_a_token(client: TestClient, platform: Platform) -> None:
    response = client.post(
        "/login",
        data={"api_key": platform.admin_key, "next": "/admin"},
        headers=SAME_ORIGIN,
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/admin"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
    value = client.cookies[SESSION_COOKIE]
    assert value != platform.admin_key and "." not in value  # an opaque token: neither the key nor a JWT
    assert client.get("/").status_code == 200


def test_sign_out_ends_the_session_on_the_server(client: TestClient, platform: Platform) -> None:
    sign_in(client, platform.admin_key)
    copied = client.cookies[SESSION_COOKIE]
    client.post("/logout", headers=HTMX, follow_redirects=False)
    client.cookies.set(SESSION_COOKIE, copied)  # a copy of the cookie taken before sign-out
    replay = client.get("/", follow_redirects=False)
    assert replay.status_code == 303 and "session%20has%20ended" in replay.headers["location"]


def test_revoking_the_key_ends_its_console_sessions(client: TestClient, make_key) -> None:
    from hygeia.core import auth

    key = make_key("acme", "admin")
    sign_in(client, key)
    assert client.get("/").status_code == 200
    auth.revoke_api_key("acme", auth.authenticate(key).key_id)
    assert client.get("/", follow_redirects=False).status_code == 303


def test_an_expired_session_asks_to_sign_in_again(client: TestClient, platform: Platform) -> None:
    from datetime import timedelta

    from hygeia.core.db import system_session, utcnow
    from hygeia.core.tables import ConsoleSession

    sign_in(client, platform.admin_key)
    with system_session() as session:
        for row in session.query(ConsoleSession):
            row.expires_at = utcnow() - timedelta(seconds=1)
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303 and "expired" in response.headers["location"]


def test_cookie_is_secure_over_https(platform: Platform) -> None:
    from hygeia.app import create_app

    with TestClient(create_app(), base_url="https://testserver") as secure:
        response = secure.post(
            "/login",
            data={"api_key": platform.admin_key},
            headers={"Origin": "https://testserver"},
            follow_redirects=False,
        )
    assert response.status_code == 303
    assert "Secure" in response.headers["set-cookie"]


def test_login_refuses_unknown_keys_and_foreign_next(client: TestClient, platform: Platform) -> None:
    bad = client.post("/login", data={"api_key": "hyg_wrong"}, headers=SAME_ORIGIN, follow_redirects=False)
    assert bad.status_code == 401 and "unknown API key" in bad.text
    assert SESSION_COOKIE not in bad.headers.get("set-cookie", "")
    good = client.post(
        "/login",
        data={"api_key": platform.admin_key, "next": "//evil.example/steal"},
        headers=SAME_ORIGIN,
        follow_redirects=False,
    )
    assert good.headers["location"] == "/"


def test_login_and_logout_need_same_origin(client: TestClient, platform: Platform) -> None:
    for headers in ({}, {"Origin": "https://evil.example"}, {"Origin": "null"}):
        response = client.post("/login", data={"api_key": platform.admin_key}, headers=headers)
        assert response.status_code == 403, headers
        assert "Cross-site request refused" in response.text
    sign_in(client, platform.admin_key)
    assert client.post("/logout", follow_redirects=False).status_code == 403
    out = client.post("/logout", headers=HTMX, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"].startswith("/login")
    assert "Max-Age=0" in out.headers["set-cookie"] or "expires=" in out.headers["set-cookie"].lower()
    client.cookies.clear()
    assert client.get("/", follow_redirects=False).status_code == 303


def test_state_changing_fragments_refuse_cross_site_requests(client: TestClient, platform: Platform) -> None:
    sign_in(client, platform.admin_key)
    for headers in ({}, {"Origin": "https://evil.example"}, {"HX-Request": "false"}):
        response = client.post("/ui/admin/jobs/verify", headers=headers)
        assert response.status_code == 403, headers
    assert client.post("/ui/admin/jobs/verify", headers=HTMX).status_code == 200
    assert client.post("/ui/admin/jobs/verify", headers=SAME_ORIGIN).status_code == 200


def test_viewer_can_look_but_not_run_or_administer(client: TestClient, make_key) -> None:
    sign_in(client, make_key("acme", "viewer"))
    assert client.get("/signals").status_code == 200
    admin = client.get("/admin")
    assert admin.status_code == 403 and "needs the admin role" in admin.text
    upload = client.post(
        "/ui/signals/runs", files={"file": ("r.csv", b"id,drug,event\n1,A,B\n")}, headers=HTMX
    )
    assert upload.status_code == 403
    assert (
        client.post("/ui/evidence/feedback", data={"doc_id": "x", "vote": "up"}, headers=HTMX).status_code
        == 403
    )
    assert client.post("/ui/agents/ask", data={"question": "q"}, headers=HTMX).status_code == 403
    assert (
        client.post("/ui/dermatology/predict", files={"image": ("a.png", b"x")}, headers=HTMX).status_code
        == 403
    )


def test_only_platform_admins_promote_or_roll_back(client: TestClient, make_key, platform: Platform) -> None:
    for role in ("analyst", "admin"):
        client.cookies.clear()
        sign_in(client, make_key("acme", role))
        for path in ("/ui/admin/models/dermatology/1.0.0/promote", "/ui/admin/models/dermatology/rollback"):
            assert client.post(path, headers=HTMX).status_code == 403, (role, path)
    client.cookies.clear()
    sign_in(client, platform.admin_key)
    missing = client.post("/ui/admin/models/nope/9.9.9/promote", headers=HTMX)
    assert missing.status_code == 404 and "nope" in missing.text
    assert missing.headers["content-type"].startswith("text/html")


def test_jobs_are_tenant_scoped_and_errors_are_html(client: TestClient, make_key, platform: Platform) -> None:
    sign_in(client, platform.admin_key)
    client.post("/ui/admin/jobs/verify", headers=HTMX)
    job_id = client.get("/api/v1/jobs", headers={"X-API-Key": platform.admin_key}).json()[0]["id"]
    assert client.get(f"/ui/jobs/{job_id}", headers=HTMX).status_code == 200
    client.cookies.clear()
    sign_in(client, make_key("acme", "admin"))
    other = client.get(f"/ui/jobs/{job_id}", headers=HTMX)
    assert other.status_code == 404
    assert other.headers["content-type"].startswith("text/html")
    assert "Traceback" not in other.text and 'role="alert"' in other.text
    page = client.get(f"/ui/jobs/{job_id}")  # without htmx: a whole page, same problem
    assert page.status_code == 404 and "<!doctype html>" in page.text.lower()


def test_revoked_key_ends_the_session(client: TestClient, make_key) -> None:
    from hygeia.core import auth
    from hygeia.core.auth import authenticate

    key = make_key("acme", "analyst")
    sign_in(client, key)
    assert client.get("/").status_code == 200
    principal = authenticate(key)
    auth.revoke_api_key(principal.tenant_id, principal.key_id)
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303 and "reason=" in response.headers["location"]


def test_pages_carry_security_headers_and_stay_out_of_openapi(client: TestClient, platform: Platform) -> None:
    sign_in(client, platform.admin_key)
    page = client.get("/")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    assert not [p for p in client.app.openapi()["paths"] if p == "/" or p.startswith(("/ui", "/login"))]
    htmx = client.get("/static/htmx.min.js")
    assert htmx.status_code == 200 and "Zero-Clause BSD" in htmx.text[:600]
