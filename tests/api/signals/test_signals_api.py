"""The signals API end to end: upload, background scoring, ranked queries, pair trend, tenancy, roles."""

from __future__ import annotations

import time

from tests.conftest import auth_header


def _upload_csv() -> bytes:
    rows = ["id,drug,event,serious,death,quarter"]
    for i in range(400):
        quarter = f"2022Q{1 + i % 4}"
        drug = ["ALPHA", "BETA", "GAMMA", "DELTA"][i % 4]
        event = ["RASH", "NAUSEA", "HEADACHE", "FATIGUE", "DIZZINESS"][(i * 3) % 5]
        rows.append(f"{i},{drug},{event},{i % 3 == 0},{i % 50 == 0},{quarter}")
    for i in range(400, 430):  # a disproportionate pair, reported mostly in the last quarter
        rows.append(f"{i},ALPHA,LIVER INJURY,True,{i % 10 == 0},2022Q{4 if i > 405 else 2}")
    return ("\n".join(rows) + "\n").encode()


def _wait(client, headers, run_id, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"/api/v1/signals/runs/{run_id}", headers=headers).json()
        if body["status"] in ("succeeded", "failed"):
            return body
        time.sleep(0.1)
    raise AssertionError("run did not finish")


def _submit(client, headers, content=None, **params):
    files = {"file": ("cases.csv", content or _upload_csv(), "text/csv")}
    return client.post("/api/v1/signals/runs", files=files, params=params, headers=headers)


def test_run_rank_filter_and_detail(client, make_key):
    analyst = auth_header(make_key("acme", "analyst"))
    submitted = _submit(client, analyst)
    assert submitted.status_code == 202, submitted.text
    run_id = submitted.json()["run_id"]
    status = _wait(client, analyst, run_id)
    assert status["status"] == "succeeded", status
    summary = status["summary"]
    # four drugs spread evenly over five events plus one pair: no consistent MGPS prior exists, and
    # the summary says so, with the rule that fell back, instead of shipping a best-effort prior
    assert summary["hyperparameters"] is None
    assert summary["fit"]["outcome"] == "no consistent optimum"
    assert "IC025" in summary["fit"]["fallback"] and len(summary["fit"]["starts"]) == 15
    assert summary["reports"] == 430 and sum(summary["alerts"].values()) == summary["pairs"]

    page = client.get(f"/api/v1/signals/runs/{run_id}/signals", params={"limit": 5}, headers=analyst).json()
    assert page["total"] == summary["pairs"] and len(page["items"]) == 5
    top = page["items"][0]
    assert (top["drug"], top["event"]) == ("ALPHA", "LIVER INJURY")
    assert top["alert_level"] == "medium" and top["criteria_met"] == "bcpnn,evans"
    assert top["ebgm"] is None and top["priority"] > 0
    assert top["components"]["disproportionality"] == __import__("pytest").approx(top["ic025"])
    parts = top["components"]
    assert top["priority"] == __import__("pytest").approx(
        parts["disproportionality"] * parts["seriousness"] * parts["trend"] * parts["novelty"]
    )

    viewer = auth_header(make_key("acme", "viewer"))
    high = client.get(
        f"/api/v1/signals/runs/{run_id}/signals", params={"alert_level": "high"}, headers=viewer
    )
    assert all(item["alert_level"] == "high" for item in high.json()["items"])
    assert high.json()["total"] == 0  # "high" needs the MGPS criterion too
    eb = client.get(
        f"/api/v1/signals/runs/{run_id}/signals", params={"min_eb05": 2, "drug": "alpha"}, headers=viewer
    ).json()
    assert eb["total"] == 0  # no EB05 to filter on

    detail = client.get(
        f"/api/v1/signals/runs/{run_id}/pair",
        params={"drug": "ALPHA", "event": "LIVER INJURY"},
        headers=viewer,
    ).json()
    assert [p["period"] for p in detail["trend"]] == ["2022Q1", "2022Q2", "2022Q3", "2022Q4"]
    assert detail["trend"][-1]["cum_n"] == 30

    metrics = client.get("/metrics").text
    assert "hygeia_signal_runs_total" in metrics and "hygeia_signal_queries_total" in metrics


