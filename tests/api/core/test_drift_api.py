"""Drift is attributed to the tenant whose request made the prediction, through the real API."""

from __future__ import annotations

from tests.conftest import auth_header


def test_a_prediction_counts_toward_its_callers_drift_only(client, make_key):
    analyst = auth_header(make_key("acme", "analyst"))
    response = client.post("/api/v1/toxicity/predict", json={"smiles": "CC(=O)Nc1ccc(O)cc1"}, headers=analyst)
    assert response.status_code == 200, response.text  # the bundled toxicity model answers
    mine = client.get("/api/v1/admin/drift", headers=analyst).json()
    assert mine and all(row["observations"] >= 1 for row in mine)
    assert {row["model"] for row in mine} == {"toxicity"}
    other = client.get("/api/v1/admin/drift", headers=auth_header(make_key("globex", "viewer"))).json()
    assert other == []
