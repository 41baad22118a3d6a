"""Role x endpoint matrix over every mounted API route: unauthenticated is 401, viewers never mutate,
platform administration is reserved to the platform tenant's admins."""

from __future__ import annotations

import re

import pytest

from tests.conftest import auth_header

# POSTs that read: a token exchange, evidence search and pair scoring (their input is a body; they
# store nothing)
VIEWER_MAY_POST = {
    ("POST", "/api/v1/auth/token"),
    ("POST", "/api/v1/evidence/search"),
    ("POST", "/api/v1/signals/score"),
}
PLATFORM_ONLY = re.compile(r"^/api/v1/(admin/(tenants|models/.+/(promote|rollback))|evidence/index)")


def _api_routes(app) -> list[tuple[str, str]]:
    """Every operation in the live OpenAPI document, so new domain routes join the matrix by themselves."""
    return [
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        if path.startswith("/api/v1")
        for method in operations
    ]


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", path)


def test_every_api_route_requires_authentication(client):
    routes = _api_routes(client.app)
    assert len(routes) >= 15
    for method, path in routes:
        response = client.request(method, _concrete(path))
        assert response.status_code == 401, (
            f"{method} {path} answered {response.status_code} without credentials"
        )


def test_viewers_cannot_mutate(client, make_key):
    viewer = auth_header(make_key("acme", "viewer"))
    for method, path in _api_routes(client.app):
        if method == "GET" or (method, path) in VIEWER_MAY_POST:
            continue
        response = client.request(method, _concrete(path), headers=viewer, json={})
        assert response.status_code == 403, f"viewer got {response.status_code} on {method} {path}"


@pytest.mark.parametrize("role", ["analyst", "admin"])
def test_platform_administration_needs_platform_admin(client, make_key, role):
    caller = auth_header(make_key("acme", role))
    guarded = [(m, p) for m, p in _api_routes(client.app) if PLATFORM_ONLY.match(p)]
    assert len(guarded) == 7
    for method, path in guarded:
        response = client.request(method, _concrete(path), headers=caller, json={})
        assert response.status_code == 403, (
            f"{role} of a customer tenant got {response.status_code} on {path}"
        )