def test_other_tenants_and_viewers(client, make_key):
    analyst = auth_header(make_key("acme", "analyst"))
    run_id = _submit(client, analyst).json()["run_id"]
    _wait(client, analyst, run_id)
    stranger = auth_header(make_key("globex", "admin"))
    assert client.get(f"/api/v1/signals/runs/{run_id}", headers=stranger).status_code == 404
    assert client.get(f"/api/v1/signals/runs/{run_id}/signals", headers=stranger).status_code == 404
    viewer = auth_header(make_key("acme", "viewer"))
    assert _submit(client, viewer).status_code == 403


def test_bad_upload_fails_the_run_with_the_line(client, make_key):
    analyst = auth_header(make_key("acme", "analyst"))
    run_id = _submit(client, analyst, content=b"id,drug,event\n1,X,E\n2,,F\n").json()["run_id"]
    status = _wait(client, analyst, run_id)
    assert status["status"] == "failed" and "line 3" in status["error"]
    response = client.get(f"/api/v1/signals/runs/{run_id}/signals", headers=analyst)
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"


def test_empty_upload_is_422(client, make_key):
    analyst = auth_header(make_key("acme", "analyst"))
    response = _submit(client, analyst, content=b"   ")
    assert response.status_code == 422


def test_capability_is_listed_and_says_when_its_store_is_unusable(client, make_key, platform, monkeypatch):
    from tests.conftest import reset_caches

    viewer = auth_header(make_key("acme", "viewer"))
    assert client.get("/api/v1/capabilities", headers=viewer).json()["signals"] == {
        "available": True,
        "reason": None,
    }
    blocker = platform.var_dir / "not-a-folder"
    blocker.write_text("a file where the run store's parent should be")
    monkeypatch.setenv("HYGEIA_VAR_DIR", str(blocker))
    reset_caches()
    status = client.get("/ready").json()["capabilities"]["signals"]
    assert status["available"] is False and "cannot create the signal run store" in status["reason"]


def test_faers_xml_upload_is_ingested_then_scored(client, make_key, tmp_path):
    from tests.unit.signals.test_e2b import _drug, _message, _report

    analyst = auth_header(make_key("acme", "analyst"))
    reports = [_report(str(i), "1", _drug("ASPIRIN"), ["Rash"]) for i in range(1, 6)]
    reports += [_report("1", "2", _drug("IBUPROFEN"), ["Nausea"], death=True)]  # supersedes case 1
    xml = _message(tmp_path / "ADR22Q1.xml", *reports).read_bytes()
    submitted = _submit(client, analyst, content=xml, format="faers", strata=["sex"])
    assert submitted.status_code == 202, submitted.text
    run = _wait(client, analyst, submitted.json()["run_id"])
    assert run["status"] == "succeeded", run
    ingest = run["summary"]["ingest"]
    assert (ingest["demo_rows"], ingest["cases"], ingest["superseded_versions"]) == (6, 5, 1)
    page = client.get(f"/api/v1/signals/runs/{run['run_id']}/signals", headers=analyst).json()
    found = {(s["drug"], s["event"], s["n"]) for s in page["items"]}
    assert found == {("ASPIRIN", "RASH", 4), ("IBUPROFEN", "NAUSEA", 1)}


def test_faers_upload_must_be_a_zip_or_xml(client, make_key):
    analyst = auth_header(make_key("acme", "analyst"))
    response = _submit(client, analyst, format="faers")  # a case CSV is not FAERS files
    assert response.status_code == 422 and "zip of one quarter" in response.json()["detail"]


