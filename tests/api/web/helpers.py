"""Shared by the console's API-level and browser tests."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi.testclient import TestClient

SAME_ORIGIN = {"Origin": "http://testserver"}
HTMX = {"HX-Request": "true"}


def sign_in(client: TestClient, key: str) -> None:
    response = client.post("/login", data={"api_key": key}, headers=SAME_ORIGIN, follow_redirects=False)
    assert response.status_code == 303, response.text


def toxicity_unavailable_reason() -> str | None:
    """None when the console can serve toxicity. HYGEIA_TEST_TOXICITY_MODEL names a trained model
    folder (`hygeia toxicity train --out …`) to register for this test when none is bundled."""
    folder = os.environ.get("HYGEIA_TEST_TOXICITY_MODEL")
    if folder:
        from hygeia.core.registry import get_registry

        row = get_registry().register(Path(folder))
        get_registry().promote(row.name, row.version)
    from hygeia.web.render import domain_state

    return domain_state("toxicity")[1]
