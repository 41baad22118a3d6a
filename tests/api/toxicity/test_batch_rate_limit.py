"""Rate limits count molecules, not requests: a batch of N SMILES costs N units."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import auth_header, reset_caches


@pytest.fixture
def limited(platform, monkeypatch):  # type: ignore[no-untyped-def]
    from hygeia.app import create_app

    monkeypatch.setenv("HYGEIA_RATE_LIMIT_TIERS", '{"standard": "40/minute"}')
    monkeypatch.setenv("HYGEIA_KEY_RATE_LIMIT", "")
    reset_caches()
    return TestClient(create_app(), raise_server_exceptions=False)


def test_a_batch_is_charged_per_molecule(limited, make_key) -> None:  # type: ignore[no-untyped-def]
    key = auth_header(make_key("acme", "analyst"))
    body = {"smiles": ["CCO", "CCN", "CCC", "c1ccccc1O", "CC(=O)O"] * 6}  # 30 molecules
    first = limited.post("/api/v1/toxicity/predict/batch", json=body, headers=key)
    assert first.status_code == 200, first.text
    assert first.headers["RateLimit-Remaining"] == "10"
    second = limited.post("/api/v1/toxicity/predict/batch", json=body, headers=key)
    assert second.status_code == 429  # 30 more do not fit in the 10 left
    too_big = limited.post("/api/v1/toxicity/predict/batch", json={"smiles": ["CCO"] * 42}, headers=key)
    assert too_big.status_code == 413  # larger than the whole window: never passes
