"""Signals console pages behind a ranked pair and a run, through HTTP: the case series (paged, CSV),
time to onset, the alert history of a source and the cross-source consensus; escaped, tenant-scoped,
with empty states that say why."""

from __future__ import annotations

import csv
import io
import re
import tempfile
from pathlib import Path

from fastapi.testclient import TestClient

from tests.api.signals.test_cases_history_api import _cases_with_dates, _finished_run
from tests.api.signals.test_signals_api import _submit, _wait
from tests.api.web.helpers import HTMX, SAME_ORIGIN, sign_in
from tests.conftest import auth_header

LIVER = {"drug": "alpha", "event": "liver injury"}  # any case: the service matches case-blind


def _rows(html: str, table_class: str) -> list[str]:
    """The body rows of the table with this class."""
    table = re.search(rf'<table class="{table_class}">(.*?)</table>', html, re.S)
    assert table, f"no {table_class} in {html[:500]}"
    body = table.group(1).split("<tbody>", 1)[1]
    return re.findall(r"<tr>(.*?)</tr>", body, re.S)


def test_pair_detail_leads_to_its_case_series_pages_csv_and_onset(client: TestClient, make_key) -> None:
    key = make_key("acme", "analyst")
    run_id = _finished_run(client, auth_header(key), _cases_with_dates(extra_liver=40), "safety-db")
    sign_in(client, key)

    pair = client.get(f"/ui/signals/runs/{run_id}/pair", params=LIVER, headers=HTMX)
    assert pair.status_code == 200, pair.text
    assert f'hx-get="/ui/signals/runs/{run_id}/cases?drug=ALPHA&amp;event=LIVER%20INJURY"' in pair.text
    assert f'hx-get="/ui/signals/runs/{run_id}/onset?drug=ALPHA&amp;event=LIVER%20INJURY"' in pair.text

    first = client.get(f"/ui/signals/runs/{run_id}/cases", params=LIVER, headers=HTMX)
    assert first.status_code == 200, first.text
    assert "61 report(s) name both" in first.text and "showing 1\N{EN DASH}25" in first.text
    rows = _rows(first.text, "cases-table")
    assert len(rows) == 25 and "<code>300</code>" in rows[0] and "OMEGA" in rows[0]
    assert "none" in rows[1]  # report 301 has no co-reported drug
    assert ">quarter<" in first.text and ">sex<" in first.text
    assert "offset=25" in first.text and "Previous cases" not in first.text
    last = client.get(f"/ui/signals/runs/{run_id}/cases", params={**LIVER, "offset": 50}, headers=HTMX)
    assert len(_rows(last.text, "cases-table")) == 11 and "<code>999</code>" in last.text
    assert "Previous cases" in last.text and "Next cases" not in last.text

    link = re.search(r'href="(/ui/signals/runs/[^"]+/cases\.csv\?[^"]+)" download', first.text)
    assert link, first.text
    exported = client.get(link.group(1).replace("&amp;", "&"))
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(exported.text)))
    assert len(table) == 61 and table[0]["id"] == "300" and table[0]["co_drugs"] == "OMEGA"

    onset = client.get(f"/ui/signals/runs/{run_id}/onset", params=LIVER, headers=HTMX)
    assert onset.status_code == 200 and "<dt>With a day count</dt><dd>60</dd>" in onset.text
    assert "1 with a partial date" in onset.text and "onset-table" in onset.text
    plain = client.get(f"/ui/signals/runs/{run_id}/onset", params={"drug": "BETA", "event": "RASH"})
    assert "No time to onset: none of the 15 report(s) gives both" in plain.text
    assert "<dl" not in plain.text


def test_a_count_table_run_says_it_has_no_cases(client: TestClient, make_key) -> None:
    key = make_key("acme", "analyst")
    submitted = _submit(
        client, auth_header(key), b"drug,event,n\nA,X,5\nA,Y,1\nB,X,2\nB,Y,9\n", format="counts"
    )
    run_id = submitted.json()["run_id"]
    assert _wait(client, auth_header(key), run_id)["status"] == "succeeded"
    sign_in(client, key)
    for part in ("cases", "onset"):
        response = client.get(f"/ui/signals/runs/{run_id}/{part}", params={"drug": "A", "event": "X"})
        assert response.status_code == 200, response.text
        assert "scored from a count table" in response.text and "<table" not in response.text


