"""Drill-down, time to onset and alert history through HTTP: paged, exportable, tenant-scoped."""

from __future__ import annotations

import csv
import io

from tests.api.signals.test_signals_api import _submit, _wait
from tests.conftest import auth_header


def _cases_with_dates(extra_liver: int = 0, quarter: str = "2022Q1") -> bytes:
    rows = ["id,drug,event,sex,serious,quarter,start_dt,event_dt"]
    for i in range(300):
        drug = ["ALPHA", "BETA", "GAMMA", "DELTA"][i % 4]
        event = ["RASH", "NAUSEA", "HEADACHE", "FATIGUE", "DIZZINESS"][(i * 3) % 5]
        rows.append(f"{i},{drug},{event},{'FM'[i % 2]},False,{quarter},,")
    for k, i in enumerate(range(300, 320 + extra_liver)):  # ALPHA-LIVER INJURY with a co-reported drug
        day = 1 + (k * 7) % 50  # onset 0 to 49 days after a 1 January start
        onset = f"202201{day:02d}" if day < 32 else f"202202{day - 31:02d}"
        rows.append(f"{i},ALPHA,LIVER INJURY,F,True,{quarter},20220101,{onset}")
        if k % 4 == 0:
            rows.append(f"{i},OMEGA,LIVER INJURY,F,True,{quarter},,")
    rows.append("999,ALPHA,LIVER INJURY,M,False,2022Q1,2022,20220301")  # a partial start date
    return ("\n".join(rows) + "\n").encode()


def _finished_run(client, headers, content: bytes, source: str) -> str:
    submitted = _submit(client, headers, content, source=source)
    assert submitted.status_code == 202, submitted.text
    run_id = submitted.json()["run_id"]
    assert _wait(client, headers, run_id)["status"] == "succeeded"
    return run_id


def test_case_series_paged_exported_and_onset(client, make_key):
    analyst = auth_header(make_key("acme", "analyst"))
    run_id = _finished_run(client, analyst, _cases_with_dates(), "safety-db")
    pair = {"drug": "alpha", "event": "liver injury"}
    first = client.get(f"/api/v1/signals/runs/{run_id}/cases", params={**pair, "limit": 8}, headers=analyst)
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["total"] == 21 and len(body["items"]) == 8
    assert [c["id"] for c in body["items"]] == [str(i) for i in range(300, 308)]
    assert body["items"][0]["co_drugs"] == ["OMEGA"] and body["items"][1]["co_drugs"] == []
    assert body["items"][0]["fields"] == {"quarter": "2022Q1", "sex": "F", "serious": "True"}
    rest = client.get(f"/api/v1/signals/runs/{run_id}/cases", params={**pair, "offset": 16}, headers=analyst)
    assert [c["id"] for c in rest.json()["items"]] == [*map(str, range(316, 320)), "999"]

    exported = client.get(f"/api/v1/signals/runs/{run_id}/cases.csv", params=pair, headers=analyst)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(exported.text)))
    assert len(table) == 21 and table[0]["co_drugs"] == "OMEGA" and table[0]["quarter"] == "2022Q1"

    onset = client.get(f"/api/v1/signals/runs/{run_id}/onset", params=pair, headers=analyst).json()
    assert onset["available"] and onset["reports"] == 21
    assert onset["with_days"] == 20 and onset["partial_dates"] == 1
    assert sum(onset["windows"].values()) == 20 and onset["weibull_shape"] is not None
    assert onset["minimum"] == 0 and onset["maximum"] == 49


def test_onset_without_dates_says_so_and_counts_runs_have_no_cases(client, make_key):
    analyst = auth_header(make_key("acme", "analyst"))
    rows = ["id,drug,event"] + [f"{i},{'AB'[i % 2]},{'XYZ'[i % 3]}" for i in range(90)]
    run_id = _finished_run(client, analyst, ("\n".join(rows) + "\n").encode(), "plain")
    onset = client.get(
        f"/api/v1/signals/runs/{run_id}/onset", params={"drug": "A", "event": "X"}, headers=analyst
    )
    assert onset.status_code == 200 and not onset.json()["available"] and "dates" in onset.json()["note"]

    counts = b"drug,event,n\nA,X,5\nA,Y,1\nB,X,2\nB,Y,9\n"
    submitted = _submit(client, analyst, counts, format="counts")
    run_counts = submitted.json()["run_id"]
    assert _wait(client, analyst, run_counts)["status"] == "succeeded"
    refused = client.get(
        f"/api/v1/signals/runs/{run_counts}/cases", params={"drug": "A", "event": "X"}, headers=analyst
    )
    assert refused.status_code == 409 and "count table" in refused.json()["detail"]


def test_cases_and_history_are_tenant_scoped(client, make_key):
    acme = auth_header(make_key("acme", "analyst"))
    globex = auth_header(make_key("globex", "analyst"))
    run_id = _finished_run(client, acme, _cases_with_dates(), "faers")
    for path in ("cases", "onset", "changes", "cases.csv"):
        response = client.get(
            f"/api/v1/signals/runs/{run_id}/{path}",
            params={} if path == "changes" else {"drug": "ALPHA", "event": "LIVER INJURY"},
            headers=globex,
        )
        assert response.status_code == 404, (path, response.text)