def test_failed_run_error_names_no_server_path(client, make_key, platform):
    analyst = auth_header(make_key("acme", "analyst"))
    broken_zip = b"PK\x03\x04" + b"\x00" * 64  # starts like a zip, is not one
    run_id = _submit(client, analyst, content=broken_zip, format="faers").json()["run_id"]
    status = _wait(client, analyst, run_id)
    assert status["status"] == "failed" and status["error"]
    assert str(platform.var_dir) not in status["error"] and "/signals/" not in status["error"]


def test_labelled_reactions_per_run_lower_novelty(client, make_key):
    analyst = auth_header(make_key("acme", "analyst"))
    files = {
        "file": ("cases.csv", _upload_csv(), "text/csv"),
        "known": ("labelled.csv", b"drug,event\nalpha,Liver Injury\nZETA,NONE\n", "text/csv"),
    }
    run_id = client.post("/api/v1/signals/runs", files=files, headers=analyst).json()["run_id"]
    status = _wait(client, analyst, run_id)
    assert status["summary"]["labelled_pairs"]["given"] == 2
    assert status["summary"]["labelled_pairs"]["found_in_run"] == 1
    pair = client.get(
        f"/api/v1/signals/runs/{run_id}/signals",
        params={"drug": "ALPHA", "event": "LIVER INJURY"},
        headers=analyst,
    ).json()["items"][0]
    assert pair["components"]["novelty"] == 0.25 and "known/labelled" in pair["explanation"]
    bad = {"file": ("cases.csv", _upload_csv(), "text/csv"), "known": ("k.csv", b"name\nX\n", "text/csv")}
    refused = client.post("/api/v1/signals/runs", files=bad, headers=analyst)
    assert refused.status_code == 422 and "need drug and event columns" in refused.json()["detail"]


def test_export_is_spreadsheet_safe_and_tenant_bound(client, make_key):
    analyst = auth_header(make_key("acme", "analyst"))
    upload = _upload_csv() + b"".join(f"{i},=SUM(A1),-RASH\n".encode() for i in range(900, 905))
    run_id = _submit(client, analyst, content=upload).json()["run_id"]
    assert _wait(client, analyst, run_id)["status"] == "succeeded"
    export = client.get(f"/api/v1/signals/runs/{run_id}/signals.csv", headers=analyst)
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    text = export.text
    assert "'=SUM(A1)" in text and "'-RASH" in text
    assert "\n=SUM" not in text and ",=SUM" not in text and '"=SUM' not in text
    assert text.splitlines()[0].replace('"', "").startswith("drug,event,n,expected")
    stranger = auth_header(make_key("globex", "admin"))
    assert client.get(f"/api/v1/signals/runs/{run_id}/signals.csv", headers=stranger).status_code == 404


def test_a_semicolon_separated_upload_scores_ranks_and_trends_as_the_comma_one(client, make_key):
    """Spreadsheets in many locales save CSV with semicolons: the run reads the file as written, and its
    ranked pairs, seriousness and trend (read again from the stored upload) equal the comma file's."""
    analyst = auth_header(make_key("acme", "analyst"))
    results = []
    for content in (_upload_csv(), _upload_csv().replace(b",", b";")):
        run_id = _submit(client, analyst, content).json()["run_id"]
        assert _wait(client, analyst, run_id)["status"] == "succeeded"
        page = client.get(f"/api/v1/signals/runs/{run_id}/signals", params={"limit": 50}, headers=analyst)
        pair = {"drug": "ALPHA", "event": "LIVER INJURY"}
        detail = client.get(f"/api/v1/signals/runs/{run_id}/pair", params=pair, headers=analyst).json()
        own = ("run_id", "prediction_id")  # the run's own ids
        ranked = [{k: v for k, v in s.items() if k not in own} for s in page.json()["items"]]
        results.append((ranked, detail["trend"]))
    assert results[0] == results[1] and results[0][0][0]["components"]["seriousness"] > 1
    assert results[1][1][-1]["cum_n"] == 30