def test_names_from_the_upload_are_escaped(client: TestClient, make_key) -> None:
    key = make_key("acme", "analyst")
    rows = ["id,drug,event"] + [f"{i},{'AB'[i % 2]},{'XYZ'[i % 3]}" for i in range(60)]
    rows += [f"{i},A,<img src=x onerror=alert(1)>" for i in range(60, 70)]
    rows += ["60,<script>alert(2)</script>,X"]
    run_id = _finished_run(client, auth_header(key), ("\n".join(rows) + "\n").encode(), "<b>src</b>")
    sign_in(client, key)
    pages = [
        client.get(
            f"/ui/signals/runs/{run_id}/cases", params={"drug": "A", "event": "<img src=x onerror=alert(1)>"}
        ),
        client.get(f"/ui/signals/runs/{run_id}/changes"),
        client.get("/signals"),
    ]
    for page in pages:
        assert page.status_code == 200, page.text
        text = page.text.lower()
        assert "<img src=x" not in text and "<script>alert" not in text and "<b>src" not in text
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in pages[0].text.lower()  # the co-reported drug
    assert "&lt;b&gt;src&lt;/b&gt;" in pages[1].text and "&lt;b&gt;src&lt;/b&gt;" in pages[2].text
    undated = client.get(f"/ui/signals/runs/{run_id}/onset", params={"drug": "A", "event": "X"})
    assert "No time to onset: the upload has no start and event dates" in undated.text


def test_run_page_shows_changes_since_the_previous_run_of_its_source(client: TestClient, make_key) -> None:
    key = make_key("acme", "analyst")
    api = auth_header(key)
    first = _finished_run(client, api, _cases_with_dates(0), "quarterly")
    second = _finished_run(client, api, _cases_with_dates(40, "2022Q2"), "quarterly")
    sign_in(client, key)

    run = client.get(f"/ui/signals/runs/{second}", headers=HTMX)
    assert f'hx-get="/ui/signals/runs/{second}/changes"' in run.text
    opening = client.get(f"/ui/signals/runs/{first}/changes", headers=HTMX)
    assert opening.status_code == 200 and "every alert is new" in opening.text
    history = client.get(f"/api/v1/signals/runs/{second}/changes", headers=api).json()
    page = client.get(f"/ui/signals/runs/{second}/changes", headers=HTMX)
    assert f'Since run <a href="/signals?run={first}"><code>{first[:8]}</code></a>' in page.text
    for kind, count in history["counts"].items():
        assert f'<span class="change change-{kind}">{count} {kind}</span>' in page.text
    shown = _rows(page.text, "changes-table") if history["items"] else []
    assert len(shown) == min(history["total"], 25)
    only_new = client.get(f"/ui/signals/runs/{second}/changes", params={"change": "ended"}, headers=HTMX)
    if history["counts"]["ended"]:
        assert all("<td>ended</td>" in row for row in _rows(only_new.text, "changes-table"))
    else:
        assert "No pair is ended since the previous run." in only_new.text
    refused = client.get(f"/ui/signals/runs/{second}/changes", params={"change": "worse"}, headers=HTMX)
    assert refused.status_code == 422 and "change" in refused.text


def test_console_upload_names_its_source(client: TestClient, make_key) -> None:
    key = make_key("acme", "analyst")
    sign_in(client, key)
    content = _cases_with_dates()
    named = client.post(
        "/ui/signals/runs",
        files={"file": ("q1.csv", content, "text/csv")},
        data={"source": "  FAERS  "},
        headers={**HTMX, **SAME_ORIGIN},
    )
    unnamed = client.post(
        "/ui/signals/runs", files={"file": ("q1.csv", content, "text/csv")}, headers={**HTMX, **SAME_ORIGIN}
    )
    api = auth_header(key)
    sources = []
    for response in (named, unnamed):
        assert response.status_code == 200, response.text
        run_id = re.search(r'data-run="([^"]+)"', response.text).group(1)  # type: ignore[union-attr]
        assert _wait(client, api, run_id)["status"] == "succeeded"
        sources.append(client.get(f"/api/v1/signals/runs/{run_id}/changes", headers=api).json()["source"])
    assert sources == ["FAERS", "q1.csv"]
    assert "· FAERS</a>" in client.get("/signals").text


