"""POST /api/v1/signals/score: one pair or a small count table answered at once, through HTTP."""

from __future__ import annotations

import time

import pandas as pd
import pytest

from tests.api.signals.test_fit_rule_api import _run
from tests.conftest import auth_header
from tests.unit.signals.test_openebgm_reference import FIXTURES, counts_for, reference_hyperparameters

URL = "/api/v1/signals/score"


def _caers_pairs(rows: int) -> tuple[list[dict], int, pd.DataFrame]:
    """CAERS pairs with their margins, and openEBGM's scores for them (unstratified, unsquashed)."""
    counts = counts_for("unstratified_unsquashed")
    frame = counts.frame()
    reference = pd.read_csv(FIXTURES / "scores_unstratified_unsquashed.csv.gz", keep_default_na=False)
    picked = frame.sort_values("n", ascending=False, kind="stable").head(rows)
    merged = picked.merge(reference, left_on=["drug", "event"], right_on=["var1", "var2"])
    pairs = [
        {"drug": r.drug, "event": r.event, "n": int(r.n), "n_drug": int(r.n_drug), "n_event": int(r.n_event)}
        for r in merged.itertuples()
    ]
    return pairs, counts.n_total, merged


def _openebgm_prior() -> dict[str, float]:
    row = reference_hyperparameters().loc["unstratified_unsquashed"]
    return {"alpha1": row.alpha1, "beta1": row.beta1, "alpha2": row.alpha2, "beta2": row.beta2, "p": row.P}


def test_stated_prior_reproduces_openebgm_and_explains_priority(client, make_key):
    viewer = auth_header(make_key("acme", "viewer"))
    pairs, total, reference = _caers_pairs(50)
    body = {"pairs": pairs, "n_total": total, "prior": _openebgm_prior()}
    started = time.perf_counter()
    response = client.post(URL, json=body, headers=viewer)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["prior"]["source"] == "stated" and answer["cached"] is False
    items = answer["items"]
    assert [i["drug"] for i in items] == [p["drug"] for p in pairs]  # input order kept
    assert [i["ebgm"] for i in items] == reference["EBGM"].tolist()
    assert [i["eb05"] for i in items] == reference["QUANT_05"].tolist()
    assert [i["eb95"] for i in items] == reference["QUANT_95"].tolist()
    assert [i["expected"] for i in items] == pytest.approx(reference["E"].tolist(), rel=1e-12)
    first = items[0]
    parts = first["components"]
    assert first["priority"] == pytest.approx(parts["disproportionality"] * parts["novelty"])
    assert parts["seriousness"] == 1.0 and parts["trend"] == 1.0 and "seriousness" in answer["note"]
    assert elapsed < 2.0  # measured ~10 ms uncached on an idle machine; generous for a busy CI box
    again = client.post(URL, json=body, headers=viewer).json()
    assert again["cached"] is True and again["items"] == items


def test_disproportionality_from_margins_and_labelled_novelty(client, make_key):
    viewer = auth_header(make_key("acme", "viewer"))
    pair = {"drug": "ATORVASTATIN", "event": "RHABDOMYOLYSIS", "n": 40, "n_drug": 900, "n_event": 120}
    labelled = {**pair, "event": "MYALGIA", "labelled": True}  # same counts, a known reaction
    body = {"pairs": [pair, labelled], "n_total": 250_000}
    novel, known = client.post(URL, json=body, headers=viewer).json()["items"]
    a, b, c, d = 40, 860, 80, 250_000 - 980
    assert novel["prr"] == pytest.approx((a / (a + b)) / (c / (c + d)), rel=1e-12)
    assert novel["ror"] == pytest.approx(a * d / (b * c), rel=1e-12)
    assert novel["expected"] == pytest.approx(900 * 120 / 250_000)
    assert novel["components"]["novelty"] == 1.0 and known["components"]["novelty"] == 0.25
    assert known["priority"] == pytest.approx(novel["priority"] * 0.25)


def test_bad_rows_get_their_own_errors(client, make_key):
    viewer = auth_header(make_key("acme", "viewer"))
    good = {"drug": "A", "event": "E", "n": 5, "n_drug": 50, "n_event": 60}
    rows = [
        good,
        {**good, "n": 70},
        {**good, "n_drug": -1},
        {**good, "n_total": 2**63},
        {**good, "n_drug": 2**70},
        {**good, "n_total": 100},
    ]
    items = client.post(URL, json={"pairs": rows, "n_total": 1000}, headers=viewer).json()["items"]
    assert items[0]["error"] is None and items[0]["ic"] is not None
    assert "exceeds the drug's" in items[1]["error"]
    assert "must not be negative" in items[2]["error"]
    assert "larger than the largest count" in items[3]["error"] and "n_total" in items[3]["error"]
    assert "larger than the largest count" in items[4]["error"] and "n_drug" in items[4]["error"]
    assert "exceed n_total = 100" in items[5]["error"]
    assert all(i["ebgm"] is None for i in items)  # no prior in this tenant yet, and said so
    missing = client.post(URL, json={"pairs": [good]}, headers=viewer).json()["items"][0]
    assert "n_total is missing" in missing["error"]


def test_prior_comes_from_the_latest_run_or_is_refused_clearly(client, make_key):
    key = make_key("acme", "analyst")
    headers = auth_header(key)
    pair = {"drug": "A", "event": "E", "n": 5, "n_drug": 50, "n_event": 60}
    before = client.post(URL, json={"pairs": [pair], "n_total": 1000}, headers=headers).json()
    assert before["prior"]["source"] == "none" and "no prior" in before["prior"]["note"]
    run = _run(client, headers)
    after = client.post(URL, json={"pairs": [pair], "n_total": 1000}, headers=headers).json()
    assert after["prior"] == {
        "source": "latest run",
        "run_id": run["run_id"],
        "hyperparameters": run["summary"]["hyperparameters"],
        "note": None,
    }
    assert after["items"][0]["ebgm"] is not None
    other = auth_header(make_key("globex", "viewer"))
    foreign = client.post(
        URL, json={"pairs": [pair], "n_total": 1000, "run_id": run["run_id"]}, headers=other
    )
    assert foreign.status_code == 404  # another tenant's run is not found, not borrowed
    bad_prior = client.post(
        URL,
        json={"pairs": [pair], "n_total": 1000, "prior": {**_openebgm_prior(), "p": 1.5}},
        headers=headers,
    )
    assert bad_prior.status_code == 422
    assert bad_prior.headers["content-type"] == "application/problem+json"
