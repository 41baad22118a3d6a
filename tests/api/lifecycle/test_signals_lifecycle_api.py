"""Signals in the lifecycle over HTTP: the pairs a run's page returns carry prediction ids; confirmed
and refuted signals are outcomes, linked by id or by the pair; live performance ranks them by EB05
and IC025. The stream of assessments is simulated from real FAERS counts (see simulated.py)."""

from __future__ import annotations

import time

from tests.api.lifecycle.simulated import SIGNAL_SOURCE, simulated_assessment, statin_counts
from tests.conftest import auth_header

OUTCOMES = "/api/v1/signals/outcomes"


def _run(client, headers) -> str:  # type: ignore[no-untyped-def]
    files = {"file": ("statin49.csv", statin_counts(), "text/csv")}
    submitted = client.post("/api/v1/signals/runs", files=files, params={"format": "counts"}, headers=headers)
    assert submitted.status_code == 202, submitted.text
    run_id = submitted.json()["run_id"]
    for _ in range(600):
        status = client.get(f"/api/v1/signals/runs/{run_id}", headers=headers).json()
        if status["status"] in ("succeeded", "failed"):
            assert status["status"] == "succeeded", status
            return str(run_id)
        time.sleep(0.1)
    raise AssertionError("run did not finish")


def _page(client, headers, run_id: str, limit: int = 400) -> list[dict]:  # type: ignore[no-untyped-def, type-arg]
    url = f"/api/v1/signals/runs/{run_id}/signals"
    return client.get(url, params={"limit": limit}, headers=headers).json()["items"]


def _stream(items: list[dict], invert: bool = False) -> list[dict]:  # type: ignore[type-arg]
    truth = simulated_assessment()
    rows = []
    for item in items:
        verdict = truth.get((item["drug"].upper(), item["event"].upper()))
        if verdict is not None:
            observed = "confirmed" if bool(verdict) != invert else "refuted"
            rows.append(
                {"prediction_id": item["prediction_id"], "observed": observed, "source": SIGNAL_SOURCE}
            )
    return rows


def _labels(client, headers) -> dict[str, dict]:  # type: ignore[no-untyped-def, type-arg]
    report = client.get(f"{OUTCOMES}/performance", headers=headers).json()
    assert report["capability"] == "signals" and report["family"] == "binary"
    (version,) = report["versions"]
    return {label["label"]: label for label in version["labels"]}


def test_listed_pairs_get_stable_ids_and_a_simulated_stream_moves_the_live_metric(client, make_key):  # type: ignore[no-untyped-def]
    analyst = auth_header(make_key("pv-team", "analyst"))
    run_id = _run(client, analyst)
    items = _page(client, analyst, run_id)
    assert items and all(item["prediction_id"] for item in items)
    again = _page(client, analyst, run_id)  # a cached page: the same ids
    assert [i["prediction_id"] for i in again] == [i["prediction_id"] for i in items]
    record = client.get(f"/api/v1/signals/predictions/{items[0]['prediction_id']}", headers=analyst).json()
    assert record["model_version"] == run_id
    assert record["input_key"] == f"{items[0]['drug']}|{items[0]['event']}".upper()
    assert record["scores"]["ic025"] == items[0]["ic025"] and record["predicted"] == items[0]["alert_level"]

    rows = _stream(items)
    assert len(rows) >= 60 and {r["observed"] for r in rows} == {"confirmed", "refuted"}
    first = client.post(OUTCOMES, json=rows[:20], headers=analyst).json()
    assert first["accepted"] == 20
    labels = _labels(client, analyst)
    assert labels["signal by ic025"]["status"] == "not enough outcomes yet (20 of 30)"
    assert labels["signal by ic025"]["metrics"] == {}

    assert client.post(OUTCOMES, json=rows[20:], headers=analyst).json()["rejected"] == 0
    good = _labels(client, analyst)["signal by ic025"]
    assert good["status"] == "ok" and good["n"] == len(rows)
    assert set(good["metrics"]) == {"roc_auc", "pr_auc", "prevalence"}  # a ranking score: no Brier, no ECE
    assert good["metrics"]["roc_auc"]["value"] > 0.8
    low, high = good["metrics"]["roc_auc"]["ci_low"], good["metrics"]["roc_auc"]["ci_high"]
    assert low is not None and low <= good["metrics"]["roc_auc"]["value"] <= high

    # the same pairs assessed the other way round (a simulated mismatch): newest outcome wins
    client.post(OUTCOMES, json=_stream(items, invert=True), headers=analyst)
    flipped = _labels(client, analyst)["signal by ic025"]["metrics"]["roc_auc"]["value"]
    assert abs(flipped - (1 - good["metrics"]["roc_auc"]["value"])) < 1e-3


