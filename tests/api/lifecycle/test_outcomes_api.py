"""Outcomes against predictions through the API: ids on toxicity answers, per-row errors, CSV,
live performance that follows a simulated stream of real Tox21 results, roles and tenants."""

from __future__ import annotations

import pytest

from hygeia.core import outcomes
from hygeia.core.db import utcnow
from tests.api.lifecycle.simulated import SOURCE, outcome_rows, tox21_measured
from tests.conftest import auth_header

ENDPOINT = "SR-MMP"
BPA = "Oc1ccc(cc1)C(C)(C)c1ccc(O)cc1"


@pytest.fixture
def analyst(client, make_key) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return auth_header(make_key("acme", "analyst"))


def _predict(client, headers, smiles: list[str]) -> tuple[str, list[str]]:  # type: ignore[no-untyped-def]
    response = client.post("/api/v1/toxicity/predict/batch", json={"smiles": smiles}, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    return body["model"]["version"], [row["prediction_id"] for row in body["results"]]


def _performance(client, headers) -> dict:  # type: ignore[no-untyped-def, type-arg]
    response = client.get("/api/v1/toxicity/outcomes/performance", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def _label(report: dict, version: str, label: str) -> dict:  # type: ignore[type-arg]
    [served] = [v for v in report["versions"] if v["version"] == version]
    [row] = [r for r in served["labels"] if r["label"] == label]
    return row


def test_a_simulated_stream_of_real_tox21_results_moves_the_live_metric(client, analyst) -> None:  # type: ignore[no-untyped-def]
    measured = tox21_measured(ENDPOINT, positives=20, negatives=40)
    version, ids = _predict(client, analyst, [smiles for smiles, _ in measured])
    assert all(ids) and len(set(ids)) == len(ids)  # one stable id per scored molecule

    first = client.post(
        "/api/v1/toxicity/outcomes", json=outcome_rows(ids, measured, ENDPOINT)[:20], headers=analyst
    )
    assert first.status_code == 200 and first.json()["accepted"] == 20
    early = _label(_performance(client, analyst), version, ENDPOINT)
    assert early["status"] == "not enough outcomes yet (20 of 30)" and early["metrics"] == {}

    client.post("/api/v1/toxicity/outcomes", json=outcome_rows(ids, measured, ENDPOINT)[20:], headers=analyst)
    live = _label(_performance(client, analyst), version, ENDPOINT)
    assert live["status"] == "ok" and live["n"] == 60 and live["counts"] == {"positive": 20, "negative": 40}
    auc = live["metrics"]["roc_auc"]
    assert (
        auc["value"] > 0.8 and auc["ci_low"] <= auc["value"] <= auc["ci_high"]
    )  # these are training molecules
    assert 0 <= live["metrics"]["brier"]["value"] < 0.25 and "pr_auc" in live["metrics"]

    # the lab "corrects" every result to its opposite: the newest outcome wins and the metric follows
    client.post(
        "/api/v1/toxicity/outcomes", json=outcome_rows(ids, measured, ENDPOINT, invert=True), headers=analyst
    )
    inverted = _label(_performance(client, analyst), version, ENDPOINT)
    assert inverted["metrics"]["roc_auc"]["value"] == pytest.approx(1 - auc["value"], abs=1e-3)
    assert inverted["counts"] == {"positive": 40, "negative": 20}

    metrics = client.get("/metrics").text
    assert (
        f'hygeia_live_performance{{label="{ENDPOINT}",metric="roc_auc",model="toxicity",tenant="acme"'
        in metrics
    )


def test_rows_are_checked_one_by_one(client, analyst) -> None:  # type: ignore[no-untyped-def]
    _, [prediction_id] = _predict(client, analyst, [BPA])
    rows = [
        {"prediction_id": prediction_id, "label": "NR-ER", "observed": "active", "source": "lab"},
        {"input": BPA, "label": "NR-AR", "observed": False, "source": "lab"},
        {"input": "not a smiles", "label": "NR-AR", "observed": 1, "source": "lab"},
        {"input": BPA, "label": "NR-XX", "observed": 1, "source": "lab"},
        {"input": BPA, "label": "NR-AR", "observed": "maybe", "source": "lab"},
        {"input": BPA, "label": "NR-AR", "observed": 1},
        {"prediction_id": "0" * 32, "label": "NR-AR", "observed": 1, "source": "lab"},
        {"label": "NR-AR", "observed": 1, "source": "lab"},
        {"input": "C" * 6000, "label": "NR-AR", "observed": 1, "source": "lab"},
    ]
    body = client.post("/api/v1/toxicity/outcomes", json=rows, headers=analyst).json()
    assert [r["status"] for r in body["rows"]] == ["accepted"] * 2 + ["error"] * 7
    assert body["accepted"] == 2 and body["rejected"] == 7
    keys = {r["input_key"] for r in body["rows"][:2]}
    assert keys == {"IISBACLAFKSPIT-UHFFFAOYSA-N"}  # the id and the SMILES reach the same molecule
    errors = [r["error"] for r in body["rows"][2:]]
    for fragment in (
        "SMILES",
        "label must be",
        "observed must be",
        "source is required",
        "no toxicity prediction",
        "give prediction_id or input",
        "longer than 5000 characters",
    ):
        assert any(fragment in e for e in errors), fragment


def test_csv_upload_and_roles(client, analyst, make_key) -> None:  # type: ignore[no-untyped-def]
    csv_text = f"input,label,observed,source\n{BPA},NR-ER,active,lab\n{BPA},NR-ER,,lab\n"
    response = client.post(
        "/api/v1/toxicity/outcomes/csv", files={"file": ("o.csv", csv_text, "text/csv")}, headers=analyst
    )
    assert response.status_code == 200, response.text
    assert [r["status"] for r in response.json()["rows"]] == ["accepted", "error"]
    bad = client.post(
        "/api/v1/toxicity/outcomes/csv",
        files={"file": ("o.csv", "smiles,y\nC,1\n", "text/csv")},
        headers=analyst,
    )
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")
    viewer = auth_header(make_key("acme", "viewer"))
    row = [{"input": BPA, "label": "NR-ER", "observed": 1, "source": "lab"}]
    assert client.post("/api/v1/toxicity/outcomes", json=row, headers=viewer).status_code == 403
    assert client.get("/api/v1/toxicity/outcomes/performance", headers=viewer).status_code == 200
    assert client.post("/api/v1/agents/outcomes", json=row, headers=analyst).status_code == 404


def test_tenants_see_only_their_own_predictions_and_outcomes(client, analyst, make_key) -> None:  # type: ignore[no-untyped-def]
    measured = tox21_measured(ENDPOINT, positives=15, negatives=15)
    _, ids = _predict(client, analyst, [smiles for smiles, _ in measured])
    client.post("/api/v1/toxicity/outcomes", json=outcome_rows(ids, measured, ENDPOINT), headers=analyst)
    other = auth_header(make_key("globex", "analyst"))
    stolen = client.post(
        "/api/v1/toxicity/outcomes", json=outcome_rows(ids[:1], measured[:1], ENDPOINT), headers=other
    )
    assert stolen.json()["rows"][0]["error"].startswith("no toxicity prediction")
    assert _performance(client, other)["versions"] == []
    assert (
        _label(
            _performance(client, analyst), _performance(client, analyst)["versions"][0]["version"], ENDPOINT
        )["n"]
        == 30
    )


def test_records_and_outcomes_age_out_with_job_results(client, analyst) -> None:  # type: ignore[no-untyped-def]
    _, [prediction_id] = _predict(client, analyst, [BPA])
    client.post(
        "/api/v1/toxicity/outcomes",
        json=[{"prediction_id": prediction_id, "label": "NR-ER", "observed": 1, "source": SOURCE}],
        headers=analyst,
    )
    assert outcomes.purge_records("globex", utcnow()) == 0
    assert outcomes.purge_records("acme", utcnow()) == 2  # one prediction record, one outcome


def test_new_outcomes_refresh_the_live_gauges_without_a_report(client, analyst) -> None:  # type: ignore[no-untyped-def]
    measured = tox21_measured(ENDPOINT, positives=3, negatives=3)
    version, ids = _predict(client, analyst, [smiles for smiles, _ in measured])
    client.post("/api/v1/toxicity/outcomes", json=outcome_rows(ids, measured, ENDPOINT), headers=analyst)
    gauge = [
        line
        for line in client.get("/metrics").text.splitlines()
        if line.startswith("hygeia_live_outcomes{") and f'tenant="acme",version="{version}"' in line
    ]
    assert gauge and gauge[0].endswith(" 6.0")  # six outcomes paired, and nobody asked for the report


def test_a_prediction_is_looked_up_by_its_id_with_its_outcomes_in_its_tenant_only(  # type: ignore[no-untyped-def]
    client, analyst, make_key
) -> None:
    _, [prediction_id] = _predict(client, analyst, [BPA])
    row = {"input": BPA, "label": "NR-ER", "observed": "active", "source": SOURCE}
    client.post("/api/v1/toxicity/outcomes", json=[row], headers=analyst)
    viewer = auth_header(make_key("acme", "viewer"))
    found = client.get(f"/api/v1/toxicity/predictions/{prediction_id}", headers=viewer)
    assert found.status_code == 200, found.text
    body = found.json()
    assert body["input_key"] == "IISBACLAFKSPIT-UHFFFAOYSA-N" and set(body["scores"]) >= {"NR-ER", "SR-MMP"}
    assert [(o["label"], o["observed"]) for o in body["outcomes"]] == [("NR-ER", "1")]
    other = auth_header(make_key("globex", "viewer"))
    assert client.get(f"/api/v1/toxicity/predictions/{prediction_id}", headers=other).status_code == 404
    assert client.get(f"/api/v1/dermatology/predictions/{prediction_id}", headers=viewer).status_code == 404
