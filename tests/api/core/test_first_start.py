"""After the first start every capability answers a real question: the `make run` promise, as a test.

Starts from an empty var/, bootstraps as `hygeia serve` does, lets the startup task build the
evidence index (BM25 only here: the dense vectors would take minutes of both cores), and asks each
capability one real question through HTTP.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import REPO_ROOT, auth_header, reset_caches

DATA = REPO_ROOT.parent / "shared" / "data"


def _lesion_image() -> bytes:
    with (REPO_ROOT / "models" / "dermatology" / "1.2.0" / "split.csv").open() as handle:
        row = next(r for r in csv.DictReader(handle) if r["split"] == "test" and r["dx"] == "nv")
    return (DATA / "derm" / "images" / f"{row['image_id']}.jpg").read_bytes()


def _wait_for_evidence(client: TestClient, deadline_s: float = 600) -> dict:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        ready = client.get("/ready").json()
        if ready["capabilities"]["evidence"]["available"]:
            return ready
        time.sleep(1)
    pytest.fail(f"evidence index not built in {deadline_s} s: {ready['capabilities']['evidence']}")


def test_every_capability_answers_after_the_first_start(tmp_path: Path, monkeypatch) -> None:
    from hygeia.app import create_app
    from hygeia.core.bootstrap import bootstrap

    monkeypatch.setenv("HYGEIA_VAR_DIR", str(tmp_path / "var"))  # empty: nothing built yet
    monkeypatch.setenv("HYGEIA_EVIDENCE_INDEX_ON_START", "lexical")
    reset_caches()
    key = bootstrap().admin_key
    assert key
    before = create_app()
    with TestClient(before) as client:
        assert client.get("/ready").json()["capabilities"]["evidence"]["available"] is False
        ready = _wait_for_evidence(client)
        assert all(c["available"] for c in ready["capabilities"].values()), ready["capabilities"]
        headers = auth_header(key)

        toxicity = client.post(
            "/api/v1/toxicity/predict", json={"smiles": "CC(=O)Nc1ccc(O)cc1"}, headers=headers
        )
        assert toxicity.status_code == 200 and len(toxicity.json()["result"]["probabilities"]) == 12

        pair = {"drug": "ATORVASTATIN", "event": "RHABDOMYOLYSIS", "n": 120, "n_drug": 4000, "n_event": 900}
        signals = client.post(
            "/api/v1/signals/score", json={"pairs": [pair], "n_total": 2_000_000}, headers=headers
        )
        assert signals.status_code == 200, signals.text
        assert signals.json()["items"][0]["prr"] > 10

        files = {"image": ("lesion.jpg", _lesion_image(), "image/jpeg")}
        lesion = client.post("/api/v1/dermatology/predict", files=files, headers=headers)
        assert lesion.status_code == 200 and lesion.json()["result"]["status"] == "ok"

        search = client.post(
            "/api/v1/evidence/search", json={"query": "metformin", "mode": "bm25"}, headers=headers
        )
        assert search.status_code == 200 and search.json()["hits"], search.text

        answer = client.post(
            "/api/v1/agents/ask", json={"question": "Is metformin used for type 2 diabetes?"}, headers=headers
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["sources"], answer.json()
    reset_caches()