def test_outcomes_by_pair_name_csv_row_errors_and_tenant_isolation(client, make_key):  # type: ignore[no-untyped-def]
    analyst = auth_header(make_key("pv-team", "analyst"))
    run_id = _run(client, analyst)
    top = _page(client, analyst, run_id, limit=2)
    rows = [
        {
            "input": f" {top[0]['drug'].lower()} | {top[0]['event'].lower()} ",
            "observed": "confirmed",
            "source": "label change 2026-11 (test)",
        },
        {"input": "no pipe here", "observed": "confirmed", "source": "test"},
        {"prediction_id": top[1]["prediction_id"], "observed": "maybe", "source": "test"},
        {"prediction_id": top[1]["prediction_id"], "observed": "refuted"},
    ]
    body = client.post(OUTCOMES, json=rows, headers=analyst).json()
    assert [r["status"] for r in body["rows"]] == ["accepted", "error", "error", "error"]
    assert body["rows"][0]["input_key"] == f"{top[0]['drug']}|{top[0]['event']}".upper()
    assert "'drug|event'" in body["rows"][1]["error"] and "confirmed or refuted" in body["rows"][2]["error"]
    assert "source is required" in body["rows"][3]["error"]
    record = client.get(f"/api/v1/signals/predictions/{top[0]['prediction_id']}", headers=analyst).json()
    assert [o["observed"] for o in record["outcomes"]] == ["1"]

    csv_body = f"prediction_id,input,label,observed,source\n{top[1]['prediction_id']},,,refuted,assessment\n"
    files = {"file": ("outcomes.csv", csv_body.encode(), "text/csv")}
    assert client.post(f"{OUTCOMES}/csv", files=files, headers=analyst).json()["accepted"] == 1

    other = auth_header(make_key("other-company", "analyst"))
    stolen = [{"prediction_id": top[0]["prediction_id"], "observed": "refuted", "source": "test"}]
    answer = client.post(OUTCOMES, json=stolen, headers=other).json()
    assert answer["rows"][0]["status"] == "error" and "in your tenant" in answer["rows"][0]["error"]
    assert (
        client.get(f"/api/v1/signals/predictions/{top[0]['prediction_id']}", headers=other).status_code == 404
    )
    assert client.get(f"{OUTCOMES}/performance", headers=other).json()["versions"] == []


def test_console_models_page_uploads_signal_outcomes_and_shows_the_ranking(client, make_key):  # type: ignore[no-untyped-def]
    from tests.api.web.helpers import HTMX, sign_in

    analyst_key = make_key("pv-team", "analyst")
    run_id = _run(client, auth_header(analyst_key))
    top = _page(client, auth_header(analyst_key), run_id, limit=1)[0]
    sign_in(client, analyst_key)
    page = client.get("/models")
    assert page.status_code == 200 and 'hx-get="/ui/models/signals/performance"' in page.text
    csv_body = f"prediction_id,input,label,observed,source\n{top['prediction_id']},,,confirmed,assessment\n"
    files = {"file": ("outcomes.csv", csv_body.encode(), "text/csv")}
    uploaded = client.post("/ui/models/outcomes", data={"domain": "signals"}, files=files, headers=HTMX)
    assert uploaded.status_code == 200 and "1 outcome accepted, 0 rejected (signals)" in uploaded.text
    fragment = client.get("/ui/models/signals/performance", headers=HTMX).text
    assert "signal by ic025" in fragment and "not enough outcomes yet (1 of 30)" in fragment