def test_alert_history_compares_with_the_previous_run_of_the_same_source(client, make_key):
    analyst = auth_header(make_key("acme", "analyst"))
    first = _finished_run(client, analyst, _cases_with_dates(0), "quarterly")
    other = _finished_run(client, analyst, _cases_with_dates(0), "another-source")
    second = _finished_run(client, analyst, _cases_with_dates(40, "2022Q2"), "quarterly")

    opening = client.get(f"/api/v1/signals/runs/{first}/changes", headers=analyst).json()
    assert opening["previous_run_id"] is None and "every alert is new" in opening["note"]
    assert opening["counts"]["new"] == opening["total"] > 0 and opening["counts"]["ended"] == 0

    changes = client.get(f"/api/v1/signals/runs/{second}/changes", headers=analyst).json()
    assert changes["previous_run_id"] == first != other and changes["source"] == "quarterly"
    by_pair = {(c["drug"], c["event"]): c for c in changes["items"]}
    liver = by_pair.get(("ALPHA", "LIVER INJURY"))
    status_before = client.get(
        f"/api/v1/signals/runs/{first}/signals",
        params={"drug": "ALPHA", "event": "LIVER INJURY"},
        headers=analyst,
    ).json()["items"][0]
    status_now = client.get(
        f"/api/v1/signals/runs/{second}/signals",
        params={"drug": "ALPHA", "event": "LIVER INJURY"},
        headers=analyst,
    ).json()["items"][0]
    if status_now["alert_level"] == status_before["alert_level"]:
        assert liver is None and changes["unchanged_alerts"] >= 1
    else:
        assert liver is not None and liver["level_before"] == status_before["alert_level"]
        assert liver["level_now"] == status_now["alert_level"] and liver["n_now"] == 61
    assert changes["total"] == sum(changes["counts"].values())
    only_new = client.get(f"/api/v1/signals/runs/{second}/changes", params={"change": "new"}, headers=analyst)
    assert all(c["change"] == "new" for c in only_new.json()["items"])
    assert only_new.json()["total"] == changes["counts"]["new"]


def test_a_run_counts_its_alert_levels_score_bands_and_duration(client, make_key):
    from prometheus_client import REGISTRY

    from hygeia.signals.priority import LEVELS
    from hygeia.signals.service import IC025_LABELS

    def value(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    def levels() -> dict[str, float]:
        name = "hygeia_capability_decisions_total"
        return {level: value(name, capability="signals", decision=level) for level in LEVELS}

    def bands() -> float:
        return sum(value("hygeia_signal_pairs_by_ic025_total", band=band) for band in IC025_LABELS)

    analyst = auth_header(make_key("acme", "analyst"))
    levels_before, bands_before = levels(), bands()
    runs_before = value("hygeia_signal_run_seconds_count")
    run_id = _finished_run(client, analyst, _cases_with_dates(), "metrics")
    summary = client.get(f"/api/v1/signals/runs/{run_id}", headers=analyst).json()["summary"]
    levels_after = levels()
    assert {k: levels_after[k] - levels_before[k] for k in LEVELS} == summary["alerts"]
    assert bands() - bands_before == summary["pairs"]
    assert value("hygeia_signal_run_seconds_count") - runs_before == 1


def test_consensus_counts_the_sources_that_flag_a_pair(client, make_key):
    analyst = auth_header(make_key("acme", "analyst"))
    faers = _finished_run(client, analyst, _cases_with_dates(), "faers")
    rows = ["id,drug,event"] + [f"{i},{'AB'[i % 2]},{'XYZ'[i % 3]}" for i in range(90)]
    rows += [f"{i},alpha,liver injury" for i in range(90, 110)]  # the same pair, other spelling
    rows += [f"{i},ALPHA,RASH" for i in range(110, 112)]
    internal = _finished_run(client, analyst, ("\n".join(rows) + "\n").encode(), "safety-db")
    body = client.get(
        "/api/v1/signals/consensus", params={"run": [faers, internal], "min_sources": 1}, headers=analyst
    ).json()
    assert [r["run_id"] for r in body["runs"]] == [faers, internal]
    assert [r["source"] for r in body["runs"]] == ["faers", "safety-db"]
    top = body["items"][0]
    assert (top["drug"].upper(), top["event"].upper()) == ("ALPHA", "LIVER INJURY")
    assert top["sources_alerting"] == 2 == top["sources_with_pair"]
    assert set(top["levels"]) == {faers, internal} and None not in top["levels"].values()
    counts = [item["sources_alerting"] for item in body["items"]]
    assert counts == sorted(counts, reverse=True) and body["total"] >= len(body["items"])
    both = client.get("/api/v1/signals/consensus", params={"run": [faers, internal]}, headers=analyst).json()
    assert all(item["sources_alerting"] == 2 for item in both["items"]) and both["total"] >= 1

    one = client.get("/api/v1/signals/consensus", params={"run": [faers]}, headers=analyst)
    assert one.status_code == 422 and "between 2 and 10" in one.json()["detail"]
    stranger = auth_header(make_key("globex", "analyst"))
    hidden = client.get("/api/v1/signals/consensus", params={"run": [faers, internal]}, headers=stranger)
    assert hidden.status_code == 404