def test_consensus_of_two_runs_from_the_signals_page(client: TestClient, make_key) -> None:
    key = make_key("acme", "analyst")
    api = auth_header(key)
    sign_in(client, key)
    assert (
        "Consensus needs at least two finished runs in this tenant; 0 so far." in client.get("/signals").text
    )
    faers = _finished_run(client, api, _cases_with_dates(), "faers")
    rows = ["id,drug,event"] + [f"{i},{'AB'[i % 2]},{'XYZ'[i % 3]}" for i in range(90)]
    rows += [f"{i},alpha,liver injury" for i in range(90, 110)]
    internal = _finished_run(client, api, ("\n".join(rows) + "\n").encode(), "safety-db")

    page = client.get("/signals").text
    assert 'id="consensus-form"' in page
    assert f'name="run" value="{faers}"' in page and f'name="run" value="{internal}"' in page
    finished = client.get(f"/ui/signals/runs/{internal}", headers=HTMX).text  # refreshes the picker
    picker = finished.split('<div id="consensus-picker" hx-swap-oob="true">', 1)[1]
    assert f'name="run" value="{faers}"' in picker and f'name="run" value="{internal}"' in picker
    result = client.get(
        "/ui/signals/consensus", params={"run": [faers, internal], "min_sources": 1}, headers=HTMX
    )
    assert result.status_code == 200, result.text
    api_body = client.get(
        "/api/v1/signals/consensus", params={"run": [faers, internal], "min_sources": 1}, headers=api
    ).json()
    assert f"{api_body['total']} pair(s) alert in at least 1 of these 2 runs" in result.text
    top = _rows(result.text, "consensus-table")[0]
    assert "ALPHA" in top.upper() and "LIVER INJURY" in top.upper() and '<td class="num">2</td>' in top
    assert "faers" in result.text and "safety-db" in result.text

    one = client.get("/ui/signals/consensus", params={"run": [faers]}, headers=HTMX)
    assert one.status_code == 422 and "between 2 and 10" in one.text and 'role="alert"' in one.text


def test_console_drill_down_is_tenant_scoped(client: TestClient, make_key) -> None:
    acme = make_key("acme", "analyst")
    run_id = _finished_run(client, auth_header(acme), _cases_with_dates(), "faers")
    other = _finished_run(client, auth_header(acme), _cases_with_dates(), "safety-db")
    sign_in(client, make_key("globex", "analyst"))
    scratch = set(Path(tempfile.gettempdir()).glob("signals-console-cases-*"))
    for part in ("cases", "cases.csv", "onset", "changes"):
        response = client.get(f"/ui/signals/runs/{run_id}/{part}", params=LIVER, headers=HTMX)
        assert response.status_code == 404, (part, response.text[:300])
        assert "OMEGA" not in response.text
    assert set(Path(tempfile.gettempdir()).glob("signals-console-cases-*")) == scratch  # none left
    hidden = client.get("/ui/signals/consensus", params={"run": [run_id, other]}, headers=HTMX)
    assert hidden.status_code == 404
    assert run_id not in client.get("/signals").text


def test_signed_out_the_new_fragments_ask_for_a_sign_in(client: TestClient) -> None:
    for path in ("/ui/signals/runs/r/cases", "/ui/signals/runs/r/onset", "/ui/signals/runs/r/cases.csv"):
        response = client.get(path, params=LIVER, headers=HTMX)
        assert response.status_code == 401 and "HX-Redirect" in response.headers, path
    for path in ("/ui/signals/runs/r/changes", "/ui/signals/consensus?run=a&run=b"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login?next="), path
