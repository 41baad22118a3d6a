"""The lifecycle on the real PostgreSQL: records written once however often a molecule is asked
(insert on conflict do nothing), a shadow stored beside them, outcomes scored per tenant."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from hygeia.core import releases
from hygeia.core.db import system_session
from hygeia.core.tables import PredictionRecord
from tests.api.lifecycle.simulated import outcome_rows, tox21_measured
from tests.conftest import auth_header

pytestmark = pytest.mark.integration
ENDPOINT = "SR-MMP"


def test_records_outcomes_and_shadow_on_postgres(pg_platform, make_key) -> None:  # type: ignore[no-untyped-def]
    from hygeia.app import create_app

    releases.forget_all()
    admin = auth_header(pg_platform.admin_key)
    analyst = auth_header(make_key("acme", "analyst"))
    measured = tox21_measured(ENDPOINT, positives=12, negatives=20)
    smiles = [s for s, _ in measured]
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        models = client.get("/api/v1/admin/models", headers=admin).json()
        candidate = next(
            m["version"] for m in models if m["name"] == "toxicity" and m["stage"] != "production"
        )
        shadow = {"candidate_version": candidate, "mode": "shadow", "shadow_rate": 1.0}
        assert client.put("/api/v1/admin/releases/toxicity", json=shadow, headers=admin).status_code == 200
        first = client.post("/api/v1/toxicity/predict/batch", json={"smiles": smiles}, headers=analyst).json()
        again = client.post("/api/v1/toxicity/predict/batch", json={"smiles": smiles}, headers=analyst).json()
        ids = [row["prediction_id"] for row in first["results"]]
        assert ids == [row["prediction_id"] for row in again["results"]]
        releases.flush()
        with system_session() as session:
            served = session.scalar(select(func.count()).where(PredictionRecord.served.is_(True)))
            shadowed = session.scalar(select(func.count()).where(PredictionRecord.served.is_(False)))
        assert (served, shadowed) == (32, 32)
        client.post("/api/v1/toxicity/outcomes", json=outcome_rows(ids, measured, ENDPOINT), headers=analyst)
        report = client.get("/api/v1/toxicity/outcomes/performance", headers=analyst).json()
        [version] = report["versions"]
        [mmp] = [label for label in version["labels"] if label["label"] == ENDPOINT]
        assert mmp["status"] == "ok" and mmp["n"] == 32
        comparison = client.get("/api/v1/admin/releases/toxicity/report", headers=admin).json()
        assert comparison["paired_cases"] == 32
        client.delete("/api/v1/admin/releases/toxicity", headers=admin)
    releases.forget_all()
